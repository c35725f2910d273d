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
