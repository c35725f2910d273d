#!/usr/bin/env bash
# Benchmarks (not tests): mxbuild side by side with BuildKit and buildah on
# real projects, every figure a ratio measured in the same run, written to
# BENCHMARKS.md (one section per part, with the date, machine and versions).
#
#   scripts/bench.sh [rust] [c] [layer]   (no argument: all three)
#   scripts/bench.sh --smoke              (one platform, a tiny project; the
#                                          tests run it so the script cannot
#                                          rot; BENCHMARKS.md is not touched)
#
# rust: hyperfine 1.18.0 from crates.io (74 crates, --locked), c: lz4 1.9.4
# (Debian's pinned tarball), each for linux/amd64, linux/arm64, linux/arm/v7:
# the xx-way Dockerfile and the naive all-in-target one, each with mxbuild,
# BuildKit and buildah, cold (--no-cache) and as a no-op rebuild; and three
# native builds of the project on the host as the floor. layer: layer
# creation against tar | pigz (scripts/bench-layer.sh).
# MXBUILD_BENCH_WAYS="xx" measures only the xx way (the naive builds under
# QEMU take most of the run's time), MXBUILD_BENCH_TOOLS="mx bk" leaves out
# buildah; what is left out says "not measured".
# Needs root, the packages of scripts/setup.sh, network for apt and crates.io.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

smoke=0
parts=()
for a in "$@"; do
  case $a in
    --smoke) smoke=1 ;;
    rust | c | layer) parts+=("$a") ;;
    *) echo "usage: scripts/bench.sh [--smoke] [rust] [c] [layer]" >&2; exit 2 ;;
  esac
done
[ "${#parts[@]}" -eq 0 ] && parts=(rust c layer)
[ "$smoke" -eq 1 ] && parts=(smoke)

scripts/setup.sh
ensure_packages docker.io pigz
cargo build --release -q -p mxbuild -p xx
mx=$PWD/target/release/mxbuild
cache_root=${MXBUILD_TEST_CACHE:-/var/cache/mxbuild-test}
export MXBUILD_ROOT=${MXBUILD_BENCH_STORE:-$cache_root/bench-store}
work=$(mktemp -d)
# Every build's log and mxbuild's metadata stay in target/bench/ (profiles).
trap 'peers_teardown; mkdir -p target/bench; cp "$work"/*.log "$work"/*.json target/bench/ 2>/dev/null; rm -rf "$work"' EXIT
. scripts/bench-peers.sh

three=linux/amd64,linux/arm64,linux/arm/v7
needs_peers=0
for p in "${parts[@]}"; do
  [ "$p" != layer ] && needs_peers=1
done
if [ "$needs_peers" -eq 1 ]; then
  [ "$smoke" -eq 1 ] && MXBUILD_BASE_ARCHES=amd64 scripts/base-images.sh "$MXBUILD_ROOT" >/dev/null
  [ "$smoke" -eq 0 ] && MXBUILD_BASE_ARCHES="amd64 arm64 armhf" scripts/base-images.sh "$MXBUILD_ROOT" >/dev/null
  peers_setup "$([ "$smoke" -eq 1 ] && echo linux/amd64 || echo "$three")"
  bh_note=
  if [ "$smoke" -eq 0 ] && [ "$(buildah_build_stage_arch linux/arm64)" != x86_64 ]; then
    bh_note="buildah $(buildah --version | awk '{print $3}') ignores \`FROM --platform=\$BUILDPLATFORM\` (a probe's build stage for linux/arm64 ran as aarch64): its xx-way builds run their build stage under QEMU too."
  fi
fi

# bench_project KEY PLATFORMS DIR STEP_TEXT NATIVE_CMD: every build of DIR's
# Dockerfile (xx way) and naive.Dockerfile with the three builders, cold then
# no-op; NATIVE_CMD three times (the floor). Sets KEY_* variables and the
# per-step times of the package install (the first RUN containing STEP_TEXT).
bench_project() {
  local key=$1 plats=$2 dir=$3 step=$4 native=$5 way df i t
  for way in xx naive; do
    if [[ " ${MXBUILD_BENCH_WAYS:-xx naive} " != *" $way "* ]]; then
      for t in mx bk bh; do
        printf -v "r_${t}_${way}_cold" '%s' "not measured"
        printf -v "r_${t}_${way}_noop" '%s' "not measured"
      done
      continue
    fi
    df=$dir/Dockerfile
    [ "$way" = naive ] && df=$dir/naive.Dockerfile
    if [[ " ${MXBUILD_BENCH_TOOLS:-mx bk bh} " != *" bh "* ]]; then
      printf -v "r_bh_${way}_cold" '%s' "not measured"
      printf -v "r_bh_${way}_noop" '%s' "not measured"
    fi
    log "$key, $way way: mxbuild (one build for $plats)"
    timeit "r_mx_${way}_cold" "$work/$key-mx-$way-cold.log" \
      mx_build "$plats" "$key-$way" "$df" "$dir" --no-cache --metadata-file "$work/$key-mx-$way.json"
    timeit "r_mx_${way}_noop" "$work/$key-mx-$way-noop.log" mx_build "$plats" "$key-$way" "$df" "$dir"
    log "$key, $way way: BuildKit (one build per platform)"
    bk_fresh "$plats"
    timeit "r_bk_${way}_cold" "$work/$key-bk-$way-cold.log" bk_build "$plats" "$key-$way" "$df" "$dir"
    timeit "r_bk_${way}_noop" "$work/$key-bk-$way-noop.log" bk_build "$plats" "$key-$way" "$df" "$dir"
    [[ " ${MXBUILD_BENCH_TOOLS:-mx bk bh} " != *" bh "* ]] && continue
    log "$key, $way way: buildah (one build for $plats)"
    timeit "r_bh_${way}_cold" "$work/$key-bh-$way-cold.log" bh_build "$plats" "$key-$way" "$df" "$dir" --no-cache
    timeit "r_bh_${way}_noop" "$work/$key-bh-$way-noop.log" bh_build "$plats" "$key-$way" "$df" "$dir"
  done
  r_step_mx=$(mx_step_secs "$work/$key-mx-xx.json" "$step")
  r_step_bk=$(bk_step_secs "$work/$key-bk-xx-cold.log" "$step")
  r_summary=$(grep -E '^(built|time in steps|critical path)' "$work/$key-mx-xx-cold.log" | sed 's/^/    /')
  log "$key: three native builds on the host"
  r_native=()
  for i in 1 2 3; do
    timeit t "$work/$key-native-$i.log" bash -c "$native"
    r_native+=("$t")
  done
  r_native_sum=$(printf '%s\n' "${r_native[@]}" | paste -sd+ | bc)
}

# project_section KEY TITLE PLATFORMS NATIVE_WHAT: the markdown of one project.
project_section() {
  local key=$1 title=$2 plats=$3 native_what=$4 way row
  echo "<!-- bench-$key: written by scripts/bench.sh -->"
  echo "## $title, $plats"
  echo
  echo "Measured by \`scripts/bench.sh\` on $(date -u +%Y-%m-%d) on $(uname -srm), $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GB RAM;"
  echo "mxbuild $(git rev-parse --short HEAD), BuildKit in dockerd $(/usr/bin/docker version -f '{{.Server.Version}}'), buildah $(buildah --version | awk '{print $3}'), runc $(runc --version | awk 'NR==1 {print $3}')."
  echo "Seconds; ratios from the same run. Cold: nothing of an earlier build reused (mxbuild and"
  echo "buildah \`--no-cache\`; BuildKit's cache pruned), base images already pulled and unpacked by"
  echo "an untimed warm-up build. mxbuild builds every platform in one invocation; BuildKit one per"
  echo "platform (Docker 20.10 has no buildx; the build stage is cached after the first); buildah one"
  echo "for all."
  echo
  echo "| | mxbuild | BuildKit | buildah | mxbuild / BuildKit | mxbuild / buildah |"
  echo "|---|---:|---:|---:|---:|---:|"
  for way in xx naive; do
    for row in cold noop; do
      local m b h
      m=$(eval echo "\$r_mx_${way}_$row") b=$(eval echo "\$r_bk_${way}_$row") h=$(eval echo "\$r_bh_${way}_$row")
      echo "| $way way, $([ $row = cold ] && echo cold || echo no-op rebuild) | $m | $b | $h | $(ratio "$m" "$b") | $(ratio "$m" "$h") |"
    done
  done
  echo
  echo "| target | measured | goal |"
  echo "|---|---:|---:|"
  echo "| naive / xx way, cold, mxbuild | $(ratio "$r_mx_naive_cold" "$r_mx_xx_cold") | >= 5 |"
  echo "| naive / xx way, cold, BuildKit | $(ratio "$r_bk_naive_cold" "$r_bk_xx_cold") | >= 5 |"
  echo "| naive / xx way, cold, buildah | $(ratio "$r_bh_naive_cold" "$r_bh_xx_cold") | >= 5 |"
  echo "| xx way cold (mxbuild) / 3 native builds ($r_native_sum s) | $(ratio "$r_mx_xx_cold" "$r_native_sum") | <= 1.3 |"
  echo "| mxbuild / BuildKit, xx way cold | $(ratio "$r_mx_xx_cold" "$r_bk_xx_cold") | <= 0.8 |"
  echo "| mxbuild / buildah, xx way cold | $(ratio "$r_mx_xx_cold" "$r_bh_xx_cold") | <= 0.8 |"
  echo "| mxbuild / BuildKit, xx way no-op | $(ratio "$r_mx_xx_noop" "$r_bk_xx_noop") | <= 0.5 |"
  echo "| package install step (mxbuild $r_step_mx s, BuildKit $r_step_bk s) | $(ratio "$r_step_mx" "$r_step_bk") | <= 1.0 |"
  echo
  [ -n "${bh_note:-}" ] && { echo "$bh_note"; echo; }
  echo "Native floor: $native_what, three times: ${r_native[*]} s."
  echo "mxbuild's own account of the cold xx-way build:"
  echo
  echo "$r_summary"
  echo "<!-- /bench-$key -->"
}

for part in "${parts[@]}"; do
  case $part in
    smoke)
      mkdir -p "$work/tiny"
      printf 'ARG BASE\nARG XX\nFROM --platform=$BUILDPLATFORM ${XX} AS xx\nFROM --platform=$BUILDPLATFORM ${BASE} AS build\nCOPY --from=xx / /\nARG TARGETPLATFORM\nRUN mkdir /out && xx-info triple > /out/triple\nFROM ${BASE}\nCOPY --from=build /out/ /\nRUN cat /triple\n' >"$work/tiny/Dockerfile"
      printf 'ARG BASE\nFROM ${BASE}\nRUN uname -m > /arch\n' >"$work/tiny/naive.Dockerfile"
      bench_project smoke linux/amd64 "$work/tiny" "xx-info triple" "true"
      project_section smoke "bench.sh --smoke (a tiny Dockerfile)" linux/amd64 "true" >"$work/smoke.md"
      cat "$work/smoke.md"
      # Every cell of the builders' table holds a number.
      [ "$(grep -cE '^\| (xx|naive) way, [a-z -]+( \| [0-9.]+){5} \|$' "$work/smoke.md")" -eq 4 ] \
        || { echo "bench.sh --smoke: a figure is missing" >&2; exit 1; }
      ;;
    rust)
      src=$work/hyperfine-src
      mkdir -p "$src"
      curl -sSfL https://static.crates.io/crates/hyperfine/hyperfine-1.18.0.crate | tar -xz -C "$src" --strip-components=1
      (cd "$src" && cargo fetch --locked -q)
      bench_project rust "$three" testdata/hyperfine "rustc-web cargo-web" \
        "cd '$src' && CARGO_TARGET_DIR=\$(mktemp -d -p '$work') cargo build --release --locked --offline -q"
      project_section rust "hyperfine 1.18.0 from crates.io (74 crates, --locked)" "$three" \
        "\`cargo build --release --locked\` of the same crate with the host's cargo $(cargo --version | awk '{print $2}') into a fresh target directory" >"$work/rust.md"
      replace_bench_section bench-rust "$work/rust.md"
      ;;
    c)
      src=$work/lz4-src
      mkdir -p "$src"
      curl -sSfL http://deb.debian.org/debian/pool/main/l/lz4/lz4_1.9.4.orig.tar.gz | tar -xz -C "$src" --strip-components=1
      cc=cc
      command -v clang >/dev/null && cc=clang
      bench_project c "$three" testdata/lz4 "clang lld make" \
        "d=\$(mktemp -d -p '$work') && cp -a '$src'/. \"\$d\" && make -C \"\$d\" -j$(nproc) CC=$cc lz4 >/dev/null"
      project_section c "lz4 1.9.4 (Debian's pinned tarball)" "$three" \
        "\`make -j$(nproc) CC=$cc lz4\` of the same tarball on the host in a fresh copy" >"$work/c.md"
      replace_bench_section bench-c "$work/c.md"
      ;;
    layer)
      {
        echo "<!-- bench-layer: written by scripts/bench.sh -->"
        echo "## Layer creation, ~1 GB / 20,000 files (\`scripts/bench-layer.sh\`)"
        echo
        echo "Measured on $(date -u +%Y-%m-%d), same machine:"
        echo
        echo '```'
        scripts/bench-layer.sh 2>/dev/null
        echo '```'
        echo "<!-- /bench-layer -->"
      } >"$work/layer.md"
      replace_bench_section bench-layer "$work/layer.md"
      ;;
  esac
done
# What the builders made stays in their storage otherwise (cold builds add
# new layers every run); the base images stay.
if [ "$needs_peers" -eq 1 ]; then
  bh rmi --all --force >/dev/null 2>&1 || true
  /usr/bin/docker builder prune -af >/dev/null 2>&1 || true
  /usr/bin/docker image prune -af >/dev/null 2>&1 || true
  for t in $("$mx" image ls | awk '$1 ~ /bench/ {print $1}'); do
    "$mx" image rm "$t" >/dev/null
  done
fi
"$mx" prune --all >/dev/null
