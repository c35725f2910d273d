//! The step cache: a step's key (from the plan) maps to the image state
//! after it. Records are small JSON files under `<root>/cache/`, written
//! atomically; the blobs they name are kept by prune (see [`roots`]).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::state::State;
use crate::store::digest::Digest;

/// The cache directory of a store.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
}

fn file_name(key: &str) -> String {
    key.strip_prefix("sha256:")
        .unwrap_or(key)
        .replace(['/', '.'], "_")
}

impl Cache {
    /// Opens (creating) `<root>/cache`.
    pub fn open(root: &Path) -> std::io::Result<Cache> {
        let dir = root.join("cache");
        fs::create_dir_all(&dir)?;
        Ok(Cache { dir })
    }

    /// The state recorded for `key`, if any (a damaged record counts as a miss).
    pub fn get(&self, key: &str) -> Option<State> {
        let text = fs::read(self.dir.join(file_name(key))).ok()?;
        serde_json::from_slice(&text).ok()
    }

    /// Records `state` for `key`.
    pub fn put(&self, key: &str, state: &State) -> std::io::Result<()> {
        let name = file_name(key);
        let tmp = self.dir.join(format!(".tmp-{}-{name}", std::process::id()));
        {
            let mut f = fs::File::create(&tmp)?;
            f.write_all(&serde_json::to_vec(state).map_err(std::io::Error::other)?)?;
            f.sync_all()?;
        }
        fs::rename(tmp, self.dir.join(name))
    }

    /// Every record's state (for prune and cache export).
    pub fn all(&self) -> Vec<(String, State)> {
        let Ok(rd) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        rd.flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with(".tmp-") {
                    let _ = fs::remove_file(e.path());
                    return None;
                }
                let s: State = serde_json::from_slice(&fs::read(e.path()).ok()?).ok()?;
                Some((name, s))
            })
            .collect()
    }
}

/// Blobs the cache keeps alive (its layers).
pub fn roots(root: &Path) -> Vec<Digest> {
    let Ok(cache) = Cache::open(root) else {
        return Vec::new();
    };
    cache
        .all()
        .iter()
        .flat_map(|(_, s)| s.layers.iter().filter_map(|l| l.blob().ok()))
        .collect()
}
