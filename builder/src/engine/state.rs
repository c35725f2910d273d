//! The state of an image being built, after some step: its layers, the
//! snapshot directories that make up its filesystem (bottom first), its
//! runtime config and history. Serialisable, because the step cache stores
//! exactly this per cache key.

use serde::{Deserialize, Serialize};

use crate::image::config::{History, RunConfig};
use crate::image::layer::Layer;
use crate::store::digest::Digest;

/// A layer as recorded in the cache. A layer the build made is at first
/// only a snapshot (named by its diff_id): its blob fields are empty until
/// an export needs one (see [`super::lazy`]); a base image's layer, or one
/// from an imported cache, always has its blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerRec {
    /// Compressed blob digest, once there is a blob.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// Uncompressed digest.
    pub diff_id: String,
    /// Blob size.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub size: u64,
    /// Blob media type.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub media_type: String,
    /// The SOURCE_DATE_EPOCH its tar clamps times to, kept so the blob made
    /// later from the snapshot has this diff_id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<i64>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl LayerRec {
    /// From a stored layer.
    pub fn of(l: &Layer) -> LayerRec {
        LayerRec {
            digest: Some(l.digest.to_string()),
            diff_id: l.diff_id.to_string(),
            size: l.size,
            media_type: l.media_type.to_string(),
            epoch: None,
        }
    }

    /// A layer that is only a snapshot so far.
    pub fn snapshot_only(diff_id: &Digest, epoch: Option<i64>) -> LayerRec {
        LayerRec {
            digest: None,
            diff_id: diff_id.to_string(),
            size: 0,
            media_type: String::new(),
            epoch,
        }
    }

    /// Back to a layer (digests validated); an error if it has no blob.
    pub fn layer(&self) -> Result<Layer, String> {
        Ok(Layer {
            digest: self.blob()?,
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

    /// The blob digest; an error if it has no blob.
    pub fn blob(&self) -> Result<Digest, String> {
        match &self.digest {
            Some(d) => Ok(d.parse()?),
            None => Err(format!("layer {} has no blob yet", self.diff_id)),
        }
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
