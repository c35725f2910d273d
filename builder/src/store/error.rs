//! Why a store operation failed. One enum for the whole store, so blob,
//! reference and digest errors travel up with `?` and callers can still
//! match on what went wrong (a corrupt blob, a missing one, a size that
//! contradicts its descriptor).

use std::io;

use thiserror::Error;

use super::digest::Digest;
pub use super::digest::DigestError;

/// Why a store operation failed.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The content does not hash to its name (on disk or as received).
    #[error(
        "blob {expected} is corrupt: its content hashes to {actual} (remove it with `mxbuild prune` and pull or build again)"
    )]
    Corrupt {
        /// The digest it should have.
        expected: Digest,
        /// The digest it has.
        actual: Digest,
    },
    /// The blob is not in the store.
    #[error("blob {0} is not in the store")]
    Missing(Digest),
    /// The content is not as long as its descriptor declares.
    #[error("{}", wrong_size(digest, *expected, *got))]
    WrongSize {
        /// The blob.
        digest: Digest,
        /// The size its descriptor declares.
        expected: u64,
        /// Bytes seen before stopping (`expected + 1` when it was longer).
        got: u64,
    },
    /// Too large to load into memory (the store's read limit).
    #[error(
        "blob {digest} has {size} bytes, more than the {} MiB mxbuild reads for a manifest, index or config",
        limit >> 20
    )]
    TooLarge {
        /// The blob.
        digest: Digest,
        /// Its size.
        size: u64,
        /// The most bytes read into memory.
        limit: u64,
    },
    /// A reference file that does not hold a digest.
    #[error("reference {name:?} in the store is damaged: {source}")]
    DamagedRef {
        /// The image name.
        name: String,
        /// What is wrong with its content.
        source: DigestError,
    },
    /// A digest that does not parse.
    #[error(transparent)]
    Digest(#[from] DigestError),
    /// A filesystem error.
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// The text of [`StoreError::WrongSize`]: longer and shorter read differently
/// (a longer one was cut off, so its full length is unknown).
fn wrong_size(digest: &Digest, expected: u64, got: u64) -> String {
    if got > expected {
        format!(
            "blob {digest} is longer than the {expected} bytes its descriptor declares; refusing it (reading stopped there, nothing was stored)"
        )
    } else {
        format!(
            "blob {digest} has {got} bytes, but its descriptor declares {expected}; refusing it (nothing was stored)"
        )
    }
}
