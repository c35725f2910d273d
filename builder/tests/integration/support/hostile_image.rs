//! Made-up images for the hostile tests: blobs, layers, configs and
//! manifests with whatever lies a test wants, written as an OCI layout; and
//! the check that a store holds only blobs that match their names.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use mxbuild::store::digest::Digest;
use serde_json::{Value, json};

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const OCI_TAR: &str = "application/vnd.oci.image.layer.v1.tar";

/// The `digest` of a descriptor.
pub fn digest(desc: &Value) -> String {
    desc["digest"].as_str().unwrap().to_string()
}

/// Blobs of an image being made up, by digest.
#[derive(Default, Clone)]
pub struct Bag {
    pub blobs: BTreeMap<String, Vec<u8>>,
}

impl Bag {
    /// Adds a blob; returns its digest and size.
    pub fn add(&mut self, bytes: &[u8]) -> (String, u64) {
        let d = Digest::of(bytes).to_string();
        self.blobs.insert(d.clone(), bytes.to_vec());
        (d, bytes.len() as u64)
    }

    /// A one-file uncompressed layer: its descriptor and diff_id.
    pub fn layer(&mut self, name: &str, content: &[u8]) -> (Value, String) {
        let tar = tar_of(name, content);
        let (d, size) = self.add(&tar);
        (json!({"mediaType": OCI_TAR, "digest": d, "size": size}), d)
    }

    /// A linux/amd64 config with these diff_ids: its descriptor.
    pub fn config(&mut self, diff_ids: &[String]) -> Value {
        let cfg = json!({
            "architecture": "amd64",
            "os": "linux",
            "config": {"Env": ["PATH=/usr/bin:/bin"]},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
        });
        let (d, size) = self.add(cfg.to_string().as_bytes());
        json!({"mediaType": OCI_CONFIG, "digest": d, "size": size})
    }

    /// A manifest over `config` and `layers`: its bytes (added to the bag)
    /// and descriptor.
    pub fn manifest(&mut self, config: &Value, layers: &[Value]) -> (Vec<u8>, Value) {
        let m = json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": config,
            "layers": layers,
        })
        .to_string()
        .into_bytes();
        let (d, size) = self.add(&m);
        (
            m,
            json!({"mediaType": OCI_MANIFEST, "digest": d, "size": size}),
        )
    }

    /// A good one-layer image with `/hello.txt`: its manifest descriptor.
    pub fn good(&mut self, text: &str) -> (Vec<u8>, Value) {
        let (l, id) = self.layer("hello.txt", text.as_bytes());
        let c = self.config(&[id]);
        self.manifest(&c, &[l])
    }

    /// Writes the bag as an OCI layout at `dir` whose index.json names
    /// `entry` (a manifest or index descriptor) as tag `latest`.
    pub fn write_layout(&self, dir: &Path, entry: &Value) {
        let b = dir.join("blobs/sha256");
        fs::create_dir_all(&b).unwrap();
        for (d, bytes) in &self.blobs {
            fs::write(b.join(d.trim_start_matches("sha256:")), bytes).unwrap();
        }
        let mut e = entry.clone();
        e["annotations"] = json!({"org.opencontainers.image.ref.name": "latest"});
        fs::write(
            dir.join("index.json"),
            json!({"schemaVersion": 2, "manifests": [e]}).to_string(),
        )
        .unwrap();
        fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    }
}

/// A tar with one regular file.
pub fn tar_of(name: &str, content: &[u8]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_ustar();
    h.set_path(name).unwrap();
    h.set_size(content.len() as u64);
    h.set_mode(0o644);
    h.set_mtime(0);
    h.set_cksum();
    b.append(&h, content).unwrap();
    b.into_inner().unwrap()
}

/// The path of blob `digest` in a layout or store directory.
pub fn blob_path(dir: &Path, digest: &str) -> PathBuf {
    dir.join("blobs/sha256")
        .join(digest.trim_start_matches("sha256:"))
}

/// Every blob in a store hashes to its name, none of `absent` is there,
/// and no temp file is left behind.
pub fn assert_store_clean(store: &Path, absent: &[&str]) {
    let dir = store.join("blobs/sha256");
    if let Ok(rd) = fs::read_dir(&dir) {
        for e in rd {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            let mut f = fs::File::open(e.path()).unwrap();
            let mut sha = <sha2::Sha256 as sha2::Digest>::new();
            std::io::copy(&mut f, &mut sha).unwrap();
            let hex: String = <sha2::Sha256 as sha2::Digest>::finalize(sha)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            assert_eq!(hex, name, "a stored blob does not match its name");
        }
    }
    for d in absent {
        assert!(
            !blob_path(store, d).exists(),
            "{d} was stored although it was refused"
        );
    }
    if let Ok(rd) = fs::read_dir(store.join("tmp")) {
        let left: Vec<_> = rd.map(|e| e.unwrap().file_name()).collect();
        assert!(left.is_empty(), "temp files left: {left:?}");
    }
}
