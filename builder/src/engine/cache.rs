//! The step cache: a step's key (from the plan) maps to the image state
//! after it. Records are small JSON files under `<root>/cache/`, written
//! atomically; the blobs they name are kept by prune (see [`roots`]).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::state::State;
use crate::store::digest::Digest;

/// The cache directory of a store.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
}

fn file_name(key: &str) -> String {
    key.strip_prefix("sha256:")
        .unwrap_or(key)
        .replace(['/', '.'], "_")
}

impl Cache {
    /// Opens (creating) `<root>/cache`.
    pub fn open(root: &Path) -> std::io::Result<Cache> {
        let dir = root.join("cache");
        fs::create_dir_all(&dir)?;
        Ok(Cache { dir })
    }

    /// The state recorded for `key`, if any (a damaged record counts as a miss).
    pub fn get(&self, key: &str) -> Option<State> {
        let text = fs::read(self.dir.join(file_name(key))).ok()?;
        serde_json::from_slice(&text).ok()
    }

    /// Records `state` for `key`.
    pub fn put(&self, key: &str, state: &State) -> std::io::Result<()> {
        let name = file_name(key);
        // Unique per call: threads of one build never share a temp file.
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = self
            .dir
            .join(format!(".tmp-{}-{n}-{name}", std::process::id()));
        {
            let mut f = fs::File::create(&tmp)?;
            f.write_all(&serde_json::to_vec(state).map_err(std::io::Error::other)?)?;
            f.sync_all()?;
        }
        fs::rename(tmp, self.dir.join(name))
    }

    /// Every record's state (for prune and cache export).
    pub fn all(&self) -> Vec<(String, State)> {
        let Ok(rd) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        rd.flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with(".tmp-") {
                    let _ = fs::remove_file(e.path());
                    return None;
                }
                let s: State = serde_json::from_slice(&fs::read(e.path()).ok()?).ok()?;
                Some((name, s))
            })
            .collect()
    }
}

/// Blobs the cache keeps alive (its layers).
pub fn roots(root: &Path) -> Vec<Digest> {
    let Ok(cache) = Cache::open(root) else {
        return Vec::new();
    };
    cache
        .all()
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
    cache: &Cache,
    keys: &[String],
    dest: &Path,
) -> Result<usize, String> {
    let mut records = serde_json::Map::new();
    let mut layers: Vec<super::state::LayerRec> = Vec::new();
    for k in keys {
        if let Some(st) = cache.get(k) {
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
    cache: &Cache,
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
