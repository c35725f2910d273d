//! Lazy layers: a step that changes files keeps its diff as a snapshot
//! named by diff_id (the tar is only hashed, see `Ctx::commit_upper`); the
//! compressed blob, the expensive part, is made here when something first
//! needs it: an image written for the build's result, a cache export, a
//! second copy of a snapshot. Build stages whose layers never leave the
//! build are never compressed, as in BuildKit. A blob made once is
//! recorded per diff_id and form ([`crate::store::layer_blobs`]) and
//! reused by every later build.
//!
//! A blob made from a snapshot must hash to the diff_id the snapshot is
//! named by: the tar is written with the epoch the step used, and a
//! snapshot changed behind our back is refused rather than exported.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use super::layers::Snapshots;
use super::state::LayerRec;
use crate::image::compress::Compression;
use crate::image::layer::{self, Layer, LayerOptions};
use crate::image::recompress::{LayerPolicy, recompress};
use crate::store::blobs::Blobs;
use crate::store::digest::Digest;
use crate::store::layer_blobs::MadeBlob;

/// Blobs being made by this process, one lock per layer and form.
#[derive(Debug, Clone, Default)]
pub struct Making(Arc<Mutex<BTreeMap<String, Arc<Mutex<()>>>>>);

impl Making {
    fn lock_for(&self, key: &str) -> Arc<Mutex<()>> {
        let mut m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        m.entry(key.to_string()).or_default().clone()
    }
}

/// The name of a compression and level in the table ([`MadeBlob`] entries).
fn form(c: Compression, level: Option<i32>) -> String {
    let name = match c {
        Compression::None => "uncompressed",
        Compression::Gzip => "gzip",
        Compression::Zstd => "zstd",
    };
    match level {
        Some(l) => format!("{name}-{l}"),
        None => name.to_string(),
    }
}

fn media_type(m: &str) -> &'static str {
    [Compression::None, Compression::Gzip, Compression::Zstd]
        .into_iter()
        .map(Compression::media_type)
        .find(|t| *t == m)
        .unwrap_or("application/vnd.oci.image.layer.v1.tar+gzip")
}

fn as_layer(diff_id: &Digest, m: MadeBlob) -> Layer {
    Layer {
        digest: m.digest,
        diff_id: diff_id.clone(),
        size: m.size,
        media_type: media_type(&m.media_type),
    }
}

impl Snapshots {
    /// The blob of build layer `l` compressed as `c` at `level`: its own
    /// when it already is one, one made before, else one made now from its
    /// snapshot (or, with the snapshot gone, from another blob of it).
    pub fn blob_of(
        &self,
        blobs: &Blobs,
        l: &LayerRec,
        c: Compression,
        level: Option<i32>,
    ) -> Result<Layer, String> {
        if let Ok(own) = l.layer() {
            if level.is_none()
                && Compression::of_media_type(own.media_type) == c
                && blobs.contains(&own.digest)
            {
                return Ok(own);
            }
        }
        let diff_id: Digest = l
            .diff_id
            .parse()
            .map_err(|e| format!("layer diff_id: {e}"))?;
        let form = form(c, level);
        let lock = self.making.lock_for(&format!("{}.{form}", diff_id.hex()));
        let _held = lock.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(m) = self.made_blob(blobs, &diff_id, &form) {
            return Ok(m);
        }
        let snapshot = self.path(&Self::layer_name(l));
        let made = if snapshot.is_dir() {
            let opts = LayerOptions {
                compression: c,
                level,
                epoch: l.epoch,
                overlay: true,
            };
            let made = layer::from_dir(&snapshot, blobs, opts)
                .map_err(|e| format!("layer {diff_id}: {e}"))?;
            if made.diff_id != diff_id {
                return Err(format!(
                    "layer {diff_id}: its snapshot now hashes to {}; it was changed outside mxbuild\nhint: `mxbuild prune --all` and build again",
                    made.diff_id
                ));
            }
            made
        } else {
            let from = self.existing_blob(blobs, l).ok_or_else(|| gone(&diff_id))?;
            recompress(blobs, &from, c, level).map_err(|e| format!("layer {diff_id}: {e}"))?
        };
        let entry = MadeBlob {
            digest: made.digest.clone(),
            size: made.size,
            media_type: made.media_type.to_string(),
        };
        self.made
            .put(&diff_id, &form, &entry)
            .map_err(|e| format!("recording the blob of layer {diff_id}: {e}"))?;
        Ok(made)
    }

    /// Layer `l` as an output or cache export wants it (`policy`, see
    /// [`LayerPolicy::apply`]; `built`: the build made it): a stored blob
    /// goes through the policy, a layer without one gets it made directly
    /// in the policy's compression.
    pub fn blob_for_output(
        &self,
        blobs: &Blobs,
        l: &LayerRec,
        built: bool,
        policy: &LayerPolicy,
    ) -> Result<Layer, String> {
        match l.layer() {
            Ok(own) if blobs.contains(&own.digest) => {
                policy.apply(blobs, &own, built).map_err(|e| e.to_string())
            }
            _ => self.blob_of(
                blobs,
                l,
                policy.compression.unwrap_or(Compression::Gzip),
                policy.level,
            ),
        }
    }

    /// A blob made before for `diff_id` in `form`, if it is still stored.
    fn made_blob(&self, blobs: &Blobs, diff_id: &Digest, form: &str) -> Option<Layer> {
        self.made
            .get(diff_id, form)
            .filter(|m| blobs.contains(&m.digest))
            .map(|m| as_layer(diff_id, m))
    }

    /// Any stored blob of `l`: its own, else one made for it in any form.
    fn existing_blob(&self, blobs: &Blobs, l: &LayerRec) -> Option<Layer> {
        if let Ok(own) = l.layer() {
            if blobs.contains(&own.digest) {
                return Some(own);
            }
        }
        let diff_id: Digest = l.diff_id.parse().ok()?;
        ["gzip", "zstd", "uncompressed"]
            .into_iter()
            .find_map(|f| self.made_blob(blobs, &diff_id, f))
    }

    /// True when a cached step's layer can still be had: its snapshot or a
    /// blob of it is in the store (a record whose layer is neither, after a
    /// prune, is a cache miss).
    pub fn usable(&self, blobs: &Blobs, l: &LayerRec) -> bool {
        self.path(&Self::layer_name(l)).is_dir() || self.existing_blob(blobs, l).is_some()
    }

    /// The blob to unpack into a missing snapshot of `l` (`copy` > 0: a
    /// second copy of a snapshot that exists, for which a blob is made).
    pub(super) fn blob_to_unpack(
        &self,
        blobs: &Blobs,
        l: &LayerRec,
        copy: usize,
    ) -> Result<Layer, String> {
        if let Some(b) = self.existing_blob(blobs, l) {
            return Ok(b);
        }
        if copy > 0 {
            return self.blob_of(blobs, l, Compression::Gzip, None);
        }
        Err(gone(&l.diff_id))
    }
}

fn gone(diff_id: &dyn std::fmt::Display) -> String {
    format!(
        "layer {diff_id}: neither its snapshot nor a blob of it is left in the store\nhint: build again with --no-cache (or `mxbuild prune` removed what a cache record needs)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn tmp(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("mxbuild-lazy-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    /// A step's diff adopted as a snapshot, as `Ctx::commit_upper` does.
    fn committed(root: &std::path::Path, snaps: &Snapshots, epoch: Option<i64>) -> LayerRec {
        let upper = root.join("upper");
        fs::create_dir_all(upper.join("app")).unwrap();
        fs::write(upper.join("app/bin"), "binary").unwrap();
        let opts = LayerOptions {
            epoch,
            overlay: true,
            ..LayerOptions::default()
        };
        let diff_id = layer::diff_id_of(&upper, &opts).unwrap();
        let rec = LayerRec::snapshot_only(&diff_id, epoch);
        snaps.adopt(&upper, &rec).unwrap();
        rec
    }

    #[test]
    fn a_blob_is_made_once_from_the_snapshot_and_reused() {
        let root = tmp("once");
        let blobs = Blobs::open(&root).unwrap();
        let snaps = Snapshots::open(&root).unwrap();
        let rec = committed(&root, &snaps, Some(0));
        assert!(rec.blob().is_err(), "no blob at commit");
        assert!(
            snaps.usable(&blobs, &rec),
            "the snapshot alone is a usable layer"
        );
        let made = snaps
            .blob_of(&blobs, &rec, Compression::Gzip, None)
            .unwrap();
        assert_eq!(made.diff_id.to_string(), rec.diff_id);
        assert!(blobs.contains(&made.digest));
        // Another process (a fresh handle) finds it instead of compressing.
        let again = Snapshots::open(&root).unwrap();
        let path = blobs.path(&made.digest);
        let before = fs::metadata(&path).unwrap().modified().unwrap();
        let reused = again
            .blob_of(&blobs, &rec, Compression::Gzip, None)
            .unwrap();
        assert_eq!(reused, made);
        assert_eq!(fs::metadata(&path).unwrap().modified().unwrap(), before);
        // Another form is another blob of the same tar.
        let z = snaps
            .blob_of(&blobs, &rec, Compression::Zstd, Some(3))
            .unwrap();
        assert_eq!(
            (z.diff_id.clone(), z.media_type),
            (made.diff_id.clone(), Compression::Zstd.media_type())
        );
        assert_ne!(z.digest, made.digest);
        let _ = fs::remove_dir_all(root);
    }

    #[test]
    fn without_its_snapshot_a_layer_comes_from_a_blob_or_is_gone() {
        let root = tmp("gone");
        let blobs = Blobs::open(&root).unwrap();
        let snaps = Snapshots::open(&root).unwrap();
        let rec = committed(&root, &snaps, None);
        let made = snaps
            .blob_of(&blobs, &rec, Compression::Gzip, None)
            .unwrap();
        fs::remove_dir_all(snaps.path(&Snapshots::layer_name(&rec))).unwrap();
        assert!(snaps.usable(&blobs, &rec));
        // The snapshot is unpacked again from the blob made for it.
        let name = snaps.ensure_layer(&blobs, &rec).unwrap();
        assert_eq!(
            fs::read_to_string(snaps.path(&name).join("app/bin")).unwrap(),
            "binary"
        );
        // A form never made comes from the stored blob, not the snapshot.
        fs::remove_dir_all(snaps.path(&name)).unwrap();
        let u = snaps
            .blob_of(&blobs, &rec, Compression::None, None)
            .unwrap();
        assert_eq!(u.diff_id, made.diff_id);
        fs::remove_file(blobs.path(&made.digest)).unwrap();
        fs::remove_file(blobs.path(&u.digest)).unwrap();
        assert!(
            !snaps.usable(&blobs, &rec),
            "no snapshot, no blob: a cache miss"
        );
        let e = snaps.ensure_layer(&blobs, &rec).unwrap_err();
        assert!(e.contains("neither its snapshot nor a blob"), "{e}");
        let _ = fs::remove_dir_all(root);
    }

    #[test]
    fn a_snapshot_changed_behind_our_back_is_not_exported() {
        let root = tmp("changed");
        let blobs = Blobs::open(&root).unwrap();
        let snaps = Snapshots::open(&root).unwrap();
        let rec = committed(&root, &snaps, Some(0));
        let dir = snaps.path(&Snapshots::layer_name(&rec));
        fs::write(dir.join("app/bin"), "tampered").unwrap();
        let e = snaps
            .blob_of(&blobs, &rec, Compression::Gzip, None)
            .unwrap_err();
        assert!(e.contains("changed outside mxbuild"), "{e}");
        assert!(snaps.made.all().is_empty(), "nothing recorded");
        let _ = fs::remove_dir_all(root);
    }
}
