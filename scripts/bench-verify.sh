#!/usr/bin/env bash
# Benchmark (not a test): xx-verify over N ELF files from /usr/bin and /usr/lib
# in one process, against `file -L -b` run once per file on the same files,
# which is what upstream xx-verify does. Prints both times and the ratio.
# Usage: scripts/bench-verify.sh [N]   (default 2000)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
n=${1:-2000}
ensure_packages file
cargo build --release -p xx --quiet
xx=$PWD/target/release/xx

list=$(mktemp)
trap 'rm -f "$list"' EXIT
# Regular files that start with the ELF magic, in a stable order.
find /usr/bin /usr/lib -type f -size +0 2>/dev/null | sort | while read -r f; do
  if [ "$(head -c 4 "$f" 2>/dev/null | od -An -c | tr -d ' ')" = '177ELF' ]; then echo "$f"; fi
done | head -n "$n" >"$list" || true  # head closes the pipe early: expected
count=$(wc -l <"$list")
log "$count ELF files"

now() { date +%s.%N; }
# Warm the page cache once so both tools read from memory.
xargs cat <"$list" >/dev/null

t0=$(now)
xargs -d '\n' env TARGETPLATFORM=linux/amd64 "$xx" verify <"$list" >/dev/null 2>&1 || true
t1=$(now)
while read -r f; do file -L -b "$f"; done <"$list" >/dev/null
t2=$(now)

awk -v a="$t0" -v b="$t1" -v c="$t2" -v n="$count" 'BEGIN {
  xx = b - a; f = c - b;
  printf "xx-verify: %d files in %.3f s (%.0f files/s)\n", n, xx, n / xx;
  printf "file -L -b per file: %d files in %.3f s (%.0f files/s)\n", n, f, n / f;
  printf "ratio: xx-verify is %.1fx faster\n", f / xx;
}'
