//! The local store under `$MXBUILD_ROOT`: content-addressed blobs, image
//! references, and the lock that lets two mxbuild processes share it.
//! Nothing here knows about Dockerfiles or registries.

pub mod blobs;
pub mod digest;
pub mod error;
pub mod json_file;
pub mod layer_blobs;
pub mod lock;
pub mod origins;
pub mod refs;
pub mod snapshots;
pub mod steps;
pub mod sweep;

use std::path::{Path, PathBuf};

pub use error::{DigestError, StoreError};

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

/// Makes the store's root 0700: snapshots hold what build steps and images
/// left, setuid-root files included, and no other user may reach them (the
/// runtime runs as root and needs no traversal bit for others).
fn restrict(root: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(root)?.permissions().mode() & 0o7777;
    if mode != 0o700 {
        std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// An open store: its parts and the lock held while it is in use.
#[derive(Debug)]
pub struct Store {
    /// The root directory.
    pub root: PathBuf,
    /// Content-addressed blobs.
    pub blobs: blobs::Blobs,
    /// Image names.
    pub refs: refs::Refs,
    /// Where blobs exist remotely.
    pub origins: origins::Origins,
    _lock: lock::StoreLock,
}

impl Store {
    /// Opens (creating) the store at `root`, waiting for the lock in `mode`.
    pub fn open(root: &Path, mode: lock::Mode) -> Result<Store, StoreError> {
        let lock = lock::StoreLock::take(root, mode)?;
        restrict(root)?;
        Ok(Store {
            root: root.to_path_buf(),
            blobs: blobs::Blobs::open(root)?,
            refs: refs::Refs::open(root)?,
            origins: origins::Origins::open(root)?,
            _lock: lock,
        })
    }

    /// A fresh scratch directory under `<root>/work/` (removed by the caller,
    /// or by prune if the process dies).
    pub fn scratch(&self, what: &str) -> Result<PathBuf, StoreError> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = self.root.join("work").join(format!(
            "{what}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        Ok(dir)
    }
}
