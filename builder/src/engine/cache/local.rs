//! `--cache-to type=local,dest=DIR` and `--cache-from type=local,src=DIR`:
//! the cache manifest as an OCI image layout, so any OCI tool can copy it.

use std::fs;
use std::path::Path;

use super::super::layers::Snapshots;
use super::{put_records, records_manifest};
use crate::image::recompress::LayerPolicy;
use crate::store::blobs::Blobs;
use crate::store::digest::Digest;
use crate::store::steps::StepCache;

/// The records of `keys` and the layers they use, as an OCI image layout
/// (one manifest whose config holds the records and whose layers are the
/// blobs); returns the number of records.
pub fn export(
    blobs: &Blobs,
    (cache, snapshots): (&StepCache, &Snapshots),
    keys: &[String],
    dest: &Path,
    layers: &LayerPolicy,
) -> Result<usize, String> {
    let (mbytes, n) = records_manifest(blobs, (cache, snapshots), keys, layers)?;
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

/// Records and blobs from an export, every blob verified against its
/// digest on the way in; returns the number of records taken.
pub fn import(blobs: &Blobs, cache: &StepCache, src: &Path) -> Result<usize, String> {
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
    let config: serde_json::Value =
        serde_json::from_slice(&cbytes).map_err(|e| format!("cache config {cd}: {e}"))?;
    put_records(blobs, cache, &config["records"])
}
