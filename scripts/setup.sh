#!/usr/bin/env bash
# Installs everything the tests and the demo need on a fresh Debian bookworm
# machine, and prepares the cached test root filesystems. Safe to run again:
# it only installs or builds what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

# --demo: only what scripts/demo.sh needs (runc, QEMU, debootstrap, skopeo),
# not the test tools, and no test store: a fresh machine gets to the build
# sooner.
if [ "${1:-}" = --demo ]; then
  ensure_packages coreutils ca-certificates debootstrap util-linux skopeo runc slirp4netns tini python3
  scripts/setup-binfmt.sh
  exit 0
fi

# coreutils: chroot for the xx-info distro tests; bc: test.sh's summary;
# busybox-static: the shell of the fake Alpine root (xx-apk tests);
# debootstrap: Debian root filesystems for the cross-compilation tests.
ensure_packages coreutils ca-certificates bc busybox-static debootstrap util-linux
# skopeo, umoci, docker-registry: independent tools that check our OCI output.
# python3-bcrypt: hashes the htpasswd file of the registry tests (the registry only takes bcrypt).
ensure_packages skopeo umoci docker-registry python3-bcrypt
# time (GNU time): the hostile registry tests measure mxbuild's peak memory with it.
ensure_packages time
# tini (tini-static): PID 1 of emulated RUN steps, so a program QEMU kills for a signal exits.
ensure_packages tini
# runc: the OCI runtime that executes RUN steps (crun fails on this cgroup v1/hybrid host).
# slirp4netns: the network of RUN steps (their own namespace, outbound only, no host loopback).
ensure_packages runc slirp4netns
# buildah: the peer builder for benchmarks and for `mxbuild verify` on images we did not build.
ensure_packages buildah
# podman: where `mxbuild build --load` loads images when no docker daemon runs.
ensure_packages podman
# graphviz: renders `mxbuild plan --format dot` in the tests and the README's picture.
# tmux: the terminal the live progress view is tested in.
ensure_packages graphviz tmux
# openssh-client (ssh-agent, ssh-add, ssh-keygen): the agent RUN --mount=type=ssh tests forward;
# python3: the file server of the ADD <url> tests; git: ADD <git URL> fetches with it.
ensure_packages openssh-client python3
command -v git >/dev/null || ensure_packages git
# node: runs the WebAssembly module xx-clang builds for wasi/wasm (its WASI preview 1).
command -v node >/dev/null || ensure_packages nodejs
ensure_rust_components
# pyspdxtools (the SPDX project's spdx-tools, from PyPI): the SBOM tests validate every SPDX
# document mxbuild writes against SPDX 2.3 with it. A venv outside the repository.
if ! command -v pyspdxtools >/dev/null; then
  ensure_packages python3-venv
  /usr/bin/python3 -m venv /opt/mxbuild-tools/spdx
  /opt/mxbuild-tools/spdx/bin/pip install -q spdx-tools
  ln -sf /opt/mxbuild-tools/spdx/bin/pyspdxtools /usr/local/bin/pyspdxtools
fi
# QEMU user emulation through binfmt_misc (handlers vanish on reboot).
scripts/setup-binfmt.sh
# debian:bookworm for linux/amd64, arm64 and arm/v7 in the test store (debootstrap + import).
scripts/base-images.sh >/dev/null
