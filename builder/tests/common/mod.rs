//! Shared helpers for mxbuild's integration tests.

// Test scaffolding: a failed unwrap here is a failed test, not a user-facing crash.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

/// Checks a requirement of a test. Returns false (after printing `SKIP: why`)
/// when it is missing; panics instead when MXBUILD_REQUIRE_ALL=1, as in CI.
pub fn require(ok: bool, why: &str) -> bool {
    if ok {
        return true;
    }
    if std::env::var("MXBUILD_REQUIRE_ALL").as_deref() == Ok("1") {
        panic!("requirement missing (MXBUILD_REQUIRE_ALL=1): {why}");
    }
    eprintln!("SKIP: {why}");
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

/// BuildKit's conformance data: `$BUILDKIT_CONFORMANCE_DIR`, else
/// `../shared/conformance/buildkit` beside the repository. `None` (after
/// `require`) when it is not there.
pub fn conformance_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("BUILDKIT_CONFORMANCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance/buildkit")
        });
    let ok = dir.join("NOTICE.md").is_file();
    require(
        ok,
        &format!(
            "BuildKit conformance data not found at {} (set BUILDKIT_CONFORMANCE_DIR)",
            dir.display()
        ),
    )
    .then_some(dir)
}
