//! The store lock: an advisory `flock` on `<root>/lock`, shared for readers
//! and exclusive for writers that delete (prune), so two builds can use one
//! store while a prune waits for them. The kernel drops it if the process
//! dies, so a killed build never leaves the store locked.

use std::fs::{File, OpenOptions};
use std::os::unix::io::AsRawFd;
use std::path::Path;

/// A held lock; released on drop.
#[derive(Debug)]
pub struct StoreLock {
    _file: File,
}

/// Lock modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Builds, pulls, imports: many at once.
    Shared,
    /// Prune: alone.
    Exclusive,
    /// Shared, but fail at once instead of waiting for a prune
    /// (`mxbuild plan`, which can do without the store).
    TryShared,
}

impl StoreLock {
    /// Waits for and takes the lock of the store at `root`.
    pub fn take(root: &Path, mode: Mode) -> std::io::Result<StoreLock> {
        std::fs::create_dir_all(root)?;
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(root.join("lock"))?;
        let op = match mode {
            Mode::Shared => libc::LOCK_SH,
            Mode::TryShared => libc::LOCK_SH | libc::LOCK_NB,
            Mode::Exclusive => libc::LOCK_EX,
        };
        // SAFETY: flock on a descriptor we own; no memory is passed.
        let rc = unsafe { libc::flock(file.as_raw_fd(), op) };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(StoreLock { _file: file })
    }
}
