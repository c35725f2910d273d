#!/usr/bin/env bash
# Benchmark (not a test): layer creation from a ~1 GB, ~20k-file tree with
# mxbuild (tar + parallel gzip level 6 into the blob store, hashing both
# streams; its peak RSS too) against `tar -c | pigz -6 | sha256sum` and
# `tar -c | gzip -6 | sha256sum` on the same tree, in the same run.
# Usage: scripts/bench-layer.sh [DIR]   (the tree is generated once and cached)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ensure_packages pigz time
tree=${1:-${MXBUILD_TEST_CACHE:-/var/cache/mxbuild-test}/bench-tree}
if [ ! -f "$tree/.complete" ]; then
  log "generating $tree (20,000 files, ~1 GB: half text-like, half random)"
  rm -rf "$tree" && mkdir -p "$tree"
  python3 - "$tree" <<'PY'
import os, random, sys
root = sys.argv[1]
rnd = random.Random(42)
words = [("w%d" % i).encode() for i in range(5000)]
for d in range(200):
    sub = os.path.join(root, "dir%03d" % d, "sub%d" % (d % 7))
    os.makedirs(sub, exist_ok=True)
    for f in range(100):
        size = rnd.randint(10_000, 90_000)
        if f % 2:
            data = rnd.randbytes(size)
        else:
            data = b" ".join(rnd.choice(words) for _ in range(size // 4))[:size]
        with open(os.path.join(sub, "file%03d.dat" % f), "wb") as fh:
            fh.write(data)
PY
  touch "$tree/.complete"
fi
files=$(find "$tree" -type f | wc -l)
bytes=$(du -sb "$tree" | cut -f1)
log "tree: $files files, $bytes bytes"
cargo build --release -q -p mxbuild --example layer_bench
store=$(mktemp -d)
trap 'rm -rf "$store"' EXIT
cat "$tree"/dir*/*/* >/dev/null  # warm the page cache for both
/usr/bin/time -f '%M' -o "$store/rss" target/release/examples/layer_bench "$tree" "$store" gzip >"$store/out"
read -r ours digest diff size <"$store/out"
rss_mb=$(awk '{ printf "%.0f", $1 / 1024 }' "$store/rss")
pipeline() { # pipeline COMPRESSOR: seconds of tar | COMPRESSOR -6 | sha256sum
  local t0 t1
  t0=$(date +%s.%N)
  tar -C "$tree" -c . | "$1" -6 | sha256sum >/dev/null
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}
pigz_s=$(pipeline pigz)
gzip_s=$(pipeline gzip)
awk -v o="$ours" -v p="$pigz_s" -v g="$gzip_s" -v n="$bytes" -v s="$size" -v r="$rss_mb" 'BEGIN {
  printf "mxbuild layer (tar+parallel gzip-6, diff_id+digest, into store): %.2f s, %.0f MB/s, blob %d bytes, peak RSS %d MB\n", o, n / o / 1e6, s, r;
  printf "tar -c | pigz -6 | sha256sum:                                    %.2f s, %.0f MB/s\n", p, n / p / 1e6;
  printf "tar -c | gzip -6 | sha256sum:                                    %.2f s, %.0f MB/s\n", g, n / g / 1e6;
  printf "ratio (tar|pigz time / mxbuild time): %.2f\n", p / o;
  printf "ratio (tar|gzip time / mxbuild time): %.2f\n", g / o;
}'
