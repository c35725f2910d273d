//! Reading attestations back: from an OCI layout directory (the referrers
//! are manifests listed in its `index.json` whose `subject` is a platform
//! manifest) or a registry (the referrers API, else the fallback tag).
//! Everything read is untrusted: sizes are capped, digests checked.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::image::checks::MAX_METADATA;
use crate::image::manifest::{self, Desc, Node};
use crate::registry::Session;
use crate::store::digest::Digest;

/// Largest attestation layer read back (an SBOM of a large image).
const MAX_LAYER: u64 = 64 << 20;

/// One attestation found: its kind and its layers' (media type, bytes).
#[derive(Debug, Clone)]
pub struct Found {
    /// `artifactType` of the referrer.
    pub artifact_type: String,
    /// Layer media types and contents.
    pub layers: Vec<(String, Vec<u8>)>,
}

/// Where an image is read from.
pub enum Source {
    /// An OCI layout (a directory, or an archive of one) and the tag of
    /// the image in it.
    Layout(PathBuf, Option<String>),
    /// A registry reference.
    Registry(Box<oci_client::Reference>, Box<Session>),
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Layout(p, t) => write!(f, "Layout({}, {t:?})", p.display()),
            Source::Registry(r, _) => write!(f, "Registry({})", r.whole()),
        }
    }
}

/// Most entries looked at in an OCI archive.
const MAX_ARCHIVE_ENTRIES: usize = 100_000;

/// A file of a layout: `rel` under the directory `layout`, or the entry
/// `rel` of the archive `layout` (`-o type=oci,dest=FILE.tar`).
fn read_layout_file(layout: &Path, rel: &str, cap: u64) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let what = || format!("{}: {rel}", layout.display());
    if !layout.is_file() {
        return xx::verify::open::read_small(&layout.join(rel), false, cap).ok_or_else(|| {
            format!(
                "{}: missing, not a regular file, or over {cap} bytes",
                what()
            )
        });
    }
    let (file, _) = xx::verify::open::regular(layout, true)
        .map_err(|e| format!("{}: cannot open the archive ({e:?})", what()))?;
    let mut archive = tar::Archive::new(file);
    let entries = archive
        .entries_with_seek()
        .map_err(|e| format!("{}: {e}", what()))?;
    for entry in entries.take(MAX_ARCHIVE_ENTRIES) {
        let entry = entry.map_err(|e| format!("{}: {e}", what()))?;
        let matches =
            entry.path_bytes().as_ref() == rel.as_bytes() && entry.header().entry_type().is_file();
        if !matches {
            continue;
        }
        if entry.size() > cap {
            return Err(format!("{}: over {cap} bytes", what()));
        }
        let mut out = Vec::new();
        entry
            .take(cap)
            .read_to_end(&mut out)
            .map_err(|e| format!("{}: {e}", what()))?;
        return Ok(out);
    }
    Err(format!("{}: not in the archive", what()))
}

impl Source {
    /// `oci-layout://DIR[:TAG]` (DIR may be an OCI archive), or a
    /// registry reference.
    pub fn parse(s: &str, insecure: bool) -> Result<Source, String> {
        if let Some(rest) = s.strip_prefix("oci-layout://") {
            let (dir, tag) = match rest.rsplit_once(':') {
                Some((d, t)) if !t.contains('/') => (d, Some(t.to_string())),
                _ => (rest, None),
            };
            return Ok(Source::Layout(PathBuf::from(dir), tag));
        }
        let r = crate::registry::reference::parse(s)?;
        let session = Session::new(&r, insecure).map_err(|e| e.to_string())?;
        Ok(Source::Registry(Box::new(r), Box::new(session)))
    }

    fn blob(&self, d: &Digest, size: u64) -> Result<Vec<u8>, String> {
        match self {
            Source::Layout(dir, _) => {
                let b = read_layout_file(dir, &format!("blobs/sha256/{}", d.hex()), size)?;
                if Digest::of(&b) != *d {
                    return Err(format!(
                        "{}: blob {d} does not match its digest",
                        dir.display()
                    ));
                }
                Ok(b)
            }
            Source::Registry(r, s) => s
                .small_blob(
                    r,
                    &Desc {
                        media_type: String::new(),
                        digest: d.clone(),
                        size,
                        platform: None,
                        attestation: false,
                    },
                )
                .map_err(|e| e.to_string()),
        }
    }

    /// The bytes of the manifest or index the source names, as stored.
    pub fn top(&self) -> Result<Vec<u8>, String> {
        Ok(match self {
            Source::Layout(dir, tag) => {
                let idx = read_layout_file(dir, "index.json", MAX_METADATA)?;
                let v: Value = serde_json::from_slice(&idx)
                    .map_err(|e| format!("{}/index.json: {e}", dir.display()))?;
                let entries = v["manifests"].as_array().cloned().unwrap_or_default();
                let pick = entries.iter().find(|e| {
                    e["artifactType"].is_null()
                        && match tag {
                            Some(t) => {
                                e["annotations"]["org.opencontainers.image.ref.name"].as_str()
                                    == Some(t.as_str())
                            }
                            None => true,
                        }
                });
                let e = pick.ok_or_else(|| {
                    let tagged = tag.as_ref().map(|t| format!(" tagged {t}"));
                    format!(
                        "{}: no image{} in index.json",
                        dir.display(),
                        tagged.unwrap_or_default()
                    )
                })?;
                let d: Digest = e["digest"]
                    .as_str()
                    .unwrap_or_default()
                    .parse()
                    .map_err(|e| format!("index.json: {e}"))?;
                self.blob(&d, MAX_METADATA)?
            }
            Source::Registry(r, s) => s.top_manifest(r).map_err(|e| e.to_string())?,
        })
    }

    /// A manifest (or index) of the image by digest, checked.
    pub fn manifest(&self, d: &Digest) -> Result<Vec<u8>, String> {
        match self {
            Source::Layout(..) => self.blob(d, MAX_METADATA),
            Source::Registry(r, s) => s.manifest_by_digest(r, d).map_err(|e| e.to_string()),
        }
    }

    /// The config of the image manifest `d`, parsed.
    pub fn config(&self, d: &Digest) -> Result<Value, String> {
        let Node::Manifest { config, .. } =
            manifest::parse(&self.manifest(d)?).map_err(|e| e.to_string())?
        else {
            return Err(format!("{d} is an index, not an image manifest"));
        };
        let bytes = self.blob(&config.digest, config.size.min(MAX_METADATA))?;
        serde_json::from_slice(&bytes).map_err(|e| format!("config {}: {e}", config.digest))
    }

    /// The image's per-platform manifests (platform, digest).
    pub fn platforms(&self) -> Result<Vec<(String, Digest)>, String> {
        let top = self.top()?;
        match manifest::parse(&top).map_err(|e| e.to_string())? {
            Node::Index(list) => Ok(list
                .into_iter()
                .filter(|m| !m.attestation)
                .filter_map(|m| m.platform.map(|p| (p.to_string(), m.digest)))
                .collect()),
            Node::Manifest { .. } => Ok(vec![("".to_string(), Digest::of(&top))]),
        }
    }

    /// The referrers of `subject`: (digest, size, artifactType).
    fn referrers(&self, subject: &Digest) -> Result<Vec<(Digest, u64, String)>, String> {
        let descriptors: Vec<Value> = match self {
            Source::Layout(dir, _) => {
                let idx = read_layout_file(dir, "index.json", MAX_METADATA)?;
                let v: Value = serde_json::from_slice(&idx).map_err(|e| e.to_string())?;
                let mut out = Vec::new();
                for e in v["manifests"].as_array().into_iter().flatten() {
                    if e["artifactType"].is_null() {
                        continue;
                    }
                    let (Some(d), Some(size)) = (
                        e["digest"].as_str().and_then(|d| d.parse::<Digest>().ok()),
                        e["size"].as_u64(),
                    ) else {
                        continue;
                    };
                    // containerd's annotation names the subject; else the
                    // referrer manifest itself is read.
                    let named = &e["annotations"][super::referrer::LAYOUT_SUBJECT_ANNOTATION];
                    let of = match named.as_str() {
                        Some(s) => s.to_string(),
                        None => {
                            let m: Value =
                                serde_json::from_slice(&self.blob(&d, size.min(MAX_METADATA))?)
                                    .map_err(|e| e.to_string())?;
                            m["subject"]["digest"]
                                .as_str()
                                .unwrap_or_default()
                                .to_string()
                        }
                    };
                    if of == subject.to_string() {
                        out.push(e.clone());
                    }
                }
                out
            }
            Source::Registry(r, s) => {
                s.referrers(r, subject)
                    .map_err(|e| e.to_string())?
                    .descriptors
            }
        };
        Ok(descriptors
            .iter()
            .filter_map(|d| {
                Some((
                    d["digest"].as_str()?.parse().ok()?,
                    d["size"].as_u64()?,
                    d["artifactType"].as_str().unwrap_or_default().to_string(),
                ))
            })
            .collect())
    }

    /// Every attestation of one platform manifest.
    pub fn attestations(&self, subject: &Digest) -> Result<Vec<Found>, String> {
        let mut out = Vec::new();
        for (d, size, artifact_type) in self.referrers(subject)? {
            let m = match self {
                Source::Registry(..) => self.manifest(&d)?,
                Source::Layout(..) => self.blob(&d, size.min(MAX_METADATA))?,
            };
            let mut layers = Vec::new();
            for (media, ld, lsize) in super::referrer::layers_of(&m) {
                if lsize > MAX_LAYER {
                    return Err(format!(
                        "attestation layer {ld} has {lsize} bytes, over {MAX_LAYER}"
                    ));
                }
                layers.push((media, self.blob(&ld, lsize)?));
            }
            out.push(Found {
                artifact_type,
                layers,
            });
        }
        Ok(out)
    }
}
