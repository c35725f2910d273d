//! Reading manifests and indexes, OCI or Docker flavour, into one small
//! shape: an index is a list of descriptors (with platforms), a manifest is a
//! config descriptor plus layer descriptors. Pulled images come in both
//! flavours (Docker Hub still serves `application/vnd.docker.*`), and pruning,
//! export, push and platform selection all need the same walk, so it lives
//! here once. Digests are validated on parse, so nothing read from an image
//! can name a path outside the store.

use serde::Deserialize;
use xx::Platform;

use crate::store::blobs::Blobs;
use crate::store::digest::Digest;

use super::error::ImageError;
use super::limits::MAX_METADATA;

/// OCI and Docker media types we read.
pub mod media {
    /// OCI image index.
    pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
    /// OCI image manifest.
    pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    /// Docker manifest list.
    pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
    /// Docker image manifest (schema 2).
    pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
    /// Everything we accept when asking a registry for a manifest.
    pub const ACCEPTED: &[&str] = &[OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST];
}

/// One descriptor (a pointer to a blob).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desc {
    /// Media type as written.
    pub media_type: String,
    /// Validated digest.
    pub digest: Digest,
    /// Size in bytes.
    pub size: u64,
    /// Platform, for index entries that carry one.
    pub platform: Option<Platform>,
    /// True for BuildKit attestation manifests (`unknown/unknown` entries).
    pub attestation: bool,
}

/// A parsed manifest or index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// An image index / manifest list.
    Index(Vec<Desc>),
    /// An image manifest.
    Manifest {
        /// The image config.
        config: Desc,
        /// Layers, bottom first.
        layers: Vec<Desc>,
    },
}

#[derive(Deserialize)]
struct RawPlatform {
    os: String,
    architecture: String,
    #[serde(default)]
    variant: Option<String>,
}

#[derive(Deserialize)]
struct RawDesc {
    #[serde(rename = "mediaType", default)]
    media_type: String,
    digest: String,
    size: u64,
    #[serde(default)]
    platform: Option<RawPlatform>,
    #[serde(default)]
    annotations: Option<std::collections::BTreeMap<String, String>>,
}

#[derive(Deserialize)]
struct RawNode {
    #[serde(rename = "mediaType", default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Option<Vec<RawDesc>>,
    #[serde(default)]
    config: Option<RawDesc>,
    #[serde(default)]
    layers: Option<Vec<RawDesc>>,
}

fn bad(what: &str) -> ImageError {
    ImageError::Spec(what.to_string())
}

fn desc(r: RawDesc) -> Result<Desc, ImageError> {
    let attestation = r.platform.as_ref().is_some_and(|p| p.os == "unknown")
        || r.annotations
            .as_ref()
            .and_then(|a| a.get("vnd.docker.reference.type"))
            .is_some_and(|t| t == "attestation-manifest");
    Ok(Desc {
        media_type: r.media_type,
        digest: r.digest.parse()?,
        size: r.size,
        platform: r
            .platform
            .filter(|p| p.os != "unknown")
            .map(|p| Platform::new(&p.os, &p.architecture, p.variant.as_deref())),
        attestation,
    })
}

/// Parses a manifest or an index (at most [`MAX_METADATA`]
/// bytes: callers read no more, this keeps it so).
pub fn parse(bytes: &[u8]) -> Result<Node, ImageError> {
    if bytes.len() as u64 > MAX_METADATA {
        return Err(bad(&format!(
            "a manifest or index of {} bytes is larger than the {} MiB registries accept",
            bytes.len(),
            MAX_METADATA >> 20
        )));
    }
    let raw: RawNode = serde_json::from_slice(bytes)
        .map_err(|e| ImageError::Spec(format!("not an image manifest or index: {e}")))?;
    let is_index = raw.manifests.is_some()
        || matches!(
            raw.media_type.as_deref(),
            Some(media::OCI_INDEX | media::DOCKER_LIST)
        );
    if is_index {
        let list = raw.manifests.unwrap_or_default();
        return Ok(Node::Index(
            list.into_iter().map(desc).collect::<Result<_, _>>()?,
        ));
    }
    let config = raw
        .config
        .ok_or_else(|| bad("manifest has no config descriptor"))?;
    Ok(Node::Manifest {
        config: desc(config)?,
        layers: raw
            .layers
            .unwrap_or_default()
            .into_iter()
            .map(desc)
            .collect::<Result<_, _>>()?,
    })
}

/// The `mediaType` a manifest or index declares, if it declares one.
pub fn media_type(bytes: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    v.get("mediaType")?.as_str().map(str::to_string)
}

/// Reads and parses a stored manifest or index (verified on read).
pub fn load(blobs: &Blobs, d: &Digest) -> Result<Node, ImageError> {
    parse(&blobs.read(d)?)
}

/// Every blob reachable from `root` (itself, nested indexes, manifests,
/// configs, layers), sorted. A missing or corrupt blob is an error: an
/// image in the store is always complete.
pub fn closure(blobs: &Blobs, root: &Digest) -> Result<Vec<Digest>, ImageError> {
    let mut out = Vec::new();
    let mut todo = vec![root.clone()];
    while let Some(d) = todo.pop() {
        if out.contains(&d) {
            continue;
        }
        match load(blobs, &d)? {
            Node::Index(list) => todo.extend(list.into_iter().map(|m| m.digest)),
            Node::Manifest { config, layers } => {
                out.push(config.digest);
                out.extend(layers.into_iter().map(|l| l.digest));
            }
        }
        out.push(d);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// The per-platform manifests of an index (attestations skipped), in index order.
pub fn platforms(blobs: &Blobs, index: &Digest) -> Result<Vec<(Platform, Desc)>, ImageError> {
    match load(blobs, index)? {
        Node::Index(list) => Ok(list
            .into_iter()
            .filter(|m| !m.attestation)
            .filter_map(|m| m.platform.clone().map(|p| (p, m)))
            .collect()),
        Node::Manifest { .. } => Err(bad("expected an image index, found a single manifest")),
    }
}

/// The manifest for `platform` in `index`, or an error listing what there is.
pub fn for_platform(
    blobs: &Blobs,
    index: &Digest,
    platform: &Platform,
) -> Result<Desc, ImageError> {
    let all = platforms(blobs, index)?;
    let have: Vec<Platform> = all.iter().map(|(p, _)| p.clone()).collect();
    if let Some(best) = platform.best_match(&have) {
        if let Some((_, d)) = all.iter().find(|(p, _)| p == best) {
            return Ok(d.clone());
        }
    }
    Err(ImageError::NoPlatform {
        platform: platform.clone(),
        have,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn docker_list_and_oci_manifest() {
        let list = format!(
            r#"{{"schemaVersion":2,"mediaType":"{}","manifests":[
            {{"mediaType":"{}","digest":"{D}","size":1,"platform":{{"os":"linux","architecture":"arm","variant":"v7"}}}},
            {{"mediaType":"{}","digest":"{D}","size":1,"platform":{{"os":"unknown","architecture":"unknown"}},
              "annotations":{{"vnd.docker.reference.type":"attestation-manifest"}}}}]}}"#,
            media::DOCKER_LIST,
            media::DOCKER_MANIFEST,
            media::OCI_MANIFEST
        );
        let Node::Index(l) = parse(list.as_bytes()).unwrap() else {
            panic!("index expected")
        };
        assert_eq!(
            l[0].platform,
            Some(Platform::new("linux", "arm", Some("v7")))
        );
        assert!(!l[0].attestation);
        assert!(l[1].attestation && l[1].platform.is_none());
        let man = format!(
            r#"{{"schemaVersion":2,"config":{{"mediaType":"x","digest":"{D}","size":2}},"layers":[{{"mediaType":"y","digest":"{D}","size":3}}]}}"#
        );
        assert!(
            matches!(parse(man.as_bytes()).unwrap(), Node::Manifest { layers, .. } if layers[0].size == 3)
        );
    }

    #[test]
    fn bad_digests_and_shapes_are_errors() {
        let evil = r#"{"manifests":[{"digest":"sha256:../../etc","size":1}]}"#;
        assert!(parse(evil.as_bytes()).is_err());
        assert!(parse(b"{}").is_err());
        assert!(parse(b"[]").is_err());
        // Larger than any registry accepts: refused before parsing.
        let mut big = br#"{"manifests":[],"x":""#.to_vec();
        big.resize(MAX_METADATA as usize + 1, b'a');
        assert!(parse(&big).unwrap_err().to_string().contains("larger than"));
    }
}
