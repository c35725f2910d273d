//! A manifest whose config and layers are blobs of the store, pushed under
//! a tag and pulled back (the registry cache of `--cache-to/--cache-from
//! type=registry`): bytes go out as stored; what comes back is bounded and
//! verified like any pull (manifest and config at most 4 MiB, each layer
//! its descriptor's size and digest) before the store keeps it.

use oci_client::Reference;

use super::download::Download;
use super::{RegistryError, Session};
use crate::image::checks::MAX_METADATA;
use crate::image::manifest::{self, Node, media};
use crate::store::blobs::Blobs;
use crate::store::origins::Origins;

/// A pulled artifact: its manifest's bytes and its config's.
#[derive(Debug, Clone)]
pub struct Artifact {
    /// The manifest as the registry sent it (checked, at most 4 MiB).
    pub manifest: Vec<u8>,
    /// The config blob (checked against its descriptor).
    pub config: Vec<u8>,
}

impl Session {
    /// Pushes the stored manifest `bytes` (its config and layers are stored
    /// blobs) under `r`'s tag.
    pub fn push_stored_manifest(
        &self,
        blobs: &Blobs,
        origins: &Origins,
        r: &Reference,
        bytes: &[u8],
    ) -> Result<(), RegistryError> {
        let Node::Manifest { config, layers } = manifest::parse(bytes)? else {
            return Err(RegistryError::Remote(
                "internal: an index where a manifest was expected".to_string(),
            ));
        };
        self.rt.block_on(async {
            self.client
                .auth(r, &self.auth, oci_client::RegistryOperation::Push)
                .await
                .map_err(|e| super::remote("cannot log in to push to", r, e))?;
            let mut out = super::push::Pushed::default();
            for d in std::iter::once(&config).chain(&layers) {
                self.push_one_blob(blobs, origins, r, d, &mut out).await?;
            }
            self.put_manifest(r, bytes, media::OCI_MANIFEST).await
        })
    }

    /// The manifest `r` names with its config, its layers fetched into
    /// `blobs` (each checked against its descriptor); `None` when the
    /// registry has no such tag.
    pub fn pull_artifact(
        &self,
        blobs: &Blobs,
        r: &Reference,
    ) -> Result<Option<Artifact>, RegistryError> {
        let dl = Download::new(r, self.insecure, &self.auth)?;
        let reference = r
            .digest()
            .map(str::to_string)
            .unwrap_or_else(|| r.tag().unwrap_or("latest").to_string());
        self.rt.block_on(async {
            let Some(bytes) = dl.optional_manifest(&reference).await? else {
                return Ok(None);
            };
            if bytes.len() as u64 > MAX_METADATA {
                return Err(RegistryError::Remote(format!(
                    "{}: the manifest is over {} MiB",
                    r.whole(),
                    MAX_METADATA >> 20
                )));
            }
            let Node::Manifest { config, layers } = manifest::parse(&bytes)? else {
                return Err(RegistryError::Remote(format!(
                    "{} is an index, not a single manifest",
                    r.whole()
                )));
            };
            let config = super::referrers::verified(&config, dl.small_blob(&config).await?)?;
            for l in &layers {
                if !blobs.contains(&l.digest) {
                    dl.blob(blobs, l).await?;
                }
            }
            Ok(Some(Artifact {
                manifest: bytes,
                config,
            }))
        })
    }
}
