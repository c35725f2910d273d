//! Plain HTTP/1.1 requests to a real registry, for pushing lies to it that
//! no honest client would send.

use std::io::{Read, Write};
use std::net::TcpStream;

use mxbuild::store::digest::Digest;

use super::hostile_image::OCI_MANIFEST;

/// A plain HTTP/1.1 request (Connection: close) to `host`: status and
/// headers (lower-case names) and body. For pushing lies to docker-registry.
pub fn http(
    host: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut s = TcpStream::connect(host).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP response");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers, raw[split + 4..].to_vec())
}

/// Uploads a blob to a real registry (monolithic POST + PUT).
pub fn push_blob(host: &str, repo: &str, bytes: &[u8]) {
    let d = Digest::of(bytes).to_string();
    let (status, headers, _) = http(
        host,
        "POST",
        &format!("/v2/{repo}/blobs/uploads/"),
        &[],
        b"",
    );
    assert_eq!(status, 202, "upload start");
    let loc = headers
        .iter()
        .find(|(k, _)| k == "location")
        .map(|(_, v)| v.clone())
        .unwrap();
    let loc = loc
        .strip_prefix(&format!("http://{host}"))
        .unwrap_or(&loc)
        .to_string();
    let sep = if loc.contains('?') { '&' } else { '?' };
    let (status, _, body) = http(
        host,
        "PUT",
        &format!("{loc}{sep}digest={d}"),
        &[("Content-Type", "application/octet-stream")],
        bytes,
    );
    assert_eq!(
        status,
        201,
        "blob upload: {}",
        String::from_utf8_lossy(&body)
    );
}

/// PUTs a manifest under `tag`; returns the status (registries may refuse).
pub fn push_manifest(host: &str, repo: &str, tag: &str, manifest: &[u8]) -> u16 {
    let (status, _, _) = http(
        host,
        "PUT",
        &format!("/v2/{repo}/manifests/{tag}"),
        &[("Content-Type", OCI_MANIFEST)],
        manifest,
    );
    status
}
