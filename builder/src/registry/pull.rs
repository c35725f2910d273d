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
use crate::image::error::ImageError;
use crate::image::ingest;
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
        RegistryError::Image(ImageError::Store(b)) => {
            RegistryError::Image(ingest::refused(name, b))
        }
        other => other,
    }
}

/// For each wanted platform, its best entry in an index (each entry once);
/// every entry with a platform when nothing in particular is wanted.
fn choose<'a>(entries: &'a [Desc], want: Option<&[Platform]>) -> Vec<&'a Desc> {
    let Some(w) = want else {
        return entries.iter().filter(|e| e.platform.is_some()).collect();
    };
    let have: Vec<Platform> = entries.iter().filter_map(|e| e.platform.clone()).collect();
    let mut best: Vec<&Desc> = Vec::new();
    for p in w {
        let entry = p
            .best_match(&have)
            .and_then(|b| entries.iter().find(|e| e.platform.as_ref() == Some(b)));
        if let Some(e) = entry {
            if !best.iter().any(|x| std::ptr::eq(*x, e)) {
                best.push(e);
            }
        }
    }
    best
}

/// The index entry for a single manifest of `size` bytes for `platform`.
fn single_entry(
    top: &[u8],
    digest: &Digest,
    platform: &Platform,
) -> Result<oci_spec::image::Descriptor, RegistryError> {
    let media = manifest::media_type(top).unwrap_or_else(|| media::OCI_MANIFEST.to_string());
    let remote = |e: oci_spec::OciSpecError| RegistryError::Remote(e.to_string());
    DescriptorBuilder::default()
        .media_type(MediaType::from(media.as_str()))
        .size(top.len() as u64)
        .digest(
            digest
                .to_string()
                .parse::<oci_spec::image::Digest>()
                .map_err(remote)?,
        )
        .platform(
            oci_spec::image::PlatformBuilder::default()
                .os(oci_spec::image::Os::from(platform.os.as_str()))
                .architecture(oci_spec::image::Arch::from(platform.arch.as_str()))
                .variant(platform.variant.clone().unwrap_or_default())
                .build()
                .map_err(remote)?,
        )
        .build()
        .map_err(remote)
}

/// One pull in progress: the source, where it records origins, and what it got.
struct Pull<'a> {
    src: Remote<'a>,
    blobs: &'a Blobs,
    origins: &'a Origins,
    r: &'a Reference,
    repo: String,
    fetched: usize,
    got: Vec<Platform>,
}

impl Pull<'_> {
    /// A single-manifest image: checked, stored, wrapped in a one-entry index.
    fn single(
        &mut self,
        top: &[u8],
        top_digest: &Digest,
        want: Option<&[Platform]>,
        strict: bool,
    ) -> Result<Digest, RegistryError> {
        let checked = ingest::check(&self.src, self.blobs, top_digest, top, false)?;
        let platform = checked
            .platform
            .clone()
            .ok_or_else(|| RegistryError::NoConfigPlatform {
                reference: self.r.whole(),
                hint: None,
            })?;
        let wanted = want.is_none_or(|w| w.iter().any(|x| x.compatible().contains(&platform)));
        if !wanted && strict {
            return Err(RegistryError::WrongPlatform {
                reference: self.r.whole(),
                platform: platform.to_string(),
                want: want
                    .unwrap_or_default()
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
                hint: None,
            });
        }
        if !wanted {
            eprintln!(
                "warning: {} is a single-platform image for {platform}, which is not the platform asked for",
                self.r.whole()
            );
        }
        self.fetched += ingest::store(&self.src, self.blobs, checked)?;
        let desc = single_entry(top, top_digest, &platform)?;
        self.origins.add(top_digest, &self.repo)?;
        self.got.push(platform);
        Ok(write_index(self.blobs, vec![desc])?.0)
    }

    /// An index: the chosen entries checked and stored; the index itself
    /// kept as it is when all were pulled, else one of the pulled entries.
    fn index(
        &mut self,
        top: &[u8],
        top_digest: Digest,
        entries: &[Desc],
        want: Option<&[Platform]>,
    ) -> Result<Digest, RegistryError> {
        let chosen = choose(entries, want);
        if chosen.is_empty() {
            return Err(RegistryError::NoPlatform {
                reference: self.r.whole(),
                have: entries
                    .iter()
                    .filter_map(|e| e.platform.as_ref().map(ToString::to_string))
                    .collect(),
                hint: None,
            });
        }
        let within = format!("index {top_digest}");
        let mut pulled: Vec<Digest> = Vec::new();
        for e in chosen {
            if pulled.contains(&e.digest) {
                continue;
            }
            let checked = ingest::check_entry(&self.src, self.blobs, &within, e)?;
            self.fetched += ingest::store(&self.src, self.blobs, checked)?;
            self.origins.add(&e.digest, &self.repo)?;
            pulled.push(e.digest.clone());
            self.got.extend(e.platform.clone());
        }
        if pulled.len() == entries.len() {
            self.blobs.put(top)?;
            return Ok(top_digest);
        }
        let idx = ImageIndex::from_reader(Cursor::new(top))
            .map_err(|e| RegistryError::Remote(format!("index of {}: {e}", self.r.whole())))?;
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
        Ok(write_index(self.blobs, keep)?.0)
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
        let tag = r.digest().or(r.tag()).unwrap_or("latest");
        let (top, said) = self.rt.block_on(dl.manifest(tag, MAX_METADATA))?;
        let top_digest = download::manifest_digest(&r.whole(), &top, r.digest(), said.as_deref())?;
        let mut pull = Pull {
            src: Remote {
                rt: &self.rt,
                dl: &dl,
                name: r.whole(),
            },
            blobs,
            origins,
            r,
            repo: super::reference::repo_key(r),
            fetched: 0,
            got: Vec::new(),
        };
        // A wanted platform also takes an older compatible variant (arm/v6
        // gets arm/v5 when the image has no v6), as docker does.
        let index = match manifest::parse(&top)? {
            Node::Manifest { .. } => pull.single(&top, &top_digest, want, strict)?,
            Node::Index(entries) => pull.index(&top, top_digest, &entries, want)?,
        };
        for d in manifest::closure(blobs, &index)? {
            origins.add(&d, &pull.repo)?;
        }
        Ok(Pulled {
            index,
            platforms: pull.got,
            fetched: pull.fetched,
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
