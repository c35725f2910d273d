//! Why an image operation failed. Its own file, below every other image
//! module, so that the readers and writers (`config`, `manifest`, `oci`, ...)
//! depend on it and not on each other.

use std::io;

use thiserror::Error;
use xx::Platform;

use crate::store::digest::Digest;
use crate::store::error::{DigestError, StoreError};

/// Why reading, checking or writing an image failed.
#[derive(Debug, Error)]
pub enum ImageError {
    /// From the store (a missing, corrupt or wrongly sized blob).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Metadata that is malformed, or a value the spec does not allow.
    #[error("invalid image metadata: {0}")]
    Spec(String),
    /// A digest in the metadata that is not a sha256 digest.
    #[error("invalid image metadata: {0}")]
    Digest(#[from] DigestError),
    /// An image from outside that breaks one of the rules of
    /// `checks`; nothing of it is used.
    #[error("invalid image metadata: image {image}: {reason}{}", hint_line(hint))]
    Refused {
        /// The image as the user named it.
        image: String,
        /// What is wrong, naming the digest at fault.
        reason: String,
        /// What to do about it, if anything can be done.
        hint: Option<String>,
    },
    /// The index has no manifest for the platform asked for.
    #[error(
        "invalid image metadata: the image has no {platform} manifest (it has: {}); hint: build or pull it for that platform",
        listed(have)
    )]
    NoPlatform {
        /// The platform asked for.
        platform: Platform,
        /// The platforms the index has.
        have: Vec<Platform>,
    },
    /// An index where a manifest was expected.
    #[error("invalid image metadata: {digest} is not an image manifest")]
    NotAManifest {
        /// The blob at fault.
        digest: Digest,
    },
    /// Filesystem.
    #[error(transparent)]
    Io(#[from] io::Error),
}

impl ImageError {
    /// A refusal of `image` without a hint.
    pub fn refused(image: &str, reason: String) -> ImageError {
        ImageError::Refused {
            image: image.to_string(),
            reason,
            hint: None,
        }
    }
}

/// `\nhint: ...` when there is a hint.
fn hint_line(hint: &Option<String>) -> String {
    hint.as_ref()
        .map(|h| format!("\nhint: {h}"))
        .unwrap_or_default()
}

/// Platforms as `a, b`, or `none`.
fn listed(have: &[Platform]) -> String {
    if have.is_empty() {
        "none".to_string()
    } else {
        have.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// `ImageError::Spec` from anything printable (the oci-spec builders' errors).
pub(crate) fn spec<E: std::fmt::Display>(e: E) -> ImageError {
    ImageError::Spec(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_the_ones_users_and_tests_know() {
        let e = ImageError::Refused {
            image: "x".into(),
            reason: "manifest m lists 126 layers; refusing it".into(),
            hint: Some("squash the image into fewer layers".into()),
        };
        assert_eq!(
            e.to_string(),
            "invalid image metadata: image x: manifest m lists 126 layers; refusing it\nhint: squash the image into fewer layers"
        );
        let e = ImageError::NoPlatform {
            platform: Platform::new("linux", "s390x", None),
            have: vec![Platform::new("linux", "amd64", None)],
        };
        assert_eq!(
            e.to_string(),
            "invalid image metadata: the image has no linux/s390x manifest (it has: linux/amd64); hint: build or pull it for that platform"
        );
        let e = ImageError::from(StoreError::Missing(Digest::of(b"")));
        assert!(e.to_string().starts_with("blob sha256:"), "{e}");
        let e = ImageError::from("nope".parse::<Digest>().unwrap_err());
        assert!(
            e.to_string()
                .starts_with("invalid image metadata: unsupported digest"),
            "{e}"
        );
    }
}
