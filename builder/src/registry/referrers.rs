//! OCI 1.1 referrers on a registry: pushing an artifact manifest that names
//! a `subject`, and listing what refers to a manifest. Registries that
//! implement the referrers API (`GET /v2/<name>/referrers/<digest>`) index
//! pushed referrers themselves; for the others (Docker's registry 2.8
//! among them) the distribution spec's fallback applies: an image index
//! under the tag `sha256-<hex>` that the pusher keeps up to date. Reads go
//! through the bounded [`Download`].

use oci_client::Reference;
use serde_json::{Value, json};

use super::download::Download;
use super::{RegistryError, Session};
use crate::image::manifest::{Desc, media};
use crate::store::blobs::Blobs;
use crate::store::digest::Digest;
use crate::store::origins::Origins;

/// The fallback tag for `subject`: `sha256-<hex>`.
pub fn fallback_tag(subject: &Digest) -> String {
    subject.to_string().replacen(':', "-", 1)
}

/// What a referrers listing found, and where.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    /// The referrer descriptors (`mediaType`, `digest`, `size`,
    /// `artifactType`, `annotations`).
    pub descriptors: Vec<Value>,
    /// True when the registry's referrers API answered; false when the
    /// fallback tag (or nothing) was used.
    pub api: bool,
}

/// `bytes` if they hash to `d`'s digest.
pub(super) fn verified(d: &Desc, bytes: Vec<u8>) -> Result<Vec<u8>, RegistryError> {
    let got = Digest::of(&bytes);
    if got != d.digest {
        return Err(RegistryError::Remote(format!(
            "the registry sent blob {} with content that hashes to {got}; refusing it",
            d.digest
        )));
    }
    Ok(bytes)
}

fn descriptors_of(index: &[u8]) -> Result<Vec<Value>, RegistryError> {
    let v: Value = serde_json::from_slice(index)
        .map_err(|e| RegistryError::Remote(format!("a referrers index is not JSON: {e}")))?;
    Ok(v["manifests"].as_array().cloned().unwrap_or_default())
}

impl Session {
    fn download(&self, r: &Reference) -> Result<Download, RegistryError> {
        Download::new(r, self.insecure, &self.auth)
    }

    /// The referrers of `subject` in `r`'s repository.
    pub fn referrers(&self, r: &Reference, subject: &Digest) -> Result<Listing, RegistryError> {
        let dl = self.download(r)?;
        self.rt.block_on(async {
            if let Some(body) = dl.referrers_api(subject).await? {
                return Ok(Listing {
                    descriptors: descriptors_of(&body)?,
                    api: true,
                });
            }
            let descriptors = match dl.optional_manifest(&fallback_tag(subject)).await? {
                Some(body) => descriptors_of(&body)?,
                None => Vec::new(),
            };
            Ok(Listing {
                descriptors,
                api: false,
            })
        })
    }

    /// A small blob (an attestation layer) of `r`'s repository, checked
    /// against its descriptor.
    pub fn small_blob(&self, r: &Reference, d: &Desc) -> Result<Vec<u8>, RegistryError> {
        let dl = self.download(r)?;
        let bytes = self.rt.block_on(dl.small_blob(d))?;
        verified(d, bytes)
    }

    /// Puts index `bytes` under `r`'s tag.
    pub fn put_index(&self, r: &Reference, bytes: &[u8]) -> Result<(), RegistryError> {
        self.rt.block_on(async {
            self.client
                .auth(r, &self.auth, oci_client::RegistryOperation::Push)
                .await
                .map_err(|e| super::remote("cannot log in to push to", r, e))?;
            self.put_manifest(r, bytes, media::OCI_INDEX).await
        })
    }

    /// The manifest or index `r` names (its tag, else `latest`, or its
    /// digest, checked), at most 4 MiB.
    pub fn top_manifest(&self, r: &Reference) -> Result<Vec<u8>, RegistryError> {
        if let Some(d) = r.digest() {
            let d: Digest = d
                .parse()
                .map_err(|e| RegistryError::Remote(format!("{}: {e}", r.whole())))?;
            return self.manifest_by_digest(r, &d);
        }
        let dl = self.download(r)?;
        let tag = r.tag().unwrap_or("latest").to_string();
        let (bytes, _) = self.rt.block_on(dl.manifest(&tag, u64::MAX))?;
        Ok(bytes)
    }

    /// A manifest of `r`'s repository by digest (at most 4 MiB), checked.
    pub fn manifest_by_digest(&self, r: &Reference, d: &Digest) -> Result<Vec<u8>, RegistryError> {
        let dl = self.download(r)?;
        let (bytes, _) = self.rt.block_on(dl.manifest(&d.to_string(), u64::MAX))?;
        if Digest::of(&bytes) != *d {
            return Err(RegistryError::Remote(format!(
                "the registry sent a manifest for {d} whose content hashes to {}",
                Digest::of(&bytes)
            )));
        }
        Ok(bytes)
    }

    /// Pushes the stored referrer manifest `manifest` (its config and
    /// layers first) to `r`'s repository, then, when the registry has no
    /// referrers API, adds `descriptor` to the fallback tag index of its
    /// subject. Returns whether the fallback tag was written.
    pub fn push_referrer(
        &self,
        blobs: &Blobs,
        origins: &Origins,
        r: &Reference,
        manifest: &Digest,
        subject: &Digest,
        descriptor: &Value,
    ) -> Result<bool, RegistryError> {
        let bytes = blobs.read(manifest)?;
        let by_digest = Reference::with_digest(
            r.registry().to_string(),
            r.repository().to_string(),
            manifest.to_string(),
        );
        self.push_stored_manifest(blobs, origins, &by_digest, &bytes)?;
        self.list_referrer(r, subject, descriptor)
    }

    /// After a referrer of `subject` was put in `r`'s repository: nothing
    /// when the registry indexes referrers itself (its API answers), else
    /// `descriptor` added to the fallback tag index. Returns whether the
    /// fallback tag was written.
    pub fn list_referrer(
        &self,
        r: &Reference,
        subject: &Digest,
        descriptor: &Value,
    ) -> Result<bool, RegistryError> {
        let listing = self.referrers(r, subject)?;
        if listing.api {
            return Ok(false);
        }
        let digest = descriptor["digest"].as_str().unwrap_or_default();
        let mut all: Vec<Value> = listing
            .descriptors
            .into_iter()
            .filter(|d| d["digest"].as_str() != Some(digest))
            .collect();
        all.push(descriptor.clone());
        let index = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": media::OCI_INDEX,
            "manifests": all,
        }))
        .unwrap_or_default();
        let tag = Reference::with_tag(
            r.registry().to_string(),
            r.repository().to_string(),
            fallback_tag(subject),
        );
        self.rt
            .block_on(self.put_manifest(&tag, &index, media::OCI_INDEX))?;
        Ok(true)
    }
}
