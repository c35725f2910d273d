//! Base images for a build: every `FROM image`, `COPY --from=image` and
//! `RUN --mount=from=image` is looked up in the local store first, then
//! pulled (only the platforms the build needs). The result is each image's
//! starting [`State`] and the digest + ENV the planner folds into keys.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Cursor;

use oci_spec::image::ImageIndex;
use xx::Platform;

use super::state::{LayerRec, State};
use crate::image::config::{Healthcheck, History, RunConfig};
use crate::image::index;
use crate::image::manifest::{self, Node};
use crate::plan::{ImageInfo, Op, Plan, Source};
use crate::registry::{Session, reference};
use crate::store::Store;

/// What the build knows about its images, keyed `reference@platform`.
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    /// Starting state per image.
    pub states: BTreeMap<String, State>,
    /// For the planner.
    pub infos: BTreeMap<String, ImageInfo>,
}

/// Every (reference, platform) the plan reads.
pub fn wanted(plan: &Plan) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    let mut add = |s: &Source| {
        if let Source::Image {
            reference,
            platform,
        } = s
        {
            out.insert((reference.clone(), platform.clone()));
        }
    };
    for i in &plan.instances {
        add(&i.source);
        for s in &i.steps {
            match &s.op {
                Op::Copy { from, .. } => add(from),
                Op::Run { mounts, .. } => mounts
                    .iter()
                    .filter_map(|m| m.from.as_ref())
                    .for_each(&mut add),
                _ => {}
            }
        }
    }
    out
}

fn strings(v: &serde_json::Value) -> Option<Vec<String>> {
    v.as_array().map(|a| {
        a.iter()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect()
    })
}

fn keys(v: &serde_json::Value) -> Vec<String> {
    v.as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// The state an image starts a stage with (manifest digest and state).
pub fn state_of(
    store: &Store,
    index: &crate::store::digest::Digest,
    p: &Platform,
) -> Result<(String, State), String> {
    let desc = manifest::for_platform(&store.blobs, index, p).map_err(|e| e.to_string())?;
    let Node::Manifest { config, layers } =
        manifest::load(&store.blobs, &desc.digest).map_err(|e| e.to_string())?
    else {
        return Err(format!("{} is not an image manifest", desc.digest));
    };
    let cfg: serde_json::Value = serde_json::from_slice(
        &store
            .blobs
            .read(&config.digest)
            .map_err(|e| e.to_string())?,
    )
    .map_err(|e| format!("image config {}: {e}", config.digest))?;
    let diff_ids = strings(&cfg["rootfs"]["diff_ids"]).unwrap_or_default();
    if diff_ids.len() != layers.len() {
        return Err(format!(
            "image config {} lists {} diff_ids for {} layers",
            config.digest,
            diff_ids.len(),
            layers.len()
        ));
    }
    let c = &cfg["config"];
    let config = RunConfig {
        env: strings(&c["Env"]).unwrap_or_default(),
        cmd: strings(&c["Cmd"]),
        entrypoint: strings(&c["Entrypoint"]),
        working_dir: c["WorkingDir"]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        user: c["User"]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        labels: c["Labels"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                    .collect()
            })
            .unwrap_or_default(),
        exposed_ports: keys(&c["ExposedPorts"]),
        volumes: keys(&c["Volumes"]),
        stop_signal: c["StopSignal"].as_str().map(str::to_string),
        healthcheck: strings(&c["Healthcheck"]["Test"]).map(|t| {
            let h = &c["Healthcheck"];
            let d = |k: &str| h[k].as_u64().unwrap_or(0);
            Healthcheck {
                test: t,
                interval: d("Interval"),
                timeout: d("Timeout"),
                start_period: d("StartPeriod"),
                start_interval: d("StartInterval"),
                retries: h["Retries"].as_u64().unwrap_or(0) as u32,
            }
        }),
        on_build: strings(&c["OnBuild"]).unwrap_or_default(),
        shell: strings(&c["Shell"]),
    };
    let history = cfg["history"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|h| History {
                    created_by: h["created_by"].as_str().unwrap_or("").to_string(),
                    empty_layer: h["empty_layer"].as_bool().unwrap_or(false),
                })
                .collect()
        })
        .unwrap_or_default();
    let layers: Vec<LayerRec> = layers
        .iter()
        .zip(&diff_ids)
        .map(|(l, d)| LayerRec {
            digest: l.digest.to_string(),
            diff_id: d.clone(),
            size: l.size,
            media_type: l.media_type.clone(),
        })
        .collect();
    Ok((
        desc.digest.to_string(),
        State {
            base_layers: layers.len(),
            layers,
            config,
            history,
        },
    ))
}

/// Finds or pulls every wanted image.
pub fn resolve(
    store: &Store,
    wanted: &BTreeSet<(String, String)>,
    pull: bool,
    log: &mut dyn FnMut(&str),
) -> Result<Resolved, String> {
    let mut by_ref: BTreeMap<&str, Vec<Platform>> = BTreeMap::new();
    for (r, p) in wanted {
        let p: Platform = p.parse().map_err(|e| format!("{e}"))?;
        by_ref.entry(r.as_str()).or_default().push(p);
    }
    let mut out = Resolved::default();
    for (r, platforms) in by_ref {
        if let Some(spec) = r.strip_prefix("oci-layout://") {
            let idx = import_layout(store, spec)?;
            record(store, &mut out, r, &idx, &platforms)?;
            continue;
        }
        let norm = reference::normalize(r).map_err(|e| format!("FROM {r}: {e}"))?;
        let mut idx = store.refs.get(&norm).map_err(|e| e.to_string())?;
        let have: Vec<Platform> = match &idx {
            Some(i) => manifest::platforms(&store.blobs, i)
                .map_err(|e| e.to_string())?
                .into_iter()
                .map(|(p, _)| p)
                .collect(),
            None => Vec::new(),
        };
        // An older compatible variant counts (arm/v6 takes an arm/v5 image).
        let missing: Vec<Platform> = platforms
            .iter()
            .filter(|p| p.best_match(&have).is_none())
            .cloned()
            .collect();
        if !missing.is_empty() {
            let names = missing
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(",");
            if !pull {
                return Err(format!(
                    "image {r} ({names}) is not in the local store\nhint: `mxbuild image pull --platform {names} {r}` or `mxbuild image import`"
                ));
            }
            log(&format!("pulling {norm} for {names}"));
            let rf = reference::parse(r)?;
            let session = Session::new(&rf, false).map_err(|e| e.to_string())?;
            let pulled = session
                .pull(&store.blobs, &store.origins, &rf, Some(&missing), true)
                .map_err(|e| {
                    format!("{e}\nhint: images can also be imported with `mxbuild image import`")
                })?;
            let merged = match &idx {
                None => pulled.index,
                Some(old) => {
                    let new = ImageIndex::from_reader(Cursor::new(
                        store.blobs.read(&pulled.index).map_err(|e| e.to_string())?,
                    ))
                    .map_err(|e| e.to_string())?;
                    index::replace_platforms(&store.blobs, Some(old), new.manifests().clone())
                        .map_err(|e| e.to_string())?
                        .0
                }
            };
            store.refs.set(&norm, &merged).map_err(|e| e.to_string())?;
            idx = Some(merged);
        }
        let Some(idx) = idx else { continue };
        record(store, &mut out, r, &idx, &platforms)?;
    }
    Ok(out)
}

/// Planner info for the wanted images the local store already has, for
/// `mxbuild plan`: nothing is pulled, and what is missing or unreadable is
/// left out (the plan then shows the steps the Dockerfile alone gives).
pub fn local_infos(
    store: &Store,
    wanted: &BTreeSet<(String, String)>,
) -> BTreeMap<String, ImageInfo> {
    let mut out = BTreeMap::new();
    for (r, p) in wanted {
        let Ok(platform) = p.parse::<Platform>() else {
            continue;
        };
        let Ok(norm) = reference::normalize(r) else {
            continue;
        };
        let Ok(Some(idx)) = store.refs.get(&norm) else {
            continue;
        };
        if let Ok((digest, state)) = state_of(store, &idx, &platform) {
            out.insert(format!("{r}@{p}"), info(&digest, &state));
        }
    }
    out
}

/// Adds the state and planner info of `platforms` of the image `idx` (named `r`).
fn record(
    store: &Store,
    out: &mut Resolved,
    r: &str,
    idx: &crate::store::digest::Digest,
    platforms: &[Platform],
) -> Result<(), String> {
    for p in platforms {
        let (digest, state) = state_of(store, idx, p)?;
        let key = format!("{r}@{p}");
        out.infos.insert(key.clone(), info(&digest, &state));
        out.states.insert(key, state);
    }
    Ok(())
}

fn info(digest: &str, state: &State) -> ImageInfo {
    ImageInfo {
        digest: digest.to_string(),
        env: state
            .config
            .env
            .iter()
            .filter_map(|kv| {
                kv.split_once('=')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
            })
            .collect(),
        on_build: state.config.on_build.clone(),
        shell: state.config.shell.clone(),
    }
}

/// Brings an image from an OCI layout directory (`DIR`, `DIR:TAG` or
/// `DIR@sha256:…`) into the store, every blob verified; returns its index
/// (a single manifest is wrapped in one).
pub fn import_layout(store: &Store, spec: &str) -> Result<crate::store::digest::Digest, String> {
    use crate::store::digest::Digest;
    let (dir, tag, want): (&str, Option<&str>, Option<&str>) =
        if let Some((d, dg)) = spec.split_once('@') {
            (d, None, Some(dg))
        } else {
            match spec.rsplit_once(':') {
                Some((d, t)) if !t.contains('/') => (d, Some(t), None),
                _ => (spec, None, None),
            }
        };
    let dir = std::path::Path::new(dir);
    let top: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.join("index.json"))
            .map_err(|e| format!("oci-layout://{}: {e}", dir.display()))?,
    )
    .map_err(|e| format!("oci-layout://{}: index.json: {e}", dir.display()))?;
    let entries = top["manifests"].as_array().cloned().unwrap_or_default();
    let chosen = entries
        .iter()
        .find(|m| match (want, tag) {
            (Some(d), _) => m["digest"] == d,
            (None, Some(t)) => m["annotations"]["org.opencontainers.image.ref.name"] == t,
            (None, None) => entries.len() == 1,
        })
        .ok_or_else(|| format!("oci-layout://{spec}: no matching image (give :TAG or @DIGEST when the layout holds several)"))?;
    let blob_dir = dir.join("blobs/sha256");
    for e in std::fs::read_dir(&blob_dir).map_err(|e| format!("{}: {e}", blob_dir.display()))? {
        let e = e.map_err(|e| e.to_string())?;
        let Ok(d) = format!("sha256:{}", e.file_name().to_string_lossy()).parse::<Digest>() else {
            continue;
        };
        if !store.blobs.contains(&d) {
            let f = std::fs::File::open(e.path()).map_err(|e| e.to_string())?;
            store
                .blobs
                .put_stream(f, Some(&d))
                .map_err(|e| format!("oci-layout://{spec}: {e}"))?;
        }
    }
    let digest: Digest = chosen["digest"].as_str().unwrap_or("").parse()?;
    match manifest::load(&store.blobs, &digest).map_err(|e| e.to_string())? {
        Node::Index(_) => Ok(digest),
        Node::Manifest { config, .. } => {
            let cfg: serde_json::Value = serde_json::from_slice(
                &store
                    .blobs
                    .read(&config.digest)
                    .map_err(|e| e.to_string())?,
            )
            .map_err(|e| e.to_string())?;
            let p = Platform::new(
                cfg["os"].as_str().unwrap_or("linux"),
                cfg["architecture"].as_str().unwrap_or(""),
                cfg["variant"].as_str(),
            );
            let desc: oci_spec::image::Descriptor = serde_json::from_value(serde_json::json!({
                "mediaType": chosen["mediaType"].as_str().unwrap_or(crate::image::manifest::media::OCI_MANIFEST),
                "digest": digest.to_string(),
                "size": chosen["size"].as_u64().unwrap_or(0),
                "platform": {"os": p.os, "architecture": p.arch, "variant": p.variant},
            }))
            .map_err(|e| e.to_string())?;
            Ok(crate::image::oci::write_index(&store.blobs, vec![desc])
                .map_err(|e| e.to_string())?
                .0)
        }
    }
}
