//! The local store under `$MXBUILD_ROOT`: content-addressed blobs, image
//! references, and the lock that lets two mxbuild processes share it.
//! Nothing here knows about Dockerfiles or registries.

pub mod blobs;
pub mod digest;
pub mod lock;

use std::path::{Path, PathBuf};

/// The store's root directory: `$MXBUILD_ROOT`, else `/var/lib/mxbuild` for
/// root, else `$XDG_DATA_HOME/mxbuild` (or `~/.local/share/mxbuild`).
pub fn default_root() -> PathBuf {
    if let Some(r) = std::env::var_os("MXBUILD_ROOT").filter(|v| !v.is_empty()) {
        return PathBuf::from(r);
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        return PathBuf::from("/var/lib/mxbuild");
    }
    let data = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    data.join("mxbuild")
}
