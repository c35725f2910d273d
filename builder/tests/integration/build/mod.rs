//! `mxbuild build` end to end with real components: runc, overlayfs, QEMU
//! through binfmt_misc, the debootstrapped `debian:bookworm` images of
//! `scripts/base-images.sh`, and skopeo/umoci reading the result. One module
//! per topic; [`Scenario`] is the opening they share.
//!
//! Builds share the cached test store (`/var/cache/mxbuild-test/store`) and
//! run one at a time (two cores; QEMU steps are CPU-bound).

mod abi_verify;
mod add_git;
mod add_url;
mod attestations;
mod basics;
mod contexts_cache;
mod emulated_cpu;
mod failures;
mod lazy_layers;
mod onbuild;
mod outputs;
mod registry_cache;
mod reinclude;
mod ssh_mount;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::MutexGuard;

use testkit::{TempDir, require};

use crate::support::mxbuild::{mx, mx_ok, ok, repo, text, tool};
use crate::support::{is_root, shared_store, tmp};

/// What every build scenario starts with: the shared test store to itself
/// (builds run one at a time, and some look at the whole store), the
/// requirements checked (SKIP otherwise), and a scratch directory that is
/// removed when the scenario passes.
pub struct Scenario {
    /// The scratch directory (dropped first: removed while the store is
    /// still held).
    pub dir: TempDir,
    _store: MutexGuard<'static, ()>,
}

impl Scenario {
    /// Takes the store, checks [`ready`], makes `build-<tag>-…`; `None`
    /// (after a SKIP) when something is missing. Further requirements go
    /// through `Option::filter`, so they are asked only when these are met.
    pub fn start(tag: &str) -> Option<Scenario> {
        let store = shared_store();
        if !ready() {
            return None;
        }
        Some(Scenario {
            dir: tmp(&format!("build-{tag}")),
            _store: store,
        })
    }
}

pub fn dockerfiles() -> PathBuf {
    repo().join("testdata/dockerfiles/build")
}

/// Root, runc, QEMU handlers and the base images.
fn ready() -> bool {
    if !require(is_root(), "mxbuild build needs root (overlay mounts, runc)") {
        return false;
    }
    if !require(
        tool("runc") && tool("skopeo") && tool("umoci"),
        "runc, skopeo and umoci are needed (scripts/setup.sh installs them)",
    ) {
        return false;
    }
    let flags = fs::read_to_string("/proc/sys/fs/binfmt_misc/qemu-aarch64").unwrap_or_default();
    if !require(
        flags
            .lines()
            .any(|l| l.starts_with("flags:") && l.contains('F')),
        "binfmt_misc handler qemu-aarch64 with the F flag is missing (scripts/setup-binfmt.sh)",
    ) {
        return false;
    }
    let have = mx(&["image", "inspect", "debian:bookworm"]);
    let t = text(&have);
    require(
        have.status.success() && t.contains("linux/amd64") && t.contains("linux/arm64"),
        "debian:bookworm is not in the test store (run scripts/base-images.sh)",
    )
}

/// Unpacks one platform of an OCI layout with skopeo + umoci; returns the rootfs.
pub fn unpack(t: &Path, layout: &str, arch: &str) -> PathBuf {
    let dir = t.join(format!("u-{arch}"));
    ok(Command::new("skopeo")
        .args([
            "copy",
            "-q",
            "--src-tls-verify=false",
            "--override-arch",
            arch,
            layout,
        ])
        .arg(format!("oci:{}:x", dir.display())));
    let bundle = t.join(format!("b-{arch}"));
    ok(Command::new("umoci")
        .args(["unpack", "--image"])
        .arg(format!("{}:x", dir.display()))
        .arg(&bundle));
    bundle.join("rootfs")
}

pub fn read(p: PathBuf) -> String {
    fs::read_to_string(&p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .trim()
        .to_string()
}

/// `mxbuild build --platform P -o type=local,dest=DEST CTX`: must succeed.
pub fn build_local(platforms: &str, ctx: &Path, dest: &Path) -> String {
    mx_ok(&[
        "build",
        "--platform",
        platforms,
        "-o",
        &format!("type=local,dest={}", dest.display()),
        ctx.to_str().unwrap(),
    ])
}

/// Writes `df` as the Dockerfile of a new context directory `t/name`.
pub fn context_with(t: &Path, name: &str, df: &str) -> PathBuf {
    let dir = t.join(name);
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("Dockerfile"), df).unwrap();
    dir
}
