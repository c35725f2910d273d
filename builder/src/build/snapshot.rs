//! Unpacked filesystems that overlay mounts stack as lowerdirs:
//! `snapshots/base-<chain>` holds a base image's layers applied in order
//! (one directory however many layers it has), `snapshots/layer-<diff_id>`
//! holds one build layer in overlay form (the upperdir of the step that made
//! it, or the layer re-unpacked when only the blob is left). Each is built in
//! a temp directory and renamed into place, so a killed build never leaves a
//! half-unpacked snapshot under its final name.

use std::fs;
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use super::state::LayerRec;
use crate::image::compress::Compression;
use crate::image::extract;
use crate::store::blobs::Blobs;

/// The snapshot directory of a store.
#[derive(Debug, Clone)]
pub struct Snapshots {
    dir: PathBuf,
}

fn hex(s: &str) -> &str {
    s.strip_prefix("sha256:").unwrap_or(s)
}

impl Snapshots {
    /// Opens (creating) `<root>/snapshots`.
    pub fn open(root: &Path) -> std::io::Result<Snapshots> {
        let dir = root.join("snapshots");
        fs::create_dir_all(&dir)?;
        Ok(Snapshots { dir })
    }

    /// Path of a snapshot by name.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Name of the snapshot for a base image's layers.
    pub fn base_name(layers: &[LayerRec]) -> String {
        let mut h = Sha256::new();
        for l in layers {
            h.update(l.diff_id.as_bytes());
            h.update(b"\n");
        }
        let out = h.finalize();
        format!(
            "base-{}",
            out.iter().map(|b| format!("{b:02x}")).collect::<String>()
        )
    }

    /// Name of the snapshot of one build layer.
    pub fn layer_name(l: &LayerRec) -> String {
        format!("layer-{}", hex(&l.diff_id))
    }

    /// A new temp directory for `name`, unique per call: two instances of
    /// one build can materialise the same snapshot at once (both targets
    /// copying from one stage), and must not clear each other's work.
    fn fresh_tmp(&self, name: &str) -> std::io::Result<PathBuf> {
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
        Ok(tmp)
    }

    fn publish(&self, tmp: &Path, name: &str) -> std::io::Result<PathBuf> {
        let dest = self.path(name);
        match fs::rename(tmp, &dest) {
            Ok(()) => Ok(dest),
            // Someone else (a parallel build) published it first.
            Err(_) if dest.is_dir() => {
                let _ = fs::remove_dir_all(tmp);
                Ok(dest)
            }
            Err(e) => Err(e),
        }
    }

    /// Makes sure the base snapshot for `layers` exists; returns its name.
    pub fn ensure_base(&self, blobs: &Blobs, layers: &[LayerRec]) -> Result<String, String> {
        let name = Self::base_name(layers);
        if self.path(&name).is_dir() {
            return Ok(name);
        }
        let tmp = self.fresh_tmp(&name).map_err(|e| e.to_string())?;
        for l in layers {
            let d = l.blob()?;
            blobs.verify(&d).map_err(|e| e.to_string())?;
            let r = Compression::open_decompressed(&blobs.path(&d)).map_err(|e| e.to_string())?;
            extract::apply(r, &tmp).map_err(|e| format!("layer {d}: {e}"))?;
        }
        self.publish(&tmp, &name).map_err(|e| e.to_string())?;
        Ok(name)
    }

    /// Makes sure the overlay-form snapshot of one layer exists.
    pub fn ensure_layer(&self, blobs: &Blobs, l: &LayerRec) -> Result<String, String> {
        let name = Self::layer_name(l);
        if self.path(&name).is_dir() {
            return Ok(name);
        }
        let tmp = self.fresh_tmp(&name).map_err(|e| e.to_string())?;
        let d = l.blob()?;
        blobs.verify(&d).map_err(|e| e.to_string())?;
        let r = Compression::open_decompressed(&blobs.path(&d)).map_err(|e| e.to_string())?;
        extract::unpack_overlay_layer(r, &tmp).map_err(|e| format!("layer {d}: {e}"))?;
        self.publish(&tmp, &name).map_err(|e| e.to_string())?;
        Ok(name)
    }

    /// Keeps an upperdir as the snapshot of the layer made from it.
    pub fn adopt(&self, upper: &Path, l: &LayerRec) -> Result<String, String> {
        let name = Self::layer_name(l);
        if self.path(&name).is_dir() {
            let _ = fs::remove_dir_all(upper);
            return Ok(name);
        }
        self.publish(upper, &name).map_err(|e| e.to_string())?;
        Ok(name)
    }

    /// The lowerdirs for `state`'s filesystem, top first (overlay order),
    /// unpacking whatever is missing.
    pub fn lowers(
        &self,
        blobs: &Blobs,
        state: &super::state::State,
    ) -> Result<Vec<PathBuf>, String> {
        let mut out = Vec::new();
        let n = state.base_layers.min(state.layers.len());
        if n > 0 {
            out.push(self.path(&self.ensure_base(blobs, &state.layers[..n])?));
        }
        for l in &state.layers[n..] {
            out.push(self.path(&self.ensure_layer(blobs, l)?));
        }
        out.reverse();
        Ok(out)
    }

    /// The snapshot names `state` uses (for prune).
    pub fn names(state: &super::state::State) -> Vec<String> {
        let n = state.base_layers.min(state.layers.len());
        let mut v = Vec::new();
        if n > 0 {
            v.push(Self::base_name(&state.layers[..n]));
        }
        v.extend(state.layers[n..].iter().map(Self::layer_name));
        v
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Many threads materialising one layer at once all succeed and agree.
    #[test]
    fn concurrent_materialisation_of_one_layer() {
        let root = std::env::temp_dir().join(format!("mxbuild-snap-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(root.join("tmp")).unwrap();
        let blobs = Blobs::open(&root).unwrap();
        let mut tar = tar::Builder::new(Vec::new());
        for i in 0..200 {
            let data = format!("file {i}\n").repeat(50);
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            tar.append_data(&mut h, format!("d/f{i}"), data.as_bytes())
                .unwrap();
        }
        let bytes = tar.into_inner().unwrap();
        let (d, size) = blobs.put(&bytes).unwrap();
        let l = LayerRec {
            digest: d.to_string(),
            diff_id: d.to_string(),
            size,
            media_type: "application/vnd.oci.image.layer.v1.tar".to_string(),
        };
        let snaps = Snapshots::open(&root).unwrap();
        let barrier = std::sync::Barrier::new(8);
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        snaps.ensure_layer(&blobs, &l)
                    })
                })
                .collect();
            for h in handles {
                let name = h.join().unwrap().unwrap();
                assert_eq!(name, Snapshots::layer_name(&l));
            }
        });
        assert_eq!(
            fs::read_to_string(snaps.path(&Snapshots::layer_name(&l)).join("d/f199")).unwrap(),
            "file 199\n".repeat(50)
        );
        let _ = fs::remove_dir_all(&root);
    }
}
