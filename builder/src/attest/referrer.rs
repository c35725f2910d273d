//! Attestations as OCI 1.1 referrers: an image manifest whose `subject` is
//! the platform manifest it describes and whose `artifactType` says what it
//! is, with the empty config. Nothing is added to the image index, so no
//! `unknown/unknown` entry confuses a registry UI or `docker pull`; tools
//! find attestations through the registry's referrers API (or the fallback
//! `sha256-<hex>` tag index, written by the push for registries without it).

use serde_json::{Value, json};

use crate::image::manifest::media;
use crate::store::StoreError;
use crate::store::blobs::Blobs;
use crate::store::digest::Digest;

/// The OCI empty descriptor's media type and content (`{}`).
pub const EMPTY_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";
const EMPTY: &[u8] = b"{}";

/// One layer of a referrer: media type, bytes, annotations.
#[derive(Debug)]
pub struct Blob {
    /// Its media type.
    pub media_type: String,
    /// Its content.
    pub bytes: Vec<u8>,
    /// Descriptor annotations.
    pub annotations: Vec<(String, String)>,
}

/// A referrer written to the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referrer {
    /// The platform manifest it refers to.
    pub subject: Digest,
    /// The platform it describes (for messages and `mxbuild sbom`).
    pub platform: String,
    /// The referrer manifest.
    pub digest: Digest,
    /// Its size.
    pub size: u64,
    /// Its `artifactType`.
    pub artifact_type: String,
    /// Its annotations (also carried by its descriptor in referrers lists).
    pub annotations: Vec<(String, String)>,
}

impl Referrer {
    /// Its descriptor as the referrers API lists it.
    pub fn descriptor(&self) -> Value {
        let mut d = json!({
            "mediaType": media::OCI_MANIFEST,
            "digest": self.digest.to_string(),
            "size": self.size,
            "artifactType": self.artifact_type,
        });
        if !self.annotations.is_empty() {
            d["annotations"] = annotations(&self.annotations);
        }
        d
    }
}

/// The annotation containerd and BuildKit put on a referrer's entry in an
/// OCI layout's `index.json`, naming its subject (buildx's `imagetools
/// inspect oci-layout://` finds referrers by it).
pub const LAYOUT_SUBJECT_ANNOTATION: &str = "io.containerd.manifest.subject";

impl Referrer {
    /// Its entry in an OCI layout's `index.json`: the descriptor, with its
    /// subject named by [`LAYOUT_SUBJECT_ANNOTATION`].
    pub fn layout_descriptor(&self) -> Value {
        let mut d = self.descriptor();
        d["annotations"][LAYOUT_SUBJECT_ANNOTATION] = Value::String(self.subject.to_string());
        d
    }
}

fn annotations(a: &[(String, String)]) -> Value {
    Value::Object(
        a.iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

/// Writes the layers, the empty config and the referrer manifest for
/// `subject` (a platform manifest of `subject_size` bytes) into the store.
pub fn write(
    blobs: &Blobs,
    subject: (&Digest, u64, &str),
    artifact_type: &str,
    layers: &[Blob],
    manifest_annotations: &[(String, String)],
) -> Result<Referrer, StoreError> {
    let (config, config_size) = blobs.put(EMPTY)?;
    let mut descs = Vec::new();
    for l in layers {
        let (d, size) = blobs.put(&l.bytes)?;
        let mut desc = json!({"mediaType": l.media_type, "digest": d.to_string(), "size": size});
        if !l.annotations.is_empty() {
            desc["annotations"] = annotations(&l.annotations);
        }
        descs.push(desc);
    }
    let mut m = json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": {
            "mediaType": EMPTY_MEDIA_TYPE,
            "digest": config.to_string(),
            "size": config_size,
            "data": "e30=",
        },
        "layers": descs,
        "subject": {
            "mediaType": media::OCI_MANIFEST,
            "digest": subject.0.to_string(),
            "size": subject.1,
        },
    });
    if !manifest_annotations.is_empty() {
        m["annotations"] = annotations(manifest_annotations);
    }
    let bytes = serde_json::to_vec(&m).unwrap_or_default();
    let (digest, size) = blobs.put(&bytes)?;
    Ok(Referrer {
        subject: subject.0.clone(),
        platform: subject.2.to_string(),
        digest,
        size,
        artifact_type: artifact_type.to_string(),
        annotations: manifest_annotations.to_vec(),
    })
}

/// The layers of a referrer manifest: media type, digest, size (for
/// reading attestations back); none when it is not an image manifest.
pub fn layers_of(manifest: &[u8]) -> Vec<(String, Digest, u64)> {
    match crate::image::manifest::parse(manifest) {
        Ok(crate::image::manifest::Node::Manifest { layers, .. }) => layers
            .into_iter()
            .map(|l| (l.media_type, l.digest, l.size))
            .collect(),
        _ => Vec::new(),
    }
}
