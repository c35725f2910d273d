#!/usr/bin/env bash
# THE test command (README): installs what is missing, then checks formatting,
# lints and runs every test. Tests that need something this machine lacks print
# `SKIP: <why>`; with MXBUILD_REQUIRE_ALL=1 (as in CI) they fail instead.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

scripts/setup.sh

# Build tests add layers, snapshots and cache records on every run: start each
# run from the named images of the cached test store (debian:bookworm, ...) so
# it never fills the disk. setup.sh built target/debug/mxbuild.
MXBUILD_ROOT=${MXBUILD_TEST_CACHE:-/var/cache/mxbuild-test}/store target/debug/mxbuild prune --all >/dev/null

log "cargo fmt --check"
cargo fmt --all --check
log "cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings

log "cargo test"
mkdir -p target
export MXBUILD_SKIP_LOG="$PWD/target/test-skips.log"
: >"$MXBUILD_SKIP_LOG"
cargo test --workspace 2>&1 | tee target/test-output.log

# One closing line for the whole run: cargo prints a result per test binary,
# and the last of them (doc-tests) often says 0 passed.
passed=$(sed -n 's/^test result: [a-zA-Z]*\. \([0-9]*\) passed; \([0-9]*\) failed.*/\1/p' target/test-output.log | paste -sd+ | bc)
failed=$(sed -n 's/^test result: [a-zA-Z]*\. \([0-9]*\) passed; \([0-9]*\) failed.*/\2/p' target/test-output.log | paste -sd+ | bc)
skipped=$(sort -u "$MXBUILD_SKIP_LOG" | grep -c . || true)
sort -u "$MXBUILD_SKIP_LOG"
echo "tests: ${passed:-0} passed, ${failed:-0} failed, ${skipped} skipped"
