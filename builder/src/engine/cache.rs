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

/// `--cache-to type=local,dest=DIR`: the records of `keys` and the layers
/// they use, as an OCI image layout (one manifest whose config holds the
/// records and whose layers are the blobs), so any OCI tool can copy it.
pub fn export_local(
    blobs: &crate::store::blobs::Blobs,
    cache: &StepCache,
    keys: &[String],
    dest: &Path,
) -> Result<usize, String> {
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
    let n = records.len();
    let bdir = dest.join("blobs/sha256");
    fs::create_dir_all(&bdir).map_err(|e| format!("{}: {e}", bdir.display()))?;
    let put = |bytes: &[u8]| -> Result<(Digest, u64), String> {
        let d = Digest::of(bytes);
        fs::write(bdir.join(d.hex()), bytes).map_err(|e| e.to_string())?;
        Ok((d, bytes.len() as u64))
    };
    for l in &layers {
        let d = l.blob()?;
        blobs.verify(&d).map_err(|e| e.to_string())?;
        let target = bdir.join(d.hex());
        if !target.exists() {
            fs::copy(blobs.path(&d), &target).map_err(|e| e.to_string())?;
        }
    }
    let config = serde_json::to_vec(&serde_json::json!({ "records": records }))
        .map_err(|e| e.to_string())?;
    let (cd, cs) = put(&config)?;
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": CACHE_CONFIG, "digest": cd.to_string(), "size": cs},
        "layers": layers.iter().map(|l| serde_json::json!({"mediaType": l.media_type, "digest": l.digest, "size": l.size})).collect::<Vec<_>>(),
    });
    let mbytes = serde_json::to_vec(&manifest).map_err(|e| e.to_string())?;
    let (md, ms) = put(&mbytes)?;
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
    let config: serde_json::Value = serde_json::from_slice(&cbytes).map_err(|e| e.to_string())?;
    let mut n = 0;
    for (k, v) in config["records"].as_object().into_iter().flatten() {
        if let Ok(st) = serde_json::from_value::<State>(v.clone()) {
            cache.put(k, &st).map_err(|e| e.to_string())?;
            n += 1;
        }
    }
    Ok(n)
}

/// `--cache-from`: every source given, into the build's step cache.
pub(crate) fn import_all(ctx: &super::Ctx) -> Result<(), String> {
    for src in &ctx.opts.cache_from {
        let n = import_local(&ctx.store.blobs, &ctx.cache, src)
            .map_err(|e| format!("--cache-from {}: {e}", src.display()))?;
        ctx.progress
            .line(&format!("imported {n} cached steps from {}", src.display()));
    }
    Ok(())
}

/// `--cache-to`: the records of every step of the plan.
pub(crate) fn export_plan(ctx: &super::Ctx) -> Result<(), String> {
    let Some(dest) = &ctx.opts.cache_to else {
        return Ok(());
    };
    let keys: Vec<String> = ctx
        .plan
        .instances
        .iter()
        .flat_map(|i| i.steps.iter().map(|s| s.key.clone()))
        .collect();
    let n = export_local(&ctx.store.blobs, &ctx.cache, &keys, dest)
        .map_err(|e| format!("--cache-to {}: {e}", dest.display()))?;
    ctx.progress
        .line(&format!("exported {n} cached steps to {}", dest.display()));
    Ok(())
}
