//! What the engine keeps in the store's snapshot directory, and how a
//! state's filesystem is found there: `base-<chain>` holds a base image's
//! layers applied in order (one directory however many layers it has),
//! `layer-<diff_id>` one build layer in overlay form (the upperdir of the
//! step that made it, or the layer re-unpacked when only the blob is left).
//! The directory handling itself (temp fill, atomic publish, sweep, prune)
//! is [`crate::store::snapshots`]. A build layer's blob is made from its
//! snapshot only when something needs it ([`super::lazy`]).

use std::fs;
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use super::lazy::{self, Maker};
use super::state::{LayerRec, State};
use crate::image::compress::Compression;
use crate::image::extract;
use crate::image::layer::Layer;
use crate::image::recompress::LayerPolicy;
use crate::store::blobs::Blobs;
use crate::store::snapshots::SnapshotDir;

fn is_empty_dir(p: &Path) -> bool {
    fs::read_dir(p).is_ok_and(|mut d| d.next().is_none())
}

fn hex(s: &str) -> &str {
    s.strip_prefix("sha256:").unwrap_or(s)
}

/// The layer snapshots of a store, and the blobs made from them.
#[derive(Debug, Clone)]
pub struct Snapshots {
    dir: SnapshotDir,
    /// The blobs of build layers, made from these snapshots on demand.
    maker: Maker,
}

impl Snapshots {
    /// Opens (creating) the store's snapshot directory.
    pub fn open(root: &Path) -> std::io::Result<Snapshots> {
        Ok(Snapshots {
            dir: SnapshotDir::open(root)?,
            maker: Maker::open(root)?,
        })
    }

    /// Path of a snapshot by name.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path(name)
    }

    /// Removes temp directories of builds that no longer run.
    pub fn sweep_stale(&self) -> usize {
        self.dir.sweep_stale()
    }

    /// Removes snapshots not in `keep` (prune).
    pub fn retain(&self, keep: &std::collections::BTreeSet<String>) -> std::io::Result<usize> {
        self.dir.retain(keep)
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
        Self::diff_name(&l.diff_id)
    }

    /// Name of the snapshot of the build layer with `diff_id`.
    pub fn diff_name(diff_id: &str) -> String {
        format!("layer-{}", hex(diff_id))
    }

    /// Applies one stored layer onto `dir`, checking the blob against its
    /// digest and the uncompressed stream against the config's diff_id: a
    /// snapshot is only ever published under an id its content has.
    fn unpack(blobs: &Blobs, l: &Layer, dir: &Path, mode: extract::Mode) -> Result<(), String> {
        let d = &l.digest;
        blobs.verify(d).map_err(|e| e.to_string())?;
        let f = fs::File::open(blobs.path(d)).map_err(|e| format!("layer {d}: {e}"))?;
        extract::apply(f, dir, mode, Some(&l.diff_id)).map_err(|e| format!("layer {d}: {e}"))?;
        Ok(())
    }

    /// Makes sure the base snapshot for `layers` exists; returns its name.
    pub fn ensure_base(&self, blobs: &Blobs, layers: &[LayerRec]) -> Result<String, String> {
        let name = Self::base_name(layers);
        self.dir.ensure(&name, |tmp| {
            layers
                .iter()
                .try_for_each(|l| Self::unpack(blobs, &l.layer()?, tmp, extract::Mode::Layer))
        })?;
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
        self.dir.ensure(&name, |tmp| {
            let blob = self.blob_to_unpack(blobs, l, copy)?;
            Self::unpack(blobs, &blob, tmp, extract::Mode::Overlay)
        })?;
        Ok(name)
    }

    fn copy_name(l: &LayerRec, copy: usize) -> String {
        match copy {
            0 => Self::layer_name(l),
            k => format!("{}.{k}", Self::layer_name(l)),
        }
    }

    /// The blob of build layer `l` compressed as `c` at `level`, made from
    /// its snapshot if there is none yet (see [`Maker::blob_of`]).
    pub fn blob_of(
        &self,
        blobs: &Blobs,
        l: &LayerRec,
        c: Compression,
        level: Option<i32>,
    ) -> Result<Layer, String> {
        let snapshot = self.path(&Self::layer_name(l));
        self.maker.blob_of(blobs, l, &snapshot, c, level)
    }

    /// Layer `l` as an output or cache export wants it (see
    /// [`Maker::blob_for_output`]).
    pub fn blob_for_output(
        &self,
        blobs: &Blobs,
        l: &LayerRec,
        built: bool,
        policy: &LayerPolicy,
    ) -> Result<Layer, String> {
        let snapshot = self.path(&Self::layer_name(l));
        self.maker
            .blob_for_output(blobs, l, &snapshot, built, policy)
    }

    /// True when a cached step's layer can still be had: its snapshot or a
    /// blob of it is in the store (a record whose layer is neither, after a
    /// prune, is a cache miss).
    pub fn usable(&self, blobs: &Blobs, l: &LayerRec) -> bool {
        self.path(&Self::layer_name(l)).is_dir() || self.maker.existing_blob(blobs, l).is_some()
    }

    /// The blob to unpack into a missing snapshot of `l` (`copy` > 0: a
    /// second copy of a snapshot that exists, for which a blob is made).
    fn blob_to_unpack(&self, blobs: &Blobs, l: &LayerRec, copy: usize) -> Result<Layer, String> {
        if let Some(b) = self.maker.existing_blob(blobs, l) {
            return Ok(b);
        }
        if copy > 0 {
            return self.blob_of(blobs, l, Compression::Gzip, None);
        }
        Err(lazy::gone(&l.diff_id))
    }

    /// Keeps an upperdir as the snapshot of the layer made from it.
    pub fn adopt(&self, upper: &Path, l: &LayerRec) -> Result<String, String> {
        let name = Self::layer_name(l);
        self.dir.adopt(upper, &name)?;
        Ok(name)
    }

    /// The snapshots of a state's build layers, with a copy number for
    /// each repeat of one layer (overlayfs refuses one lowerdir twice, and
    /// two steps that change the same nothing make the same layer).
    fn stack(state: &State) -> Vec<(&LayerRec, usize)> {
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
    pub fn lowers(&self, blobs: &Blobs, state: &State) -> Result<Vec<PathBuf>, String> {
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
    pub fn names(state: &State) -> Vec<String> {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A layer whose snapshot is gone is unpacked again from a blob made
    /// for it; with neither left, it is a cache miss and a clear error.
    #[test]
    fn without_its_snapshot_a_layer_comes_from_a_blob_or_is_gone() {
        let root = std::env::temp_dir().join(format!("mxbuild-snap-gone-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let blobs = Blobs::open(&root).unwrap();
        let snaps = Snapshots::open(&root).unwrap();
        let upper = root.join("upper");
        let rec = lazy::tests::committed(&upper, None);
        snaps.adopt(&upper, &rec).unwrap();
        assert!(snaps.usable(&blobs, &rec), "the snapshot alone is usable");
        let made = snaps
            .blob_of(&blobs, &rec, Compression::Gzip, None)
            .unwrap();
        fs::remove_dir_all(snaps.path(&Snapshots::layer_name(&rec))).unwrap();
        assert!(snaps.usable(&blobs, &rec));
        let name = snaps.ensure_layer(&blobs, &rec).unwrap();
        assert_eq!(
            fs::read_to_string(snaps.path(&name).join("app/bin")).unwrap(),
            "binary"
        );
        fs::remove_dir_all(snaps.path(&name)).unwrap();
        fs::remove_file(blobs.path(&made.digest)).unwrap();
        assert!(!snaps.usable(&blobs, &rec), "no snapshot, no blob: a miss");
        let e = snaps.ensure_layer(&blobs, &rec).unwrap_err();
        assert!(e.contains("neither its snapshot nor a blob"), "{e}");
        let _ = fs::remove_dir_all(&root);
    }

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
            digest: Some(d.to_string()),
            diff_id: d.to_string(),
            size,
            media_type: "application/vnd.oci.image.layer.v1.tar".to_string(),
            epoch: None,
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
