//! Test support shared by the integration tests of `xx` and `mxbuild`.
//!
//! A test that needs something the machine may lack (root, QEMU, a
//! debootstrapped root, BuildKit's conformance data) asks [`require`] first:
//! on a developer machine without it the test prints `SKIP: <why>` and
//! passes; with `MXBUILD_REQUIRE_ALL=1` (CI) it fails, so a missing
//! requirement is never counted as a pass.

use std::io::Write;

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
    if let Some(log) = std::env::var_os("MXBUILD_SKIP_LOG") {
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
