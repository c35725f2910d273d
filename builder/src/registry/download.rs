//! Reading from a registry's `/v2` API with every response bounded. A
//! registry is untrusted: oci-client buffers a whole manifest response (and
//! token and error bodies) in memory, so a hostile registry streaming one
//! forever grew mxbuild to gigabytes. Here:
//!
//! * a manifest is read to at most 4 MiB (what registries accept), or to its
//!   descriptor's size when fetched by digest; a larger `Content-Length` is
//!   refused before the body is read;
//! * a blob is read to at most its descriptor's size (one byte more tells a
//!   longer one), streamed into the store, and kept only if length and
//!   digest match;
//! * token responses are capped at 1 MiB and error bodies at 64 KiB;
//! * the token handshake (Bearer or Basic, as the registry's
//!   `WWW-Authenticate` asks) is done here, so no part of a pull reads an
//!   unbounded response. Credentials go to a token realm only over https
//!   (or when the registry itself is plain http: loopback or `--insecure`).
//!
//! Pushes still use oci-client: they read nothing large.

use std::sync::Mutex;
use std::time::Duration;

use futures_util::StreamExt;
use oci_client::Reference;
use oci_client::secrets::RegistryAuth;
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_LENGTH, WWW_AUTHENTICATE};

use super::RegistryError;
use crate::image::checks::MAX_METADATA;
use crate::image::manifest::{Desc, media};
use crate::store::blobs::{BlobError, Blobs};
use crate::store::digest::Digest;

/// The largest token response read (real ones are a few KiB).
const MAX_TOKEN: u64 = 1 << 20;
/// The most of an error response read for its message.
const MAX_ERROR_BODY: u64 = 64 << 10;
/// A manifest or token request that takes longer than this has stalled (a
/// 4 MiB body arrives in seconds on any link).
const SMALL_TIMEOUT: Duration = Duration::from_secs(300);

/// How requests are authorised, once the registry said how.
#[derive(Debug, Clone)]
enum Auth {
    None,
    Basic(String, String),
    Bearer(String),
}

/// One repository of one registry, read with bounds.
pub struct Download {
    http: reqwest::Client,
    /// `http` or `https`.
    scheme: &'static str,
    /// `<scheme>://<host>/v2/<repository>`.
    base: String,
    repository: String,
    /// The user's credentials for this registry, if any.
    basic: Option<(String, String)>,
    auth: Mutex<Auth>,
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print credentials or tokens.
        f.debug_struct("Download")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// Why a capped read stopped.
enum Capped {
    /// More than the cap: the length the response declared, or the bytes
    /// seen before stopping.
    TooLong(u64),
    /// The response declared a `Content-Length` over the cap (not read).
    Declared(u64),
    /// The transfer failed.
    Http(reqwest::Error),
}

/// Reads a response body to at most `cap` bytes.
async fn read_capped(resp: reqwest::Response, cap: u64) -> Result<Vec<u8>, Capped> {
    if let Some(n) = declared_length(&resp) {
        if n > cap {
            return Err(Capped::Declared(n));
        }
    }
    let mut out = Vec::new();
    let mut body = resp.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(Capped::Http)?;
        let seen = out.len() as u64 + chunk.len() as u64;
        if seen > cap {
            return Err(Capped::TooLong(seen));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// The `Content-Length` header as sent (reqwest's `content_length()` is the
/// body's size hint, which is not the header for every response).
fn declared_length(resp: &reqwest::Response) -> Option<u64> {
    resp.headers()
        .get(CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// A reqwest error with its causes (its own message says little).
fn causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut next = e.source();
    while let Some(c) = next {
        text.push_str(": ");
        text.push_str(&c.to_string());
        next = c.source();
    }
    text
}

/// The parameters of a `WWW-Authenticate` challenge: its scheme (lower
/// case) and `key="value"` pairs (quotes optional, commas inside quotes kept).
fn parse_challenge(header: &str) -> (String, Vec<(String, String)>) {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    let mut params = Vec::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            let mut escaped = false;
            for c in chars.by_ref() {
                match (escaped, c) {
                    (false, '\\') => escaped = true,
                    (false, '"') => break,
                    _ => {
                        value.push(c);
                        escaped = false;
                    }
                }
            }
        } else {
            value = chars.by_ref().take_while(|c| *c != ',').collect();
        }
        params.push((key.trim().to_lowercase(), value.trim().to_string()));
    }
    (scheme.to_lowercase(), params)
}

/// A short text for an error status: the OCI error codes and messages in
/// the body if it has them.
fn status_text(status: StatusCode, body: &[u8]) -> String {
    let detail = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            let list: Vec<String> = v["errors"]
                .as_array()?
                .iter()
                .take(5)
                .map(|e| {
                    format!(
                        "{}: {}",
                        e["code"].as_str().unwrap_or("?"),
                        e["message"].as_str().unwrap_or("")
                    )
                })
                .collect();
            (!list.is_empty()).then(|| list.join("; "))
        });
    match detail {
        Some(d) => format!("the registry answered {status} ({d})"),
        None => format!("the registry answered {status}"),
    }
}

impl Download {
    /// Prepares reads from `r`'s repository: plain http for loopback or
    /// `insecure`, the user's credentials from `auth`.
    pub fn new(
        r: &Reference,
        insecure: bool,
        auth: &RegistryAuth,
    ) -> Result<Download, RegistryError> {
        let host = r.resolve_registry().to_string();
        let scheme = if insecure || super::reference::is_loopback(&host) {
            "http"
        } else {
            "https"
        };
        let http = reqwest::Client::builder()
            .user_agent(concat!("mxbuild/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(30))
            .read_timeout(Duration::from_secs(120))
            .build()
            .map_err(|e| RegistryError::Remote(format!("cannot set up an HTTP client: {e}")))?;
        let basic = match auth {
            RegistryAuth::Basic(u, p) => Some((u.clone(), p.clone())),
            _ => None,
        };
        Ok(Download {
            http,
            scheme,
            base: format!("{scheme}://{host}/v2/{}", r.repository()),
            repository: r.repository().to_string(),
            basic,
            auth: Mutex::new(Auth::None),
        })
    }

    fn current_auth(&self) -> Auth {
        self.auth.lock().map(|a| a.clone()).unwrap_or(Auth::None)
    }

    fn set_auth(&self, a: Auth) {
        if let Ok(mut cur) = self.auth.lock() {
            *cur = a;
        }
    }

    /// GETs `url`, answering one authentication challenge if the registry
    /// sends it. `small` requests (manifests) get an overall deadline.
    async fn get(
        &self,
        url: &str,
        accept: Option<&str>,
        small: bool,
    ) -> Result<reqwest::Response, RegistryError> {
        let mut challenged = false;
        loop {
            let mut req = self.http.get(url);
            if let Some(a) = accept {
                req = req.header(ACCEPT, a);
            }
            if small {
                req = req.timeout(SMALL_TIMEOUT);
            }
            req = match self.current_auth() {
                Auth::None => req,
                Auth::Basic(u, p) => req.basic_auth(u, Some(p)),
                Auth::Bearer(t) => req.header(AUTHORIZATION, format!("Bearer {t}")),
            };
            let resp = req.send().await.map_err(|e| {
                RegistryError::Remote(format!(
                    "cannot reach {url}: {}\nhint: is the registry reachable? for a registry without TLS, pass --insecure (loopback registries use plain http automatically)",
                    causes(&e)
                ))
            })?;
            if resp.status() != StatusCode::UNAUTHORIZED || challenged {
                return Ok(resp);
            }
            challenged = true;
            let header = resp
                .headers()
                .get(WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            self.answer(&header).await?;
        }
    }

    /// Answers a `WWW-Authenticate` challenge: Basic with the user's
    /// credentials, or Bearer with a token from the realm.
    async fn answer(&self, header: &str) -> Result<(), RegistryError> {
        let (scheme, params) = parse_challenge(header);
        let needs_login = || {
            RegistryError::Remote(format!(
                "{} requires authentication (401 Unauthorized)",
                self.base
            ))
        };
        match scheme.as_str() {
            "basic" => {
                let Some((u, p)) = &self.basic else {
                    return Err(needs_login());
                };
                self.set_auth(Auth::Basic(u.clone(), p.clone()));
                Ok(())
            }
            "bearer" => {
                let get = |k: &str| {
                    params
                        .iter()
                        .find(|(key, _)| key == k)
                        .map(|(_, v)| v.as_str())
                };
                let realm = get("realm").ok_or_else(|| {
                    RegistryError::Remote(format!(
                        "{} asked for a token without saying where to get one (no realm)",
                        self.base
                    ))
                })?;
                let realm_url = reqwest::Url::parse(realm).map_err(|e| {
                    RegistryError::Remote(format!("the registry's token realm {realm:?}: {e}"))
                })?;
                if !matches!(realm_url.scheme(), "http" | "https") {
                    return Err(RegistryError::Remote(format!(
                        "the registry's token realm {realm:?} is not an http(s) URL"
                    )));
                }
                let scope = format!("repository:{}:pull", self.repository);
                let mut req = self
                    .http
                    .get(realm_url.clone())
                    .query(&[("scope", scope.as_str())])
                    .timeout(SMALL_TIMEOUT);
                if let Some(service) = get("service") {
                    req = req.query(&[("service", service)]);
                }
                if let Some((u, p)) = &self.basic {
                    // Credentials travel in clear only to a registry that is itself plain http.
                    if realm_url.scheme() == "https" || self.scheme == "http" {
                        req = req.basic_auth(u, Some(p));
                    }
                }
                let resp = req.send().await.map_err(|e| {
                    RegistryError::Remote(format!(
                        "cannot get a token from {}: {}",
                        realm_url.as_str(),
                        causes(&e)
                    ))
                })?;
                let status = resp.status();
                let body = match read_capped(resp, MAX_TOKEN).await {
                    Ok(b) => b,
                    Err(Capped::TooLong(n) | Capped::Declared(n)) => {
                        return Err(RegistryError::Remote(format!(
                            "the token response from {} is larger than {} KiB (read stopped at {n} bytes); refusing it",
                            realm_url.as_str(),
                            MAX_TOKEN >> 10
                        )));
                    }
                    Err(Capped::Http(e)) => {
                        return Err(RegistryError::Remote(format!(
                            "token request to {} failed: {}",
                            realm_url.as_str(),
                            causes(&e)
                        )));
                    }
                };
                if !status.is_success() {
                    return Err(RegistryError::Remote(format!(
                        "authentication failed: the token service {} answered {status} (401 Unauthorized for {})",
                        realm_url.as_str(),
                        self.base
                    )));
                }
                let v: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
                    RegistryError::Remote(format!(
                        "the token service {} sent no token: {e}",
                        realm_url.as_str()
                    ))
                })?;
                let token = v["token"]
                    .as_str()
                    .or_else(|| v["access_token"].as_str())
                    .ok_or_else(|| {
                        RegistryError::Remote(format!(
                            "the token service {} sent no token",
                            realm_url.as_str()
                        ))
                    })?;
                self.set_auth(Auth::Bearer(token.to_string()));
                Ok(())
            }
            _ => Err(needs_login()),
        }
    }

    /// An error for a failed response: status, the registry's own error
    /// text (bounded), and the usual words for [`super::hint`].
    async fn failed(&self, what: &str, resp: reqwest::Response) -> RegistryError {
        let status = resp.status();
        let body: Vec<u8> = read_capped(resp, MAX_ERROR_BODY).await.unwrap_or_default();
        RegistryError::Remote(format!("{what}: {}", status_text(status, &body)))
    }

    /// Fetches manifest `reference` (a tag or a digest), reading at most
    /// `limit` bytes (≤ 4 MiB). Returns its bytes and the digest the
    /// registry claims for it (`Docker-Content-Digest`), if any.
    pub async fn manifest(
        &self,
        reference: &str,
        limit: u64,
    ) -> Result<(Vec<u8>, Option<String>), RegistryError> {
        let limit = limit.min(MAX_METADATA);
        let url = format!("{}/manifests/{reference}", self.base);
        let resp = self
            .get(&url, Some(&media::ACCEPTED.join(", ")), true)
            .await?;
        if !resp.status().is_success() {
            return Err(self.failed(&format!("manifest {reference}"), resp).await);
        }
        let said = resp
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        match read_capped(resp, limit).await {
            Ok(b) => Ok((b, said)),
            Err(Capped::Declared(n)) => Err(RegistryError::Remote(format!(
                "the registry announced a manifest for {reference} of {n} bytes, over the limit of {limit} bytes ({} MiB for any manifest, as registries enforce); refusing it without reading it",
                MAX_METADATA >> 20
            ))),
            Err(Capped::TooLong(n)) => Err(RegistryError::Remote(format!(
                "the registry sent a manifest for {reference} longer than the limit of {limit} bytes ({} MiB for any manifest, as registries enforce; read stopped at {n} bytes); refusing it",
                MAX_METADATA >> 20
            ))),
            Err(Capped::Http(e)) => Err(RegistryError::Remote(format!(
                "download of manifest {reference} failed: {}",
                causes(&e)
            ))),
        }
    }

    /// A small JSON document at `url` (at most 4 MiB), or `None` when the
    /// registry answers 404.
    async fn optional_json(
        &self,
        url: &str,
        accept: &str,
        what: &str,
    ) -> Result<Option<Vec<u8>>, RegistryError> {
        let resp = self.get(url, Some(accept), true).await?;
        if resp.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !resp.status().is_success() {
            return Err(self.failed(what, resp).await);
        }
        match read_capped(resp, MAX_METADATA).await {
            Ok(b) => Ok(Some(b)),
            Err(Capped::TooLong(n) | Capped::Declared(n)) => Err(RegistryError::Remote(format!(
                "the registry sent {what} of {n} bytes or more, over the limit of {} MiB; refusing it",
                MAX_METADATA >> 20
            ))),
            Err(Capped::Http(e)) => Err(RegistryError::Remote(format!(
                "download of {what} failed: {}",
                causes(&e)
            ))),
        }
    }

    /// The referrers API's index for `subject`, or `None` when the
    /// registry does not implement the API (404).
    pub async fn referrers_api(&self, subject: &Digest) -> Result<Option<Vec<u8>>, RegistryError> {
        let url = format!("{}/referrers/{subject}", self.base);
        self.optional_json(
            &url,
            media::OCI_INDEX,
            &format!("the referrers of {subject}"),
        )
        .await
    }

    /// Manifest `reference`, or `None` when the registry has no such tag.
    pub async fn optional_manifest(
        &self,
        reference: &str,
    ) -> Result<Option<Vec<u8>>, RegistryError> {
        let url = format!("{}/manifests/{reference}", self.base);
        self.optional_json(
            &url,
            &media::ACCEPTED.join(", "),
            &format!("manifest {reference}"),
        )
        .await
    }

    /// Fetches a small blob (a config) into memory: at most `d.size` bytes,
    /// checked against its descriptor.
    pub async fn small_blob(&self, d: &Desc) -> Result<Vec<u8>, RegistryError> {
        let url = format!("{}/blobs/{}", self.base, d.digest);
        let resp = self.get(&url, None, true).await?;
        if !resp.status().is_success() {
            return Err(self.failed(&format!("blob {}", d.digest), resp).await);
        }
        match read_capped(resp, d.size.min(MAX_METADATA)).await {
            Ok(b) => Ok(b),
            Err(Capped::TooLong(n) | Capped::Declared(n)) => Err(BlobError::WrongSize {
                digest: d.digest.clone(),
                expected: d.size,
                got: n.max(d.size.saturating_add(1)),
            }
            .into()),
            Err(Capped::Http(e)) => Err(RegistryError::Remote(format!(
                "download of {} failed: {}",
                d.digest,
                causes(&e)
            ))),
        }
    }

    /// Streams blob `d` into the store: refused before reading when the
    /// registry announces another length, stopped as soon as it sends more
    /// than `d.size` bytes, kept only if length and digest match.
    pub async fn blob(&self, blobs: &Blobs, d: &Desc) -> Result<(), RegistryError> {
        use std::io::Write;
        let url = format!("{}/blobs/{}", self.base, d.digest);
        let resp = self.get(&url, None, false).await?;
        if !resp.status().is_success() {
            return Err(self.failed(&format!("blob {}", d.digest), resp).await);
        }
        let wrong = |got: u64| {
            RegistryError::from(BlobError::WrongSize {
                digest: d.digest.clone(),
                expected: d.size,
                got,
            })
        };
        if let Some(n) = declared_length(&resp) {
            if n != d.size {
                return Err(wrong(n));
            }
        }
        let mut w = blobs.writer()?;
        let mut body = resp.bytes_stream();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| {
                RegistryError::Remote(format!("download of {} failed: {}", d.digest, causes(&e)))
            })?;
            let seen = w.written() + chunk.len() as u64;
            if seen > d.size {
                return Err(wrong(seen));
            }
            w.write_all(&chunk)?;
        }
        if w.written() != d.size {
            return Err(wrong(w.written()));
        }
        w.commit(Some(&d.digest))?;
        Ok(())
    }
}

/// Checks manifest bytes fetched by tag against what the reference pins
/// (`@digest`) or the registry claims; returns their digest.
pub fn manifest_digest(
    name: &str,
    bytes: &[u8],
    pinned: Option<&str>,
    said: Option<&str>,
) -> Result<Digest, RegistryError> {
    let actual = Digest::of(bytes);
    if let Some(expected) = pinned.or(said) {
        if expected != actual.to_string() {
            return Err(RegistryError::Remote(format!(
                "the registry sent a manifest for {name} that hashes to {actual}, not {expected}; refusing it"
            )));
        }
    }
    Ok(actual)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges() {
        let (s, p) = parse_challenge(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/debian:pull,push""#,
        );
        assert_eq!(s, "bearer");
        assert_eq!(
            p,
            vec![
                ("realm".into(), "https://auth.docker.io/token".into()),
                ("service".into(), "registry.docker.io".into()),
                ("scope".into(), "repository:library/debian:pull,push".into()),
            ]
        );
        let (s, p) = parse_challenge(r#"Basic realm="Registry Realm""#);
        assert_eq!((s.as_str(), p.len()), ("basic", 1));
        let (s, p) = parse_challenge("Bearer realm=http://x/t, service=y");
        assert_eq!(s, "bearer");
        assert_eq!(p[0].1, "http://x/t");
        assert_eq!(p[1], ("service".into(), "y".into()));
        assert_eq!(parse_challenge("").1, vec![]);
        assert_eq!(parse_challenge(r#"Bearer realm="unterminated"#).1.len(), 1);
    }

    #[test]
    fn error_bodies() {
        let body = br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#;
        assert_eq!(
            status_text(StatusCode::NOT_FOUND, body),
            "the registry answered 404 Not Found (MANIFEST_UNKNOWN: manifest unknown)"
        );
        assert_eq!(
            status_text(StatusCode::BAD_GATEWAY, b"<html>"),
            "the registry answered 502 Bad Gateway"
        );
    }

    #[test]
    fn pinned_digests() {
        let d = Digest::of(b"m").to_string();
        assert!(manifest_digest("x", b"m", Some(&d), None).is_ok());
        assert!(manifest_digest("x", b"m", None, Some(&d)).is_ok());
        assert!(manifest_digest("x", b"m", None, None).is_ok());
        let e = manifest_digest("x", b"other", Some(&d), None).unwrap_err();
        assert!(e.to_string().contains("refusing it"), "{e}");
    }
}
