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
use crate::image::extract;
use crate::store::blobs::Blobs;
use crate::store::digest::Digest;

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

fn is_empty_dir(p: &Path) -> bool {
    fs::read_dir(p).is_ok_and(|mut d| d.next().is_none())
}

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

    /// Applies one stored layer onto `dir`, checking the blob against its
    /// digest and the uncompressed stream against the config's diff_id: a
    /// snapshot is only ever published under an id its content has.
    fn unpack(blobs: &Blobs, l: &LayerRec, dir: &Path, mode: extract::Mode) -> Result<(), String> {
        let d = l.blob()?;
        let diff_id: Digest = l
            .diff_id
            .parse()
            .map_err(|e| format!("layer {d}: diff_id: {e}"))?;
        blobs.verify(&d).map_err(|e| e.to_string())?;
        let f = fs::File::open(blobs.path(&d)).map_err(|e| format!("layer {d}: {e}"))?;
        extract::apply(f, dir, mode, Some(&diff_id)).map_err(|e| format!("layer {d}: {e}"))?;
        Ok(())
    }

    /// Makes sure the base snapshot for `layers` exists; returns its name.
    pub fn ensure_base(&self, blobs: &Blobs, layers: &[LayerRec]) -> Result<String, String> {
        let name = Self::base_name(layers);
        if self.path(&name).is_dir() {
            return Ok(name);
        }
        let tmp = self.fresh_tmp(&name).map_err(|e| e.to_string())?;
        for l in layers {
            Self::unpack(blobs, l, tmp.path()?, extract::Mode::Layer)?;
        }
        self.publish(tmp, &name).map_err(|e| e.to_string())?;
        Ok(name)
    }

    /// Makes sure the overlay-form snapshot of one layer exists (`copy` > 0:
    /// a second unpacked copy, for a layer that appears twice in one stack).
    pub fn ensure_layer(&self, blobs: &Blobs, l: &LayerRec) -> Result<String, String> {
        self.ensure_layer_copy(blobs, l, 0)
    }

    fn ensure_layer_copy(
        &self,
        blobs: &Blobs,
        l: &LayerRec,
        copy: usize,
    ) -> Result<String, String> {
        let name = Self::copy_name(l, copy);
        if self.path(&name).is_dir() {
            return Ok(name);
        }
        let tmp = self.fresh_tmp(&name).map_err(|e| e.to_string())?;
        Self::unpack(blobs, l, tmp.path()?, extract::Mode::Overlay)?;
        self.publish(tmp, &name).map_err(|e| e.to_string())?;
        Ok(name)
    }

    fn copy_name(l: &LayerRec, copy: usize) -> String {
        match copy {
            0 => Self::layer_name(l),
            k => format!("{}.{k}", Self::layer_name(l)),
        }
    }

    /// Keeps an upperdir as the snapshot of the layer made from it.
    pub fn adopt(&self, upper: &Path, l: &LayerRec) -> Result<String, String> {
        let name = Self::layer_name(l);
        if self.path(&name).is_dir() {
            let _ = fs::remove_dir_all(upper);
            return Ok(name);
        }
        self.publish(TmpDir(Some(upper.to_path_buf())), &name)
            .map_err(|e| e.to_string())?;
        Ok(name)
    }

    /// The snapshots of a state's build layers, with a copy number for
    /// each repeat of one layer (overlayfs refuses one lowerdir twice, and
    /// two steps that change the same nothing make the same layer).
    fn stack(state: &super::state::State) -> Vec<(&LayerRec, usize)> {
        let n = state.base_layers.min(state.layers.len());
        let mut seen: std::collections::BTreeMap<&str, usize> = Default::default();
        state.layers[n..]
            .iter()
            .map(|l| {
                let k = seen.entry(l.diff_id.as_str()).or_insert(0);
                *k += 1;
                (l, *k - 1)
            })
            .collect()
    }

    /// The lowerdirs for `state`'s filesystem, top first (overlay order),
    /// unpacking whatever is missing. Layers that change nothing are left
    /// out (they add nothing, and an empty lowerdir repeated is refused).
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
        for (l, copy) in Self::stack(state) {
            let first = self.path(&self.ensure_layer(blobs, l)?);
            if is_empty_dir(&first) {
                continue;
            }
            out.push(if copy == 0 {
                first
            } else {
                self.path(&self.ensure_layer_copy(blobs, l, copy)?)
            });
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
        v.extend(
            Self::stack(state)
                .into_iter()
                .map(|(l, k)| Self::copy_name(l, k)),
        );
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
