//! `mxbuild build`: executes a plan. Base images are resolved (store, then
//! registry), the plan is made again with their digests and ENV, emulation
//! is checked before anything runs, then stage instances run in parallel
//! where they do not depend on each other. Each step is looked up in the
//! step cache by its key first; a miss runs it (RUN in the OCI runtime over
//! an overlay, COPY/ADD straight into the overlay, metadata in the config)
//! and records the resulting state. The final state of each target platform
//! becomes an image, and the images one index.

pub mod cache;
pub mod context_tree;
pub mod contexts;
pub mod copy;
mod ctx;
mod dedup;
pub mod downloads;
pub mod emulation;
pub mod fetch;
pub mod git;
mod inspect;
mod instance;
pub mod layers;
pub mod meta;
mod mounts;
pub mod output;
pub mod progress;
pub mod prune;
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
use crate::image::oci;
use crate::plan::Plan;
use crate::store::Store;
use crate::store::digest::Digest;
use crate::store::steps::StepCache;
pub(crate) use ctx::Ctx;
pub use emulation::check_emulation;
pub use inspect::{added_layer_dirs, smoke_test, with_view};
use progress::Progress;
use state::{LayerRec, State};

/// What to build.
#[derive(Debug, Clone)]
pub struct Options {
    /// The Dockerfile.
    pub dockerfile: PathBuf,
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
    /// Parallel instances.
    pub jobs: usize,
    /// `--secret id=…,src=…`.
    pub secrets: BTreeMap<String, PathBuf>,
    /// `--ssh ID=SOCKET`: SSH agent sockets for RUN --mount=type=ssh.
    pub ssh: BTreeMap<String, PathBuf>,
    /// `--network`: the network of RUN steps that do not name one (`none`
    /// overrides the ones that do).
    pub network: Network,
    /// `--allow`: entitlements granted to RUN steps.
    pub allow: crate::plan::entitlements::Entitlements,
    /// `--cache-from type=local,src=DIR`.
    pub cache_from: Vec<PathBuf>,
    /// `--cache-to type=local,dest=DIR`.
    pub cache_to: Option<PathBuf>,
}

/// What a build produced.
#[derive(Debug, Clone)]
pub struct Built {
    /// The image index in the store.
    pub index: Digest,
    /// Per platform: the manifest digest and the final state.
    pub images: Vec<(Platform, String, State)>,
    /// Steps executed and steps reused.
    pub executed: usize,
    /// Steps reused from the cache.
    pub cached: usize,
}

/// A build failure, already formatted (file:line, platform, command, output tail).
#[derive(Debug)]
pub struct BuildError(pub String);

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::error::Error for BuildError {}

impl From<String> for BuildError {
    fn from(s: String) -> Self {
        BuildError(s)
    }
}

/// Refuses to read an OCI layout the command line did not name. The planner
/// already refuses `oci-layout://` in a Dockerfile; this keeps a layout
/// import (which copies a directory of the machine into the store) tied to
/// `--build-context NAME=oci-layout://DIR` whatever path the name took.
fn only_flagged_layouts(
    wanted: &std::collections::BTreeSet<(String, String)>,
    opts: &Options,
) -> Result<(), String> {
    for (reference, _) in wanted {
        if reference.starts_with("oci-layout://")
            && !opts.named_contexts.values().any(|v| v == reference)
        {
            return Err(format!(
                "error: {reference}: an OCI layout can only be used through --build-context\nhint: --build-context NAME={reference}, then FROM NAME"
            ));
        }
    }
    Ok(())
}

/// Plans the build. With `contexts`, the keys hash the filtered context
/// trees; without, nothing of any context is read (the plan's shape, images
/// and URLs are all that is needed before the contexts are filtered).
fn plan_with(
    opts: &Options,
    contexts: Option<&contexts::Contexts>,
    images: BTreeMap<String, crate::plan::ImageInfo>,
    urls: BTreeMap<String, crate::plan::UrlInfo>,
    git: BTreeMap<String, String>,
) -> Result<(Plan, String), String> {
    let text = std::fs::read_to_string(&opts.dockerfile).map_err(|e| {
        format!(
            "error: cannot read {}: {e}\nhint: pass the Dockerfile with -f",
            opts.dockerfile.display()
        )
    })?;
    let shown = opts.dockerfile.display().to_string();
    let df = crate::dockerfile::parse(&text, &shown).map_err(|e| e.to_string())?;
    let popts = crate::plan::Options {
        platforms: opts.platforms.clone(),
        host: Platform::host(),
        target: opts.target.clone(),
        build_args: opts.build_args.clone(),
        // The planner hashes what the steps will read: the filtered trees.
        context: contexts.map(|c| c.main().to_path_buf()),
        named_contexts: match contexts {
            Some(c) => c.for_planner(&opts.named_contexts),
            None => opts.named_contexts.clone(),
        },
        images,
        urls,
        git,
        network: opts.network,
        allow: opts.allow,
    };
    let plan = crate::plan::plan(&df, &popts).map_err(|e| e.to_string())?;
    Ok((plan, shown))
}

/// Runs a build.
pub fn build(
    store: &Store,
    fx: &dyn Effects,
    opts: &Options,
    progress: &Progress,
) -> Result<Built, BuildError> {
    let host = Platform::host();
    let (first, _) = plan_with(
        opts,
        None,
        BTreeMap::new(),
        BTreeMap::new(),
        BTreeMap::new(),
    )?;
    // Before pulling anything or running any step.
    check_emulation(&first, &host)?;
    let mut wanted = resolve::wanted(&first);
    only_flagged_layouts(&wanted, opts)?;
    let mut resolved = resolve::resolve(store, &wanted, opts.pull, &mut |s| progress.line(s))?;
    let (mut plan, file) = plan_with(
        opts,
        None,
        resolved.infos.clone(),
        BTreeMap::new(),
        BTreeMap::new(),
    )?;
    // A base image's ONBUILD triggers (known only now) may name images of
    // their own (`COPY --from=img`): resolve those too, until nothing is new.
    loop {
        let more = resolve::wanted(&plan);
        if more.is_subset(&wanted) {
            break;
        }
        only_flagged_layouts(&more, opts)?;
        wanted.extend(more);
        resolved = resolve::resolve(store, &wanted, opts.pull, &mut |s| progress.line(s))?;
        plan = plan_with(
            opts,
            None,
            resolved.infos.clone(),
            BTreeMap::new(),
            BTreeMap::new(),
        )?
        .0;
    }
    // Triggers may add RUN steps to instances that had none.
    check_emulation(&plan, &host)?;
    // ADD URLs may use the base images' ENV, so they are known only now;
    // their content digests and commits then go into the final plan's keys.
    let urls = fetch::fetch(store, &fetch::wanted(&plan, &file), &mut |s| {
        progress.line(s)
    })?;
    let agent = opts.ssh.get("default").map(PathBuf::as_path);
    let git = git::fetch(store, &git::wanted(&plan, &file), agent, &mut |s| {
        progress.line(s)
    })?;
    // The plan's shape is final: filter the contexts its steps read, once,
    // and plan again with their content in the keys. From here on steps and
    // keys read only the filtered trees (removed when this returns), so no
    // ignored file reaches a step, whatever symlink or mount leads to it.
    let contexts = contexts::Contexts::prepare(
        &opts.context,
        &opts.dockerfile,
        &opts.named_contexts,
        &contexts::reads(&plan, &opts.named_contexts),
        &store.root.join("work"),
    )?;
    plan = plan_with(
        opts,
        Some(&contexts),
        resolved.infos.clone(),
        urls.clone(),
        git.clone(),
    )?
    .0;
    for w in &plan.warnings {
        progress.line(&format!(
            "warning: {file}:{}: {} ({})",
            w.line, w.message, w.hint
        ));
    }
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
        inflight: dedup::InFlight::default(),
        abort: AtomicBool::new(false),
        counts: Mutex::new((0, 0)),
    };
    cache::import_all(&ctx)?;
    schedule::schedule(&ctx)?;
    cache::export_plan(&ctx)?;
    write_images(&ctx)
}

/// One image per target platform from its final state, and the index.
fn write_images(ctx: &Ctx) -> Result<Built, BuildError> {
    let created = crate::image::time::created_now();
    let mut descs = Vec::new();
    let mut images = Vec::new();
    for (p, &fi) in ctx.opts.platforms.iter().zip(&ctx.plan.finals) {
        let st = ctx.state_of_instance(fi)?;
        let layers = st
            .layers
            .iter()
            .map(LayerRec::layer)
            .collect::<Result<Vec<_>, _>>()?;
        let d = oci::write_image(
            &ctx.store.blobs,
            p,
            &layers,
            &st.config,
            &st.history,
            Some(&created),
        )
        .map_err(|e| e.to_string())?;
        images.push((p.clone(), d.digest().to_string(), st));
        descs.push(d);
    }
    let (index, _) = oci::write_index(&ctx.store.blobs, descs).map_err(|e| e.to_string())?;
    let (executed, cached) = ctx.counts.lock().map(|c| *c).unwrap_or((0, 0));
    Ok(Built {
        index,
        images,
        executed,
        cached,
    })
}
