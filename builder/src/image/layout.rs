//! Importing an image from an OCI image layout directory (`oci-layout://DIR`,
//! `DIR:TAG` or `DIR@sha256:…`; an unpacked `oci-archive://` too) into the
//! store. The directory is named by the user, but its content is untrusted
//! (a layout from a download, an archive from anywhere):
//!
//! * only the blobs the chosen image reaches are read, through
//!   [`ingest`] (checked metadata first, stored last);
//! * each file is opened only if it is a regular file, not a symlink
//!   (`O_NOFOLLOW`), without blocking (`O_NONBLOCK`), and checked again on
//!   the open descriptor, so a FIFO, device or socket named like a blob is
//!   refused without being read, and swapping one in after the check fails;
//! * no read goes past the descriptor's size, and `index.json` is read to
//!   at most 4 MiB.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::checks::{self, MAX_METADATA};
use super::error::ImageError;
use super::ingest::{self, Source};
use super::manifest::{self, Desc, Node, media};
use super::oci::write_index;
use crate::store::blobs::Blobs;
use crate::store::digest::Digest;

/// An OCI layout directory being read.
#[derive(Debug)]
struct Layout {
    dir: PathBuf,
    name: String,
}

impl Layout {
    fn open(&self, d: &Desc) -> Result<File, ImageError> {
        let path = self.dir.join("blobs/sha256").join(d.digest.hex());
        open_regular(&path).map_err(|e| {
            ImageError::Spec(format!(
                "image {}: blob {}: {e}\nhint: the layout must hold every blob its manifests name, as regular files under blobs/sha256/",
                self.name, d.digest
            ))
        })
    }

    fn small(&self, d: &Desc) -> Result<Vec<u8>, ImageError> {
        let mut bytes = Vec::new();
        self.open(d)?
            .take(d.size.min(MAX_METADATA).saturating_add(1))
            .read_to_end(&mut bytes)?;
        ingest::verify(d, &bytes).map_err(|e| ingest::refused(&self.name, e))?;
        Ok(bytes)
    }
}

impl Source for Layout {
    type Error = ImageError;

    fn name(&self) -> &str {
        &self.name
    }

    fn manifest(&self, d: &Desc) -> Result<Vec<u8>, ImageError> {
        self.small(d)
    }

    fn config(&self, d: &Desc) -> Result<Vec<u8>, ImageError> {
        self.small(d)
    }

    fn layer(&self, blobs: &Blobs, d: &Desc) -> Result<(), ImageError> {
        blobs
            .put_sized(self.open(d)?, &d.digest, d.size)
            .map_err(|e| ingest::refused(&self.name, e))
    }
}

/// Opens `path` for reading only if it is a regular file (not a symlink),
/// without ever blocking on it, and checks the opened file is the one that
/// was looked at (xx's hostile-file opener, shared with xx-verify).
fn open_regular(path: &Path) -> io::Result<File> {
    use xx::verify::open::{NotOpened, regular};
    match regular(path, false) {
        Ok((f, _)) => Ok(f),
        Err(NotOpened::Missing) => Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{} does not exist", path.display()),
        )),
        Err(NotOpened::NotRegular(what)) => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is {what}, not a regular file; not read", path.display()),
        )),
        Err(NotOpened::Io(e)) => Err(io::Error::new(
            e.kind(),
            format!("{}: {e}; not read", path.display()),
        )),
    }
}

/// Splits `DIR`, `DIR:TAG` and `DIR@DIGEST`.
fn split(spec: &str) -> (&str, Option<&str>, Option<&str>) {
    if let Some((d, dg)) = spec.split_once('@') {
        return (d, None, Some(dg));
    }
    match spec.rsplit_once(':') {
        Some((d, t)) if !t.contains('/') => (d, Some(t), None),
        _ => (spec, None, None),
    }
}

/// Imports the image `spec` names from a layout into the store; returns
/// its index in the store (a single manifest is wrapped in a one-entry
/// index for the platform its config declares).
pub fn import(blobs: &Blobs, spec: &str) -> Result<Digest, ImageError> {
    let (dir, tag, want) = split(spec);
    let layout = Layout {
        dir: PathBuf::from(dir),
        name: format!("oci-layout://{spec}"),
    };
    let name = layout.name.as_str();
    let index_json = layout.dir.join("index.json");
    let mut top = Vec::new();
    open_regular(&index_json)
        .and_then(|f| f.take(MAX_METADATA + 1).read_to_end(&mut top))
        .map_err(|e| {
            ImageError::Spec(format!(
                "{name}: cannot read index.json: {e}\nhint: give a directory written by `-o type=oci`, skopeo or buildah (it has index.json, oci-layout and blobs/)"
            ))
        })?;
    if top.len() as u64 > MAX_METADATA {
        return Err(ImageError::Spec(format!(
            "{name}: index.json is larger than {} MiB; refusing it",
            MAX_METADATA >> 20
        )));
    }
    let top: Value = serde_json::from_slice(&top)
        .map_err(|e| ImageError::Spec(format!("{name}: index.json: {e}")))?;
    let entries = top["manifests"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    // Referrers (attestations, with an artifactType) sit beside images in
    // an OCI 1.1 layout; without a tag, the one image is meant.
    let images = entries
        .iter()
        .filter(|m| m["artifactType"].is_null())
        .count();
    let chosen = entries
        .iter()
        .find(|m| match (want, tag) {
            (Some(d), _) => m["digest"] == d,
            (None, Some(t)) => m["annotations"]["org.opencontainers.image.ref.name"] == t,
            (None, None) => images == 1 && m["artifactType"].is_null(),
        })
        .ok_or_else(|| {
            ImageError::Spec(format!(
                "{name}: no matching image (give :TAG or @DIGEST when the layout holds several)"
            ))
        })?;
    let root = Desc {
        media_type: chosen["mediaType"]
            .as_str()
            .unwrap_or(media::OCI_MANIFEST)
            .to_string(),
        digest: chosen["digest"]
            .as_str()
            .unwrap_or("")
            .parse()
            .map_err(|e| ImageError::Spec(format!("{name}: index.json: {e}")))?,
        size: chosen["size"].as_u64().ok_or_else(|| {
            ImageError::Spec(format!("{name}: index.json: the entry has no size"))
        })?,
        platform: None,
        attestation: false,
    };
    checks::index_entry(name, "index.json", &root)?;
    let bytes = layout.small(&root)?;
    match manifest::parse(&bytes)? {
        Node::Index(list) => {
            let within = format!("index {}", root.digest);
            let mut seen = std::collections::HashSet::new();
            for e in &list {
                if !seen.insert(&e.digest) {
                    continue;
                }
                let c = ingest::check_entry(&layout, blobs, &within, e)?;
                ingest::store(&layout, blobs, c)?;
            }
            blobs
                .put_sized(&bytes[..], &root.digest, root.size)
                .map_err(|e| ingest::refused(name, e))?;
            Ok(root.digest)
        }
        Node::Manifest { .. } => {
            let (platform, _) = ingest::manifest(&layout, blobs, &root.digest, &bytes, false)?;
            let p = platform.ok_or_else(|| {
                ImageError::Spec(format!("{name}: the image config names no platform"))
            })?;
            let desc: oci_spec::image::Descriptor = serde_json::from_value(serde_json::json!({
                "mediaType": root.media_type,
                "digest": root.digest.to_string(),
                "size": root.size,
                "platform": {"os": p.os, "architecture": p.arch, "variant": p.variant},
            }))
            .map_err(|e| ImageError::Spec(format!("{name}: {e}")))?;
            Ok(write_index(blobs, vec![desc])?.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn specs() {
        assert_eq!(split("/a/b"), ("/a/b", None, None));
        assert_eq!(split("/a/b:latest"), ("/a/b", Some("latest"), None));
        assert_eq!(split("/a/b@sha256:00"), ("/a/b", None, Some("sha256:00")));
        assert_eq!(split("rel:x/y"), ("rel:x/y", None, None));
    }

    #[test]
    fn only_regular_files_are_opened() {
        let dir = std::env::temp_dir().join(format!("mxbuild-layout-open-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("file"), "x").unwrap();
        std::os::unix::fs::symlink("file", dir.join("link")).unwrap();
        let fifo = std::ffi::CString::new(dir.join("fifo").to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        assert!(open_regular(&dir.join("file")).is_ok());
        for (n, what) in [
            ("link", "a symbolic link"),
            ("fifo", "a FIFO"),
            (".", "a directory"),
        ] {
            let e = open_regular(&dir.join(n)).unwrap_err().to_string();
            assert!(e.contains(what), "{n}: {e}");
        }
        let e = open_regular(Path::new("/dev/zero"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("character device"), "{e}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
