//! The `xx` crate: the platform model shared by the xx helpers and mxbuild,
//! and the helpers themselves (`cmd`).
//!
//! Data flows one way: [`platform`] parses what users write, [`target`] maps a
//! platform to every tool's name for it, [`distro`] says which naming applies,
//! [`targetenv`] reproduces upstream xx-info's environment rules on top, and
//! [`cmd`] turns that into the helper commands.

pub mod arm;
pub mod cmd;
pub mod distro;
pub mod host;
pub mod platform;
pub mod raspberry;
pub mod target;
pub mod targetenv;
pub mod verify;

pub use distro::{Distro, Family, Libc};
pub use platform::{Platform, PlatformError};
pub use target::{ArchSpec, Target};
