//! Talking to registries: pull an image (index or single manifest, chosen
//! platforms) into the store with every blob verified, and push a stored
//! index with its manifests and blobs. Pulls read through [`download`],
//! where every response is bounded (a registry is untrusted); pushes use
//! oci-client for the protocol and auth handshakes. This module adds
//! platform choice, blob reuse (skip existing, cross-repository mount) and
//! errors with hints.
//!
//! The rest of mxbuild is synchronous; each operation runs on a private
//! tokio runtime so no async leaks out of this module.

pub mod artifact;
pub mod auth;
pub mod copy;
pub mod download;
pub mod error;
pub mod pull;
pub mod push;
pub mod reference;
pub mod referrers;

use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::OciDistributionError;
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};

pub use error::{ReferenceError, RegistryError};

/// Turns a protocol error into a message that says what to do.
fn remote(what: &str, r: &Reference, e: OciDistributionError) -> RegistryError {
    let detail = e.to_string();
    RegistryError::Request {
        what: what.to_string(),
        reference: r.whole(),
        hint: Some(hint(&detail, r)),
        detail,
    }
}

/// What to do about a failed registry operation, from its message.
fn hint(text: &str, r: &Reference) -> String {
    let lower = text.to_lowercase();
    if lower.contains("401") || lower.contains("unauthorized") || lower.contains("authentication") {
        format!(
            "{} needs credentials: add them with `docker login {}` (mxbuild reads ~/.docker/config.json and credential helpers; DOCKER_CONFIG picks another directory)",
            r.registry(),
            r.registry()
        )
    } else if lower.contains("manifest unknown")
        || lower.contains("not found")
        || lower.contains("404")
    {
        format!("check the name and tag of {}", r.whole())
    } else if lower.contains("connect")
        || lower.contains("dns")
        || lower.contains("tls")
        || lower.contains("certificate")
    {
        "is the registry reachable? for a registry without TLS, pass --insecure (loopback registries use plain http automatically)".to_string()
    } else {
        "retry; if it persists, check the registry's logs".to_string()
    }
}

/// Adds the image name and a hint to a pull error that lacks them (a
/// refusal of hostile content already says why and gets no hint).
fn explain(mut e: RegistryError, r: &Reference) -> RegistryError {
    let text = e.to_string();
    if let Some(slot) = e.hint_slot() {
        // Typed failures name the image already.
        if slot.is_none() && !text.contains("hint:") && !text.contains("refusing") {
            *slot = Some(hint(&text, r));
        }
        return e;
    }
    let RegistryError::Remote(text) = e else {
        return e;
    };
    let named = if text.contains(&r.whole()) {
        text
    } else {
        format!("cannot pull {}: {text}", r.whole())
    };
    if named.contains("hint:") || named.contains("refusing") {
        RegistryError::Remote(named)
    } else {
        let h = hint(&named, r);
        RegistryError::Remote(format!("{named}\nhint: {h}"))
    }
}

/// A connection to one registry with the credentials for it.
pub struct Session {
    rt: tokio::runtime::Runtime,
    client: Client,
    auth: RegistryAuth,
    /// Plain http (also used for loopback registries without it).
    insecure: bool,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print credentials.
        f.debug_struct("Session").finish_non_exhaustive()
    }
}

impl Session {
    /// Prepares a session for `r`'s registry: plain http for loopback or when
    /// `insecure`, credentials from the docker config.
    pub fn new(r: &Reference, insecure: bool) -> Result<Session, RegistryError> {
        let registry = r.resolve_registry().to_string();
        let protocol = if insecure || reference::is_loopback(&registry) {
            ClientProtocol::HttpsExcept(vec![registry.clone()])
        } else {
            ClientProtocol::Https
        };
        let config = ClientConfig {
            protocol,
            // Blob uploads are one PUT of a known size: fewer round trips than
            // chunked PATCHes, and every registry supports it.
            use_monolithic_push: true,
            ..ClientConfig::default()
        };
        let client = Client::try_from(config)
            .map_err(|e| RegistryError::Remote(format!("cannot set up an HTTP client: {e}")))?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        Ok(Session {
            rt,
            client,
            auth: auth::for_registry(r.registry()),
            insecure,
        })
    }
}
