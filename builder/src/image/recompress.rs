//! Layers rewritten in another compression for an output that asks for
//! one (`-o …,compression=zstd,compression-level=N,force-compression=true`),
//! following BuildKit's rule: layers the build made are written in the
//! requested compression; layers that came with the base image keep theirs
//! unless `force-compression` is set. The uncompressed tar, and so the
//! diff_id and the image config, never change.

use std::io;

use super::ImageError;
use super::compress::Compression;
use super::hashing::HashingReader;
use super::layer::Layer;
use crate::store::blobs::Blobs;

/// What an output asks of its layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LayerPolicy {
    /// `compression=`; `None` keeps the layers as stored (gzip).
    pub compression: Option<Compression>,
    /// `compression-level=`.
    pub level: Option<i32>,
    /// `force-compression=true`: base image layers are rewritten too.
    pub force: bool,
}

impl LayerPolicy {
    /// True when layers are written as the store has them.
    pub fn is_default(&self) -> bool {
        *self == LayerPolicy::default()
    }

    /// Checks the level against the compression; the error names the key.
    pub fn validate(&self) -> Result<(), String> {
        let c = self.compression.unwrap_or(Compression::Gzip);
        match (self.level, c.levels()) {
            (Some(_), None) => Err(
                "compression-level has no meaning with compression=uncompressed; hint: drop compression-level or choose gzip or zstd".to_string(),
            ),
            (Some(l), Some(r)) if !r.contains(&l) => Err(format!(
                "compression-level={l} is out of range for {c:?} ({}-{})",
                r.start(),
                r.end()
            )),
            _ => Ok(()),
        }
    }

    /// The layer as this policy wants it: `built` says whether the build
    /// made it (else it came with the base image).
    pub fn apply(&self, blobs: &Blobs, l: &Layer, built: bool) -> Result<Layer, ImageError> {
        if self.is_default() {
            return Ok(l.clone());
        }
        let to = self.compression.unwrap_or(Compression::Gzip);
        let from = Compression::of_media_type(l.media_type);
        let rewrite = if built {
            from != to || self.level.is_some()
        } else {
            self.force && from != to
        };
        if !rewrite {
            return Ok(l.clone());
        }
        recompress(blobs, l, to, self.level)
    }
}

/// Writes `l` again compressed as `to` at `level`; the uncompressed stream
/// must still hash to the layer's diff_id.
pub fn recompress(
    blobs: &Blobs,
    l: &Layer,
    to: Compression,
    level: Option<i32>,
) -> Result<Layer, ImageError> {
    blobs.verify(&l.digest)?;
    let src = Compression::open_decompressed(&blobs.path(&l.digest))?;
    let mut hashing = HashingReader::new(src);
    let mut blob = blobs.writer()?;
    {
        let mut w = to.writer_at(&mut blob, level)?;
        io::copy(&mut hashing, &mut w)?;
        w.finish_box()?;
    }
    let (diff_id, _) = hashing.finish()?;
    if diff_id != l.diff_id {
        return Err(ImageError::Io(io::Error::other(format!(
            "layer {}: its content hashes to {diff_id}, not its diff_id {}",
            l.digest, l.diff_id
        ))));
    }
    let (digest, size) = blob.commit(None)?;
    Ok(Layer {
        digest,
        diff_id,
        size,
        media_type: to.media_type(),
    })
}
