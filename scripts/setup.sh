#!/usr/bin/env bash
# Installs everything the tests and the demo need on a fresh Debian bookworm
# machine. Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

# coreutils: chroot(8) for the xx-info distro tests.
ensure_packages coreutils ca-certificates bc
ensure_rust_components
