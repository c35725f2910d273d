//! Verification results kept per image filesystem. Checking every ELF file
//! of every platform is most of a no-op rebuild's time, and its result
//! depends only on the filesystem (named exactly by the chain of layer
//! diff_ids), which of its layers the build added, the platform, and the
//! rules of this mxbuild binary. So a report is stored under a digest of
//! those (`<root>/verified/<hex>.json`, written atomically) and read back
//! instead of checking again. A damaged entry reads as a miss; `mxbuild
//! prune --all` removes them.

use std::fs;
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use super::PlatformReport;

/// The cache directory of a store.
#[derive(Debug, Clone)]
pub struct Verified {
    dir: PathBuf,
}

/// What a report depends on.
#[derive(Debug, Clone)]
pub struct Key<'a> {
    /// `linux/arm/v7`.
    pub platform: &'a str,
    /// The image's layer diff_ids, bottom first.
    pub diff_ids: Vec<&'a str>,
    /// How many of the bottom layers came with the base image.
    pub base_layers: usize,
}

/// This binary's identity: a rebuilt mxbuild (other rules) never reads a
/// report an older one wrote.
fn binary_identity() -> String {
    use std::os::unix::fs::MetadataExt;
    std::env::current_exe()
        .and_then(fs::metadata)
        .map(|m| format!("{}:{}:{}", m.len(), m.mtime(), m.mtime_nsec()))
        .unwrap_or_else(|_| "unknown".to_string())
}

impl Key<'_> {
    fn file_name(&self) -> String {
        let mut h = Sha256::new();
        for part in [
            env!("CARGO_PKG_VERSION").to_string(),
            binary_identity(),
            self.platform.to_string(),
            self.base_layers.to_string(),
        ] {
            h.update(part.as_bytes());
            h.update(b"\n");
        }
        for d in &self.diff_ids {
            h.update(d.as_bytes());
            h.update(b"\n");
        }
        let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        format!("{hex}.json")
    }
}

impl Verified {
    /// Opens (creating) `<root>/verified`.
    pub fn open(store_root: &Path) -> std::io::Result<Verified> {
        let dir = store_root.join("verified");
        fs::create_dir_all(&dir)?;
        Ok(Verified { dir })
    }

    /// The report kept for `key`, if any.
    pub fn get(&self, key: &Key<'_>) -> Option<PlatformReport> {
        let text = fs::read(self.dir.join(key.file_name())).ok()?;
        serde_json::from_slice(&text).ok()
    }

    /// Keeps `report` for `key` (a failure to keep it is not an error: the
    /// next build checks again).
    pub fn put(&self, key: &Key<'_>, report: &PlatformReport) {
        let _ = crate::store::json_file::write_atomically(&self.dir, &key.file_name(), report);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_is_found_only_under_its_whole_key() {
        let root = std::env::temp_dir().join(format!("mxbuild-verified-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let v = Verified::open(&root).unwrap();
        let key = Key {
            platform: "linux/arm64",
            diff_ids: vec!["sha256:a", "sha256:b"],
            base_layers: 1,
        };
        let report = PlatformReport {
            platform: "linux/arm64".into(),
            checked: 3,
            failures: Vec::new(),
            notes: Vec::new(),
            added: Vec::new(),
            libc: "glibc 2.36".into(),
        };
        assert!(v.get(&key).is_none());
        v.put(&key, &report);
        assert_eq!(v.get(&key).map(|r| r.checked), Some(3));
        for other in [
            Key {
                platform: "linux/amd64",
                ..key.clone()
            },
            Key {
                diff_ids: vec!["sha256:a"],
                ..key.clone()
            },
            Key {
                base_layers: 2,
                ..key.clone()
            },
        ] {
            assert!(v.get(&other).is_none(), "{other:?}");
        }
        let _ = fs::remove_dir_all(&root);
    }
}
