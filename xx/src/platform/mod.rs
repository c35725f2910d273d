//! `Platform {os, arch, variant}`: what a binary or image runs on, in the OCI /
//! containerd vocabulary (`linux/arm/v7`, `linux/arm64`, `windows/amd64`).
//!
//! [`model`] holds the value and its parser, [`compat`] the one rule of which
//! platforms run on which (containerd's platform vector).

pub mod compat;
pub mod model;

pub use compat::runs_natively;
pub use model::{Platform, PlatformError};
