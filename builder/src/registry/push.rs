//! Pushing a stored index: for every manifest, its config and layers (each
//! skipped if the registry has it, mounted from another repository of the
//! same registry when the store knows one holds it, else uploaded with one
//! PUT), then the manifest by digest, then the index under the tag. Bytes
//! go out exactly as stored, so the registry's digests equal the store's.

use futures_util::stream;
use oci_client::Reference;
use oci_client::RegistryOperation;
use tokio::io::AsyncReadExt;

use super::{RegistryError, Session, remote};
use crate::image::manifest::{self, Desc, Node, media};
use crate::store::blobs::Blobs;
use crate::store::digest::Digest;
use crate::store::origins::Origins;

/// What a push did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pushed {
    /// Blobs uploaded.
    pub uploaded: usize,
    /// Blobs linked from another repository.
    pub mounted: usize,
    /// Blobs the registry already had.
    pub existing: usize,
    /// The index digest (as the registry now serves it).
    pub index: String,
}

/// The media type a manifest or index declares, else `default`.
fn media_of(bytes: &[u8], default: &str) -> String {
    manifest::media_type(bytes).unwrap_or_else(|| default.to_string())
}

impl Session {
    async fn upload(&self, blobs: &Blobs, r: &Reference, d: &Digest) -> Result<(), RegistryError> {
        let size = blobs.verify(d)?;
        let file = tokio::fs::File::open(blobs.path(d)).await?;
        let chunks = stream::unfold(file, |mut f| async move {
            let mut buf = vec![0u8; 1 << 20];
            match f.read(&mut buf).await {
                Ok(0) => None,
                Ok(n) => {
                    buf.truncate(n);
                    Some((Ok(bytes::Bytes::from(buf)), f))
                }
                Err(e) => Some((Err(oci_client::errors::OciDistributionError::IoError(e)), f)),
            }
        });
        self.client
            .push_blob_stream(r, chunks, &d.to_string(), Some(size))
            .await
            .map_err(|e| remote(&format!("cannot upload blob {d} to"), r, e))?;
        Ok(())
    }

    pub(super) async fn push_one_blob(
        &self,
        blobs: &Blobs,
        origins: &Origins,
        r: &Reference,
        d: &Desc,
        out: &mut Pushed,
    ) -> Result<(), RegistryError> {
        let digest = d.digest.to_string();
        if self
            .client
            .blob_exists(r, &digest)
            .await
            .map_err(|e| remote("cannot query", r, e))?
        {
            out.existing += 1;
            return Ok(());
        }
        let here = super::reference::repo_key(r);
        let prefix = format!("{}/", r.registry());
        for from in origins.get(&d.digest) {
            let Some(repo) = from.strip_prefix(&prefix) else {
                continue;
            };
            if from == here {
                continue;
            }
            let source = Reference::with_tag(
                r.registry().to_string(),
                repo.to_string(),
                "latest".to_string(),
            );
            if self.client.mount_blob(r, &source, &digest).await.is_ok() {
                out.mounted += 1;
                return Ok(());
            }
        }
        self.upload(blobs, r, &d.digest).await?;
        out.uploaded += 1;
        Ok(())
    }

    pub(super) async fn put_manifest(
        &self,
        r: &Reference,
        bytes: &[u8],
        default: &str,
    ) -> Result<(), RegistryError> {
        let ct = media_of(bytes, default).parse().map_err(|_| {
            RegistryError::Remote("manifest media type is not a valid header".to_string())
        })?;
        self.client
            .push_manifest_raw(r, bytes.to_vec(), ct)
            .await
            .map_err(|e| remote("cannot push manifest to", r, e))?;
        Ok(())
    }

    async fn push_async(
        &self,
        blobs: &Blobs,
        origins: &Origins,
        index: &Digest,
        r: &Reference,
    ) -> Result<Pushed, RegistryError> {
        self.client
            .auth(r, &self.auth, RegistryOperation::Push)
            .await
            .map_err(|e| remote("cannot log in to push to", r, e))?;
        let mut out = Pushed::default();
        let Node::Index(entries) = manifest::load(blobs, index)? else {
            return Err(RegistryError::Remote(format!(
                "{index} is not an image index"
            )));
        };
        for e in &entries {
            let bytes = blobs.read(&e.digest)?;
            let Node::Manifest { config, layers } = manifest::parse(&bytes)? else {
                return Err(RegistryError::Remote(format!(
                    "{}: nested indexes are not supported",
                    e.digest
                )));
            };
            self.push_one_blob(blobs, origins, r, &config, &mut out)
                .await?;
            for l in &layers {
                self.push_one_blob(blobs, origins, r, l, &mut out).await?;
            }
            let by_digest = Reference::with_digest(
                r.registry().to_string(),
                r.repository().to_string(),
                e.digest.to_string(),
            );
            self.put_manifest(&by_digest, &bytes, media::OCI_MANIFEST)
                .await?;
        }
        let bytes = blobs.read(index)?;
        self.put_manifest(r, &bytes, media::OCI_INDEX).await?;
        let repo = super::reference::repo_key(r);
        for d in manifest::closure(blobs, index)? {
            origins.add(&d, &repo)?;
        }
        out.index = index.to_string();
        Ok(out)
    }

    /// Pushes the stored index `index` (and all it needs) as `r`.
    pub fn push(
        &self,
        blobs: &Blobs,
        origins: &Origins,
        index: &Digest,
        r: &Reference,
    ) -> Result<Pushed, RegistryError> {
        self.rt.block_on(self.push_async(blobs, origins, index, r))
    }
}
