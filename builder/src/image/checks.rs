//! What an image from outside (a registry, an OCI layout, the store) must
//! look like before mxbuild reads its blobs: every base image is untrusted,
//! so its manifest and config are checked here, once, with errors that name
//! the image and the digest at fault.
//!
//! The limits and why:
//! * manifests, indexes and configs are at most [`MAX_METADATA`] (4 MiB):
//!   the distribution registry and containerd refuse larger manifests, and
//!   nothing real comes close (a 125-layer manifest is ~30 KiB);
//! * at most [`MAX_LAYERS`] layers: Docker's layer store refuses deeper
//!   images (moby `maxLayerDepth = 125`), so no image Docker can run has more,
//!   and each layer costs an unpack and a snapshot here;
//! * layer media types from [`LAYER_TYPES`] only (see there);
//! * the config lists exactly one diff_id per layer, each a sha256 digest.

use xx::Platform;

use super::config::{ConfigError, ImageConfig};
use super::error::ImageError;
use super::manifest::Desc;
use crate::store::digest::Digest;

pub use super::limits::{MAX_LAYERS, MAX_METADATA};

/// Layer media types mxbuild unpacks: OCI tar, tar+gzip and tar+zstd, and
/// Docker's gzip layer (what every registry image and `docker save` use).
///
/// Refused on purpose: Docker "foreign" and OCI "non-distributable" layers
/// (deprecated since image-spec 1.1; used for Windows base layers, which a
/// Linux build never needs) carry `urls` pointing at other hosts, so
/// following them would let an image make mxbuild fetch from anywhere; and
/// anything else (encrypted layers, artifacts, in-toto statements) is not a
/// filesystem diff.
pub const LAYER_TYPES: &[&str] = &[
    "application/vnd.oci.image.layer.v1.tar",
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.oci.image.layer.v1.tar+zstd",
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
];

/// Image config media types (OCI and Docker schema 2).
pub const CONFIG_TYPES: &[&str] = &[
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.docker.container.image.v1+json",
];

/// A refusal of `image` with a hint.
fn refuse_with(image: &str, reason: String, hint: String) -> ImageError {
    ImageError::Refused {
        image: image.to_string(),
        reason,
        hint: Some(hint),
    }
}

/// An index entry (a manifest or a nested index) may be read: its declared
/// size is within [`MAX_METADATA`]. `index` names the index in messages.
pub fn index_entry(image: &str, index: &str, entry: &Desc) -> Result<(), ImageError> {
    if entry.size > MAX_METADATA {
        return Err(ImageError::refused(
            image,
            format!(
                "{index} lists manifest {} of {} bytes, more than the {} MiB a manifest may have; refusing it",
                entry.digest,
                entry.size,
                MAX_METADATA >> 20
            ),
        ));
    }
    Ok(())
}

/// A manifest is one mxbuild will read: layer count, layer media types and
/// the config descriptor. `attestation` manifests (BuildKit's provenance and
/// SBOM entries, never unpacked) may carry in-toto layers and any config.
pub fn manifest(
    image: &str,
    digest: &Digest,
    config: &Desc,
    layers: &[Desc],
    attestation: bool,
) -> Result<(), ImageError> {
    if layers.len() > MAX_LAYERS {
        return Err(refuse_with(
            image,
            format!(
                "manifest {digest} lists {} layers, more than the {MAX_LAYERS} an image may have (Docker's limit too); refusing it",
                layers.len()
            ),
            "squash the image into fewer layers".to_string(),
        ));
    }
    if config.size > MAX_METADATA {
        return Err(ImageError::refused(
            image,
            format!(
                "manifest {digest} declares a {}-byte config {}, more than the {} MiB an image config may have; refusing it",
                config.size,
                config.digest,
                MAX_METADATA >> 20
            ),
        ));
    }
    if attestation {
        return Ok(());
    }
    if !CONFIG_TYPES.contains(&config.media_type.as_str()) {
        return Err(refuse_with(
            image,
            format!(
                "manifest {digest} has a config {} of media type {:?}, not a container image config (an OCI artifact?); refusing it",
                config.digest, config.media_type,
            ),
            format!(
                "FROM needs a container image (config {})",
                CONFIG_TYPES.join(" or ")
            ),
        ));
    }
    for (i, l) in layers.iter().enumerate() {
        if !LAYER_TYPES.contains(&l.media_type.as_str()) {
            let why = if l.media_type.contains("foreign")
                || l.media_type.contains("nondistributable")
            {
                "a foreign/non-distributable layer (fetched from URLs outside the registry; mxbuild does not follow them)"
            } else {
                "not a layer type mxbuild unpacks"
            };
            return Err(refuse_with(
                image,
                format!(
                    "manifest {digest}: layer {} ({}) has media type {:?}, {why}; refusing the image",
                    i + 1,
                    l.digest,
                    l.media_type,
                ),
                format!("layers must be one of {}", LAYER_TYPES.join(", ")),
            ));
        }
    }
    Ok(())
}

/// A checked image config: its diff_ids, one per layer, all digests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigFacts {
    /// The config as read.
    pub config: ImageConfig,
    /// `rootfs.diff_ids`, one per layer.
    pub diff_ids: Vec<Digest>,
    /// The platform the config declares.
    pub platform: Platform,
}

/// Reads and checks an image config of manifest `digest` with `layers`
/// layers: JSON, within [`MAX_METADATA`], one valid diff_id per layer.
pub fn config(
    image: &str,
    digest: &Digest,
    config: &Digest,
    bytes: &[u8],
    layers: usize,
) -> Result<ConfigFacts, ImageError> {
    if bytes.len() as u64 > MAX_METADATA {
        return Err(ImageError::refused(
            image,
            format!(
                "config {config} is larger than {} MiB; refusing it",
                MAX_METADATA >> 20
            ),
        ));
    }
    let read = super::config::read(bytes).map_err(|e| {
        ImageError::refused(
            image,
            match e {
                ConfigError::Json(e) => format!("config {config} is not an image config: {e}"),
                e @ ConfigError::DiffIdsNotAList => format!("config {config}: {e}"),
            },
        )
    })?;
    if read.diff_id_texts.len() != layers {
        return Err(ImageError::refused(
            image,
            format!(
                "config {config} lists {} diff_ids, but manifest {digest} has {layers} layers; refusing the image (each layer needs its uncompressed digest)",
                read.diff_id_texts.len()
            ),
        ));
    }
    let diff_ids = read.diff_ids().map_err(|(i, e)| {
        ImageError::refused(
            image,
            format!("config {config}: diff_id {i} is not a layer digest: {e}"),
        )
    })?;
    Ok(ConfigFacts {
        platform: read.platform.clone(),
        config: read,
        diff_ids,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desc(media: &str, size: u64) -> Desc {
        Desc {
            media_type: media.to_string(),
            digest: Digest::of(media.as_bytes()),
            size,
            platform: None,
            attestation: false,
        }
    }

    #[test]
    fn layers_types_counts_and_sizes() {
        let d = Digest::of(b"m");
        let cfg = desc(CONFIG_TYPES[0], 100);
        let ok: Vec<Desc> = LAYER_TYPES.iter().map(|t| desc(t, 1)).collect();
        manifest("x", &d, &cfg, &ok, false).unwrap();
        for bad in [
            "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
            "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
            "application/vnd.oci.image.layer.v1.tar+gzip+encrypted",
            "",
        ] {
            let e = manifest("x", &d, &cfg, &[desc(bad, 1)], false).unwrap_err();
            assert!(e.to_string().contains("refusing the image"), "{e}");
        }
        let many = vec![desc(LAYER_TYPES[1], 1); MAX_LAYERS + 1];
        let e = manifest("x", &d, &cfg, &many, false).unwrap_err();
        assert!(e.to_string().contains("126 layers"), "{e}");
        manifest("x", &d, &cfg, &many[1..], false).unwrap();
        let e = manifest(
            "x",
            &d,
            &desc(CONFIG_TYPES[1], MAX_METADATA + 1),
            &ok,
            false,
        )
        .unwrap_err();
        assert!(e.to_string().contains("config"), "{e}");
        let e = manifest("x", &d, &desc("application/x-helm", 1), &ok, false).unwrap_err();
        assert!(
            e.to_string().contains("not a container image config"),
            "{e}"
        );
        // Attestations are never unpacked: in-toto layers are fine there.
        manifest(
            "x",
            &d,
            &cfg,
            &[desc("application/vnd.in-toto+json", 1)],
            true,
        )
        .unwrap();
    }

    #[test]
    fn diff_ids_must_match_the_layers() {
        let (m, c) = (Digest::of(b"m"), Digest::of(b"c"));
        let id = Digest::of(b"layer").to_string();
        let cfg = format!(
            r#"{{"architecture":"arm","variant":"v7","os":"linux","rootfs":{{"type":"layers","diff_ids":["{id}","{id}"]}}}}"#
        );
        let facts = config("x", &m, &c, cfg.as_bytes(), 2).unwrap();
        assert_eq!(facts.diff_ids.len(), 2);
        assert_eq!(facts.platform, Platform::new("linux", "arm", Some("v7")));
        let e = config("x", &m, &c, cfg.as_bytes(), 3).unwrap_err();
        assert!(
            e.to_string().contains("lists 2 diff_ids, but manifest"),
            "{e}"
        );
        let bad = r#"{"rootfs":{"diff_ids":["sha256:../../etc"]}}"#;
        assert!(config("x", &m, &c, bad.as_bytes(), 1).is_err());
        assert!(config("x", &m, &c, b"[", 0).is_err());
        // No layers, no diff_ids: an empty image (FROM scratch + metadata).
        config("x", &m, &c, b"{}", 0).unwrap();
    }
}
