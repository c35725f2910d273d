#!/usr/bin/env bash
# Benchmark (not a test): the registry cache on fresh stores, as on CI
# runners. testdata/ripgrep (ripgrep from crates.io, the xx way) for
# linux/amd64 + linux/arm64, each build in an empty store pulling its base
# from a docker-registry on 127.0.0.1:
#  1. cold, no cache;
#  2. cold, writing the registry cache (--cache-to type=registry,mode=max);
#  3. cold, reading it (--cache-from): the ratio 1/3 is what a runner gains;
#  4. the merge: each platform pushed by digest, then timed
#     `mxbuild imagetools create` of the two digests.
# Written to BENCHMARKS.md between its bench-cache markers.
# Needs root, the packages of scripts/setup.sh, network (apt, crates.io).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

scripts/setup.sh
cargo build --release -q -p mxbuild -p xx
mx=$PWD/target/release/mxbuild

registry_workspace "$mx"

# Fixed timestamps: the cached build must give the very same image.
export SOURCE_DATE_EPOCH=1700000000
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
# build NAME PLATFORMS ARGS...: a build in the empty store $work/NAME;
# prints its seconds; its log is $work/NAME.log.
build() {
  local name=$1 platforms=$2 t0 t1
  shift 2
  t0=$(now)
  MXBUILD_ROOT=$work/$name "$mx" build --progress plain --platform "$platforms" \
    --build-arg "BASE=$reg/library/debian:bookworm" --build-context "xx=$xxctx" \
    --secret id=cacert,src=/etc/ssl/certs/ca-certificates.crt \
    "$@" testdata/ripgrep >"$work/$name.log" 2>&1 || {
    tail -30 "$work/$name.log" >&2
    echo "failed: build $name" >&2
    exit 1
  }
  t1=$(now)
  secs "$t0" "$t1"
}
summary() { grep '^built ' "$work/$1.log" | head -1; }

two=linux/amd64,linux/arm64
cache=$reg/bench/ripgrep:cache
log "1. cold, no cache"
t_plain=$(build plain "$two")
log "   $t_plain s: $(summary plain)"
log "2. cold, --cache-to type=registry,mode=max"
t_write=$(build write "$two" --cache-to "type=registry,ref=$cache,mode=max")
log "   $t_write s: $(summary write)"
log "3. cold store, --cache-from the registry cache"
t_read=$(build read "$two" --cache-from "type=registry,ref=$cache")
log "   $t_read s: $(summary read)"
digest_of() { summary "$1" | awk '{ print $2 }'; }
[ "$(digest_of read)" = "$(digest_of write)" ] || {
  echo "error: the cached build made another image: $(digest_of read) vs $(digest_of write)" >&2
  exit 1
}
grep -q '(0 steps run' "$work/read.log" || {
  summary read >&2
  echo "error: the cached build ran steps" >&2
  exit 1
}

log "4. each platform pushed by digest (from the cache), then merged"
for arch in amd64 arm64; do
  build "runner-$arch" "linux/$arch" --cache-from "type=registry,ref=$cache" \
    -o "type=image,name=$reg/bench/ripgrep,push-by-digest=true,name-canonical=true,push=true" \
    --metadata-file "$work/meta-$arch.json" >/dev/null
done
digest() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["containerimage.digest"])' "$1"; }
t0=$(now)
MXBUILD_ROOT=$work/merge "$mx" imagetools create -t "$reg/bench/ripgrep:1" \
  "$reg/bench/ripgrep@$(digest "$work/meta-amd64.json")" \
  "$reg/bench/ripgrep@$(digest "$work/meta-arm64.json")" >"$work/merge.log" 2>&1
t_merge=$(secs "$t0" "$(now)")
MXBUILD_ROOT=$work/merge "$mx" verify "$reg/bench/ripgrep:1" >"$work/verify.log" 2>&1 || {
  cat "$work/verify.log" >&2
  exit 1
}
# The arm64 image's layer bytes (skopeo 1.9: raw manifests only).
raw() { skopeo inspect --raw --tls-verify=false "docker://$1"; }
arm64_manifest=$(raw "$reg/bench/ripgrep:1" | python3 -c '
import json, sys
for m in json.load(sys.stdin)["manifests"]:
    if m.get("platform", {}).get("architecture") == "arm64":
        print(m["digest"])')
image_mb=$(raw "$reg/bench/ripgrep@$arm64_manifest" |
  python3 -c 'import json, sys; print("%.0f" % (sum(l["size"] for l in json.load(sys.stdin)["layers"]) / 1e6))')

section=$work/section.md
{
  echo "<!-- bench-cache: written by scripts/bench-cache.sh -->"
  echo "## Registry cache on fresh stores (CI runners): ripgrep, linux/amd64 + linux/arm64"
  echo
  echo "Measured by \`scripts/bench-cache.sh\` on $(date -u +%Y-%m-%d) on $(uname -srm), $(nproc) cores."
  echo "\`testdata/ripgrep\`: ripgrep 14.1.1 from crates.io built by \`xx-cargo install\` natively for"
  echo "both targets, final \`RUN rg --version\` emulated for arm64. Every build starts from an empty"
  echo "store and pulls \`debian:bookworm\` from a docker-registry on 127.0.0.1. Seconds."
  echo
  echo "| build | time | speed vs cold, no cache |"
  echo "|---|---:|---:|"
  echo "| cold, no cache | $t_plain | 1.00x |"
  echo "| cold, writing \`--cache-to type=registry,mode=max\` | $t_write | $(ratio "$t_plain" "$t_write") |"
  echo "| cold store, \`--cache-from type=registry\` (every step cached, same image digest as 2) | $t_read | $(ratio "$t_plain" "$t_read") |"
  echo
  echo "A runner with the registry cache finishes $(ratio "$t_plain" "$t_read") faster than one without. Rows 1 and 2 differ"
  echo "mostly by how fast apt and crates.io answered (both download everything; the export is a push"
  echo "to a registry on this machine)."
  echo "What remains is pulling the base and the cached layers, writing the index and verifying"
  echo "every binary. Merging the two pushed-by-digest images (arm64 image ${image_mb} MB) into one index"
  echo "with \`mxbuild imagetools create\` (blobs mounted, not copied) took $t_merge s."
  echo "<!-- /bench-cache -->"
} >"$section"

replace_bench_section bench-cache "$section"
