//! The step cache's records seen as image states (the cache itself is
//! [`crate::store::steps`]): the blobs they keep alive for prune, and
//! `--cache-to`/`--cache-from`: one manifest whose config holds the records
//! and whose layers are their blobs, as an OCI layout ([`local`]) or under
//! a registry tag ([`registry`]), or the records inside the image's own
//! configs ([`inline`]).

pub mod inline;
pub mod local;
pub mod registry;

use super::state::State;
use crate::store::steps::StepCache;

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
    /// `--cache-to type=inline`: in each image's config.
    Inline,
}

impl std::fmt::Display for CacheLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CacheLocation::Local(p) => write!(f, "{}", p.display()),
            CacheLocation::Registry { reference, .. } => write!(f, "{reference}"),
            CacheLocation::Inline => write!(f, "the image (inline)"),
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
    /// `compression=`, `compression-level=`, `force-compression=`: the
    /// layers as the cache holds them (as an output's, see
    /// [`crate::image::recompress`]).
    pub layers: crate::image::recompress::LayerPolicy,
}

/// The cache of `keys` as one manifest: its config holds the step records
/// (media type [`CACHE_CONFIG`]), its layers are the blobs they use, each
/// compressed as `policy` wants (the records name the blobs as written). The
/// config and manifest are written to `blobs`; returns the manifest's
/// bytes and the number of records.
fn records_manifest(
    blobs: &crate::store::blobs::Blobs,
    (cache, snapshots): (&StepCache, &super::layers::Snapshots),
    keys: &[String],
    policy: &crate::image::recompress::LayerPolicy,
) -> Result<(Vec<u8>, usize), String> {
    let states: Vec<(String, State)> = keys
        .iter()
        .filter_map(|k| cache.get::<State>(k).map(|st| (k.clone(), st)))
        .collect();
    // The build's own layers (above some record's base image layers) take
    // `compression=`; the base image's only with `force-compression`.
    let built: std::collections::HashSet<String> = states
        .iter()
        .flat_map(|(_, st)| st.layers.iter().skip(st.base_layers))
        .map(|l| l.diff_id.clone())
        .collect();
    // By diff_id: a build layer may have no blob yet (it is made here).
    let mut converted: Vec<(String, super::state::LayerRec)> = Vec::new();
    let mut records = serde_json::Map::new();
    for (k, mut st) in states {
        for l in &mut st.layers {
            let new = match converted.iter().find(|(d, _)| *d == l.diff_id) {
                Some((_, n)) => n.clone(),
                None => {
                    if let Some(d) = l.blob().ok().filter(|d| blobs.contains(d)) {
                        blobs.verify(&d).map_err(|e| e.to_string())?;
                    }
                    let layer =
                        snapshots.blob_for_output(blobs, l, built.contains(&l.diff_id), policy)?;
                    let n = super::state::LayerRec::of(&layer);
                    converted.push((l.diff_id.clone(), n.clone()));
                    n
                }
            };
            *l = new;
        }
        records.insert(k, serde_json::to_value(&st).map_err(|e| e.to_string())?);
    }
    let mut layers: Vec<super::state::LayerRec> = Vec::new();
    for (_, n) in converted {
        if !layers.iter().any(|x| x.digest == n.digest) {
            layers.push(n);
        }
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

/// Step records (`{KEY: State}`) into the step cache, each only if every
/// blob it names is in the store (entries that do not parse are skipped).
fn put_records(
    blobs: &crate::store::blobs::Blobs,
    cache: &StepCache,
    records: &serde_json::Value,
) -> Result<usize, String> {
    let mut n = 0;
    for (k, v) in records.as_object().into_iter().flatten() {
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

/// `--cache-from`: every source given, into the build's step cache. A
/// registry cache that is missing or unusable is a warning, as in
/// BuildKit: the build runs without it (nothing unverified is kept).
pub(crate) fn import_all(ctx: &super::Ctx) -> Result<(), String> {
    for src in &ctx.opts.cache_from {
        let n = match src {
            CacheLocation::Local(dir) => local::import(&ctx.store.blobs, &ctx.cache, dir)
                .map_err(|e| format!("--cache-from {}: {e}", dir.display()))?,
            // Only --cache-to takes type=inline (the CLI refuses it here).
            CacheLocation::Inline => continue,
            CacheLocation::Registry {
                reference,
                insecure,
            } => match registry::import(
                ctx.store,
                &ctx.cache,
                reference,
                *insecure,
                &ctx.opts.platforms,
            ) {
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
        CacheLocation::Local(dest) => {
            let stores = (&ctx.cache, &ctx.snapshots);
            local::export(&ctx.store.blobs, stores, &keys, dest, &to.layers)
        }
        CacheLocation::Registry {
            reference,
            insecure,
        } => registry::export(
            ctx.store,
            (&ctx.cache, &ctx.snapshots),
            &keys,
            reference,
            *insecure,
            &to.layers,
        ),
        // Written into each image's config as the images are (see
        // write_images and inline::records_for).
        CacheLocation::Inline => return Ok(()),
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
