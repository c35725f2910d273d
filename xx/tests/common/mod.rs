//! Shared helpers for xx's integration tests: requirement checks that SKIP
//! (or fail under MXBUILD_REQUIRE_ALL=1) and throwaway chroots.

// Test scaffolding: a failed unwrap here is a failed test, not a user-facing crash.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Checks a requirement of a test. Returns false (after printing `SKIP: why`)
/// when it is missing; panics instead when MXBUILD_REQUIRE_ALL=1, as in CI,
/// so a machine that cannot run a test never counts it as passed.
pub fn require(ok: bool, why: &str) -> bool {
    if ok {
        return true;
    }
    if std::env::var("MXBUILD_REQUIRE_ALL").as_deref() == Ok("1") {
        panic!("requirement missing (MXBUILD_REQUIRE_ALL=1): {why}");
    }
    eprintln!("SKIP: {why}");
    // cargo test hides a passing test's output; scripts/test.sh lists these at the end.
    if let Some(log) = std::env::var_os("MXBUILD_SKIP_LOG") {
        use std::io::Write;
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
        {
            let _ = writeln!(f, "SKIP: {why}");
        }
    }
    false
}

/// Whether the tests run as root (needed for chroot).
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// A directory that is removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        // Under cargo's per-target temp dir: same filesystem as the built binary,
        // so chroots can hard-link it (see Chroot::new).
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("xx-test-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A root filesystem holding only the static `xx` binary, its helper
/// symlinks in /usr/bin, and the given files.
pub struct Chroot {
    pub dir: TempDir,
}

impl Chroot {
    pub fn new(tag: &str, files: &[(&str, &str)]) -> Chroot {
        let dir = TempDir::new(tag);
        let bin = dir.path().join("usr/bin");
        std::fs::create_dir_all(&bin).unwrap();
        // A hard link, not a copy: writing an executable while another test
        // thread forks leaves the write fd open in the child, and exec then
        // fails with ETXTBSY ("Text file busy").
        let exe = Path::new(env!("CARGO_BIN_EXE_xx"));
        if std::fs::hard_link(exe, bin.join("xx")).is_err() {
            std::fs::copy(exe, bin.join("xx")).unwrap();
        }
        let status = Command::new(bin.join("xx"))
            .args(["install-links"])
            .arg(&bin)
            .status()
            .unwrap();
        assert!(status.success(), "xx install-links failed");
        for (rel, text) in files {
            let path = dir.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        Chroot { dir }
    }

    /// Runs `/usr/bin/<prog> args` inside the chroot with only `vars` (and PATH) set.
    pub fn run(&self, prog: &str, args: &[&str], vars: &[(&str, &str)]) -> Output {
        Command::new(chroot_program())
            .arg(self.dir.path())
            .arg(format!("/usr/bin/{prog}"))
            .args(args)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .envs(vars.iter().copied())
            .output()
            .unwrap()
    }

    /// Like `run`, but asserts success and returns trimmed stdout.
    pub fn stdout(&self, prog: &str, args: &[&str], vars: &[(&str, &str)]) -> String {
        let out = self.run(prog, args, vars);
        assert!(
            out.status.success(),
            "{prog} {args:?} with {vars:?} failed: {:?}\nstdout: {}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim_end().to_string()
    }
}

/// The `chroot` program, found on the test process's PATH (the child gets a
/// minimal PATH, which Command would otherwise search instead).
fn chroot_program() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .map(|dir| dir.join("chroot"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("chroot"))
}
