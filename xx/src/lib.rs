//! The `xx` crate: the platform model shared by the xx helpers and mxbuild,
//! and the helpers themselves (`cmd`).
//!
//! Data flows one way, and modules only use the ones before them: [`arm`]
//! (the ARM generations), [`raspberry`] and [`host`] hold plain names;
//! [`platform`] parses what users write and says which platforms run on
//! which; [`target`] maps a platform to every tool's name for it, [`distro`]
//! says which naming applies, [`targetenv`] reproduces upstream xx-info's
//! environment rules on top, [`verify`] checks binaries against a target, and
//! [`cmd`] turns all that into the helper commands.

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
