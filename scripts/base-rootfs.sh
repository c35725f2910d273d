#!/usr/bin/env bash
# scripts/base-rootfs.sh ARCH [PACKAGES...]
#
# Prints the path of a Debian bookworm (minbase) root filesystem for the Debian
# architecture ARCH (amd64, arm64, armhf, armel, i386, ...) with PACKAGES
# installed, made with debootstrap and cached outside the repo:
#   ${MXBUILD_TEST_CACHE:-/var/cache/mxbuild-test}/rootfs/bookworm-ARCH-<hash of PACKAGES>
# The first call for a package set takes 0.5-3 minutes; later calls return at
# once. Foreign architectures run their maintainer scripts under QEMU (binfmt).
# Callers must not modify the result: mount it read-only or as an overlay lower.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

if [ $# -lt 1 ]; then
  echo "usage: scripts/base-rootfs.sh ARCH [PACKAGES...]   (e.g. amd64 clang lld)" >&2
  exit 2
fi
arch=$1
shift
suite=bookworm
pkgs=$(printf '%s\n' "$@" | sed '/^$/d' | sort -u | paste -sd, -)
cache=${MXBUILD_TEST_CACHE:-/var/cache/mxbuild-test}
key=$(printf '%s %s %s' "$suite" "$arch" "$pkgs" | sha256sum | cut -c1-12)
dir=$cache/rootfs/$suite-$arch-$key
done_marker=.mxbuild-rootfs-complete

if [ -f "$dir/$done_marker" ]; then
  echo "$dir"
  exit 0
fi

ensure_packages debootstrap
if [ "$arch" != "$(dpkg --print-architecture)" ] && [ "$arch" != i386 ]; then
  scripts/setup-binfmt.sh >&2
fi
mkdir -p "$cache/rootfs"
# One debootstrap per cache entry, even with parallel callers; different
# entries (architectures) are made in parallel.
exec 9>"$dir.lock"
flock 9
if [ -f "$dir/$done_marker" ]; then
  echo "$dir"
  exit 0
fi
tmp=$dir.partial
rm -rf "$tmp"
log "debootstrap $suite $arch ${pkgs:+(+ $pkgs)} -> $dir"
# No mirror argument: debootstrap's default Debian mirror.
if ! debootstrap --variant=minbase --arch="$arch" ${pkgs:+--include="$pkgs"} "$suite" "$tmp" \
  >"$cache/rootfs/$suite-$arch-$key.log" 2>&1; then
  tail -20 "$cache/rootfs/$suite-$arch-$key.log" >&2
  echo "error: debootstrap failed; full log: $cache/rootfs/$suite-$arch-$key.log" >&2
  exit 1
fi
rm -f "$tmp"/var/cache/apt/archives/*.deb
echo "$suite $arch $pkgs" >"$tmp/$done_marker"
mv "$tmp" "$dir"
echo "$dir"
