#!/usr/bin/env bash
# Benchmarks (not tests), every comparison measured side by side in one run,
# written to BENCHMARKS.md with the date and the machine:
#  1. mxbuild vs `buildah build --runtime runc` on the same Dockerfile for two
#     platforms (linux/amd64, linux/arm64): cold (--no-cache) and no-op rebuild.
#  2. testdata/hello-c for three platforms: the xx way with mxbuild (compile
#     native, only the final RUN emulated) vs the naive Dockerfile (compile in
#     the target stage, all under QEMU) with buildah.
#  3. Layer creation throughput vs `tar -c | gzip -6 | sha256sum` (bench-layer.sh).
# Needs root, the packages of scripts/setup.sh, network for apt inside builds.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

scripts/setup.sh
cargo build --release -q -p mxbuild -p xx
mx=$PWD/target/release/mxbuild
export MXBUILD_ROOT=${MXBUILD_BENCH_STORE:-/var/cache/mxbuild-test/bench-store}
scripts/base-images.sh "$MXBUILD_ROOT" >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# buildah works in a storage of its own (never the host's), with the very same
# debian:bookworm (all three platforms).
bh_root=${MXBUILD_BENCH_BUILDAH:-/var/cache/mxbuild-test/bench-buildah}
bh() { buildah --root "$bh_root/root" --runroot "$bh_root/run" --storage-driver overlay "$@"; }
"$mx" image export debian:bookworm -o "type=oci,dest=$work/debian.oci.tar" >/dev/null
# skopeo 1.9 cannot copy a whole index into containers-storage: copy each
# platform under its own name, then group them in a local manifest list named
# debian:bookworm, which buildah resolves per --platform.
bh manifest rm docker.io/library/debian:bookworm >/dev/null 2>&1 || true
bh manifest create docker.io/library/debian:bookworm >/dev/null
for p in amd64 arm64 arm/v7; do
  arch=${p%/*} variant=
  [ "$p" != "$arch" ] && variant=${p#*/}
  name=localhost/bench-debian-$arch$variant
  skopeo copy -q --override-arch "$arch" ${variant:+--override-variant "$variant"} \
    "oci-archive:$work/debian.oci.tar" "containers-storage:[overlay@$bh_root/root+$bh_root/run]$name"
  bh manifest add docker.io/library/debian:bookworm "containers-storage:$name" >/dev/null
done

secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
now() { date +%s.%N; }
timeit() { # timeit VAR CMD...: runs CMD (output to the log), stores seconds in VAR
  local __var=$1; shift
  local t0 t1
  t0=$(now)
  "$@" >>"$work/log" 2>&1 || { tail -30 "$work/log"; echo "failed: $*" >&2; exit 1; }
  t1=$(now)
  printf -v "$__var" '%s' "$(secs "$t0" "$t1")"
}

xxctx=$work/xx
xx_context "$xxctx"

basic=testdata/dockerfiles/build/basic
two=linux/amd64,linux/arm64
three=linux/amd64,linux/arm64,linux/arm/v7

# "Cold" means no step cache, with the base image already unpacked: buildah
# unpacked it when skopeo copied it in, mxbuild does so on first use. One
# untimed warm-up build per tool makes that equal.
mkdir -p "$work/warm"
printf 'FROM debian:bookworm\nRUN true\n' >"$work/warm/Dockerfile"
"$mx" build --progress plain --platform "$three" "$work/warm" >>"$work/log" 2>&1
bh build --runtime runc --layers --pull=never --platform "$three" "$work/warm" >>"$work/log" 2>&1

log "1. same Dockerfile, two platforms: cold and no-op rebuild"
timeit mx_cold "$mx" build --no-cache --progress plain --platform "$two" "$basic"
timeit mx_noop "$mx" build --progress plain --platform "$two" "$basic"
bh manifest rm bench-basic >/dev/null 2>&1 || true
timeit bh_cold bh build --runtime runc --layers --pull=never --no-cache --platform "$two" --manifest bench-basic "$basic"
bh manifest rm bench-basic >/dev/null 2>&1 || true
timeit bh_noop bh build --runtime runc --layers --pull=never --platform "$two" --manifest bench-basic "$basic"

log "2. hello-c for three platforms: xx way (mxbuild) vs naive under QEMU (buildah)"
timeit mx_xx "$mx" build --no-cache --progress plain --platform "$three" --build-context xx="$xxctx" testdata/hello-c
bh manifest rm bench-naive >/dev/null 2>&1 || true
timeit bh_naive bh build --runtime runc --layers --pull=never --no-cache --platform "$three" --manifest bench-naive -f testdata/hello-c/naive.Dockerfile testdata/hello-c
timeit mx_naive "$mx" build --no-cache --progress plain --platform "$three" -f testdata/hello-c/naive.Dockerfile testdata/hello-c

log "3. layer creation vs tar | gzip"
layer=$(scripts/bench-layer.sh 2>/dev/null)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fx", a / b }'; }
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
# scripts/bench-network.sh's section is measured separately: keep it.
network_section=$(sed -n '/^<!-- bench-network/,/^<!-- \/bench-network -->/p' BENCHMARKS.md 2>/dev/null || true)
{
  echo "# Benchmarks"
  echo
  echo "Measured by \`scripts/bench.sh\` on $(date -u +%Y-%m-%d) on $(uname -srm), $(nproc) cores ($cpu),"
  echo "$(free -g | awk '/Mem:/ {print $2}') GB RAM; buildah $(buildah --version | awk '{print $3}'), runc $(runc --version | awk 'NR==1 {print $3}')."
  echo "Every row compares two tools in the same run on the same machine. Times in seconds."
  echo
  echo "- Cold means \`--no-cache\` with the base image already unpacked: both tools first build a"
  echo "  one-line Dockerfile on \`debian:bookworm\` (untimed). Both use runc and the same QEMU handlers."
  echo "- mxbuild's times include its default post-build check of every ELF file in every image."
  echo "- buildah gets the same \`debian:bookworm\` (exported by mxbuild, copied in by skopeo)."
  echo
  echo "## 1. Same Dockerfile, linux/amd64 + linux/arm64 (\`testdata/dockerfiles/build/basic\`)"
  echo
  echo "| | mxbuild | buildah --layers --runtime runc | buildah / mxbuild |"
  echo "|---|---:|---:|---:|"
  echo "| cold (--no-cache) | $mx_cold | $bh_cold | $(ratio "$bh_cold" "$mx_cold") |"
  echo "| no-op rebuild | $mx_noop | $bh_noop | $(ratio "$bh_noop" "$mx_noop") |"
  echo
  echo "## 2. hello-c for linux/amd64, linux/arm64, linux/arm/v7 (cold)"
  echo
  echo "| | time | vs xx way |"
  echo "|---|---:|---:|"
  echo "| mxbuild, xx way (\`testdata/hello-c/Dockerfile\`: clang native, xx-clang cross, final RUN emulated) | $mx_xx | 1.0x |"
  echo "| buildah, naive (\`naive.Dockerfile\`: apt-get + gcc in the target stage, all under QEMU) | $bh_naive | $(ratio "$bh_naive" "$mx_xx") |"
  echo "| mxbuild, naive (same naive Dockerfile) | $mx_naive | $(ratio "$mx_naive" "$mx_xx") |"
  echo
  echo "The compile itself is tiny here; the time goes to apt. The xx way installs clang once,"
  echo "natively, and only the target's libc headers per platform (xx-apt-get, native dpkg); the"
  echo "naive way runs apt-get and gcc under QEMU for arm64 and arm/v7."
  echo
  echo "## 3. Layer creation, ~1 GB / 20,000 files (\`scripts/bench-layer.sh\`)"
  echo
  echo '```'
  echo "$layer"
  echo '```'
  if [ -n "$network_section" ]; then
    echo
    echo "$network_section"
  fi
} >BENCHMARKS.md
cat BENCHMARKS.md
# What buildah and mxbuild built stays in their storage otherwise (--no-cache
# builds add new layers every run).
bh manifest rm bench-basic bench-naive >/dev/null 2>&1 || true
bh rmi --prune >/dev/null 2>&1 || true
"$mx" prune --all >/dev/null
