#!/usr/bin/env bash
# The distributed build, end to end on this machine: two "runners" (two
# empty stores, as fresh CI runners) each build testdata/hello-c for one
# platform the xx way and push it by digest to a docker-registry on
# 127.0.0.1, with a registry cache; a merge job (a third empty store) makes
# one index of both digests with `mxbuild imagetools create`, then shows it
# and verifies every binary of every platform.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

scripts/setup.sh
log "building mxbuild and the static xx"
cargo build --release --quiet -p mxbuild -p xx
mx=$PWD/target/release/mxbuild

registry_workspace "$mx"

for arch in amd64 arm64; do
  log "runner $arch: mxbuild build --platform linux/$arch, pushed by digest"
  MXBUILD_ROOT=$work/runner-$arch "$mx" build --progress plain \
    --platform "linux/$arch" \
    --build-arg "BASE=$reg/library/debian:bookworm" \
    --build-context "xx=$xxctx" \
    --cache-from "type=registry,ref=$reg/demo/hello:cache-$arch" \
    --cache-to "type=registry,ref=$reg/demo/hello:cache-$arch,mode=max" \
    -o "type=image,name=$reg/demo/hello,push-by-digest=true,name-canonical=true,push=true" \
    --metadata-file "$work/meta-$arch.json" \
    testdata/hello-c 2>&1 | tail -n 4
done
digest() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["containerimage.digest"])' "$1"; }
amd64=$(digest "$work/meta-amd64.json")
arm64=$(digest "$work/meta-arm64.json")

log "merge: mxbuild imagetools create -t $reg/demo/hello:1 …@$amd64 …@$arm64"
MXBUILD_ROOT=$work/merge "$mx" imagetools create -t "$reg/demo/hello:1" \
  "$reg/demo/hello@$amd64" "$reg/demo/hello@$arm64"
log "the merged index"
MXBUILD_ROOT=$work/merge "$mx" imagetools inspect "$reg/demo/hello:1"
log "every binary of every platform, verified"
MXBUILD_ROOT=$work/merge "$mx" verify "$reg/demo/hello:1"
