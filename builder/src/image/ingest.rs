//! Bringing one image from an untrusted source (a registry, an OCI layout)
//! into the store, in an order that never keeps anything unchecked:
//!
//! 1. the manifest is parsed and checked ([`checks::manifest`]: layer count,
//!    layer media types, config size) before anything it names is read;
//! 2. the config is read (no further than its descriptor's size) and checked
//!    ([`checks::config`]: one diff_id per layer);
//! 3. layers are streamed into the store, each stopping at its descriptor's
//!    size and kept only if length and digest match;
//! 4. only then are the config and the manifest stored.
//!
//! A refused image therefore leaves no manifest or config behind, and no
//! blob that does not match its descriptor. Both sources share this walk so
//! the rules cannot drift apart.

use xx::Platform;

use super::checks;
use super::error::ImageError;
use super::manifest::{self, Desc, Node};
use crate::store::blobs::Blobs;
use crate::store::digest::Digest;
use crate::store::error::StoreError;

/// Where blobs come from. Each method reads no more than the descriptor's
/// size and checks length and digest before returning or storing anything.
pub trait Source {
    /// The source's error; store and format errors convert into it.
    type Error: From<ImageError> + From<StoreError>;

    /// The image as the user named it, for messages.
    fn name(&self) -> &str;

    /// The bytes of manifest or index `d` (`d.size` is at most
    /// [`checks::MAX_METADATA`]; the caller checked).
    fn manifest(&self, d: &Desc) -> Result<Vec<u8>, Self::Error>;

    /// The bytes of config `d` (size checked by the caller as above).
    fn config(&self, d: &Desc) -> Result<Vec<u8>, Self::Error>;

    /// Streams layer `d` into `blobs`.
    fn layer(&self, blobs: &Blobs, d: &Desc) -> Result<(), Self::Error>;
}

/// A manifest whose metadata passed every check; its layers are not read yet.
#[derive(Debug)]
pub struct Checked {
    digest: Digest,
    bytes: Vec<u8>,
    config: Desc,
    config_bytes: Vec<u8>,
    layers: Vec<Desc>,
    /// The platform its config declares (`None` for attestations).
    pub platform: Option<Platform>,
}

/// Steps 1 and 2: checks image manifest `bytes` (already verified to be
/// `digest`) and reads and checks its config.
pub fn check<S: Source>(
    src: &S,
    blobs: &Blobs,
    digest: &Digest,
    bytes: &[u8],
    attestation: bool,
) -> Result<Checked, S::Error> {
    let Node::Manifest { config, layers } = manifest::parse(bytes)? else {
        return Err(ImageError::refused(
            src.name(),
            format!("{digest} is an index inside an index; nested indexes are not supported"),
        )
        .into());
    };
    checks::manifest(src.name(), digest, &config, &layers, attestation)?;
    let config_bytes = if blobs.has_sized(&config.digest, config.size)? {
        blobs.read(&config.digest)?
    } else {
        src.config(&config)?
    };
    let platform = if attestation {
        None
    } else {
        let facts = checks::config(
            src.name(),
            digest,
            &config.digest,
            &config_bytes,
            layers.len(),
        )?;
        Some(facts.platform)
    };
    Ok(Checked {
        digest: digest.clone(),
        bytes: bytes.to_vec(),
        config,
        config_bytes,
        layers,
        platform,
    })
}

/// Steps 3 and 4: fetches the missing layers, then stores config and
/// manifest. Returns how many blobs were fetched.
pub fn store<S: Source>(src: &S, blobs: &Blobs, c: Checked) -> Result<usize, S::Error> {
    let mut fetched = 0;
    for l in &c.layers {
        if !blobs.has_sized(&l.digest, l.size)? {
            src.layer(blobs, l)?;
            fetched += 1;
        }
    }
    if !blobs.has_sized(&c.config.digest, c.config.size)? {
        put_exact(blobs, &c.config_bytes, &c.config.digest)?;
        fetched += 1;
    }
    put_exact(blobs, &c.bytes, &c.digest)?;
    Ok(fetched)
}

/// Checks and stores image manifest `bytes` (verified to be `digest`) with
/// everything it names; returns the check result's platform and the count
/// of blobs fetched.
pub fn manifest<S: Source>(
    src: &S,
    blobs: &Blobs,
    digest: &Digest,
    bytes: &[u8],
    attestation: bool,
) -> Result<(Option<Platform>, usize), S::Error> {
    let c = check(src, blobs, digest, bytes, attestation)?;
    let platform = c.platform.clone();
    Ok((platform, store(src, blobs, c)?))
}

/// Reads index entry `e` of index `index` (its size checked first) and
/// checks it as a manifest; nothing is stored yet.
pub fn check_entry<S: Source>(
    src: &S,
    blobs: &Blobs,
    index: &str,
    e: &Desc,
) -> Result<Checked, S::Error> {
    checks::index_entry(src.name(), index, e)?;
    let bytes = if blobs.has_sized(&e.digest, e.size)? {
        blobs.read(&e.digest)?
    } else {
        src.manifest(e)?
    };
    check(src, blobs, &e.digest, &bytes, e.attestation)
}

/// Stores `bytes`, which the caller verified to be `digest`.
fn put_exact(blobs: &Blobs, bytes: &[u8], digest: &Digest) -> Result<(), StoreError> {
    blobs.put_sized(bytes, digest, bytes.len() as u64)
}

/// Checks that `bytes`, read for descriptor `d`, are exactly what it
/// declares: the length first (the reader stops one byte past it), then the
/// digest.
pub fn verify(d: &Desc, bytes: &[u8]) -> Result<(), StoreError> {
    if bytes.len() as u64 != d.size {
        return Err(StoreError::WrongSize {
            digest: d.digest.clone(),
            expected: d.size,
            got: bytes.len() as u64,
        });
    }
    let actual = Digest::of(bytes);
    if actual != d.digest {
        return Err(StoreError::Corrupt {
            expected: d.digest.clone(),
            actual,
        });
    }
    Ok(())
}

/// A blob error met while reading from `image`, as a message that names the
/// image (a received blob that fails its digest is refused, not "corrupt in
/// the store").
pub fn refused(image: &str, e: StoreError) -> ImageError {
    match e {
        StoreError::Corrupt { expected, actual } => ImageError::refused(
            image,
            format!("blob {expected} hashes to {actual}; refusing it (nothing was stored)"),
        ),
        e @ StoreError::WrongSize { .. } => ImageError::refused(image, e.to_string()),
        e => ImageError::Store(e),
    }
}
