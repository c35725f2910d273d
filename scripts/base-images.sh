#!/usr/bin/env bash
# scripts/base-images.sh [STORE]
#
# Makes sure the mxbuild store STORE (default: $MXBUILD_ROOT, else the test
# cache ${MXBUILD_TEST_CACHE:-/var/cache/mxbuild-test}/store) holds
# `debian:bookworm` for linux/amd64, linux/arm64, linux/arm/v7 and linux/arm/v5: Debian
# bookworm minbase root filesystems made with debootstrap (cached by
# scripts/base-rootfs.sh) and imported with `mxbuild image import`. No
# registry is needed. Idempotent: platforms already there are skipped.
# MXBUILD_BASE_ARCHES="amd64 arm64 armhf" limits it to those architectures;
# missing root filesystems are debootstrapped in parallel.
# Prints the store path.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

cache=${MXBUILD_TEST_CACHE:-/var/cache/mxbuild-test}
store=${1:-${MXBUILD_ROOT:-$cache/store}}
mkdir -p "$store"
cargo build -q -p mxbuild
mx=target/debug/mxbuild
# A fixed date: the same rootfs gives the same image digest on every machine.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000}
# MXBUILD_BASE_ARCHES picks the Debian architectures (default: all four).
want=${MXBUILD_BASE_ARCHES:-amd64 armhf arm64 armel}
missing=()
for pair in amd64=linux/amd64 arm64=linux/arm64 armhf=linux/arm/v7 armel=linux/arm/v5; do
  arch=${pair%%=*}
  platform=${pair#*=}
  case " $want " in *" $arch "*) ;; *) continue ;; esac
  if ! MXBUILD_ROOT=$store $mx image inspect --platform "$platform" debian:bookworm >/dev/null 2>&1; then
    missing+=("$pair")
  fi
done
# The root filesystems first, all at once: debootstrap waits on the network
# and (for foreign architectures) on QEMU, so they overlap well.
pids=()
for pair in "${missing[@]}"; do
  scripts/base-rootfs.sh "${pair%%=*}" >/dev/null &
  pids+=($!)
done
for pid in "${pids[@]}"; do
  wait "$pid"
done
for pair in "${missing[@]}"; do
  arch=${pair%%=*}
  platform=${pair#*=}
  dir=$(scripts/base-rootfs.sh "$arch")
  log "importing $dir as debian:bookworm ($platform)"
  # The cache marker of base-rootfs.sh is not part of the image.
  tar -C "$dir" --exclude=./.mxbuild-rootfs-complete --numeric-owner -cf - . \
    | MXBUILD_ROOT=$store $mx image import --platform "$platform" - debian:bookworm >&2
done
echo "$store"
