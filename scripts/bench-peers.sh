# Sourced by scripts/bench.sh: the three builders it compares, set up the
# same way, and a timer. Needs `work` (a scratch directory), `mx` (the
# mxbuild binary) and MXBUILD_ROOT set, and scripts/lib.sh sourced.
#
# Every builder reads its base images from one local registry (`reg`): the
# debian:bookworm that scripts/base-images.sh debootstraps, and the xx
# helpers as an image (`bench/xx`). The Dockerfiles name them through
# `--build-arg BASE=… XX=…`, so all three build the same Dockerfile from the
# same bytes. BuildKit is Debian's docker.io (dockerd 20.10 with its built-in
# BuildKit, `DOCKER_BUILDKIT=1`, one platform per invocation, as Docker 20.10
# has no buildx); buildah runs with runc (crun fails on this host).

# peers_setup PLATFORMS: the registry with the base images, buildah's and
# dockerd's storage (cached outside the repository), dockerd started.
# Everything started is stopped by peers_teardown (the caller's EXIT trap).
peers_setup() {
  local plats=$1 p xxdir
  start_registry "$work"
  log "registry on $reg"
  "$mx" image push debian:bookworm "$reg/library/debian:bookworm" >/dev/null
  xxdir=$work/xx-image
  xx_context "$xxdir"
  printf 'FROM scratch\nCOPY / /\n' >"$work/xx.Dockerfile"
  # For every platform (the same static amd64 helpers): a builder that
  # ignores `FROM --platform=$BUILDPLATFORM` asks for the target's.
  "$mx" build --progress quiet --verify off --platform "$plats" -f "$work/xx.Dockerfile" -t bench/xx "$xxdir" >/dev/null
  "$mx" image push bench/xx "$reg/bench/xx:latest" >/dev/null
  base_args=(--build-arg "BASE=$reg/library/debian:bookworm" --build-arg "XX=$reg/bench/xx:latest")
  # Builds behind a TLS-intercepting proxy need the host's CA bundle.
  secret=(--secret "id=cacert,src=/etc/ssl/certs/ca-certificates.crt")
  bh_root=${MXBUILD_BENCH_BUILDAH:-${MXBUILD_TEST_CACHE:-/var/cache/mxbuild-test}/bench-buildah}
  dk_root=${MXBUILD_BENCH_DOCKER:-${MXBUILD_TEST_CACHE:-/var/cache/mxbuild-test}/bench-docker}
  mkdir -p "$dk_root" "$work/dockerd"
  # The exec root and socket live in `work`: nothing of a killed run is reused.
  dockerd --data-root "$dk_root/data" --exec-root "$work/dockerd/exec" \
    -H "unix://$work/dockerd/docker.sock" --pidfile "$work/dockerd/docker.pid" \
    --bridge=none --iptables=false >"$work/dockerd.log" 2>&1 &
  dockerd_pid=$!
  export DOCKER_HOST=unix://$work/dockerd/docker.sock DOCKER_BUILDKIT=1
  for _ in $(seq 60); do
    /usr/bin/docker info >/dev/null 2>&1 && break
    sleep 0.5
  done
  /usr/bin/docker info >/dev/null || { tail -20 "$work/dockerd.log"; echo "dockerd did not start" >&2; return 1; }
  log "dockerd $(/usr/bin/docker version -f '{{.Server.Version}}') on $DOCKER_HOST"
  # One untimed warm-up per builder: each pulls and unpacks the base images
  # for every platform (mxbuild unpacks on first use, buildah on pull).
  mkdir -p "$work/warm"
  printf 'ARG BASE\nARG XX\nFROM --platform=$BUILDPLATFORM ${XX} AS xx\nFROM ${BASE}\nCOPY --from=xx /usr/bin/xx /xx\nRUN true\n' >"$work/warm/Dockerfile"
  quietly "$mx" build --progress plain --platform "$plats" "${base_args[@]}" "$work/warm"
  quietly bh_build "$plats" warm "$work/warm/Dockerfile" "$work/warm"
  bk_fresh "$plats"
}

# bk_fresh PLATFORMS: BuildKit's cache emptied (nothing of an earlier build
# is reused), then the warm-up build per platform again, so the base images
# are pulled and unpacked before anything is timed. BuildKit's cold builds
# start from here without --no-cache: its one-invocation-per-platform
# builds share the build stage through its cache, as they do for users
# (`--no-cache` would run that stage again for every platform).
bk_fresh() {
  local p
  /usr/bin/docker builder prune -af >/dev/null
  for p in ${1//,/ }; do
    quietly bk_one "$p" warm "$work/warm/Dockerfile" "$work/warm"
  done
}

# buildah_build_stage_arch PLATFORM: the machine a `FROM --platform=$BUILDPLATFORM`
# stage runs on in a buildah build for PLATFORM (x86_64 when buildah honours
# it; buildah 1.28 runs the stage as PLATFORM, under QEMU).
buildah_build_stage_arch() {
  mkdir -p "$work/probe"
  printf 'ARG BASE\nFROM --platform=$BUILDPLATFORM ${BASE}\nRUN echo "probe-arch=$(uname -m)"\n' >"$work/probe/Dockerfile"
  bh build --runtime runc --no-cache --tls-verify=false --platform "$1" "${base_args[@]}" \
    "$work/probe" >"$work/probe.log" 2>&1 || { tail "$work/probe.log"; return 1; }
  sed -n 's/^probe-arch=//p' "$work/probe.log" | tail -1
}

# quietly CMD...: CMD's output goes to the run's log, shown if it fails.
quietly() {
  "$@" >"$work/quiet.log" 2>&1 || { tail -30 "$work/quiet.log"; echo "failed: $*" >&2; return 1; }
  cat "$work/quiet.log" >>"$work/log"
}

peers_teardown() {
  [ -n "${dockerd_pid:-}" ] && kill "$dockerd_pid" 2>/dev/null && wait "$dockerd_pid" 2>/dev/null
  [ -n "${reg_pid:-}" ] && kill "$reg_pid" 2>/dev/null
  true
}

bh() { buildah --root "$bh_root/root" --runroot "$bh_root/run" --storage-driver overlay "$@"; }

# bh_build PLATFORMS NAME DOCKERFILE CONTEXT [FLAGS...]: one buildah build
# for every platform into the manifest list bench-NAME.
bh_build() {
  local plats=$1 name=$2 df=$3 ctx=$4
  shift 4
  bh manifest rm "bench-$name" >/dev/null 2>&1 || true
  bh build --runtime runc --layers --tls-verify=false --platform "$plats" --manifest "bench-$name" \
    "${base_args[@]}" "${secret[@]}" "$@" -f "$df" "$ctx"
}

# bk_one PLATFORM NAME DOCKERFILE CONTEXT [FLAGS...]: one BuildKit build
# (plain progress, for the per-step times), tagged bench-NAME:ARCH. RUN
# steps use the host's network: dockerd's bridge needs iptables.
bk_one() {
  local p=$1 name=$2 df=$3 ctx=$4
  shift 4
  /usr/bin/docker build --progress plain --network host --platform "$p" \
    -t "bench-$name:${p//\//-}" "${base_args[@]}" "${secret[@]}" "$@" -f "$df" "$ctx"
}

# bk_build PLATFORMS NAME DOCKERFILE CONTEXT [FLAGS...]: BuildKit, one
# invocation per platform, in order (the build stage is cached after the first).
bk_build() {
  local plats=$1 name=$2 df=$3 ctx=$4 p
  shift 4
  for p in ${plats//,/ }; do
    bk_one "$p" "$name" "$df" "$ctx" "$@"
  done
}

# mx_build PLATFORMS NAME DOCKERFILE CONTEXT [FLAGS...]: one mxbuild build
# for every platform (its default network, the same as users get).
mx_build() {
  local plats=$1 name=$2 df=$3 ctx=$4
  shift 4
  "$mx" build --progress plain --platform "$plats" -t "bench-$name" \
    "${base_args[@]}" "${secret[@]}" "$@" -f "$df" "$ctx"
}

secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
now() { date +%s.%N; }

# timeit VAR LOG CMD...: runs CMD with its output in LOG (and the overall log),
# stores the seconds it took in VAR.
timeit() {
  local __var=$1 __log=$2
  shift 2
  local t0 t1
  t0=$(now)
  "$@" >"$__log" 2>&1 || { tail -30 "$__log"; echo "failed: $*" >&2; return 1; }
  t1=$(now)
  cat "$__log" >>"$work/log"
  printf -v "$__var" '%s' "$(secs "$t0" "$t1")"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) printf "%.2f", a / b; else print "-" }'; }

# bk_step_secs LOG TEXT: how long the first BuildKit step whose RUN line
# contains TEXT took (`#N [...] RUN …`, then `#N DONE 12.3s`), "-" if it was
# cached. The log holds one invocation per platform, each numbering its
# steps from 1: only the lines after the first match are read.
bk_step_secs() {
  python3 - "$1" "$2" <<'PY'
import re, sys
log, text = sys.argv[1], sys.argv[2]
step = None
for line in open(log, errors="replace"):
    m = re.match(r"#(\d+) \[.*\] RUN (.*)", line)
    if step is None:
        if m and text in m.group(2):
            step = m.group(1)
        continue
    m = re.match(r"#(\d+) (DONE|CACHED) ?([0-9.]*)s?", line)
    if m and m.group(1) == step:
        print(m.group(3) if m.group(2) == "DONE" else "-")
        break
else:
    print("-")
PY
}

# mx_step_secs METADATA TEXT: the same from mxbuild's --metadata-file.
mx_step_secs() {
  python3 - "$1" "$2" <<'PY'
import json, sys
meta, text = json.load(open(sys.argv[1])), sys.argv[2]
steps = [s for s in meta.get("mxbuild.steps", []) if text in s["text"] and not s["cached"]]
print("%.1f" % steps[0]["duration"] if steps else "-")
PY
}
