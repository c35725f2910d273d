//! Unpacked filesystems kept in the store (`<root>/snapshots/<name>`), the
//! directories overlay mounts stack as lowerdirs. This module only knows
//! names and directories; what a name means (a base image's layers, one
//! build layer) and how a snapshot is filled is the engine's business (see
//! `engine::layers`). Each snapshot is filled in a temp directory and
//! renamed into place, so a killed build never leaves a half-filled
//! snapshot under its final name, and two builds filling one name at once
//! both succeed with one result.

use std::fs;
use std::path::{Path, PathBuf};

/// A temp directory that is removed on drop unless it was published.
struct TmpDir(Option<PathBuf>);

impl TmpDir {
    fn path(&self) -> Result<&Path, String> {
        self.0
            .as_deref()
            .ok_or_else(|| "internal: temp snapshot already used".to_string())
    }
}

impl Drop for TmpDir {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = fs::remove_dir_all(p);
        }
    }
}

/// The snapshot directory of a store.
#[derive(Debug, Clone)]
pub struct SnapshotDir {
    dir: PathBuf,
}

impl SnapshotDir {
    /// Opens (creating) `<root>/snapshots`.
    pub fn open(root: &Path) -> std::io::Result<SnapshotDir> {
        let dir = root.join("snapshots");
        fs::create_dir_all(&dir)?;
        Ok(SnapshotDir { dir })
    }

    /// Path of a snapshot by name.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Makes sure snapshot `name` exists, filling a fresh temp directory with
    /// `fill` when it does not; returns its path. A failed fill leaves nothing.
    pub fn ensure(
        &self,
        name: &str,
        fill: impl FnOnce(&Path) -> Result<(), String>,
    ) -> Result<PathBuf, String> {
        let dest = self.path(name);
        if dest.is_dir() {
            return Ok(dest);
        }
        let tmp = self.fresh_tmp(name).map_err(|e| e.to_string())?;
        fill(tmp.path()?)?;
        self.publish(tmp, name).map_err(|e| e.to_string())
    }

    /// Keeps directory `dir` (e.g. a finished step's upperdir, on the
    /// store's filesystem) as snapshot `name`; if `name` exists already,
    /// `dir` is removed instead.
    pub fn adopt(&self, dir: &Path, name: &str) -> Result<PathBuf, String> {
        let dest = self.path(name);
        if dest.is_dir() {
            let _ = fs::remove_dir_all(dir);
            return Ok(dest);
        }
        self.publish(TmpDir(Some(dir.to_path_buf())), name)
            .map_err(|e| e.to_string())
    }

    /// A new temp directory for `name`, unique per call: two instances of
    /// one build can materialise the same snapshot at once (both targets
    /// copying from one stage), and must not clear each other's work. It is
    /// removed on drop unless published, so a failed unpack (a refused
    /// layer, a full disk) leaves nothing behind.
    fn fresh_tmp(&self, name: &str) -> std::io::Result<TmpDir> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let tmp = self
            .dir
            .join(format!(".tmp-{}-{n}-{name}", std::process::id()));
        if tmp.exists() {
            fs::remove_dir_all(&tmp)?;
        }
        fs::create_dir_all(&tmp)?;
        Ok(TmpDir(Some(tmp)))
    }

    fn publish(&self, mut tmp: TmpDir, name: &str) -> std::io::Result<PathBuf> {
        let dest = self.path(name);
        let Some(src) = tmp.0.take() else {
            return Err(std::io::Error::other(
                "internal: temp snapshot already used",
            ));
        };
        match fs::rename(&src, &dest) {
            Ok(()) => Ok(dest),
            // Someone else (a parallel build) published it first.
            Err(_) if dest.is_dir() => {
                let _ = fs::remove_dir_all(&src);
                Ok(dest)
            }
            Err(e) => {
                let _ = fs::remove_dir_all(&src);
                Err(e)
            }
        }
    }

    /// Removes temp directories of mxbuild processes that no longer run (a
    /// build killed mid-unpack); live ones belong to a parallel build.
    pub fn sweep_stale(&self) -> usize {
        let Ok(rd) = fs::read_dir(&self.dir) else {
            return 0;
        };
        let mut n = 0;
        for e in rd.flatten() {
            let name = e.file_name();
            let Some(pid) = name
                .to_str()
                .and_then(|s| s.strip_prefix(".tmp-"))
                .and_then(|s| s.split('-').next())
                .and_then(|p| p.parse::<u32>().ok())
            else {
                continue;
            };
            if !Path::new(&format!("/proc/{pid}")).exists() && fs::remove_dir_all(e.path()).is_ok()
            {
                n += 1;
            }
        }
        n
    }

    /// Removes snapshots not in `keep` and temp leftovers (prune).
    pub fn retain(&self, keep: &std::collections::BTreeSet<String>) -> std::io::Result<usize> {
        let mut n = 0;
        for e in fs::read_dir(&self.dir)? {
            let e = e?;
            let name = e.file_name().to_string_lossy().into_owned();
            if !keep.contains(&name) {
                fs::remove_dir_all(e.path())?;
                n += 1;
            }
        }
        Ok(n)
    }
}
