//! Where blobs are known to exist remotely (`registry/repository`), recorded
//! on pull and push. Push uses it for cross-repository mounts: a layer that
//! the target registry already has under another repository is linked there
//! with one request instead of being uploaded again.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::digest::Digest;

/// The origin table of a store: `<root>/origins/<hex>`, one `registry/repo` per line.
#[derive(Debug, Clone)]
pub struct Origins {
    dir: PathBuf,
}

impl Origins {
    /// Opens (creating) the table under the store root.
    pub fn open(store_root: &Path) -> io::Result<Origins> {
        let dir = store_root.join("origins");
        fs::create_dir_all(&dir)?;
        Ok(Origins { dir })
    }

    /// Repositories (`registry/repo`) known to hold `d`.
    pub fn get(&self, d: &Digest) -> Vec<String> {
        fs::read_to_string(self.dir.join(d.hex()))
            .map(|s| s.lines().map(str::to_string).collect())
            .unwrap_or_default()
    }

    /// Records that `repo` (`registry/repository`) holds `d`. Appends are
    /// small single writes, so concurrent recorders do not tear lines.
    pub fn add(&self, d: &Digest, repo: &str) -> io::Result<()> {
        if repo.contains('\n') || self.get(d).iter().any(|r| r == repo) {
            return Ok(());
        }
        let mut f = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(d.hex()))?;
        f.write_all(format!("{repo}\n").as_bytes())
    }

    /// Forgets blobs that are no longer stored (prune).
    pub fn retain(&self, keep: &dyn Fn(&Digest) -> bool) -> io::Result<()> {
        for e in fs::read_dir(&self.dir)? {
            let e = e?;
            let name = e.file_name();
            let d = format!("sha256:{}", name.to_string_lossy()).parse::<Digest>();
            if !d.is_ok_and(|d| keep(&d)) {
                fs::remove_file(e.path())?;
            }
        }
        Ok(())
    }
}
