#!/usr/bin/env bash
# THE main job (README): on a fresh machine, installs what is missing
# (packages, QEMU binfmt handlers, a debootstrapped debian:bookworm for
# amd64/arm64/arm/v7), then builds testdata/hello-rust for linux/amd64,
# linux/arm64 and linux/arm/v7 the xx way -- cargo runs natively, xx-cargo
# cross-compiles, only the final RUN is emulated -- into
# out/hello-rust.oci.tar, verifies every binary of every platform, runs
# a smoke test in each platform's image, and attaches an SPDX SBOM and SLSA
# provenance to each platform's manifest (OCI referrers), then reads them back.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

# part NAME: ends the previous part (printing how long it took) and starts NAME.
part_name= part_start=$SECONDS
part() {
  [ -n "$part_name" ] && log "$part_name took $((SECONDS - part_start)) s"
  part_name=$1 part_start=$SECONDS
  [ -n "$part_name" ] && log "$part_name"
  return 0
}

part "installing what is missing (packages, QEMU binfmt handlers)"
scripts/setup.sh --demo

part "building mxbuild and the static xx"
cargo build --release --quiet -p mxbuild -p xx
mx=$PWD/target/release/mxbuild

# The store the demo builds in (mxbuild's default for root), with the base
# image for the three platforms built (debootstrapped in parallel if missing).
part "debian:bookworm for amd64, arm64 and armhf (debootstrap once, cached)"
export MXBUILD_ROOT=${MXBUILD_ROOT:-/var/lib/mxbuild}
MXBUILD_BASE_ARCHES="amd64 arm64 armhf" scripts/base-images.sh "$MXBUILD_ROOT" >/dev/null

# The xx helpers for `COPY --from=xx / /`: this checkout's static binary and
# its links (images/xx/Dockerfile builds the same thing as an image).
xxctx=$(mktemp -d)
trap 'rm -rf "$xxctx"' EXIT
xx_context "$xxctx"

part "what the build will do"
"$mx" plan --platform linux/amd64,linux/arm64,linux/arm/v7 --build-context xx="$xxctx" testdata/hello-rust

part "mxbuild build --platform linux/amd64,linux/arm64,linux/arm/v7 testdata/hello-rust"
mkdir -p out
"$mx" build --progress tty \
  --platform linux/amd64,linux/arm64,linux/arm/v7 \
  --build-context xx="$xxctx" \
  --verify strict \
  --smoke-test hello-rust \
  --sbom=true --provenance=mode=max \
  -t hello-rust:demo \
  -o type=oci,dest=out/hello-rust.oci.tar \
  testdata/hello-rust

part "the result, as skopeo sees it (the image tagged demo; its attestations sit beside it)"
skopeo inspect --raw oci-archive:out/hello-rust.oci.tar:demo | python3 -m json.tool
ls -l out/hello-rust.oci.tar

log "platforms and attestations (SPDX SBOM, SLSA provenance: OCI referrers, no unknown/unknown)"
"$mx" imagetools inspect oci-layout://out/hello-rust.oci.tar:demo
log "what the linux/arm/v7 SBOM lists: packages per kind, and the crates"
"$mx" sbom --platform linux/arm/v7 oci-layout://out/hello-rust.oci.tar:demo | python3 -c '
import collections, json, sys
v = json.load(sys.stdin)
for doc in [v["SPDX"]] + v.get("AdditionalSPDXs", []):
    refs = [p["externalRefs"][0]["referenceLocator"] for p in doc["packages"] if "externalRefs" in p]
    kinds = collections.Counter(r.split("/")[0] for r in refs)
    print(doc["name"] + ":", ", ".join("%d %s" % (n, k) for k, n in sorted(kinds.items())))
    for r in refs:
        if r.startswith("pkg:cargo/"):
            print("  " + r)
'
part ""
log "demo done in $SECONDS s"
