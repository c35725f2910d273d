//! Pulling an image into the store. Manifests are fetched raw and stored
//! byte for byte (their digests are what the registry and users quote);
//! every response is bounded ([`super::download`]) and every image goes
//! through [`ingest`]: manifest and config checked first, layers streamed
//! into the store no further than their declared sizes and kept only if
//! they match, config and manifest stored last. Blobs already in the store
//! (with the declared size) are not fetched again. The result is always an index in the store: a single
//! manifest is wrapped in a one-entry index; a platform-filtered pull gets an
//! index of just the pulled entries.

use std::io::Cursor;

use oci_client::Reference;
use oci_spec::image::{DescriptorBuilder, ImageIndex, MediaType};
use xx::Platform;

use super::download::{self, Download};
use super::{RegistryError, Session};
use crate::image::checks::MAX_METADATA;
use crate::image::ingest;
use crate::image::manifest::{self, Desc, Node, media};
use crate::image::oci::{ImageError, write_index};
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

/// One repository of a registry as an [`ingest::Source`]: every read
/// bounded by its descriptor (see [`super::download`]).
struct Remote<'a> {
    rt: &'a tokio::runtime::Runtime,
    dl: &'a Download,
    name: String,
}

impl Remote<'_> {
    fn checked(&self, d: &Desc, bytes: Vec<u8>) -> Result<Vec<u8>, RegistryError> {
        ingest::verify(d, &bytes).map_err(|e| ingest::refused(&self.name, e))?;
        Ok(bytes)
    }
}

impl ingest::Source for Remote<'_> {
    type Error = RegistryError;

    fn name(&self) -> &str {
        &self.name
    }

    fn manifest(&self, d: &Desc) -> Result<Vec<u8>, RegistryError> {
        let (bytes, _) = self.rt.block_on(
            self.dl
                .manifest(&d.digest.to_string(), d.size.saturating_add(1)),
        )?;
        self.checked(d, bytes)
    }

    fn config(&self, d: &Desc) -> Result<Vec<u8>, RegistryError> {
        let bytes = self
            .rt
            .block_on(self.dl.small_blob(d))
            .map_err(|e| refused(&self.name, e))?;
        self.checked(d, bytes)
    }

    fn layer(&self, blobs: &Blobs, d: &Desc) -> Result<(), RegistryError> {
        self.rt
            .block_on(self.dl.blob(blobs, d))
            .map_err(|e| refused(&self.name, e))
    }
}

/// Names the image in a store error about a received blob.
fn refused(name: &str, e: RegistryError) -> RegistryError {
    match e {
        RegistryError::Image(ImageError::Blob(b)) => RegistryError::Image(ingest::refused(name, b)),
        other => other,
    }
}

impl Session {
    fn pull_inner(
        &self,
        blobs: &Blobs,
        origins: &Origins,
        r: &Reference,
        want: Option<&[Platform]>,
        strict: bool,
    ) -> Result<Pulled, RegistryError> {
        let dl = Download::new(r, self.insecure, &self.auth)?;
        let src = Remote {
            rt: &self.rt,
            dl: &dl,
            name: r.whole(),
        };
        let tag = r.digest().or(r.tag()).unwrap_or("latest");
        let (top, said) = self.rt.block_on(dl.manifest(tag, MAX_METADATA))?;
        let top_digest = download::manifest_digest(&r.whole(), &top, r.digest(), said.as_deref())?;
        let repo = super::reference::repo_key(r);
        // A wanted platform also takes an older compatible variant (arm/v6
        // gets arm/v5 when the image has no v6), as docker does.
        let wanted =
            |p: &Platform| want.is_none_or(|w| w.iter().any(|x| x.compatible().contains(p)));
        let mut fetched = 0;
        let mut got: Vec<Platform> = Vec::new();
        let index = match manifest::parse(&top)? {
            Node::Manifest { .. } => {
                let checked = ingest::check(&src, blobs, &top_digest, &top, false)?;
                let platform = checked.platform.clone().ok_or_else(|| {
                    RegistryError::Remote(format!(
                        "{}: the image config names no platform",
                        r.whole()
                    ))
                })?;
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
                fetched += ingest::store(&src, blobs, checked)?;
                let man = top_digest.clone();
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
                let within = format!("index {top_digest}");
                let mut pulled: Vec<Digest> = Vec::new();
                for e in chosen {
                    if pulled.contains(&e.digest) {
                        continue;
                    }
                    let checked = ingest::check_entry(&src, blobs, &within, e)?;
                    fetched += ingest::store(&src, blobs, checked)?;
                    origins.add(&e.digest, &repo)?;
                    pulled.push(e.digest.clone());
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
        self.pull_inner(blobs, origins, r, want, strict)
            .map_err(|e| super::explain(e, r))
    }
}
