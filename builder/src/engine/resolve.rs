//! Base images for a build: every `FROM image`, `COPY --from=image` and
//! `RUN --mount=from=image` is looked up in the local store first, then
//! pulled (only the platforms the build needs). The result is each image's
//! starting [`State`] and the digest + ENV the planner folds into keys.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Cursor;

use oci_spec::image::ImageIndex;
use xx::Platform;

use super::state::{LayerRec, State};
use crate::image::config::History;
use crate::image::manifest::{self, Node};
use crate::image::{checks, index};
use crate::plan::{ImageInfo, Resolver};
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
    // The store's images passed these checks on the way in; checked again
    // because a base image is the input every build trusts least.
    let image = format!("{index} ({p})");
    checks::manifest(&image, &desc.digest, &config, &layers, false).map_err(|e| e.to_string())?;
    let bytes = store
        .blobs
        .read(&config.digest)
        .map_err(|e| e.to_string())?;
    let facts = checks::config(&image, &desc.digest, &config.digest, &bytes, layers.len())
        .map_err(|e| e.to_string())?;
    // A stored layer of another size than its descriptor says: the
    // descriptor lies (the digest fixes the content). Missing layers are
    // reported when the layer is unpacked.
    for l in &layers {
        store
            .blobs
            .has_sized(&l.digest, l.size)
            .map_err(|e| format!("image {image}: {e}"))?;
    }
    let diff_ids: Vec<String> = facts.diff_ids.iter().map(ToString::to_string).collect();
    let config = facts.config.run;
    let history = facts.config.history;
    let history = normalize_history(history, layers.len());
    let layers: Vec<LayerRec> = layers
        .iter()
        .zip(&diff_ids)
        .map(|(l, d)| LayerRec {
            digest: Some(l.digest.to_string()),
            diff_id: d.clone(),
            size: l.size,
            media_type: l.media_type.clone(),
            epoch: None,
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

/// A base image's history with exactly one non-empty entry per layer, as
/// BuildKit makes it: history is optional in an image config (a minimal or
/// hand-made image has none), surplus layer entries become empty ones, and
/// missing ones are added after the rest (with an empty `created_by`).
fn normalize_history(mut history: Vec<History>, layers: usize) -> Vec<History> {
    let mut seen = 0;
    for h in &mut history {
        if !h.empty_layer {
            if seen == layers {
                h.empty_layer = true;
            } else {
                seen += 1;
            }
        }
    }
    history.extend((seen..layers).map(|_| History {
        created_by: String::new(),
        empty_layer: false,
    }));
    history
}

/// Finds or pulls every wanted image; with `refresh` (`--pull`) every
/// registry image is fetched again even when the store has it.
pub fn resolve(
    store: &Store,
    wanted: &BTreeSet<(String, String)>,
    pull: bool,
    refresh: bool,
    log: &mut dyn FnMut(&str),
) -> Result<Resolved, String> {
    let mut by_ref: BTreeMap<&str, Vec<Platform>> = BTreeMap::new();
    for (r, p) in wanted {
        let p: Platform = p.parse().map_err(|e: xx::PlatformError| e.to_string())?;
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
            .filter(|p| refresh || p.best_match(&have).is_none())
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

/// Answers the planner for `mxbuild plan`: images the local store already
/// has (never pulled, no layout imported; what is missing or unreadable is
/// not known, and the plan shows the steps the Dockerfile alone gives); no
/// URL or git source is fetched.
#[derive(Debug)]
pub struct LocalResolver<'a> {
    /// The store, when there is one.
    pub store: Option<&'a Store>,
}

impl Resolver for LocalResolver<'_> {
    fn image(&self, reference: &str, platform: &Platform) -> Result<Option<ImageInfo>, String> {
        let Some(store) = self.store else {
            return Ok(None);
        };
        let Ok(norm) = reference::normalize(reference) else {
            return Ok(None);
        };
        let Ok(Some(idx)) = store.refs.get(&norm) else {
            return Ok(None);
        };
        Ok(state_of(store, &idx, platform)
            .ok()
            .map(|(digest, state)| info(&digest, &state)))
    }
}

/// Answers the planner for a build: images from the store, pulled when
/// missing (if allowed), OCI layouts imported when the command line named
/// them. Each is resolved once per build and recorded (its starting state
/// too), so the build knows the images it used.
pub struct StoreResolver<'a> {
    store: &'a Store,
    pull: bool,
    /// `--pull`: fetch again what the store has.
    refresh: bool,
    /// `--build-context` sources: the only OCI layouts a build may read.
    named_contexts: &'a BTreeMap<String, String>,
    log: &'a dyn Fn(&str),
    got: RefCell<Resolved>,
}

impl std::fmt::Debug for StoreResolver<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreResolver")
            .field("pull", &self.pull)
            .finish()
    }
}

impl<'a> StoreResolver<'a> {
    /// A resolver over `store`; `log` gets progress lines.
    pub fn new(
        store: &'a Store,
        pull: bool,
        named_contexts: &'a BTreeMap<String, String>,
        log: &'a dyn Fn(&str),
    ) -> StoreResolver<'a> {
        StoreResolver {
            store,
            pull,
            refresh: false,
            named_contexts,
            log,
            got: RefCell::new(Resolved::default()),
        }
    }

    /// With `refresh`, every registry image is pulled again (`--pull`).
    pub fn refreshing(mut self, refresh: bool) -> Self {
        self.refresh = refresh;
        self
    }

    /// What was resolved.
    pub fn finish(self) -> Resolved {
        self.got.into_inner()
    }
}

/// Refuses to read an OCI layout the command line did not name. The planner
/// already refuses `oci-layout://` in a Dockerfile; this keeps a layout
/// import (which copies a directory of the machine into the store) tied to
/// `--build-context NAME=oci-layout://DIR` whatever path the name took.
pub fn only_flagged_layout(
    reference: &str,
    named_contexts: &BTreeMap<String, String>,
) -> Result<(), String> {
    if reference.starts_with("oci-layout://") && !named_contexts.values().any(|v| v == reference) {
        return Err(format!(
            "{reference}: an OCI layout can only be used through --build-context\nhint: --build-context NAME={reference}, then FROM NAME"
        ));
    }
    Ok(())
}

impl Resolver for StoreResolver<'_> {
    fn image(&self, reference: &str, platform: &Platform) -> Result<Option<ImageInfo>, String> {
        let key = format!("{reference}@{platform}");
        if let Some(info) = self.got.borrow().infos.get(&key) {
            return Ok(Some(info.clone()));
        }
        only_flagged_layout(reference, self.named_contexts)?;
        let wanted = BTreeSet::from([(reference.to_string(), platform.to_string())]);
        let more = resolve(
            self.store,
            &wanted,
            self.pull || self.refresh,
            self.refresh,
            &mut |s| (self.log)(s),
        )?;
        let mut got = self.got.borrow_mut();
        got.infos.extend(more.infos);
        got.states.extend(more.states);
        Ok(got.infos.get(&key).cloned())
    }
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
/// `DIR@sha256:…`) into the store, every blob checked (see
/// [`crate::image::layout`]); returns its index.
pub fn import_layout(store: &Store, spec: &str) -> Result<crate::store::digest::Digest, String> {
    crate::image::layout::import(&store.blobs, spec).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(created_by: &str, empty_layer: bool) -> History {
        History {
            created_by: created_by.to_string(),
            empty_layer,
        }
    }

    #[test]
    fn history_gets_one_layer_entry_per_layer() {
        // None at all (history is optional): one blank entry per layer.
        assert_eq!(
            normalize_history(Vec::new(), 2),
            vec![h("", false), h("", false)]
        );
        // Too many layer entries: the surplus ones become empty, in place.
        assert_eq!(
            normalize_history(vec![h("a", false), h("ENV", true), h("b", false)], 1),
            vec![h("a", false), h("ENV", true), h("b", true)]
        );
        // Right already: unchanged.
        let ok = vec![h("a", false), h("ENV", true)];
        assert_eq!(normalize_history(ok.clone(), 1), ok);
    }
}
