//! Copying a manifest (and what it needs) from one repository of a
//! registry to another, for `mxbuild imagetools create`: blobs are mounted
//! across repositories (never downloaded and uploaded again when the
//! registry allows the mount), manifests are put with the bytes read from
//! the source, so digests stay the same. Referrers (attestations) of a
//! copied platform manifest go with it.

use oci_client::Reference;

use super::download::Download;
use super::{RegistryError, Session};
use crate::image::manifest::{self, Desc, Node, media};
use crate::store::blobs::Blobs;
use crate::store::digest::Digest;
use crate::store::origins::Origins;

/// What a copy did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Copied {
    /// Blobs mounted from the source repository.
    pub mounted: usize,
    /// Blobs the target already had.
    pub existing: usize,
    /// Blobs the registry would not mount: fetched through the store and uploaded.
    pub uploaded: usize,
    /// Manifests put (images, indexes, referrers).
    pub manifests: usize,
}

fn same_repo(a: &Reference, b: &Reference) -> bool {
    a.resolve_registry() == b.resolve_registry() && a.repository() == b.repository()
}

impl Session {
    /// Makes manifest `digest` of `source`'s repository exist in `target`'s,
    /// with its blobs (nested manifests of an index too) and its referrers.
    /// `blobs` holds blobs the registry refuses to mount while they are
    /// uploaded again.
    pub fn copy_manifest(
        &self,
        blobs: &Blobs,
        origins: &Origins,
        source: &Reference,
        target: &Reference,
        digest: &Digest,
        out: &mut Copied,
    ) -> Result<(), RegistryError> {
        if same_repo(source, target) {
            return Ok(());
        }
        if source.resolve_registry() != target.resolve_registry() {
            return Err(RegistryError::Remote(format!(
                "{} is in another registry than {}: sources must already be in the registry the new index is pushed to (as buildx)\nhint: push the per-platform images to {} first",
                source.whole(),
                target.whole(),
                target.resolve_registry()
            )));
        }
        let bytes = self.manifest_by_digest(source, digest)?;
        match manifest::parse(&bytes)? {
            Node::Index(list) => {
                for e in &list {
                    self.copy_manifest(blobs, origins, source, target, &e.digest, out)?;
                }
            }
            Node::Manifest { config, layers } => {
                for d in std::iter::once(&config).chain(&layers) {
                    self.copy_blob(blobs, origins, source, target, d, out)?;
                }
            }
        }
        let by_digest = Reference::with_digest(
            target.registry().to_string(),
            target.repository().to_string(),
            digest.to_string(),
        );
        self.rt
            .block_on(self.put_manifest(&by_digest, &bytes, media::OCI_MANIFEST))?;
        out.manifests += 1;
        self.copy_referrers(blobs, origins, source, target, digest, out)
    }

    fn copy_blob(
        &self,
        blobs: &Blobs,
        origins: &Origins,
        source: &Reference,
        target: &Reference,
        d: &Desc,
        out: &mut Copied,
    ) -> Result<(), RegistryError> {
        let digest = d.digest.to_string();
        let done = self.rt.block_on(async {
            self.client
                .auth(target, &self.auth, oci_client::RegistryOperation::Push)
                .await
                .map_err(|e| super::remote("cannot log in to push to", target, e))?;
            if self
                .client
                .blob_exists(target, &digest)
                .await
                .map_err(|e| super::remote("cannot query", target, e))?
            {
                out.existing += 1;
                return Ok::<bool, RegistryError>(true);
            }
            if self
                .client
                .mount_blob(target, source, &digest)
                .await
                .is_ok()
            {
                out.mounted += 1;
                return Ok(true);
            }
            Ok(false)
        })?;
        if done {
            return Ok(());
        }
        // The registry would not mount it (a token without pull rights on
        // the source, say): through the store, bounded and verified.
        if !blobs.contains(&d.digest) {
            let dl = Download::new(source, self.insecure, &self.auth)?;
            self.rt.block_on(dl.blob(blobs, d))?;
        }
        let mut pushed = super::push::Pushed::default();
        self.rt
            .block_on(self.push_one_blob(blobs, origins, target, d, &mut pushed))?;
        out.uploaded += pushed.uploaded + pushed.mounted;
        out.existing += pushed.existing;
        Ok(())
    }

    /// The referrers of `subject` in `source` copied to `target`, listed
    /// there by its referrers API or the fallback tag.
    fn copy_referrers(
        &self,
        blobs: &Blobs,
        origins: &Origins,
        source: &Reference,
        target: &Reference,
        subject: &Digest,
        out: &mut Copied,
    ) -> Result<(), RegistryError> {
        let listing = self.referrers(source, subject)?;
        for d in &listing.descriptors {
            let Some(digest) = d["digest"].as_str().and_then(|s| s.parse::<Digest>().ok()) else {
                continue;
            };
            let bytes = self.manifest_by_digest(source, &digest)?;
            let Node::Manifest { config, layers } = manifest::parse(&bytes)? else {
                continue;
            };
            for b in std::iter::once(&config).chain(&layers) {
                self.copy_blob(blobs, origins, source, target, b, out)?;
            }
            let by_digest = Reference::with_digest(
                target.registry().to_string(),
                target.repository().to_string(),
                digest.to_string(),
            );
            self.rt
                .block_on(self.put_manifest(&by_digest, &bytes, media::OCI_MANIFEST))?;
            out.manifests += 1;
            self.list_referrer(target, subject, d)?;
        }
        Ok(())
    }
}
