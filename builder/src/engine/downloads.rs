//! What earlier builds downloaded for `ADD <url>`: per URL, the blob, its
//! time and the server's validators (ETag, Last-Modified). A rebuild then
//! asks the server "changed since?" and reuses the blob on `304 Not
//! Modified`, and an `ADD --checksum` whose blob is already stored needs no
//! request at all, as in BuildKit. Records live in `<store>/downloads/`;
//! a record whose blob was pruned is ignored.

use std::fs;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::store::Store;
use crate::store::digest::Digest;

/// One URL's last download.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The URL (the file name is its hash).
    pub url: String,
    /// `sha256:…` of the content, a blob in the store.
    pub digest: String,
    /// Last-Modified as seconds since the epoch.
    pub mtime: Option<i64>,
    /// The server's `ETag`, sent back as `If-None-Match`.
    pub etag: Option<String>,
    /// The server's `Last-Modified`, sent back as `If-Modified-Since`.
    pub last_modified: Option<String>,
}

fn path(store: &Store, url: &str) -> PathBuf {
    let h: String = Sha256::digest(url.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    store.root.join("downloads").join(format!("{h}.json"))
}

/// The record of `url`, if there is one and its blob is still stored.
pub fn load(store: &Store, url: &str) -> Option<Record> {
    let r: Record = serde_json::from_slice(&fs::read(path(store, url)).ok()?).ok()?;
    let d: Digest = r.digest.parse().ok()?;
    (r.url == url && store.blobs.contains(&d)).then_some(r)
}

/// Saves `r` (atomically: a killed build leaves the old record or the new).
pub fn save(store: &Store, r: &Record) -> std::io::Result<()> {
    let p = path(store, &r.url);
    if let Some(dir) = p.parent() {
        fs::create_dir_all(dir)?;
    }
    let tmp = p.with_extension(format!("tmp{}", std::process::id()));
    fs::write(&tmp, serde_json::to_vec(r).map_err(std::io::Error::other)?)?;
    fs::rename(&tmp, &p)
}
