//! Shared helpers for mxbuild's integration tests.

// Test scaffolding: a failed unwrap here is a failed test, not a user-facing crash.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

pub use testkit::require;

pub mod http;
pub mod mxbuild;
pub mod registry;

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
