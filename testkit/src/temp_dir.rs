//! Scratch directories for integration tests: unique per test even when many
//! tests share one process (the pid alone no longer tells them apart), and
//! removed when the test passes, so target/tmp does not fill the disk with
//! unpacked images. A failing test keeps its directory for debugging and
//! says where it is.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A directory removed on drop unless the test is panicking (failing).
#[derive(Debug)]
pub struct TempDir(PathBuf);

/// Tells apart directories made with the same tag in one process.
static COUNTER: AtomicUsize = AtomicUsize::new(0);

impl TempDir {
    /// A fresh empty directory `<base>/<tag>-<pid>-<n>`. Tests pass cargo's
    /// `CARGO_TARGET_TMPDIR` as `base` (the [`temp_dir!`](crate::temp_dir)
    /// macro does): the same filesystem as the built binaries, so they can be
    /// hard-linked into chroots.
    pub fn new_in(base: &Path, tag: &str) -> TempDir {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = base.join(format!("{tag}-{}-{n}", std::process::id()));
        // A leftover of an earlier run whose pid was the same.
        let _ = std::fs::remove_dir_all(&dir);
        if let Err(e) = std::fs::create_dir_all(&dir) {
            panic!("cannot create test directory {}: {e}", dir.display());
        }
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

/// So a `TempDir` goes wherever a path argument does (`Command::arg`).
impl AsRef<std::ffi::OsStr> for TempDir {
    fn as_ref(&self) -> &std::ffi::OsStr {
        self.0.as_os_str()
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("test failed: kept {} for debugging", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// A [`TempDir`] under the calling test crate's `CARGO_TARGET_TMPDIR`.
#[macro_export]
macro_rules! temp_dir {
    ($tag:expr) => {
        $crate::TempDir::new_in(::std::path::Path::new(env!("CARGO_TARGET_TMPDIR")), $tag)
    };
}
