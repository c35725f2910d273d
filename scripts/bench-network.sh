#!/usr/bin/env bash
# scripts/bench-network.sh: what the private network of RUN steps costs.
#
# RUN steps get a network namespace of their own whose packets slirp4netns
# (a user-space TCP/IP stack) carries to the host; `--network host --allow
# network.host` skips that. This measures download throughput inside a RUN
# step both ways, in the same run:
#   1. a 200 MiB file from a local HTTP server on this host's primary IPv4
#      address (the host's 127.0.0.1 is out of a default step's reach on
#      purpose), so the network is not the limit and slirp4netns's own cost
#      shows;
#   2. an 11 MB index from the Debian mirror (deb.debian.org), as apt-get
#      would, where the internet link is the limit.
# Each download runs five times per mode; the median counts. The result goes
# into BENCHMARKS.md (the "RUN network" section, kept by scripts/bench.sh).
# Needs root, the packages of scripts/setup.sh (slirp4netns, python3).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

scripts/setup.sh
# mxbuild is not on the data path (slirp4netns, the kernel and the step's
# processes are), so the debug build measures the same as a release build.
cargo build -q -p mxbuild
mx=$PWD/target/debug/mxbuild
export MXBUILD_ROOT=${MXBUILD_BENCH_STORE:-${MXBUILD_TEST_CACHE:-/var/cache/mxbuild-test}/store}
scripts/base-images.sh "$MXBUILD_ROOT" >/dev/null
work=$(mktemp -d)
server=
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# The address the default route leaves from: reachable from both modes.
addr=$(ip -4 route get 1.1.1.1 | awk '{for (i = 1; i < NF; i++) if ($i == "src") print $(i + 1)}' | head -1)
[ -n "$addr" ] || { echo "error: no IPv4 default route; hint: the benchmark needs a primary IPv4 address" >&2; exit 1; }
mkdir -p "$work/www"
head -c $((200 * 1024 * 1024)) /dev/urandom >"$work/www/200m.bin"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("", 0)); print(s.getsockname()[1])')
python3 -m http.server --bind "$addr" --directory "$work/www" "$port" >/dev/null 2>&1 &
server=$!
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/$addr/$port") 2>/dev/null && break
  sleep 0.1
done

# The step downloads URL (host, port, path) five times with bash's /dev/tcp
# (an HTTP/1.1 request with Connection: close, which every proxy takes) and
# prints bytes and nanoseconds per try.
mkdir -p "$work/ctx"
cat >"$work/ctx/Dockerfile" <<'EOF'
FROM debian:bookworm
SHELL ["/bin/bash", "-c"]
ARG HOST PORT URLPATH
RUN for i in 1 2 3 4 5; do \
      s=$(date +%s%N); \
      n=$(exec 3<>/dev/tcp/$HOST/$PORT && printf 'GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$URLPATH" "$HOST" >&3 && wc -c <&3); \
      e=$(date +%s%N); \
      echo "BENCH $n $((e - s))"; \
    done
EOF

# measure MODE HOST PORT PATH MINBYTES: prints the median MB/s of the five
# tries; fails if a try got less than MINBYTES (a failed download is not fast).
measure() {
  local mode=$1 host=$2 port=$3 path=$4 min=$5
  local flags=()
  [ "$mode" = host ] && flags=(--network host --allow network.host)
  "$mx" build --no-cache --progress plain --verify off "${flags[@]}" \
    --build-arg "HOST=$host" --build-arg "PORT=$port" --build-arg "URLPATH=$path" \
    "$work/ctx" >"$work/$mode.log" 2>&1 || { tail -20 "$work/$mode.log" >&2; exit 1; }
  grep -o 'BENCH [0-9]* [0-9]*' "$work/$mode.log" >"$work/$mode.tries" || true
  if [ "$(wc -l <"$work/$mode.tries")" -ne 5 ] || awk -v m="$min" '$2 < m { bad = 1 } END { exit !bad }' "$work/$mode.tries"; then
    echo "error: $mode: a download of $host:$port$path came up short:" >&2
    cat "$work/$mode.tries" >&2
    exit 1
  fi
  awk '{ printf "%.1f\n", ($2 / 1000000) / ($3 / 1e9) }' "$work/$mode.tries" | sort -n | sed -n 3p
}

log "local 200 MiB file: default (slirp4netns) vs host network"
local_default=$(measure default "$addr" "$port" /200m.bin $((200 * 1024 * 1024)))
local_host=$(measure host "$addr" "$port" /200m.bin $((200 * 1024 * 1024)))
log "Debian mirror (11 MB Contents-amd64.gz): default vs host network"
mirror_path=/debian/dists/bookworm/main/Contents-amd64.gz
mirror_default=$(measure default deb.debian.org 80 "$mirror_path" 10000000)
mirror_host=$(measure host deb.debian.org 80 "$mirror_path" 10000000)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
section=$work/section.md
{
  echo "<!-- bench-network: written by scripts/bench-network.sh -->"
  echo "## RUN network: private (slirp4netns) vs host"
  echo
  echo "Measured by \`scripts/bench-network.sh\` on $(date -u +%Y-%m-%d) on $(uname -srm), $(nproc) cores;"
  echo "$(slirp4netns --version | head -1), MTU 65520. Download throughput inside a RUN step"
  echo "(bash \`/dev/tcp\` into \`wc -c\`), median of five tries, MB/s (10^6 bytes)."
  echo
  echo "| download | default network (slirp4netns) | --network host | default / host |"
  echo "|---|---:|---:|---:|"
  echo "| 200 MiB from a local HTTP server (on this host's primary address) | $local_default | $local_host | $(ratio "$local_default" "$local_host") |"
  echo "| 11 MB \`Contents-amd64.gz\` from deb.debian.org | $mirror_default | $mirror_host | $(ratio "$mirror_default" "$mirror_host") |"
  echo
  echo "The local row is slirp4netns's ceiling (it copies every packet in user space); the"
  echo "mirror row is what package installs see: there the link and the mirror (through this"
  echo "machine's proxy) set the pace and vary from run to run more than slirp4netns does."
  echo "<!-- /bench-network -->"
} >"$section"

# Replace the section in BENCHMARKS.md, or append it.
replace_bench_section bench-network "$section"
