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
//! [`Maker`] is given the snapshot's directory; which directory that is,
//! and when a stack needs a blob, is [`super::layers`]'s business.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use super::state::LayerRec;
use crate::image::compress::Compression;
use crate::image::layer::{self, Layer, LayerOptions};
use crate::image::recompress::{LayerPolicy, recompress};
use crate::store::blobs::Blobs;
use crate::store::digest::Digest;
use crate::store::layer_blobs::{LayerBlobs, MadeBlob};

/// Blobs being made by this process, one lock per layer and form.
#[derive(Debug, Clone, Default)]
struct Making(Arc<Mutex<BTreeMap<String, Arc<Mutex<()>>>>>);

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

/// Makes and finds the blobs of build layers.
#[derive(Debug, Clone)]
pub struct Maker {
    /// Which blob was made for which layer, for every build.
    made: LayerBlobs,
    /// One blob is made once per process however many want it at once.
    making: Making,
}

impl Maker {
    /// Opens (creating) the store's table of made blobs.
    pub fn open(store_root: &Path) -> std::io::Result<Maker> {
        Ok(Maker {
            made: LayerBlobs::open(store_root)?,
            making: Making::default(),
        })
    }
    /// The blob of build layer `l` compressed as `c` at `level`: its own
    /// when it already is one, one made before, else one made now from its
    /// snapshot (or, with the snapshot gone, from another blob of it).
    pub fn blob_of(
        &self,
        blobs: &Blobs,
        l: &LayerRec,
        snapshot: &Path,
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
        let made = if snapshot.is_dir() {
            let opts = LayerOptions {
                compression: c,
                level,
                epoch: l.epoch,
                overlay: true,
            };
            let made = layer::from_dir(snapshot, blobs, opts)
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
        snapshot: &Path,
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
                snapshot,
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
    pub fn existing_blob(&self, blobs: &Blobs, l: &LayerRec) -> Option<Layer> {
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
}

/// The error for a layer that can no longer be had.
pub fn gone(diff_id: &dyn std::fmt::Display) -> String {
    format!(
        "layer {diff_id}: neither its snapshot nor a blob of it is left in the store\nhint: build again with --no-cache (or `mxbuild prune` removed what a cache record needs)"
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::fs;
    use std::path::PathBuf;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("mxbuild-lazy-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    /// A step's diff as `Ctx::commit_upper` leaves it: a directory and a
    /// layer record that names it by diff_id, with no blob.
    pub(crate) fn committed(dir: &Path, epoch: Option<i64>) -> LayerRec {
        fs::create_dir_all(dir.join("app")).unwrap();
        fs::write(dir.join("app/bin"), "binary").unwrap();
        let opts = LayerOptions {
            epoch,
            overlay: true,
            ..LayerOptions::default()
        };
        LayerRec::snapshot_only(&layer::diff_id_of(dir, &opts).unwrap(), epoch)
    }

    #[test]
    fn a_blob_is_made_once_from_the_snapshot_and_reused() {
        let root = tmp("once");
        let blobs = Blobs::open(&root).unwrap();
        let maker = Maker::open(&root).unwrap();
        let snap = root.join("snapshot");
        let rec = committed(&snap, Some(0));
        assert!(rec.blob().is_err(), "no blob at commit");
        assert!(maker.existing_blob(&blobs, &rec).is_none());
        let made = maker
            .blob_of(&blobs, &rec, &snap, Compression::Gzip, None)
            .unwrap();
        assert_eq!(made.diff_id.to_string(), rec.diff_id);
        assert!(blobs.contains(&made.digest));
        assert_eq!(maker.existing_blob(&blobs, &rec), Some(made.clone()));
        // Another process (a fresh handle) finds it instead of compressing.
        let again = Maker::open(&root).unwrap();
        let path = blobs.path(&made.digest);
        let before = fs::metadata(&path).unwrap().modified().unwrap();
        let reused = again
            .blob_of(&blobs, &rec, &snap, Compression::Gzip, None)
            .unwrap();
        assert_eq!(reused, made);
        assert_eq!(fs::metadata(&path).unwrap().modified().unwrap(), before);
        // Another form is another blob of the same tar.
        let z = maker
            .blob_of(&blobs, &rec, &snap, Compression::Zstd, Some(3))
            .unwrap();
        assert_eq!(
            (z.diff_id.clone(), z.media_type),
            (made.diff_id.clone(), Compression::Zstd.media_type())
        );
        assert_ne!(z.digest, made.digest);
        // With the snapshot gone, a new form comes from a stored blob.
        fs::remove_dir_all(&snap).unwrap();
        let u = maker
            .blob_of(&blobs, &rec, &snap, Compression::None, None)
            .unwrap();
        assert_eq!(u.diff_id, made.diff_id);
        let _ = fs::remove_dir_all(root);
    }

    #[test]
    fn a_snapshot_changed_behind_our_back_is_not_exported() {
        let root = tmp("changed");
        let blobs = Blobs::open(&root).unwrap();
        let maker = Maker::open(&root).unwrap();
        let snap = root.join("snapshot");
        let rec = committed(&snap, Some(0));
        fs::write(snap.join("app/bin"), "tampered").unwrap();
        let e = maker
            .blob_of(&blobs, &rec, &snap, Compression::Gzip, None)
            .unwrap_err();
        assert!(e.contains("changed outside mxbuild"), "{e}");
        assert!(maker.made.all().is_empty(), "nothing recorded");
        let _ = fs::remove_dir_all(root);
    }
}
