//! Why a registry operation failed. Store and image errors convert in with
//! `?`; remote failures carry the reference and a hint saying what to do.

use thiserror::Error;

use crate::image::error::ImageError;
use crate::store::error::{DigestError, StoreError};

/// An image reference that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "invalid image reference {text:?}: {reason}; hint: e.g. debian:bookworm, 127.0.0.1:5000/app:1 or ghcr.io/org/app@sha256:…"
)]
pub struct ReferenceError {
    /// The reference as given.
    pub text: String,
    /// What the parser said.
    pub reason: String,
}

/// Lets code whose errors are still plain text (the engine and cli) parse
/// references with `?`.
impl From<ReferenceError> for String {
    fn from(e: ReferenceError) -> String {
        e.to_string()
    }
}

/// Why a registry operation failed.
#[derive(Debug, Error)]
pub enum RegistryError {
    /// The protocol or the network failed; the text says how.
    #[error("{0}")]
    Remote(String),
    /// A request about `reference` failed.
    #[error("{what} {reference}: {detail}{}", hint_line(hint))]
    Request {
        /// What was being done (`push manifest to`, ...).
        what: String,
        /// The image.
        reference: String,
        /// The protocol's message.
        detail: String,
        /// What to do about it.
        hint: Option<String>,
    },
    /// The index has none of the wanted platforms.
    #[error(
        "{reference} has no manifest for the requested platforms (it has: {}){}",
        have.join(", "),
        hint_line(hint)
    )]
    NoPlatform {
        /// The image.
        reference: String,
        /// The platforms it has.
        have: Vec<String>,
        /// What to do about it.
        hint: Option<String>,
    },
    /// A single-platform image of another platform than the one asked for.
    #[error(
        "{reference} is a single-platform image for {platform}, not {}{}",
        want.join(","),
        hint_line(hint)
    )]
    WrongPlatform {
        /// The image.
        reference: String,
        /// Its platform.
        platform: String,
        /// The platforms asked for.
        want: Vec<String>,
        /// What to do about it.
        hint: Option<String>,
    },
    /// A single-manifest image whose config says nothing of its platform.
    #[error("{reference}: the image config names no platform{}", hint_line(hint))]
    NoConfigPlatform {
        /// The image.
        reference: String,
        /// What to do about it.
        hint: Option<String>,
    },
    /// A reference that does not parse.
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    /// The store or an image format.
    #[error(transparent)]
    Image(#[from] ImageError),
}

impl RegistryError {
    /// The hint slot of a remote failure, if it has one (store and format
    /// errors already say what is wrong and get none).
    pub(crate) fn hint_slot(&mut self) -> Option<&mut Option<String>> {
        match self {
            RegistryError::Request { hint, .. }
            | RegistryError::NoPlatform { hint, .. }
            | RegistryError::WrongPlatform { hint, .. }
            | RegistryError::NoConfigPlatform { hint, .. } => Some(hint),
            _ => None,
        }
    }
}

impl From<StoreError> for RegistryError {
    fn from(e: StoreError) -> Self {
        RegistryError::Image(ImageError::Store(e))
    }
}

impl From<std::io::Error> for RegistryError {
    fn from(e: std::io::Error) -> Self {
        RegistryError::Image(ImageError::Io(e))
    }
}

impl From<DigestError> for RegistryError {
    fn from(e: DigestError) -> Self {
        RegistryError::Image(ImageError::Digest(e))
    }
}

/// `\nhint: ...` when there is a hint.
fn hint_line(hint: &Option<String>) -> String {
    hint.as_ref()
        .map(|h| format!("\nhint: {h}"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_go_on_their_own_line() {
        let mut e = RegistryError::NoPlatform {
            reference: "r:1".into(),
            have: vec!["linux/amd64".into(), "linux/arm64".into()],
            hint: None,
        };
        assert_eq!(
            e.to_string(),
            "r:1 has no manifest for the requested platforms (it has: linux/amd64, linux/arm64)"
        );
        if let Some(slot) = e.hint_slot() {
            *slot = Some("retry".into());
        }
        assert!(e.to_string().ends_with(")\nhint: retry"), "{e}");
        let e = RegistryError::from(ReferenceError {
            text: "A".into(),
            reason: "bad".into(),
        });
        assert!(
            e.to_string()
                .starts_with("invalid image reference \"A\": bad; hint:")
        );
        assert!(RegistryError::Remote("x".into()).hint_slot().is_none());
    }
}
