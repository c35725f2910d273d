//! Test support shared by the integration tests of `xx` and `mxbuild`.
//!
//! A test that needs something the machine may lack (root, QEMU, a
//! debootstrapped root, BuildKit's conformance data) asks [`require`] first:
//! on a developer machine without it the test prints `SKIP: <why>` and
//! passes; with `MXBUILD_REQUIRE_ALL=1` (CI) it fails, so a missing
//! requirement is never counted as a pass.
//!
//! Each crate has one integration-test binary, so tests that used to live
//! in separate processes now share one: everything here is safe to call from
//! parallel test threads (unique temp dirs, one write per SKIP line).

use std::io::Write;

mod temp_dir;
pub use temp_dir::TempDir;

/// Checks a requirement. Returns false (after printing `SKIP: why` and
/// appending it to `$MXBUILD_SKIP_LOG`, which scripts/test.sh lists at the
/// end) when it is missing; panics instead when MXBUILD_REQUIRE_ALL=1.
pub fn require(ok: bool, why: &str) -> bool {
    if ok {
        return true;
    }
    if std::env::var("MXBUILD_REQUIRE_ALL").as_deref() == Ok("1") {
        panic!("requirement missing (MXBUILD_REQUIRE_ALL=1): {why}");
    }
    eprintln!("SKIP: {why}");
    // cargo test hides a passing test's output; the log makes skips visible.
    // One write(2) per line on an O_APPEND file: lines of parallel test
    // threads never interleave (writeln! may split a line into several).
    if let Some(log) = std::env::var_os("MXBUILD_SKIP_LOG") {
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
        {
            let _ = f.write_all(format!("SKIP: {why}\n").as_bytes());
        }
    }
    false
}

/// Waits for `child` (started in its own process group, `process_group(0)`),
/// polling every `poll`; past `deadline` the whole group is killed, so a
/// program that hangs on hostile input fails its test instead of blocking
/// the suite. Returns the exit status and whether it had to be killed.
pub fn wait_or_kill(
    child: &mut std::process::Child,
    deadline: std::time::Duration,
    poll: std::time::Duration,
) -> std::io::Result<(std::process::ExitStatus, bool)> {
    let start = std::time::Instant::now();
    let mut killed = false;
    loop {
        if let Some(s) = child.try_wait()? {
            return Ok((s, killed));
        }
        if start.elapsed() > deadline && !killed {
            // SAFETY: kill(2) on the process group the caller created for this child.
            unsafe { libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL) };
            killed = true;
        }
        std::thread::sleep(poll);
    }
}

/// GNU time, which reports the peak RSS of the command it runs (a child's
/// own rusage is no use: a process spawned from a test inherits the test's
/// memory high-water mark until it execs). scripts/setup.sh installs it.
pub const GNU_TIME: &str = "/usr/bin/time";

/// The peak RSS in MiB that `GNU_TIME -f %M -o FILE` wrote to `file`
/// (0 when it wrote nothing, e.g. the command was killed).
pub fn peak_rss_mib(file: &std::path::Path) -> u64 {
    let kib: u64 = std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .next_back()
        .unwrap_or(0);
    kib / 1024
}

/// Makes a FIFO at `p` (and its parent directories), for tests that hand
/// one to code that must not block reading it.
pub fn mkfifo(p: &std::path::Path) {
    if let Some(parent) = p.parent() {
        if let Err(e) = std::fs::create_dir_all(parent) {
            panic!("cannot create {}: {e}", parent.display());
        }
    }
    let Ok(c) = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()) else {
        panic!("{} has a NUL byte", p.display());
    };
    // SAFETY: a valid NUL-terminated path.
    let rc = unsafe { libc::mkfifo(c.as_ptr(), 0o644) };
    assert_eq!(rc, 0, "mkfifo {}", p.display());
}
