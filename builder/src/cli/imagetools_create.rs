//! `mxbuild imagetools create`: one index from per-platform images already
//! in a registry, as `docker buildx imagetools create` makes it: the merge
//! step of a build spread over native runners (each pushes its platform by
//! digest). Sources are tags, digests (`REPO@sha256:…`, or a bare
//! `sha256:…` in the first target's repository), indexes or single
//! manifests; every platform appears once. The index is pushed to every
//! `-t`, whose repository gets the manifests, their blobs (mounted, not
//! copied) and their attestations.

use std::collections::BTreeMap;
use std::path::PathBuf;

use oci_client::Reference;
use serde_json::{Value, json};

use crate::image::manifest::{self, Node, media};
use crate::registry::Session;
use crate::registry::copy::Copied;
use crate::store::digest::Digest;

/// `mxbuild imagetools create` flags.
#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// Reference of the new index (repeatable; it is pushed to each).
    #[arg(short = 't', long = "tag")]
    tags: Vec<String>,
    /// Keep the manifests the first -t already has, and add the sources'.
    #[arg(long)]
    append: bool,
    /// Print the index instead of pushing it.
    #[arg(long = "dry-run")]
    dry_run: bool,
    /// A file holding a source: a reference, a digest, or an OCI
    /// descriptor as JSON (repeatable).
    #[arg(short = 'f', long = "file")]
    files: Vec<PathBuf>,
    /// Keep only these platforms of the sources (repeatable, comma-separated).
    #[arg(short = 'p', long = "platform", value_delimiter = ',')]
    platforms: Vec<String>,
    /// Annotation `index:K=V` or `manifest-descriptor[PLATFORM]:K=V` (repeatable).
    #[arg(long = "annotation")]
    annotations: Vec<String>,
    /// Write the new index's descriptor and name as JSON to FILE.
    #[arg(long = "metadata-file")]
    metadata_file: Option<PathBuf>,
    /// Plain http for this registry.
    #[arg(long)]
    insecure: bool,
    /// Source images.
    sources: Vec<String>,
}

/// One manifest of the new index and the repository it comes from.
#[derive(Debug, Clone)]
struct Entry {
    descriptor: Value,
    digest: Digest,
    platform: Option<String>,
    from: Reference,
}

/// A source as written: a reference, or a bare digest in `base`'s
/// repository (the first `-t`).
fn source_ref(s: &str, base: Option<&Reference>) -> Result<Reference, String> {
    if s.starts_with("sha256:") {
        s.parse::<Digest>()
            .map_err(|e| format!("source {s:?}: {e}"))?;
        let base = base.ok_or_else(|| {
            format!("source {s}: a bare digest names a manifest in the -t repository; hint: add -t, or write REPO@{s}")
        })?;
        return Ok(Reference::with_digest(
            base.registry().to_string(),
            base.repository().to_string(),
            s.to_string(),
        ));
    }
    crate::registry::reference::parse(s).map_err(|e| format!("source {s:?}: {e}"))
}

fn platform_text(v: &Value) -> Option<String> {
    let os = v["os"].as_str()?;
    let arch = v["architecture"].as_str()?;
    let p = match v["variant"].as_str() {
        Some(var) if !var.is_empty() => format!("{os}/{arch}/{var}"),
        _ => format!("{os}/{arch}"),
    };
    p.parse::<xx::Platform>().ok().map(|p| p.to_string())
}

/// The manifests a source contributes: an index's entries, or a single
/// manifest with the platform its config names.
fn entries_of(session: &Session, r: &Reference) -> Result<Vec<Entry>, String> {
    let bytes = session.top_manifest(r).map_err(|e| e.to_string())?;
    let digest = Digest::of(&bytes);
    match manifest::parse(&bytes).map_err(|e| e.to_string())? {
        Node::Index(_) => {
            let v: Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
            let mut out = Vec::new();
            for d in v["manifests"].as_array().into_iter().flatten() {
                let digest: Digest = d["digest"]
                    .as_str()
                    .unwrap_or_default()
                    .parse()
                    .map_err(|e| format!("{}: {e}", r.whole()))?;
                out.push(Entry {
                    descriptor: d.clone(),
                    digest,
                    platform: platform_text(&d["platform"]).filter(|p| !p.starts_with("unknown")),
                    from: r.clone(),
                });
            }
            Ok(out)
        }
        Node::Manifest { config, .. } => {
            let c = session.small_blob(r, &config).map_err(|e| e.to_string())?;
            let c: Value = serde_json::from_slice(&c).map_err(|e| format!("config: {e}"))?;
            let platform = platform_text(&c).ok_or_else(|| {
                format!(
                    "{}: its config names no platform (os, architecture)",
                    r.whole()
                )
            })?;
            let p: xx::Platform = platform.parse().map_err(|e| format!("{e}"))?;
            let mut pv = json!({"os": p.os, "architecture": p.arch});
            if let Some(v) = &p.variant {
                pv["variant"] = json!(v);
            }
            Ok(vec![Entry {
                descriptor: json!({
                    "mediaType": manifest::media_type(&bytes).unwrap_or_else(|| media::OCI_MANIFEST.to_string()),
                    "digest": digest.to_string(),
                    "size": bytes.len(),
                    "platform": pv,
                }),
                digest,
                platform: Some(platform),
                from: r.clone(),
            }])
        }
    }
}

/// Every platform once: the same manifest twice is kept once; two
/// different manifests for one platform are an error.
fn merge(entries: Vec<Entry>) -> Result<Vec<Entry>, String> {
    let mut out: Vec<Entry> = Vec::new();
    let mut by_platform: BTreeMap<String, (Digest, String)> = BTreeMap::new();
    for e in entries {
        if out.iter().any(|o| o.digest == e.digest) {
            continue;
        }
        if let Some(p) = &e.platform {
            if let Some((d, from)) = by_platform.get(p) {
                return Err(format!(
                    "platform {p} is given twice: {d} (from {from}) and {} (from {})\nhint: pass one image per platform, or -p to keep some",
                    e.digest,
                    e.from.whole()
                ));
            }
            by_platform.insert(p.clone(), (e.digest.clone(), e.from.whole()));
        }
        out.push(e);
    }
    Ok(out)
}

/// The index JSON of the merged entries, with index and descriptor annotations.
fn index_json(
    entries: &[Entry],
    index_annotations: &BTreeMap<String, String>,
    descriptor_annotations: &[(Option<xx::Platform>, String, String)],
) -> Vec<u8> {
    let manifests: Vec<Value> = entries
        .iter()
        .map(|e| {
            let mut d = e.descriptor.clone();
            for (p, k, v) in descriptor_annotations {
                let applies = match (p, &e.platform) {
                    (None, _) => true,
                    (Some(p), Some(ep)) => p.to_string() == *ep,
                    (Some(_), None) => false,
                };
                if applies {
                    d["annotations"][k] = json!(v);
                }
            }
            d
        })
        .collect();
    let mut idx = json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_INDEX,
        "manifests": manifests,
    });
    if !index_annotations.is_empty() {
        idx["annotations"] = json!(index_annotations);
    }
    serde_json::to_vec_pretty(&idx).unwrap_or_default()
}

/// The sources given with `-f`: a reference or digest, or a descriptor.
fn file_sources(
    files: &[PathBuf],
    base: Option<&Reference>,
) -> Result<Vec<Result<Reference, Entry>>, String> {
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f).map_err(|e| format!("-f {}: {e}", f.display()))?;
        let text = text.trim();
        if !text.starts_with('{') {
            out.push(Ok(source_ref(text, base)?));
            continue;
        }
        let d: Value =
            serde_json::from_str(text).map_err(|e| format!("-f {}: {e}", f.display()))?;
        let from = base.cloned().ok_or_else(|| {
            format!(
                "-f {}: a descriptor names a manifest in the -t repository; hint: add -t",
                f.display()
            )
        })?;
        let digest: Digest = d["digest"]
            .as_str()
            .unwrap_or_default()
            .parse()
            .map_err(|e| format!("-f {}: digest: {e}", f.display()))?;
        if d["size"].as_u64().is_none() || d["mediaType"].as_str().is_none() {
            return Err(format!(
                "-f {}: a descriptor needs mediaType, digest and size",
                f.display()
            ));
        }
        out.push(Err(Entry {
            platform: platform_text(&d["platform"]),
            descriptor: d,
            digest,
            from,
        }));
    }
    Ok(out)
}

/// Runs `mxbuild imagetools create`.
pub fn run(a: &CreateArgs) -> Result<(), String> {
    if a.tags.is_empty() && !a.dry_run {
        return Err(
            "imagetools create needs -t REF (or --dry-run)\nhint: -t registry.example.com/me/app:1"
                .to_string(),
        );
    }
    if a.sources.is_empty() && a.files.is_empty() {
        return Err(
            "imagetools create: no source images\nhint: REPO@sha256:… or REPO:TAG, one per platform"
                .to_string(),
        );
    }
    let annotations = super::build_flags::annotations(&a.annotations)?;
    if !annotations.manifest.is_empty() {
        return Err("--annotation: imagetools create annotates the index (index:) and its descriptors (manifest-descriptor:), not manifests (as buildx)".to_string());
    }
    let base = a
        .tags
        .first()
        .map(|t| crate::registry::reference::parse(t))
        .transpose()?;
    let mut sources = a
        .sources
        .iter()
        .map(|s| source_ref(s, base.as_ref()).map(Ok))
        .collect::<Result<Vec<_>, _>>()?;
    sources.extend(file_sources(&a.files, base.as_ref())?);
    let first = match (&base, sources.first()) {
        (Some(b), _) => b.clone(),
        (None, Some(Ok(r))) => r.clone(),
        (None, _) => return Err("imagetools create: no source reference".to_string()),
    };
    let session = Session::new(&first, a.insecure).map_err(|e| e.to_string())?;
    let mut entries = Vec::new();
    if let (true, Some(b)) = (a.append, &base) {
        entries.extend(entries_of(&session, b)?);
    }
    for s in sources {
        match s {
            Ok(r) => entries.extend(entries_of(&session, &r)?),
            Err(e) => entries.push(e),
        }
    }
    if !a.platforms.is_empty() {
        let keep: Vec<String> = a
            .platforms
            .iter()
            .map(|p| {
                p.parse::<xx::Platform>()
                    .map(|p| p.to_string())
                    .map_err(|e| format!("--platform {p}: {e}"))
            })
            .collect::<Result<_, _>>()?;
        entries.retain(|e| e.platform.as_ref().is_some_and(|p| keep.contains(p)));
    }
    let entries = merge(entries)?;
    let index = index_json(
        &entries,
        &annotations.index,
        &annotations.manifest_descriptor,
    );
    if a.dry_run {
        super::stdout::emit(&index);
        super::stdout::emit(b"\n");
        return Ok(());
    }
    push(a, &entries, &index)
}

/// Pushes the index to every `-t`, the manifests it names copied first.
fn push(a: &CreateArgs, entries: &[Entry], index: &[u8]) -> Result<(), String> {
    let digest = Digest::of(index);
    let store = super::image::open_shared()?;
    for t in &a.tags {
        let target = crate::registry::reference::parse(t)?;
        let session = Session::new(&target, a.insecure).map_err(|e| e.to_string())?;
        let mut copied = Copied::default();
        for e in entries {
            session
                .copy_manifest(
                    &store.blobs,
                    &store.origins,
                    &e.from,
                    &target,
                    &e.digest,
                    &mut copied,
                )
                .map_err(|e| e.to_string())?;
        }
        session
            .put_index(&target, index)
            .map_err(|e| e.to_string())?;
        println!(
            "created {} {digest} ({} platforms; {} blobs mounted, {} already there, {} uploaded)",
            target.whole(),
            entries.iter().filter(|e| e.platform.is_some()).count(),
            copied.mounted,
            copied.existing,
            copied.uploaded
        );
    }
    if let (Some(f), Some(first)) = (&a.metadata_file, a.tags.first()) {
        let name = crate::registry::reference::parse(first)?;
        let meta = json!({
            "containerimage.descriptor": {
                "mediaType": media::OCI_INDEX,
                "digest": digest.to_string(),
                "size": index.len(),
            },
            "image.name": format!("{}/{}", name.resolve_registry(), name.repository()),
        });
        std::fs::write(f, serde_json::to_vec_pretty(&meta).unwrap_or_default())
            .map_err(|e| format!("--metadata-file {}: {e}", f.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(digest: &str, platform: &str) -> Entry {
        Entry {
            descriptor: json!({"digest": digest}),
            digest: digest.parse().unwrap(),
            platform: Some(platform.to_string()),
            from: Reference::with_tag("r".into(), "a".into(), "1".into()),
        }
    }

    #[test]
    fn a_platform_once() {
        let a = format!("sha256:{}", "a".repeat(64));
        let b = format!("sha256:{}", "b".repeat(64));
        let merged = merge(vec![
            entry(&a, "linux/amd64"),
            entry(&a, "linux/amd64"),
            entry(&b, "linux/arm64"),
        ])
        .unwrap();
        assert_eq!(merged.len(), 2);
        let e = merge(vec![entry(&a, "linux/amd64"), entry(&b, "linux/amd64")]).unwrap_err();
        assert!(e.contains("platform linux/amd64 is given twice"), "{e}");
    }

    #[test]
    fn descriptor_annotations_by_platform() {
        let a = format!("sha256:{}", "a".repeat(64));
        let idx = index_json(
            &[entry(&a, "linux/amd64")],
            &BTreeMap::from([("k".to_string(), "v".to_string())]),
            &[
                (Some("linux/amd64".parse().unwrap()), "d".into(), "1".into()),
                (Some("linux/arm64".parse().unwrap()), "x".into(), "2".into()),
            ],
        );
        let v: Value = serde_json::from_slice(&idx).unwrap();
        assert_eq!(v["annotations"]["k"], "v");
        assert_eq!(v["manifests"][0]["annotations"]["d"], "1");
        assert!(v["manifests"][0]["annotations"]["x"].is_null());
    }
}
