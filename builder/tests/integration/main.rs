//! mxbuild's integration tests: one binary, one module per topic (as
//! ripgrep does), so the crate is linked once instead of once per topic.
//! Pick a topic with a name filter:
//! `cargo test -p mxbuild --test integration build::basics`.
//!
//! Tests run in parallel threads of this one process: anything global (the
//! shared test store, temp dirs, ports) goes through `support`, which makes
//! it safe to share; see `support::shared_store`.

// Test code: a failed unwrap is a failed test, not a user-facing crash.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod build;
mod compat;
mod conformance;
mod differential;
mod distributed;
mod dockerignore;
mod examples;
mod fuzz_frontend;
mod hostile;
mod layers;
mod oci_layout;
mod plan;
mod progress;
mod readme_table;
mod realworld;
mod registry;
mod xx_builds;
mod xx_image;
