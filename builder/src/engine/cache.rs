//! The step cache's records seen as image states (the cache itself is
//! [`crate::store::steps`]): the blobs they keep alive for prune, and
//! `--cache-to`/`--cache-from type=local` as an OCI layout.

use std::fs;
use std::path::Path;

use super::state::State;
use crate::store::digest::Digest;
use crate::store::steps::StepCache;

/// Blobs the cache keeps alive (its layers).
pub fn roots(root: &Path) -> Vec<Digest> {
    let Ok(cache) = StepCache::open(root) else {
        return Vec::new();
    };
    cache
        .all::<State>()
        .iter()
        .flat_map(|(_, s)| s.layers.iter().filter_map(|l| l.blob().ok()))
        .collect()
}

const CACHE_CONFIG: &str = "application/vnd.mxbuild.cache.config.v1+json";

/// Where cached steps are exported to or imported from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheLocation {
    /// `type=local`: an OCI layout directory.
    Local(std::path::PathBuf),
    /// `type=registry,ref=REF`: one manifest under REF's tag.
    Registry {
        /// The reference, as given.
        reference: String,
        /// Plain http (`--insecure`, or a loopback registry).
        insecure: bool,
    },
}

impl std::fmt::Display for CacheLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CacheLocation::Local(p) => write!(f, "{}", p.display()),
            CacheLocation::Registry { reference, .. } => write!(f, "{reference}"),
        }
    }
}

/// `--cache-to`: where, and which steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheTo {
    /// Where the records go.
    pub location: CacheLocation,
    /// `mode=max`: every step of the build; `mode=min` (the default, as
    /// BuildKit's): the steps of the stages that make the result.
    pub max: bool,
    /// `ignore-error=true`: a failed export is a warning.
    pub ignore_error: bool,
}

/// The cache of `keys` as one manifest: its config holds the step records
/// (media type [`CACHE_CONFIG`]), its layers are the blobs they use. The
/// config and manifest are written to `blobs`; returns the manifest's
/// bytes and the number of records.
fn records_manifest(
    blobs: &crate::store::blobs::Blobs,
    cache: &StepCache,
    keys: &[String],
) -> Result<(Vec<u8>, usize), String> {
    let mut records = serde_json::Map::new();
    let mut layers: Vec<super::state::LayerRec> = Vec::new();
    for k in keys {
        if let Some(st) = cache.get::<State>(k) {
            for l in &st.layers {
                if !layers.iter().any(|x| x.digest == l.digest) {
                    layers.push(l.clone());
                }
            }
            records.insert(
                k.clone(),
                serde_json::to_value(&st).map_err(|e| e.to_string())?,
            );
        }
    }
    for l in &layers {
        blobs.verify(&l.blob()?).map_err(|e| e.to_string())?;
    }
    let n = records.len();
    let config = serde_json::to_vec(&serde_json::json!({ "records": records }))
        .map_err(|e| e.to_string())?;
    let (cd, cs) = blobs.put(&config).map_err(|e| e.to_string())?;
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": CACHE_CONFIG, "digest": cd.to_string(), "size": cs},
        "layers": layers.iter().map(|l| serde_json::json!({"mediaType": l.media_type, "digest": l.digest, "size": l.size})).collect::<Vec<_>>(),
    });
    let bytes = serde_json::to_vec(&manifest).map_err(|e| e.to_string())?;
    blobs.put(&bytes).map_err(|e| e.to_string())?;
    Ok((bytes, n))
}

/// `--cache-to type=local,dest=DIR`: the records of `keys` and the layers
/// they use, as an OCI image layout (one manifest whose config holds the
/// records and whose layers are the blobs), so any OCI tool can copy it.
pub fn export_local(
    blobs: &crate::store::blobs::Blobs,
    cache: &StepCache,
    keys: &[String],
    dest: &Path,
) -> Result<usize, String> {
    let (mbytes, n) = records_manifest(blobs, cache, keys)?;
    let bdir = dest.join("blobs/sha256");
    fs::create_dir_all(&bdir).map_err(|e| format!("{}: {e}", bdir.display()))?;
    for d in
        crate::image::manifest::closure(blobs, &Digest::of(&mbytes)).map_err(|e| e.to_string())?
    {
        let target = bdir.join(d.hex());
        if !target.exists() {
            fs::copy(blobs.path(&d), &target).map_err(|e| e.to_string())?;
        }
    }
    let (md, ms) = (Digest::of(&mbytes), mbytes.len());
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": md.to_string(), "size": ms,
            "annotations": {"org.opencontainers.image.ref.name": "cache"},
        }],
    });
    fs::write(
        dest.join("index.json"),
        serde_json::to_vec(&index).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    fs::write(
        dest.join("oci-layout"),
        "{\"imageLayoutVersion\":\"1.0.0\"}",
    )
    .map_err(|e| e.to_string())?;
    Ok(n)
}

/// `--cache-to type=registry,ref=REF`: the same manifest, pushed under REF.
pub fn export_registry(
    store: &crate::store::Store,
    cache: &StepCache,
    keys: &[String],
    reference: &str,
    insecure: bool,
) -> Result<usize, String> {
    let (mbytes, n) = records_manifest(&store.blobs, cache, keys)?;
    let r = crate::registry::reference::parse(reference)?;
    let session = crate::registry::Session::new(&r, insecure).map_err(|e| e.to_string())?;
    session
        .push_stored_manifest(&store.blobs, &store.origins, &r, &mbytes)
        .map_err(|e| e.to_string())?;
    Ok(n)
}

/// Step records from a cache config (`{"records": {KEY: State}}`) into
/// the step cache, each only if every blob it names is in the store.
fn put_records(
    blobs: &crate::store::blobs::Blobs,
    cache: &StepCache,
    config: &[u8],
) -> Result<usize, String> {
    let config: serde_json::Value = serde_json::from_slice(config).map_err(|e| e.to_string())?;
    let mut n = 0;
    for (k, v) in config["records"].as_object().into_iter().flatten() {
        let Ok(st) = serde_json::from_value::<State>(v.clone()) else {
            continue;
        };
        let complete = st
            .layers
            .iter()
            .all(|l| l.blob().is_ok_and(|d| blobs.contains(&d)));
        if complete {
            cache.put(k, &st).map_err(|e| e.to_string())?;
            n += 1;
        }
    }
    Ok(n)
}

/// `--cache-from type=registry,ref=REF`: the records and their blobs,
/// every blob checked against its digest; `None` when REF does not exist.
pub fn import_registry(
    store: &crate::store::Store,
    cache: &StepCache,
    reference: &str,
    insecure: bool,
) -> Result<Option<usize>, String> {
    let r = crate::registry::reference::parse(reference)?;
    let session = crate::registry::Session::new(&r, insecure).map_err(|e| e.to_string())?;
    let Some(pulled) = session
        .pull_artifact(&store.blobs, &r)
        .map_err(|e| e.to_string())?
    else {
        return Ok(None);
    };
    let v: serde_json::Value =
        serde_json::from_slice(&pulled.manifest).map_err(|e| e.to_string())?;
    if v["config"]["mediaType"] != CACHE_CONFIG {
        return Err(format!(
            "{reference} is not an mxbuild cache (its config is {})",
            v["config"]["mediaType"]
        ));
    }
    put_records(&store.blobs, cache, &pulled.config).map(Some)
}

/// `--cache-from type=local,src=DIR`: records and blobs from an export,
/// every blob verified against its digest on the way in.
pub fn import_local(
    blobs: &crate::store::blobs::Blobs,
    cache: &StepCache,
    src: &Path,
) -> Result<usize, String> {
    let read_json = |p: &Path| -> Result<serde_json::Value, String> {
        serde_json::from_slice(&fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?)
            .map_err(|e| format!("{}: {e}", p.display()))
    };
    let index = read_json(&src.join("index.json"))?;
    let md: Digest = index["manifests"][0]["digest"]
        .as_str()
        .unwrap_or("")
        .parse()?;
    let bdir = src.join("blobs/sha256");
    let manifest = read_json(&bdir.join(md.hex()))?;
    if Digest::of(&fs::read(bdir.join(md.hex())).map_err(|e| e.to_string())?) != md {
        return Err(format!("cache manifest {md} is corrupt"));
    }
    let cd: Digest = manifest["config"]["digest"]
        .as_str()
        .unwrap_or("")
        .parse()?;
    let cbytes = fs::read(bdir.join(cd.hex())).map_err(|e| e.to_string())?;
    if Digest::of(&cbytes) != cd {
        return Err(format!("cache config {cd} is corrupt"));
    }
    for l in manifest["layers"].as_array().into_iter().flatten() {
        let d: Digest = l["digest"].as_str().unwrap_or("").parse()?;
        if !blobs.contains(&d) {
            let f = fs::File::open(bdir.join(d.hex())).map_err(|e| e.to_string())?;
            blobs.put_stream(f, Some(&d)).map_err(|e| e.to_string())?;
        }
    }
    put_records(blobs, cache, &cbytes)
}

/// `--cache-from`: every source given, into the build's step cache. A
/// registry cache that is missing or unusable is a warning, as in
/// BuildKit: the build runs without it (nothing unverified is kept).
pub(crate) fn import_all(ctx: &super::Ctx) -> Result<(), String> {
    for src in &ctx.opts.cache_from {
        let n = match src {
            CacheLocation::Local(dir) => import_local(&ctx.store.blobs, &ctx.cache, dir)
                .map_err(|e| format!("--cache-from {}: {e}", dir.display()))?,
            CacheLocation::Registry {
                reference,
                insecure,
            } => match import_registry(ctx.store, &ctx.cache, reference, *insecure) {
                Ok(Some(n)) => n,
                Ok(None) => {
                    ctx.progress.line(&format!(
                        "warning: --cache-from {reference}: not found; building without it"
                    ));
                    continue;
                }
                Err(e) => {
                    ctx.progress.line(&format!(
                        "warning: --cache-from {reference}: {e}; building without it"
                    ));
                    continue;
                }
            },
        };
        ctx.progress
            .line(&format!("imported {n} cached steps from {src}"));
    }
    Ok(())
}

/// The steps `--cache-to` exports: every step (`mode=max`), or those of the
/// instances that are the build's results (`mode=min`).
fn export_keys(plan: &crate::plan::Plan, max: bool) -> Vec<String> {
    plan.instances
        .iter()
        .enumerate()
        .filter(|(i, _)| max || plan.finals.contains(i))
        .flat_map(|(_, inst)| inst.steps.iter().map(|s| s.key.clone()))
        .collect()
}

/// `--cache-to`: the records of the plan's steps.
pub(crate) fn export_plan(ctx: &super::Ctx) -> Result<(), String> {
    let Some(to) = &ctx.opts.cache_to else {
        return Ok(());
    };
    let keys = export_keys(ctx.plan, to.max);
    let done = match &to.location {
        CacheLocation::Local(dest) => export_local(&ctx.store.blobs, &ctx.cache, &keys, dest),
        CacheLocation::Registry {
            reference,
            insecure,
        } => export_registry(ctx.store, &ctx.cache, &keys, reference, *insecure),
    };
    match done {
        Ok(n) => {
            ctx.progress
                .line(&format!("exported {n} cached steps to {}", to.location));
            Ok(())
        }
        Err(e) if to.ignore_error => {
            ctx.progress.line(&format!(
                "warning: --cache-to {}: {e} (ignore-error=true)",
                to.location
            ));
            Ok(())
        }
        Err(e) => Err(format!("--cache-to {}: {e}", to.location)),
    }
}
