//! Shared helpers for mxbuild's integration tests: one home for what the
//! topic modules used to copy (temp dirs, running mxbuild, registries,
//! hand-made images and layouts), and the lock for the shared test store.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

pub use testkit::{TempDir, require};

pub mod bounded;
pub mod fake_registry;
pub mod git;
pub mod hostile_image;
pub mod http;
pub mod layout;
pub mod mxbuild;
pub mod raw_http;
pub mod registry;
pub mod spdx;

/// Held by every test that builds in (or inspects the state of) the shared
/// test store. These tests were one binary per topic, each with its own
/// lock; now they share a process, and some look at the store as a whole
/// (no stray mounts, the number of containers cleaned up, the set of
/// snapshots, `sleep 600` processes of killed builds), so another test's
/// build must not run beside them. Tests with a private store run freely.
pub fn shared_store() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    // A test that failed while holding it poisons it; the next may go on.
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// A fresh scratch directory `<tag>-<pid>-<n>` under cargo's target tmp,
/// removed when the test passes and kept when it fails.
pub fn tmp(tag: &str) -> TempDir {
    testkit::temp_dir!(tag)
}

/// Whether the tests run as root.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
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

/// A loopback port nothing listens on, for a server a test starts. Never
/// the same twice in this process: tests of every topic share it now, and
/// a port freed by one could otherwise be handed to two servers at once.
pub fn free_port() -> u16 {
    static GIVEN: Mutex<Vec<u16>> = Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
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
