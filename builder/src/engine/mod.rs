//! The build engine: runs a Dockerfile for several platforms. The
//! Dockerfile is planned once ([`planning`]: base images resolved as the
//! planner meets them, emulation checked, downloads fetched, contexts
//! filtered, keys computed), then stage instances run in parallel where they
//! do not depend on each other ([`schedule`]). Each step is looked up in the
//! step cache by its key first; a miss runs it ([`instance`]: RUN in the OCI
//! runtime over a [`snapshot::Snapshot`], COPY/ADD straight into one,
//! metadata in the config) and records the resulting state. The final state
//! of each target platform becomes an image, and the images one index. Every
//! host side effect goes through [`crate::exec::effects::Effects`].

mod ahead;
pub mod cache;
pub mod context_tree;
pub mod contexts;
pub mod copy;
pub mod critical;
mod ctx;
mod dedup;
pub mod downloads;
pub mod emulation;
mod error;
pub mod fetch;
pub mod git;
mod inspect;
mod instance;
pub mod layers;
pub mod lazy;
pub mod meta;
mod mounts;
mod no_cache;
pub mod output;
mod planning;
pub mod progress;
pub mod prune;
pub mod record;
pub mod resolve;
pub mod run;
mod schedule;
pub mod snapshot;
pub mod state;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;

use xx::Platform;

use crate::exec::Network;
use crate::exec::effects::Effects;
use crate::image::annotations::Annotations;
use crate::image::oci;
use crate::image::recompress::LayerPolicy;
use crate::store::Store;
use crate::store::digest::Digest;
use crate::store::steps::StepCache;
pub use ctx::Counts;
pub(crate) use ctx::Ctx;
pub use emulation::check_emulation;
pub use error::BuildError;
pub use inspect::{added_layer_dirs, smoke_test, with_view};
pub use planning::{check, key_inputs};
use progress::Progress;
use state::{LayerRec, State};

/// What to build.
#[derive(Debug, Clone)]
pub struct Options {
    /// The Dockerfile.
    pub dockerfile: PathBuf,
    /// How messages name the Dockerfile when not by its path (one read
    /// from stdin or a remote context lives in scratch space).
    pub dockerfile_name: Option<String>,
    /// The context directory.
    pub context: PathBuf,
    /// Target platforms.
    pub platforms: Vec<Platform>,
    /// `--target`.
    pub target: Option<String>,
    /// `--build-arg`.
    pub build_args: BTreeMap<String, String>,
    /// `--build-context NAME=SOURCE`.
    pub named_contexts: BTreeMap<String, String>,
    /// `--no-cache`.
    pub no_cache: bool,
    /// Pull missing base images from registries.
    pub pull: bool,
    /// `--pull`: fetch every base image from its registry again, even when
    /// the store has it (BuildKit's `image-resolve-mode=pull`).
    pub pull_always: bool,
    /// Parallel instances.
    pub jobs: usize,
    /// `--secret id=…,src=…`.
    pub secrets: BTreeMap<String, SecretSource>,
    /// `--ssh ID=SOCKET`: SSH agent sockets for RUN --mount=type=ssh.
    pub ssh: BTreeMap<String, PathBuf>,
    /// `--network`: the network of RUN steps that do not name one (`none`
    /// overrides the ones that do).
    pub network: Network,
    /// `--allow`: entitlements granted to RUN steps.
    pub allow: crate::plan::entitlements::Entitlements,
    /// `--cache-from type=local,src=DIR` / `type=registry,ref=REF`.
    pub cache_from: Vec<cache::CacheLocation>,
    /// `--cache-to`.
    pub cache_to: Option<cache::CacheTo>,
    /// `--label K=V`: set on the final image's config, over the
    /// Dockerfile's LABELs (BuildKit's `finalizeResultImage`).
    pub labels: BTreeMap<String, String>,
    /// `--annotation`: on the index, manifests and their descriptors.
    pub annotations: Annotations,
    /// Layer compression of the result (`-o …,compression=…`).
    pub layers: LayerPolicy,
    /// `--add-host`, `--ulimit`, `--shm-size`: given to every RUN step.
    pub run_extras: crate::exec::run_extras::RunExtras,
    /// The CPU QEMU emulates for each foreign platform (`QEMU_CPU`).
    pub qemu_cpus: crate::exec::qemu_cpu::QemuCpus,
    /// `--no-cache-filter`: stages whose steps are not taken from the
    /// cache (compared case-insensitively with stage names, as BuildKit).
    pub no_cache_filter: Vec<String>,
}

/// Where a `--secret` comes from; read when a step mounts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// `src=FILE`.
    File(PathBuf),
    /// `env=VAR`: this process's environment variable.
    Env(String),
}

impl SecretSource {
    /// The secret's bytes.
    pub fn read(&self) -> Result<Vec<u8>, String> {
        match self {
            SecretSource::File(p) => std::fs::read(p).map_err(|e| format!("{}: {e}", p.display())),
            SecretSource::Env(v) => std::env::var_os(v)
                .map(|s| s.into_encoded_bytes())
                .ok_or_else(|| format!("environment variable {v} is not set")),
        }
    }
}

/// What a build produced.
#[derive(Debug, Clone)]
pub struct Built {
    /// The image index in the store.
    pub index: Digest,
    /// Per platform: the manifest digest and the final state.
    pub images: Vec<(Platform, String, State)>,
    /// Steps that ran, came from the cache, or were shared with another
    /// instance of this build.
    pub counts: Counts,
    /// What each platform's image used and made, for attestations.
    pub record: record::Record,
    /// The chain of stage instances the build's end waited on.
    pub critical: critical::CriticalPath,
}

/// Runs a build.
pub fn build(
    store: &Store,
    fx: &dyn Effects,
    opts: &Options,
    progress: &Progress,
) -> Result<Built, BuildError> {
    let (plan, file, fetched, contexts) = planning::plan_build(store, opts, progress)?;
    let planning::Fetched {
        images: resolved,
        urls,
        git,
    } = fetched;
    progress.platforms(
        &plan
            .platforms
            .iter()
            .map(|p| {
                let emulated = plan.instances.iter().any(|i| {
                    i.emulated
                        && i.targets.contains(p)
                        && i.steps
                            .iter()
                            .any(|s| matches!(s.op, crate::plan::Op::Run { .. }))
                });
                (p.clone(), emulated)
            })
            .collect::<Vec<_>>(),
    );
    for w in &plan.warnings {
        progress.line(&format!(
            "warning: {file}:{}:{}: {} [{}] ({})",
            w.line, w.col, w.message, w.code, w.hint
        ));
    }
    let (no_cache, unknown) = no_cache::instances(&plan, &opts.no_cache_filter);
    for name in unknown {
        progress.line(&format!(
            "warning: --no-cache-filter {name}: no stage of this build has that name"
        ));
    }
    let (ahead, queue) = ahead::Ahead::new();
    let snapshots = layers::Snapshots::open(&store.root).map_err(|e| e.to_string())?;
    // Half-unpacked snapshots of builds killed mid-unpack (a full disk
    // included) would hold their space until a prune.
    snapshots.sweep_stale();
    let ctx = Ctx {
        store,
        fx,
        opts,
        plan: &plan,
        file,
        resolved: &resolved,
        snapshots,
        cache: StepCache::open(&store.root).map_err(|e| e.to_string())?,
        progress,
        context: contexts.main().to_path_buf(),
        trees: contexts.roots(),
        epoch: crate::image::time::source_date_epoch(),
        urls,
        git,
        finals: Mutex::new(vec![None; plan.instances.len()]),
        spans: Mutex::new(vec![None; plan.instances.len()]),
        inflight: dedup::InFlight::default(),
        abort: AtomicBool::new(false),
        counts: Mutex::new(Counts::default()),
        labels: crate::plan::labels::Labels::of(&plan),
        no_cache,
        ahead,
    };
    cache::import_all(&ctx)?;
    std::thread::scope(|s| {
        s.spawn(|| ahead::work(&ctx, queue));
        // The worker ends when the queue closes, however this ends (a
        // panic too: the scope waits for the worker before unwinding).
        let _closes = ahead::Closer(&ctx);
        run_and_write(&ctx)
    })
}

/// Runs the plan, exports the cache, writes the images (the blobs of their
/// layers are being made meanwhile, see [`ahead`]).
fn run_and_write(ctx: &Ctx) -> Result<Built, BuildError> {
    let ran = schedule::schedule(ctx).and_then(|()| Ok(cache::export_plan(ctx)?));
    // A failed build stops the worker too (it skips what is queued).
    let stop = |failed: bool| {
        if failed {
            ctx.abort.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    };
    stop(ran.is_err());
    ctx.ahead.close();
    let built = ran.and_then(|()| write_images(ctx));
    stop(built.is_err());
    built
}

/// `--label`s over the image's own labels (a new key is appended, an
/// existing one gets the new value in place).
fn set_labels(labels: &mut Vec<(String, String)>, extra: &BTreeMap<String, String>) {
    for (k, v) in extra {
        match labels.iter_mut().find(|(lk, _)| lk == k) {
            Some(l) => l.1 = v.clone(),
            None => labels.push((k.clone(), v.clone())),
        }
    }
}

/// With `--cache-to type=inline`, the config field holding the records of
/// final instance `fi`'s steps whose layers are in the image.
fn inline_cache(
    ctx: &Ctx,
    fi: usize,
    platform: &xx::Platform,
    layers: &[crate::image::layer::Layer],
) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    let mut fields = serde_json::Map::new();
    let Some(to) = &ctx.opts.cache_to else {
        return Ok(fields);
    };
    if to.location != cache::CacheLocation::Inline {
        return Ok(fields);
    }
    let keys: Vec<String> = ctx.plan.instances[fi]
        .steps
        .iter()
        .map(|s| s.key.clone())
        .collect();
    match cache::inline::records_for(&ctx.cache, &keys, layers)? {
        Some((records, n)) => {
            fields.insert(cache::inline::CONFIG_KEY.to_string(), records);
            ctx.progress.line(&format!(
                "exported {n} cached steps inline in the {platform} image"
            ));
        }
        None => ctx.progress.line(&format!(
            "warning: --cache-to type=inline: no step of the {platform} image has all its layers in it; nothing is cached inline"
        )),
    }
    Ok(fields)
}

/// One image per target platform from its final state (with `--label`s,
/// annotations and the layer policy of the outputs), and the index.
fn write_images(ctx: &Ctx) -> Result<Built, BuildError> {
    let created = crate::image::time::created_now();
    let opts = ctx.opts;
    let mut descs = Vec::new();
    let mut per_desc = Vec::new();
    let mut images = Vec::new();
    for (p, &fi) in opts.platforms.iter().zip(&ctx.plan.finals) {
        let st = ctx.state_of_instance(fi)?;
        let mut st = st;
        let t0 = std::time::Instant::now();
        let layers = st
            .layers
            .iter()
            .enumerate()
            .map(|(i, l)| {
                ctx.snapshots.blob_for_output(
                    &ctx.store.blobs,
                    l,
                    i >= st.base_layers,
                    &opts.layers,
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        // Blobs made here, or waited for, are export time the steps' own
        // durations do not show.
        let took = t0.elapsed();
        if took.as_millis() >= 100 {
            ctx.progress.line(&format!(
                "exporting layers of the {p} image: {:.1}s",
                took.as_secs_f64()
            ));
        }
        // The result's states name the blobs its images have.
        st.layers = layers.iter().map(LayerRec::of).collect();
        let mut config = st.config.clone();
        set_labels(&mut config.labels, &opts.labels);
        let extras = oci::Extras {
            annotations: Annotations::for_platform(&opts.annotations.manifest, p),
            config_fields: inline_cache(ctx, fi, p, &layers)?,
        };
        let d = oci::write_image_annotated(
            &ctx.store.blobs,
            p,
            &layers,
            &config,
            &st.history,
            Some(&created),
            &extras,
        )
        .map_err(|e| e.to_string())?;
        per_desc.push(Annotations::for_platform(
            &opts.annotations.manifest_descriptor,
            p,
        ));
        images.push((p.clone(), d.digest().to_string(), st));
        descs.push(d);
    }
    let (index, _) =
        oci::write_index_annotated(&ctx.store.blobs, descs, &opts.annotations.index, &per_desc)
            .map_err(|e| e.to_string())?;
    let counts = ctx.counts.lock().map(|c| *c).unwrap_or_default();
    Ok(Built {
        index,
        images,
        counts,
        record: record::of(ctx)?,
        critical: {
            let spans = ctx.spans.lock().map(|s| s.clone()).unwrap_or_default();
            critical::trace(ctx.plan, &ctx.labels, &spans, &ctx.progress.tally().steps)
        },
    })
}
