//! The step cache: a step's key (from the plan) maps to a small record of
//! the image state after it. Records are JSON files under `<root>/cache/`,
//! written atomically; a damaged record reads as a miss. The record type is
//! the engine's (`engine::state::State`); this module only stores it.

use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

/// The cache directory of a store.
#[derive(Debug, Clone)]
pub struct StepCache {
    dir: PathBuf,
}

fn file_name(key: &str) -> String {
    key.strip_prefix("sha256:")
        .unwrap_or(key)
        .replace(['/', '.'], "_")
}

impl StepCache {
    /// Opens (creating) `<root>/cache`.
    pub fn open(root: &Path) -> std::io::Result<StepCache> {
        let dir = root.join("cache");
        fs::create_dir_all(&dir)?;
        Ok(StepCache { dir })
    }

    /// The record for `key`, if any (a damaged record counts as a miss).
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        let text = fs::read(self.dir.join(file_name(key))).ok()?;
        serde_json::from_slice(&text).ok()
    }

    /// Records `value` for `key`.
    pub fn put<T: Serialize>(&self, key: &str, value: &T) -> std::io::Result<()> {
        super::json_file::write_atomically(&self.dir, &file_name(key), value)
    }

    /// Every readable record (for prune and cache export); temp files of
    /// killed writers are removed on the way.
    pub fn all<T: DeserializeOwned>(&self) -> Vec<(String, T)> {
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
                let s: T = serde_json::from_slice(&fs::read(e.path()).ok()?).ok()?;
                Some((name, s))
            })
            .collect()
    }
}
