#!/usr/bin/env bash
# Makes sure foreign Linux binaries run here through QEMU: installs
# qemu-user-static and binfmt-support, mounts binfmt_misc if needed, and
# (re)registers the handlers, which do not survive a reboot. The handlers use
# the F flag, so they work inside chroots and containers too. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

ensure_packages qemu-user-static binfmt-support
if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
  log "mounting binfmt_misc"
  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
fi
if ! grep -q '^flags:.*F' /proc/sys/fs/binfmt_misc/qemu-aarch64 2>/dev/null; then
  log "registering QEMU binfmt handlers"
  update-binfmts --enable >/dev/null 2>&1 || true
fi
for q in aarch64 arm ppc64le s390x riscv64; do
  if ! grep -q '^flags:.*F' "/proc/sys/fs/binfmt_misc/qemu-$q" 2>/dev/null; then
    echo "error: binfmt handler qemu-$q is missing or lacks the F flag" >&2
    echo "hint: update-binfmts --enable qemu-$q (package qemu-user-static)" >&2
    exit 1
  fi
done
