//! Which blob holds a layer, once one has been made: a build step keeps
//! its layer as a snapshot and names it by diff_id only; the compressed
//! blob is made when an output, a push or a cache export first needs it
//! (see `engine::lazy`), and recorded here so that the next one reuses it.
//! Entries are small JSON files `<root>/layer-blobs/<diff_id hex>.<form>`
//! (`form` names the compression and level), written atomically; one whose
//! blob is gone reads as a miss. Nothing here knows how a blob is made.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::digest::Digest;

/// A blob made for a layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MadeBlob {
    /// Digest of the blob.
    pub digest: Digest,
    /// Its size.
    pub size: u64,
    /// Its media type.
    pub media_type: String,
}

/// The table of a store.
#[derive(Debug, Clone)]
pub struct LayerBlobs {
    dir: PathBuf,
}

/// The file of `(diff_id, form)`; `form` is the engine's (letters, digits,
/// `-`), anything else is refused so no name leaves the directory.
fn file_name(diff_id: &Digest, form: &str) -> io::Result<String> {
    if form.is_empty() || !form.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(io::Error::other(format!(
            "internal: layer blob form {form:?}"
        )));
    }
    Ok(format!("{}.{form}", diff_id.hex()))
}

impl LayerBlobs {
    /// Opens (creating) `<root>/layer-blobs`.
    pub fn open(store_root: &Path) -> io::Result<LayerBlobs> {
        let dir = store_root.join("layer-blobs");
        fs::create_dir_all(&dir)?;
        Ok(LayerBlobs { dir })
    }

    /// The blob made for the layer `diff_id` in `form`, if one was.
    pub fn get(&self, diff_id: &Digest, form: &str) -> Option<MadeBlob> {
        let text = fs::read(self.dir.join(file_name(diff_id, form).ok()?)).ok()?;
        serde_json::from_slice(&text).ok()
    }

    /// Records that `made` holds the layer `diff_id` in `form`.
    pub fn put(&self, diff_id: &Digest, form: &str, made: &MadeBlob) -> io::Result<()> {
        super::json_file::write_atomically(&self.dir, &file_name(diff_id, form)?, made)
    }

    /// Every entry as `(diff_id, blob)` (for prune); temp files of killed
    /// writers and unreadable entries are removed on the way.
    pub fn all(&self) -> Vec<(Digest, MadeBlob)> {
        let Ok(rd) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        rd.flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let entry = name
                    .split_once('.')
                    .and_then(|(hex, _)| format!("sha256:{hex}").parse::<Digest>().ok())
                    .zip(
                        fs::read(e.path())
                            .ok()
                            .and_then(|t| serde_json::from_slice::<MadeBlob>(&t).ok()),
                    );
                if entry.is_none() {
                    let _ = fs::remove_file(e.path());
                }
                entry
            })
            .collect()
    }

    /// Forgets entries whose blob `keep` does not keep (prune).
    pub fn retain(&self, keep: &dyn Fn(&Digest) -> bool) -> io::Result<()> {
        for e in fs::read_dir(&self.dir)? {
            let e = e?;
            let made = fs::read(e.path())
                .ok()
                .and_then(|t| serde_json::from_slice::<MadeBlob>(&t).ok());
            if !made.is_some_and(|m| keep(&m.digest)) {
                fs::remove_file(e.path())?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_prune_forgets_dropped_blobs() {
        let root = std::env::temp_dir().join(format!("mxbuild-layer-blobs-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let t = LayerBlobs::open(&root).unwrap();
        let (a, b) = (Digest::of(b"a"), Digest::of(b"b"));
        let made = |d: &Digest| MadeBlob {
            digest: d.clone(),
            size: 1,
            media_type: "application/vnd.oci.image.layer.v1.tar+gzip".into(),
        };
        t.put(&a, "gzip", &made(&b)).unwrap();
        t.put(&b, "zstd-3", &made(&a)).unwrap();
        assert_eq!(t.get(&a, "gzip"), Some(made(&b)));
        assert_eq!(t.get(&a, "zstd"), None);
        assert!(t.put(&a, "../x", &made(&b)).is_err());
        fs::write(root.join("layer-blobs/garbage"), "x").unwrap();
        assert_eq!(t.all().len(), 2);
        t.retain(&|d| *d == a).unwrap();
        assert_eq!(t.get(&a, "gzip"), None);
        assert_eq!(t.get(&b, "zstd-3"), Some(made(&a)));
        let _ = fs::remove_dir_all(&root);
    }
}
