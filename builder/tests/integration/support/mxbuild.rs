//! Running the mxbuild binary against the cached test store (where
//! `scripts/base-images.sh` put `debian:bookworm`), and the small process
//! helpers the build tests share.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The cached test store: `$MXBUILD_TEST_CACHE/store`.
pub fn store() -> PathBuf {
    let cache = std::env::var("MXBUILD_TEST_CACHE")
        .unwrap_or_else(|_| "/var/cache/mxbuild-test".to_string());
    Path::new(&cache).join("store")
}

/// True if `name` is on PATH.
pub fn tool(name: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// stdout then stderr, for assertions and failure messages.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `mxbuild ARGS` on the test store, run from the repository root.
pub fn mx(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mxbuild"))
        .args(args)
        .env("MXBUILD_ROOT", store())
        .current_dir(repo())
        .output()
        .unwrap()
}

/// Runs `cmd`, fails the test on a non-zero exit, returns stdout.
pub fn ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{cmd:?} failed:\n{}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `mxbuild ARGS` with a private store and docker config (no host
/// credentials are used).
pub fn mx_with_config(root: &Path, docker_config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mxbuild"))
        .args(args)
        .env("MXBUILD_ROOT", root)
        .env("DOCKER_CONFIG", docker_config)
        .output()
        .unwrap()
}

/// `mxbuild ARGS` with the store at `root` (a private store).
pub fn mx_in(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mxbuild"))
        .args(args)
        .env("MXBUILD_ROOT", root)
        .current_dir(repo())
        .output()
        .unwrap()
}

/// `mxbuild ARGS` on the test store: must succeed; returns its output.
pub fn mx_ok(args: &[&str]) -> String {
    let o = mx(args);
    assert!(o.status.success(), "mxbuild {args:?} failed:\n{}", text(&o));
    text(&o)
}

/// What `mxbuild build` tests need: root, `tools` on PATH and
/// `debian:bookworm` (linux/amd64) in the test store; says which is missing.
pub fn build_ready(tools: &[&str]) -> bool {
    if !testkit::require(
        super::is_root(),
        "mxbuild build needs root (overlay mounts, runc)",
    ) {
        return false;
    }
    if !testkit::require(
        tools.iter().all(|t| tool(t)),
        &format!(
            "{} are needed (scripts/setup.sh installs them)",
            tools.join(", ")
        ),
    ) {
        return false;
    }
    let have = mx(&["image", "inspect", "debian:bookworm"]);
    testkit::require(
        have.status.success() && text(&have).contains("linux/amd64"),
        "debian:bookworm is not in the test store (run scripts/base-images.sh)",
    )
}
