//! xx's integration tests: one binary, one module per topic, so the crate is
//! linked once. Pick a topic with a name filter:
//! `cargo test -p xx --test integration verify_fixtures`.
//!
//! Tests run in parallel threads of this one process: scratch directories
//! are unique per test (`support::tmp`), executables are hard-linked rather
//! than copied into chroots (a copy's write fd inherited by another thread's
//! fork makes exec fail with ETXTBSY), and the heavy cross builds take turns.

// Test code: a failed unwrap is a failed test, not a user-facing crash.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod apk_fake;
mod cross_c_rootfs;
mod cross_rust_go_rootfs;
mod info_chroot;
mod other_os_rootfs;
mod readme_differences;
mod upstream_compat;
mod verify_abi;
mod verify_fixtures;
mod verify_hostile;
