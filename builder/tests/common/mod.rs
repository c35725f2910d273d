//! Shared helpers for mxbuild's integration tests.

// Test scaffolding: a failed unwrap here is a failed test, not a user-facing crash.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub use testkit::require;

pub mod http;
pub mod layout;
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

/// Waits until something listens on 127.0.0.1:`port` (a server a test started).
pub fn wait_for_port(port: u16, what: &str) {
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{what} did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
