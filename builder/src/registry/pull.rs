//! Pulling an image into the store. Manifests are fetched raw and stored
//! byte for byte (their digests are what the registry and users quote);
//! blobs are streamed straight into the blob store and committed only if
//! they hash to their descriptor's digest. Blobs already in the store are
//! not fetched again. The result is always an index in the store: a single
//! manifest is wrapped in a one-entry index; a platform-filtered pull gets an
//! index of just the pulled entries.

use std::io::Cursor;
use std::io::Write;

use futures_util::StreamExt;
use oci_client::Reference;
use oci_client::RegistryOperation;
use oci_spec::image::{DescriptorBuilder, ImageIndex, MediaType};
use xx::Platform;

use super::{RegistryError, Session, remote};
use crate::image::manifest::{self, Desc, Node, media};
use crate::image::oci::write_index;
use crate::store::blobs::Blobs;
use crate::store::digest::Digest;
use crate::store::origins::Origins;

/// What a pull stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pulled {
    /// The index now in the store (the name should point here).
    pub index: Digest,
    /// Platforms pulled.
    pub platforms: Vec<Platform>,
    /// Blobs downloaded (the rest were already stored).
    pub fetched: usize,
}

impl Session {
    async fn manifest(&self, r: &Reference) -> Result<(Vec<u8>, Digest), RegistryError> {
        let (bytes, said) = self
            .client
            .pull_manifest_raw(r, &self.auth, media::ACCEPTED)
            .await
            .map_err(|e| remote("cannot pull manifest of", r, e))?;
        let actual = Digest::of(&bytes);
        let expected = r.digest().unwrap_or(&said);
        if expected != actual.to_string() {
            return Err(RegistryError::Remote(format!(
                "the registry sent a manifest for {} that hashes to {actual}, not {expected}; refusing it",
                r.whole()
            )));
        }
        Ok((bytes.to_vec(), actual))
    }

    async fn fetch_blob(
        &self,
        blobs: &Blobs,
        r: &Reference,
        d: &Desc,
    ) -> Result<bool, RegistryError> {
        if blobs.contains(&d.digest) {
            return Ok(false);
        }
        let digest = d.digest.to_string();
        let mut stream = self
            .client
            .pull_blob_stream(r, digest.as_str())
            .await
            .map_err(|e| remote(&format!("cannot fetch blob {digest} of"), r, e))?
            .stream;
        let mut w = blobs.writer()?;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| {
                RegistryError::Remote(format!(
                    "download of {digest} from {} failed: {e}",
                    r.whole()
                ))
            })?;
            w.write_all(&chunk)?;
        }
        w.commit(Some(&d.digest))?;
        Ok(true)
    }

    /// Fetches one image manifest and everything it names; returns the blobs
    /// fetched and the platform its config declares.
    async fn image(
        &self,
        blobs: &Blobs,
        r: &Reference,
        bytes: &[u8],
    ) -> Result<(usize, Platform), RegistryError> {
        let Node::Manifest { config, layers } = manifest::parse(bytes)? else {
            return Err(RegistryError::Remote(format!(
                "{}: nested index not supported",
                r.whole()
            )));
        };
        let mut n = usize::from(self.fetch_blob(blobs, r, &config).await?);
        for l in &layers {
            n += usize::from(self.fetch_blob(blobs, r, l).await?);
        }
        let cfg: serde_json::Value = serde_json::from_slice(&blobs.read(&config.digest)?)
            .map_err(|e| RegistryError::Remote(format!("image config {}: {e}", config.digest)))?;
        let platform = Platform::new(
            cfg["os"].as_str().unwrap_or("linux"),
            cfg["architecture"].as_str().unwrap_or(""),
            cfg["variant"].as_str(),
        );
        Ok((n, platform))
    }

    async fn pull_async(
        &self,
        blobs: &Blobs,
        origins: &Origins,
        r: &Reference,
        want: Option<&[Platform]>,
        strict: bool,
    ) -> Result<Pulled, RegistryError> {
        self.client
            .auth(r, &self.auth, RegistryOperation::Pull)
            .await
            .map_err(|e| remote("cannot log in to pull", r, e))?;
        let (top, top_digest) = self.manifest(r).await?;
        let repo = super::reference::repo_key(r);
        // A wanted platform also takes an older compatible variant (arm/v6
        // gets arm/v5 when the image has no v6), as docker does.
        let wanted =
            |p: &Platform| want.is_none_or(|w| w.iter().any(|x| x.compatible().contains(p)));
        let mut fetched = 0;
        let mut got: Vec<Platform> = Vec::new();
        let index = match manifest::parse(&top)? {
            Node::Manifest { .. } => {
                let (n, platform) = self.image(blobs, r, &top).await?;
                if !wanted(&platform) && strict {
                    return Err(RegistryError::Remote(format!(
                        "{} is a single-platform image for {platform}, not {}",
                        r.whole(),
                        want.unwrap_or_default()
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(",")
                    )));
                }
                if !wanted(&platform) {
                    eprintln!(
                        "warning: {} is a single-platform image for {platform}, which is not the platform asked for",
                        r.whole()
                    );
                }
                fetched += n;
                let (man, _) = blobs.put(&top)?;
                let media = serde_json::from_slice::<serde_json::Value>(&top)
                    .ok()
                    .and_then(|v| v["mediaType"].as_str().map(str::to_string))
                    .unwrap_or_else(|| media::OCI_MANIFEST.to_string());
                let desc = DescriptorBuilder::default()
                    .media_type(MediaType::from(media.as_str()))
                    .size(top.len() as u64)
                    .digest(
                        man.to_string()
                            .parse::<oci_spec::image::Digest>()
                            .map_err(|e| RegistryError::Remote(e.to_string()))?,
                    )
                    .platform(
                        oci_spec::image::PlatformBuilder::default()
                            .os(oci_spec::image::Os::from(platform.os.as_str()))
                            .architecture(oci_spec::image::Arch::from(platform.arch.as_str()))
                            .variant(platform.variant.clone().unwrap_or_default())
                            .build()
                            .map_err(|e| RegistryError::Remote(e.to_string()))?,
                    )
                    .build()
                    .map_err(|e| RegistryError::Remote(e.to_string()))?;
                origins.add(&man, &repo)?;
                got.push(platform);
                write_index(blobs, vec![desc])?.0
            }
            Node::Index(entries) => {
                let chosen: Vec<&Desc> = match want {
                    None => entries.iter().filter(|e| e.platform.is_some()).collect(),
                    // For each wanted platform, its best entry only.
                    Some(w) => {
                        let have: Vec<Platform> =
                            entries.iter().filter_map(|e| e.platform.clone()).collect();
                        let mut best: Vec<&Desc> = Vec::new();
                        for p in w {
                            if let Some(b) = p.best_match(&have) {
                                if let Some(e) =
                                    entries.iter().find(|e| e.platform.as_ref() == Some(b))
                                {
                                    if !best.iter().any(|x| std::ptr::eq(*x, e)) {
                                        best.push(e);
                                    }
                                }
                            }
                        }
                        best
                    }
                };
                if chosen.is_empty() {
                    let have: Vec<String> = entries
                        .iter()
                        .filter_map(|e| e.platform.as_ref().map(ToString::to_string))
                        .collect();
                    return Err(RegistryError::Remote(format!(
                        "{} has no manifest for the requested platforms (it has: {})",
                        r.whole(),
                        have.join(", ")
                    )));
                }
                let mut pulled: Vec<Digest> = Vec::new();
                for e in chosen {
                    let by_digest = Reference::with_digest(
                        r.registry().to_string(),
                        r.repository().to_string(),
                        e.digest.to_string(),
                    );
                    let (bytes, d) = self.manifest(&by_digest).await?;
                    let (n, _) = self.image(blobs, r, &bytes).await?;
                    fetched += n;
                    blobs.put(&bytes)?;
                    origins.add(&d, &repo)?;
                    pulled.push(d);
                    got.extend(e.platform.clone());
                }
                if pulled.len() == entries.len() {
                    blobs.put(&top)?;
                    top_digest
                } else {
                    let idx = ImageIndex::from_reader(Cursor::new(&top)).map_err(|e| {
                        RegistryError::Remote(format!("index of {}: {e}", r.whole()))
                    })?;
                    let keep = idx
                        .manifests()
                        .iter()
                        .filter(|m| {
                            pulled
                                .iter()
                                .any(|p| p.to_string() == m.digest().to_string())
                        })
                        .cloned()
                        .collect();
                    write_index(blobs, keep)?.0
                }
            }
        };
        for d in manifest::closure(blobs, &index)? {
            origins.add(&d, &repo)?;
        }
        Ok(Pulled {
            index,
            platforms: got,
            fetched,
        })
    }

    /// Pulls `r` (all platforms when `want` is `None`) into the store. A
    /// single-platform image of another platform is an error when `strict`
    /// (the user named platforms), else taken with a warning, as docker does.
    pub fn pull(
        &self,
        blobs: &Blobs,
        origins: &Origins,
        r: &Reference,
        want: Option<&[Platform]>,
        strict: bool,
    ) -> Result<Pulled, RegistryError> {
        self.rt
            .block_on(self.pull_async(blobs, origins, r, want, strict))
    }
}
