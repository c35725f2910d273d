//! What a binary is checked against: the platform it must run on and the
//! optional checks asked for. Kept apart from the checking code so the rules
//! and the entry points both read it without reaching back up.

use std::path::PathBuf;

use crate::platform::Platform;
use crate::target::{self, ArchSpec};

/// The platform a binary must run on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectation {
    /// The target platform.
    pub platform: Platform,
    /// Its table row; `None` for architectures xx does not know.
    pub spec: Option<&'static ArchSpec>,
}

impl Expectation {
    /// Expect binaries for `platform`.
    pub fn new(platform: Platform) -> Expectation {
        let spec = target::for_platform(&platform);
        Expectation { platform, spec }
    }
}

/// Optional checks beyond OS and architecture.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// Require no loader and no shared libraries (`--static`).
    pub require_static: bool,
    /// Check that the loader and every DT_NEEDED library exist in this root (`--root`).
    pub root: Option<PathBuf>,
    /// Fail when a binary needs a newer glibc than (major, minor) (`--max-glibc`).
    pub max_glibc: Option<(u32, u32)>,
    /// `--max-glibc auto`: the limit is the glibc of `root` (read from its
    /// libc.so.6), resolved by [`super::resolve_auto_glibc`].
    pub max_glibc_auto: bool,
}
