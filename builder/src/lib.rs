//! mxbuild as a library: the Dockerfile front end, planning, store, image
//! formats, registry, execution and the build scheduler, in layers that only
//! depend downwards (see ARCHITECTURE.md). The `mxbuild` binary is a thin CLI on top.

pub mod attest;
pub mod cli;
pub mod dockerfile;
pub mod engine;
pub mod exec;
pub mod fsutil;
pub mod image;
pub mod output;
pub mod plan;
pub mod registry;
pub mod store;
pub mod verify;
