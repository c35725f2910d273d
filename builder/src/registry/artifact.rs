//! A manifest whose config and layers are blobs of the store, pushed under
//! a tag, and the pieces to read one back (the registry cache of
//! `--cache-to/--cache-from type=registry`, inline caches in images): bytes
//! go out as stored; what comes back is bounded and verified like any pull
//! (manifests at most 4 MiB, each blob its descriptor's size and digest)
//! before the store keeps it.

use oci_client::Reference;

use super::download::Download;
use super::{RegistryError, Session};
use crate::image::checks::MAX_METADATA;
use crate::image::manifest::{self, Desc, Node, media};
use crate::store::blobs::Blobs;
use crate::store::digest::Digest;
use crate::store::origins::Origins;

impl Session {
    /// Pushes the stored manifest `bytes` (its config and layers are stored
    /// blobs, pushed first) under `r`'s tag or digest.
    pub fn push_stored_manifest(
        &self,
        blobs: &Blobs,
        origins: &Origins,
        r: &Reference,
        bytes: &[u8],
    ) -> Result<(), RegistryError> {
        let Node::Manifest { config, layers } = manifest::parse(bytes)? else {
            return Err(RegistryError::Remote(format!(
                "{}: an index where an image manifest was expected",
                r.whole()
            )));
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

    /// The manifest or index `r` names (at most 4 MiB; by digest, checked
    /// against it); `None` when the registry has no such tag or digest.
    pub fn optional_manifest(&self, r: &Reference) -> Result<Option<Vec<u8>>, RegistryError> {
        let dl = Download::new(r, self.insecure, &self.auth)?;
        let reference = r
            .digest()
            .map(str::to_string)
            .unwrap_or_else(|| r.tag().unwrap_or("latest").to_string());
        let Some(bytes) = self.rt.block_on(dl.optional_manifest(&reference))? else {
            return Ok(None);
        };
        if bytes.len() as u64 > MAX_METADATA {
            return Err(RegistryError::Remote(format!(
                "{}: the manifest is over {} MiB",
                r.whole(),
                MAX_METADATA >> 20
            )));
        }
        if let Some(d) = r.digest() {
            if Digest::of(&bytes).to_string() != d {
                return Err(RegistryError::Remote(format!(
                    "the registry sent a manifest for {d} whose content hashes to {}",
                    Digest::of(&bytes)
                )));
            }
        }
        Ok(Some(bytes))
    }

    /// Fetches each of `descs` that `blobs` lacks from `r`'s repository,
    /// each checked against its descriptor's size and digest.
    pub fn fetch_blobs(
        &self,
        blobs: &Blobs,
        r: &Reference,
        descs: &[Desc],
    ) -> Result<(), RegistryError> {
        let dl = Download::new(r, self.insecure, &self.auth)?;
        self.rt.block_on(async {
            for d in descs {
                if !blobs.contains(&d.digest) {
                    dl.blob(blobs, d).await?;
                }
            }
            Ok(())
        })
    }
}
