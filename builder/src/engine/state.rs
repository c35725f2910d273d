//! The state of an image being built, after some step: its layers, the
//! snapshot directories that make up its filesystem (bottom first), its
//! runtime config and history. Serialisable, because the step cache stores
//! exactly this per cache key.

use serde::{Deserialize, Serialize};

use crate::image::config::{History, RunConfig};
use crate::image::layer::Layer;
use crate::store::digest::Digest;

/// A layer as recorded in the cache.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerRec {
    /// Compressed blob digest.
    pub digest: String,
    /// Uncompressed digest.
    pub diff_id: String,
    /// Blob size.
    pub size: u64,
    /// Media type.
    pub media_type: String,
}

impl LayerRec {
    /// From a stored layer.
    pub fn of(l: &Layer) -> LayerRec {
        LayerRec {
            digest: l.digest.to_string(),
            diff_id: l.diff_id.to_string(),
            size: l.size,
            media_type: l.media_type.to_string(),
        }
    }

    /// Back to a layer (digests validated).
    pub fn layer(&self) -> Result<Layer, String> {
        Ok(Layer {
            digest: self.digest.parse()?,
            diff_id: self.diff_id.parse()?,
            size: self.size,
            media_type: match self.media_type.as_str() {
                "application/vnd.oci.image.layer.v1.tar" => {
                    "application/vnd.oci.image.layer.v1.tar"
                }
                "application/vnd.oci.image.layer.v1.tar+zstd" => {
                    "application/vnd.oci.image.layer.v1.tar+zstd"
                }
                "application/vnd.docker.image.rootfs.diff.tar.gzip" => {
                    "application/vnd.docker.image.rootfs.diff.tar.gzip"
                }
                _ => "application/vnd.oci.image.layer.v1.tar+gzip",
            },
        })
    }

    /// The blob digest.
    pub fn blob(&self) -> Result<Digest, String> {
        Ok(self.digest.parse()?)
    }
}

/// The image after a step.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// Layers, bottom first.
    pub layers: Vec<LayerRec>,
    /// How many of the bottom layers came from the base image: they are
    /// unpacked together into one snapshot; every later layer has its own.
    pub base_layers: usize,
    /// Runtime config.
    pub config: RunConfig,
    /// History, one entry per step (and the base image's).
    pub history: Vec<History>,
}
