#!/usr/bin/env bash
# THE main job (README). Today: builds the static multi-call `xx` binary and
# shows the platform model at work for the Raspberry Pi targets: what xx-info
# tells a cross-compiling build stage on Debian and on Alpine. It grows into a
# full `mxbuild build` of testdata/hello-rust as the builder lands.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

scripts/setup.sh

log "building the static xx binary"
cargo build --release -p xx --quiet
xx=target/release/xx
if command -v file >/dev/null 2>&1; then file "$xx"; fi
ls -l "$xx"

# A throwaway root with the xx-* links, so helpers run by their real names.
links=$(mktemp -d)
trap 'rm -rf "$links"' EXIT
cp "$xx" "$links/xx"
"$links/xx" install-links "$links"

log "Raspberry Pi models and the platform to build for"
cargo run --quiet -p mxbuild -- platforms

log "what xx-info tells a build stage, per target platform (this host: $(uname -m))"
printf '%-14s %-30s %-32s %-9s %-8s %s\n' PLATFORM "DEBIAN TRIPLE" "ALPINE TRIPLE" DEB-ARCH GOARM CROSS
for p in linux/amd64 linux/arm64 linux/arm/v7 linux/arm/v6 linux/386 linux/riscv64; do
  deb=$(TARGETPLATFORM=$p XX_VENDOR=debian "$links/xx-info" triple)
  alp=$(TARGETPLATFORM=$p XX_VENDOR=alpine XX_LIBC=musl "$links/xx-info" triple)
  debarch=$(TARGETPLATFORM=$p XX_VENDOR=debian "$links/xx-info" pkg-arch)
  variant=$(TARGETPLATFORM=$p "$links/xx-info" variant)
  goarm=-
  case "$variant" in v5) goarm=5 ;; v6) goarm=6 ;; v7) goarm=7 ;; esac
  if TARGETPLATFORM=$p "$links/xx-info" is-cross; then cross=yes; else cross=no; fi
  printf '%-14s %-30s %-32s %-9s %-8s %s\n' "$p" "$deb" "$alp" "$debarch" "$goarm" "$cross"
done
