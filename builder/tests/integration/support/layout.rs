//! Hand-written OCI image layouts for tests that need images no honest tool
//! would make: forged diff_ids, hostile layer entries, bombs. Layers are
//! given as raw (uncompressed) tar bytes and stored gzip-compressed.

use std::fs;
use std::io::Write;
use std::path::Path;

use mxbuild::image::compress::Compression;
use mxbuild::store::digest::Digest;

/// One raw tar entry: name bytes, type, link target, body.
pub type RawEntry<'a> = (&'a [u8], tar::EntryType, &'a [u8], &'a [u8]);

/// A tar made of raw entries (names the tar crate's setters would refuse
/// are written as they are), with mode 0644 unless `modes` says otherwise.
pub fn raw_tar(entries: &[RawEntry<'_>]) -> Vec<u8> {
    raw_tar_with_modes(entries, &[])
}

/// [`raw_tar`] with an explicit mode per entry (missing ones are 0644).
pub fn raw_tar_with_modes(entries: &[RawEntry<'_>], modes: &[u32]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, (name, kind, link, body)) in entries.iter().enumerate() {
        let mut h = tar::Header::new_ustar();
        h.as_old_mut().name[..name.len()].copy_from_slice(name);
        h.as_old_mut().linkname[..link.len()].copy_from_slice(link);
        h.set_entry_type(*kind);
        h.set_size(body.len() as u64);
        h.set_mode(modes.get(i).copied().unwrap_or(0o644));
        h.set_mtime(1_700_000_000);
        if matches!(kind, tar::EntryType::Block | tar::EntryType::Char) {
            h.set_device_major(8).unwrap();
            h.set_device_minor(0).unwrap();
        }
        h.set_cksum();
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(body);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.extend_from_slice(&[0u8; 1024]);
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut w = Compression::Gzip.writer(&mut out).unwrap();
        w.write_all(bytes).unwrap();
        w.finish_box().unwrap();
    }
    out
}

fn put(dir: &Path, bytes: &[u8]) -> (String, usize) {
    let d = Digest::of(bytes);
    fs::write(dir.join("blobs/sha256").join(d.hex()), bytes).unwrap();
    (d.to_string(), bytes.len())
}

/// The diff_id of an uncompressed layer.
pub fn diff_id(tar: &[u8]) -> String {
    Digest::of(tar).to_string()
}

/// Writes a one-platform (linux/amd64) image layout at `dir` with `layers`
/// (uncompressed tars, stored gzipped). The config lists `diff_ids` when
/// given (a forgery), else the real ones.
pub fn write_layout(dir: &Path, layers: &[Vec<u8>], diff_ids: Option<Vec<String>>) {
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
    fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let ids = diff_ids.unwrap_or_else(|| layers.iter().map(|l| diff_id(l)).collect());
    let descs: Vec<serde_json::Value> = layers
        .iter()
        .map(|l| {
            let (d, n) = put(dir, &gzip(l));
            serde_json::json!({
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": d, "size": n
            })
        })
        .collect();
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},
        "rootfs": {"type": "layers", "diff_ids": ids},
        "history": layers.iter().map(|_| serde_json::json!({"created_by": "test"})).collect::<Vec<_>>(),
    });
    let (cd, cn) = put(dir, config.to_string().as_bytes());
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cn},
        "layers": descs,
    });
    let (md, mn) = put(dir, manifest.to_string().as_bytes());
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": md, "size": mn,
            "platform": {"architecture": "amd64", "os": "linux"}
        }],
    });
    fs::write(dir.join("index.json"), index.to_string()).unwrap();
}
