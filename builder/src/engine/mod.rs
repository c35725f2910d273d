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
pub mod downloads;
pub mod fetch;
pub mod git;
pub mod meta;
pub mod output;
pub mod progress;
pub mod resolve;
pub mod run;
mod rw_bind;
pub mod snapshot;
pub mod state;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use xx::Platform;

use crate::exec::{Network, Runtime, binfmt, mounts::Overlay};
use crate::image::config::History;
use crate::image::layer::{self, LayerOptions};
use crate::image::oci;
use crate::plan::{Instance, Op, Plan, Source, Step};
use crate::store::Store;
use crate::store::digest::Digest;
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

/// Everything the workers share.
pub(crate) struct Ctx<'a> {
    pub store: &'a Store,
    pub runtime: &'a dyn Runtime,
    pub opts: &'a Options,
    pub plan: &'a Plan,
    pub file: String,
    pub resolved: &'a resolve::Resolved,
    pub snapshots: snapshot::Snapshots,
    pub cache: cache::Cache,
    pub progress: &'a Progress,
    /// The main context as steps see it: its filtered tree.
    pub context: PathBuf,
    /// Every filtered tree of this build (main and named directory contexts).
    pub trees: Vec<PathBuf>,
    pub epoch: Option<i64>,
    /// What `ADD <url>` steps downloaded (URL -> blob), see [`fetch`].
    pub urls: BTreeMap<String, crate::plan::UrlInfo>,
    /// What `ADD <git URL>` steps fetched (source -> commit), see [`git`].
    pub git: BTreeMap<String, String>,
    finals: Mutex<Vec<Option<State>>>,
    /// Step keys being executed right now: instances that share leading
    /// steps (a build stage before its `ARG TARGETPLATFORM`) wait for the
    /// one run instead of repeating it.
    inflight: Mutex<std::collections::BTreeSet<String>>,
    inflight_done: std::sync::Condvar,
    /// Step keys this build has run: `--no-cache` ignores what earlier
    /// builds cached, but a step shared by several platforms' instances
    /// still runs once per build.
    fresh: Mutex<std::collections::BTreeSet<String>>,
    abort: AtomicBool,
    counts: Mutex<(usize, usize)>,
}

impl Ctx<'_> {
    /// The final state of instance `i` (it has finished: the scheduler
    /// only starts an instance after everything it reads).
    pub fn state_of_instance(&self, i: usize) -> Result<State, String> {
        self.finals
            .lock()
            .map_err(|_| "internal: poisoned lock".to_string())?
            .get(i)
            .cloned()
            .flatten()
            .ok_or_else(|| format!("internal: instance {i} has no result"))
    }

    /// The state a `--from`/`FROM` source stands for (not for contexts).
    pub fn state_of(&self, s: &Source) -> Result<State, String> {
        match s {
            Source::Instance(i) => self.state_of_instance(*i),
            Source::Image {
                reference,
                platform,
            } => self
                .resolved
                .states
                .get(&format!("{reference}@{platform}"))
                .cloned()
                .ok_or_else(|| {
                    format!("internal: image {reference} for {platform} was not resolved")
                }),
            Source::Scratch => Ok(State::default()),
            Source::Context(_) | Source::MainContext => {
                Err("a build context is not an image".to_string())
            }
        }
    }

    /// The directory a COPY or bind mount reads for a context source: the
    /// main context's filtered tree, or a named directory context's (the
    /// planner was given the trees, see [`contexts::Contexts::for_planner`]).
    /// Anything else is refused, so no step reads an unfiltered directory.
    pub fn context_root(&self, s: &Source, at: &str) -> Result<PathBuf, String> {
        match s {
            Source::MainContext => Ok(self.context.clone()),
            Source::Context(dir) if self.trees.iter().any(|t| t.as_os_str() == dir.as_str()) => {
                Ok(PathBuf::from(dir))
            }
            Source::Context(dir) if contexts::local_dir(dir).is_none() => Err(format!(
                "{at}: build context {dir:?} is not supported yet here\nhint: give a directory or an image (docker-image://, oci-layout://) with --build-context"
            )),
            Source::Context(dir) => Err(format!(
                "{at}: internal: context directory {dir:?} was not prepared for this build"
            )),
            _ => Err(format!("{at}: internal: not a build context")),
        }
    }

    /// A read-only view of a state's filesystem: a path, plus the mount
    /// keeping it (if one was needed).
    pub fn view(&self, st: &State, scratch: &Path) -> Result<(PathBuf, Option<Overlay>), String> {
        let lowers = self.snapshots.lowers(&self.store.blobs, st)?;
        match lowers.len() {
            0 => {
                let empty = scratch.join("empty-view");
                std::fs::create_dir_all(&empty).map_err(|e| e.to_string())?;
                Ok((empty, None))
            }
            1 => Ok((lowers[0].clone(), None)),
            _ => {
                let target = scratch.join(format!("view-{}", std::process::id()));
                std::fs::create_dir_all(&target).map_err(|e| e.to_string())?;
                let o = Overlay::mount_readonly(&lowers, &target).map_err(|e| e.to_string())?;
                Ok((target, Some(o)))
            }
        }
    }

    /// Turns the upperdir of a finished step into a layer and appends it to
    /// `st`; records history either way. An upperdir with nothing in it
    /// makes an empty layer when `always` (RUN and COPY, as BuildKit), else
    /// an `empty_layer` history entry.
    pub fn commit_upper(
        &self,
        st: &mut State,
        upper: &Path,
        created_by: String,
        always: bool,
    ) -> Result<(), String> {
        let empty = std::fs::read_dir(upper)
            .map(|mut d| d.next().is_none())
            .unwrap_or(true);
        if empty && !always {
            st.history.push(History {
                created_by,
                empty_layer: true,
            });
            let _ = std::fs::remove_dir_all(upper);
            return Ok(());
        }
        let l = layer::from_dir(
            upper,
            &self.store.blobs,
            LayerOptions {
                epoch: self.epoch,
                overlay: true,
                ..LayerOptions::default()
            },
        )
        .map_err(|e| format!("creating layer: {e}"))?;
        let rec = LayerRec::of(&l);
        self.snapshots.adopt(upper, &rec)?;
        st.layers.push(rec);
        st.history.push(History {
            created_by,
            empty_layer: false,
        });
        Ok(())
    }

    /// `file:line` of a step.
    pub fn at(&self, step: &Step) -> String {
        format!("{}:{}", self.file, step.line)
    }
}

fn instance_deps(inst: &Instance) -> Vec<usize> {
    let mut d = Vec::new();
    if let Source::Instance(i) = inst.source {
        d.push(i);
    }
    for s in &inst.steps {
        match &s.op {
            Op::Copy {
                from: Source::Instance(i),
                ..
            } => d.push(*i),
            Op::Run { mounts, .. } => {
                for m in mounts {
                    if let Some(Source::Instance(i)) = m.from {
                        d.push(i);
                    }
                }
            }
            _ => {}
        }
    }
    d
}

/// Fails before any step runs if an emulated instance has RUN steps and the
/// host has no usable handler for its platform.
pub fn check_emulation(plan: &Plan, host: &Platform) -> Result<(), String> {
    let mut problems = Vec::new();
    for inst in &plan.instances {
        if !inst.emulated || !inst.steps.iter().any(|s| matches!(s.op, Op::Run { .. })) {
            continue;
        }
        let Ok(p) = inst.platform.parse::<Platform>() else {
            continue;
        };
        match binfmt::support(host, &p) {
            binfmt::Support::Native | binfmt::Support::Emulated { .. } => {}
            binfmt::Support::Unusable(why) => {
                problems.push(format!("{p}: {why}; {}", binfmt::fix_hint(&p)))
            }
            binfmt::Support::Missing => problems.push(format!(
                "{p}: this host cannot run {p} binaries (no binfmt_misc handler); {}",
                binfmt::fix_hint(&p)
            )),
        }
    }
    problems.sort();
    problems.dedup();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "error: the build runs steps for platforms this host cannot execute:\n  {}\nnothing was run",
            problems.join("\n  ")
        ))
    }
}

/// The Dockerfile, parsed, and its name as messages show it.
fn read_dockerfile(opts: &Options) -> Result<(crate::dockerfile::Dockerfile, String), String> {
    let text = std::fs::read_to_string(&opts.dockerfile).map_err(|e| {
        format!(
            "error: cannot read {}: {e}\nhint: pass the Dockerfile with -f",
            opts.dockerfile.display()
        )
    })?;
    let shown = opts.dockerfile.display().to_string();
    let df = crate::dockerfile::parse(&text, &shown).map_err(|e| e.to_string())?;
    Ok((df, shown))
}

/// The trees the final keys hash: the main context's, and each named
/// directory context's keyed by its directory as the plan names it.
pub fn key_inputs(
    contexts: &contexts::Contexts,
    named: &BTreeMap<String, String>,
) -> crate::plan::keys::Inputs {
    let trees = contexts.for_planner(named);
    let named = named
        .iter()
        .filter_map(|(name, source)| {
            let dir = contexts::local_dir(source)?;
            let tree = trees.get(name)?;
            Some((dir.to_string(), PathBuf::from(tree)))
        })
        .collect();
    crate::plan::keys::Inputs {
        main: Some(contexts.main().to_path_buf()),
        named,
        ..Default::default()
    }
}

/// Plans the build: the Dockerfile is converted once, its images resolved
/// as the planner meets them (pulled into the store when missing);
/// emulation is checked before any step runs; then the ADD URLs and git
/// sources the plan uses are fetched, the contexts it reads filtered, once,
/// and the keys computed from all of it. From here on steps and keys read only the
/// filtered trees (removed when the returned [`contexts::Contexts`] drops),
/// so no ignored file reaches a step, whatever symlink or mount leads to it.
fn plan_build(
    store: &Store,
    opts: &Options,
    progress: &Progress,
) -> Result<(Plan, String, Fetched, contexts::Contexts), String> {
    let (df, file) = read_dockerfile(opts)?;
    let popts = crate::plan::Options {
        platforms: opts.platforms.clone(),
        host: Platform::host(),
        target: opts.target.clone(),
        build_args: opts.build_args.clone(),
        context: None,
        named_contexts: opts.named_contexts.clone(),
        network: opts.network,
        allow: opts.allow,
    };
    let log = |s: &str| progress.line(s);
    let resolver = resolve::StoreResolver::new(store, opts.pull, &opts.named_contexts, &log);
    let mut plan = crate::plan::convert(&df, &popts, &resolver).map_err(|e| e.to_string())?;
    let images = resolver.finish();
    // Before any step runs (ONBUILD triggers included) or anything is downloaded.
    check_emulation(&plan, &popts.host)?;
    // ADD URLs may use the base images' ENV, so they are known only now;
    // their content digests and commits go into the keys.
    let urls = fetch::fetch(store, &fetch::wanted(&plan, &file), &mut |s| {
        progress.line(s)
    })?;
    let agent = opts.ssh.get("default").map(PathBuf::as_path);
    let git = git::fetch(store, &git::wanted(&plan, &file), agent, &mut |s| {
        progress.line(s)
    })?;
    let contexts = contexts::Contexts::prepare(
        &opts.context,
        &opts.dockerfile,
        &opts.named_contexts,
        &contexts::reads(&plan, &opts.named_contexts),
        &store.root.join("work"),
    )?;
    let inputs = crate::plan::keys::Inputs {
        urls,
        git,
        ..key_inputs(&contexts, &opts.named_contexts)
    };
    crate::plan::keys::assign(&mut plan, &inputs);
    let fetched = Fetched {
        images,
        urls: inputs.urls,
        git: inputs.git,
    };
    Ok((plan, file, fetched, contexts))
}

/// What planning brought into the store for the build's steps.
struct Fetched {
    images: resolve::Resolved,
    urls: BTreeMap<String, crate::plan::UrlInfo>,
    git: BTreeMap<String, String>,
}

/// Runs a build.
pub fn build(
    store: &Store,
    runtime: &dyn Runtime,
    opts: &Options,
    progress: &Progress,
) -> Result<Built, BuildError> {
    let (plan, file, fetched, contexts) = plan_build(store, opts, progress)?;
    let Fetched {
        images: resolved,
        urls,
        git,
    } = fetched;
    for w in &plan.warnings {
        progress.line(&format!(
            "warning: {file}:{}: {} ({})",
            w.line, w.message, w.hint
        ));
    }
    let snapshots = snapshot::Snapshots::open(&store.root).map_err(|e| e.to_string())?;
    // Half-unpacked snapshots of builds killed mid-unpack (a full disk
    // included) would hold their space until a prune.
    snapshots.sweep_stale();
    let ctx = Ctx {
        store,
        runtime,
        opts,
        plan: &plan,
        file,
        resolved: &resolved,
        snapshots,
        cache: cache::Cache::open(&store.root).map_err(|e| e.to_string())?,
        progress,
        context: contexts.main().to_path_buf(),
        trees: contexts.roots(),
        epoch: crate::image::time::source_date_epoch(),
        urls,
        git,
        finals: Mutex::new(vec![None; plan.instances.len()]),
        inflight: Mutex::new(std::collections::BTreeSet::new()),
        inflight_done: std::sync::Condvar::new(),
        fresh: Mutex::new(std::collections::BTreeSet::new()),
        abort: AtomicBool::new(false),
        counts: Mutex::new((0, 0)),
    };
    for src in &opts.cache_from {
        let n = cache::import_local(&store.blobs, &ctx.cache, src)
            .map_err(|e| format!("--cache-from {}: {e}", src.display()))?;
        progress.line(&format!("imported {n} cached steps from {}", src.display()));
    }
    schedule(&ctx)?;
    if let Some(dest) = &opts.cache_to {
        let keys: Vec<String> = plan
            .instances
            .iter()
            .flat_map(|i| i.steps.iter().map(|s| s.key.clone()))
            .collect();
        let n = cache::export_local(&store.blobs, &ctx.cache, &keys, dest)
            .map_err(|e| format!("--cache-to {}: {e}", dest.display()))?;
        progress.line(&format!("exported {n} cached steps to {}", dest.display()));
    }

    let created = crate::image::time::created_now();
    let mut descs = Vec::new();
    let mut images = Vec::new();
    for (p, &fi) in opts.platforms.iter().zip(&plan.finals) {
        let st = ctx.state_of_instance(fi)?;
        let layers = st
            .layers
            .iter()
            .map(LayerRec::layer)
            .collect::<Result<Vec<_>, _>>()?;
        let d = oci::write_image(
            &store.blobs,
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
    let (index, _) = oci::write_index(&store.blobs, descs).map_err(|e| e.to_string())?;
    let (executed, cached) = ctx.counts.lock().map(|c| *c).unwrap_or((0, 0));
    Ok(Built {
        index,
        images,
        executed,
        cached,
    })
}

/// Runs every instance once its inputs are done, up to `jobs` at a time;
/// the first failure stops new work and is returned after running steps end.
fn schedule(ctx: &Ctx) -> Result<(), BuildError> {
    let n = ctx.plan.instances.len();
    let deps: Vec<Vec<usize>> = ctx.plan.instances.iter().map(instance_deps).collect();
    let mut started = vec![false; n];
    let mut done = vec![false; n];
    let mut first_error: Option<String> = None;
    let jobs = ctx.opts.jobs.max(1);
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::channel::<(usize, Result<State, String>)>();
        let mut running = 0;
        loop {
            if first_error.is_none() {
                for i in 0..n {
                    if running >= jobs {
                        break;
                    }
                    if !started[i] && deps[i].iter().all(|d| done[*d]) {
                        started[i] = true;
                        running += 1;
                        let tx = tx.clone();
                        scope.spawn(move || {
                            let r = run_instance(ctx, i);
                            let _ = tx.send((i, r));
                        });
                    }
                }
            }
            if running == 0 {
                break;
            }
            let Ok((i, r)) = rx.recv() else { break };
            running -= 1;
            match r {
                Ok(st) => {
                    if let Ok(mut f) = ctx.finals.lock() {
                        f[i] = Some(st);
                    }
                    done[i] = true;
                }
                Err(e) => {
                    ctx.abort.store(true, Ordering::SeqCst);
                    if first_error.is_none() {
                        first_error = Some(e);
                    }
                }
            }
        }
    });
    match first_error {
        Some(e) => Err(BuildError(e)),
        None if done.iter().all(|d| *d) => Ok(()),
        None => Err(BuildError(
            "internal: the build graph has a cycle".to_string(),
        )),
    }
}

fn run_instance(ctx: &Ctx, i: usize) -> Result<State, String> {
    let inst = &ctx.plan.instances[i];
    let mut st = ctx.state_of(&inst.source)?;
    // The base's ONBUILD triggers are this instance's first steps (the plan
    // put them there); like docker, the new image does not pass them on.
    st.config.on_build.clear();
    let total = inst.steps.len();
    let mut cmd_set_here = false;
    for (k, step) in inst.steps.iter().enumerate() {
        if ctx.abort.load(Ordering::SeqCst) {
            return Err("cancelled".to_string());
        }
        let prefix = format!("[{} {} {}/{}]", inst.platform, inst.stage, k + 1, total);
        if matches!(step.op, Op::Cmd(_)) {
            cmd_set_here = true;
        }
        // Wait while another instance runs this very step; then its result is cached.
        let claimed = claim(ctx, &step.key);
        if !claimed && ctx.abort.load(Ordering::SeqCst) {
            return Err("cancelled".to_string());
        }
        let _release = Release(ctx, claimed.then(|| step.key.clone()));
        let ran_here = ctx.fresh.lock().is_ok_and(|set| set.contains(&step.key));
        if !ctx.opts.no_cache || ran_here {
            if let Some(hit) = ctx.cache.get(&step.key) {
                let blobs_ok = hit
                    .layers
                    .iter()
                    .all(|l| l.blob().is_ok_and(|d| ctx.store.blobs.contains(&d)));
                if blobs_ok {
                    if !matches!(step.op, Op::Nothing) {
                        ctx.progress.cached(&prefix, &step.text);
                    }
                    if let Ok(mut c) = ctx.counts.lock() {
                        c.1 += 1;
                    }
                    st = hit;
                    continue;
                }
            }
        }
        let t0 = Instant::now();
        let is_fs = matches!(step.op, Op::Run { .. } | Op::Copy { .. } | Op::Workdir(_));
        if is_fs {
            ctx.progress.start(&prefix, &step.text);
        }
        st = exec_step(ctx, inst, step, st, &prefix, &mut cmd_set_here)?;
        if is_fs {
            ctx.progress.done(&prefix, t0.elapsed());
        }
        ctx.cache
            .put(&step.key, &st)
            .map_err(|e| format!("writing the step cache: {e}"))?;
        if let Ok(mut set) = ctx.fresh.lock() {
            set.insert(step.key.clone());
        }
        if let Ok(mut c) = ctx.counts.lock() {
            c.0 += 1;
        }
    }
    Ok(st)
}

/// Claims `key` for execution; if another worker holds it, waits until it
/// is released and returns false (the caller then finds it in the cache).
fn claim(ctx: &Ctx, key: &str) -> bool {
    let Ok(mut set) = ctx.inflight.lock() else {
        return true;
    };
    if !set.contains(key) {
        set.insert(key.to_string());
        return true;
    }
    while set.contains(key) {
        set = match ctx.inflight_done.wait(set) {
            Ok(s) => s,
            Err(_) => return false,
        };
    }
    false
}

/// Releases a claimed key on every exit path.
struct Release<'a, 'b>(&'a Ctx<'b>, Option<String>);

impl Drop for Release<'_, '_> {
    fn drop(&mut self) {
        if let Some(k) = self.1.take() {
            if let Ok(mut set) = self.0.inflight.lock() {
                set.remove(&k);
            }
            self.0.inflight_done.notify_all();
        }
    }
}

fn exec_step(
    ctx: &Ctx,
    inst: &Instance,
    step: &Step,
    mut st: State,
    prefix: &str,
    cmd_set_here: &mut bool,
) -> Result<State, String> {
    match &step.op {
        Op::Run { .. } => run::run_step(ctx, inst, step, st, prefix),
        Op::Copy { .. } => copy::copy_step(ctx, inst, step, st),
        Op::Workdir(w) => {
            let dir = meta::workdir(&st.config, w);
            st.config.working_dir = Some(dir.clone());
            // BuildKit creates the directory (owned by the current USER's ids).
            let mut st2 = st.clone();
            run::with_overlay(ctx, &st, |merged| {
                let ids = match &st.config.user {
                    Some(u) => crate::exec::users::resolve(merged, u)
                        .map(|i| (i.uid, i.gid))
                        .unwrap_or((0, 0)),
                    None => (0, 0),
                };
                crate::fsutil::mkdir_all(merged, &dir, ids.0, ids.1)
                    .map_err(|e| format!("WORKDIR {dir}: {e}"))?;
                Ok(())
            })
            .and_then(|upper| {
                // A WORKDIR that creates nothing only changes metadata (BuildKit).
                ctx.commit_upper(&mut st2, &upper, format!("WORKDIR {dir}"), false)
            })?;
            Ok(st2)
        }
        Op::Nothing => Ok(st),
        op => {
            meta::apply(&mut st.config, op, cmd_set_here);
            st.history.push(History {
                created_by: step.text.clone(),
                empty_layer: true,
            });
            Ok(st)
        }
    }
}

/// Runs `f` on a read-only view of `st`'s filesystem. The caller is in a
/// private mount namespace (as `mxbuild build` and `mxbuild verify` are).
pub fn with_view<T>(store: &Store, st: &State, f: impl FnOnce(&Path) -> T) -> Result<T, String> {
    let snapshots = snapshot::Snapshots::open(&store.root).map_err(|e| e.to_string())?;
    let scratch = run::Scratch(store.scratch("view").map_err(|e| e.to_string())?);
    let lowers = snapshots.lowers(&store.blobs, st)?;
    let r = match lowers.len() {
        0 => f(&scratch.0),
        1 => f(&lowers[0]),
        _ => {
            let target = scratch.0.join("merged");
            std::fs::create_dir_all(&target).map_err(|e| e.to_string())?;
            let o = Overlay::mount_readonly(&lowers, &target).map_err(|e| e.to_string())?;
            let r = f(&target);
            o.unmount().map_err(|e| e.to_string())?;
            r
        }
    };
    Ok(r)
}

/// The unpacked directories of the layers a build added on top of its base image.
pub fn added_layer_dirs(store: &Store, st: &State) -> Result<Vec<PathBuf>, String> {
    let snapshots = snapshot::Snapshots::open(&store.root).map_err(|e| e.to_string())?;
    let n = st.base_layers.min(st.layers.len());
    st.layers[n..]
        .iter()
        .map(|l| {
            snapshots
                .ensure_layer(&store.blobs, l)
                .map(|name| snapshots.path(&name))
        })
        .collect()
}

/// Runs `cmd` (through `/bin/sh -c` where the image has a shell) in a throwaway container of `st`, as
/// `--smoke-test` does: the image's ENV, USER and WORKDIR apply, and QEMU
/// runs it where the platform is foreign. Returns the exit code and output.
pub fn smoke_test(
    store: &Store,
    runtime: &dyn Runtime,
    st: &State,
    cmd: &str,
) -> Result<(i32, String), String> {
    let snapshots = snapshot::Snapshots::open(&store.root).map_err(|e| e.to_string())?;
    let scratch = run::Scratch(store.scratch("smoke").map_err(|e| e.to_string())?);
    let lowers = snapshots.lowers(&store.blobs, st)?;
    let dirs: Vec<PathBuf> = ["upper", "work", "merged", "empty"]
        .iter()
        .map(|d| scratch.0.join(d))
        .collect();
    for d in &dirs {
        std::fs::create_dir_all(d).map_err(|e| e.to_string())?;
    }
    let o = Overlay::mount(&lowers, &dirs[0], &dirs[1], &dirs[3], &dirs[2])
        .map_err(|e| e.to_string())?;
    let user = st.config.user.clone().unwrap_or_else(|| "0".to_string());
    let ids = crate::exec::users::resolve(&dirs[2], &user)?;
    let mut env = st.config.env.clone();
    if !env.iter().any(|e| e.starts_with("PATH=")) {
        env.push(crate::image::import::DEFAULT_PATH.to_string());
    }
    // Through the image's shell when it has one, else run the words directly
    // (a `FROM scratch` image has no /bin/sh).
    let has_sh = crate::fsutil::resolve(&dirs[2], "/bin/sh")
        .map(|p| p.exists())
        .unwrap_or(false);
    let args = if has_sh {
        vec!["/bin/sh".to_string(), "-c".to_string(), cmd.to_string()]
    } else {
        cmd.split_whitespace().map(str::to_string).collect()
    };
    let spec = crate::exec::RunSpec {
        id: format!(
            "mxbuild-{}-{}",
            std::process::id(),
            scratch
                .0
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        ),
        rootfs: dirs[2].clone(),
        bundle: scratch.0.join("bundle"),
        args,
        env,
        cwd: st
            .config
            .working_dir
            .clone()
            .unwrap_or_else(|| "/".to_string()),
        uid: ids.uid,
        gid: ids.gid,
        additional_gids: ids.additional,
        hostname: "smoke-test".to_string(),
        mounts: Vec::new(),
        network: Network::None,
        // The image under test is untrusted too: Docker's sandbox, seccomp included.
        security: crate::exec::Security::Sandbox,
    };
    let mut out = Vec::new();
    let code = runtime.run(&spec, &mut |c| out.extend_from_slice(c));
    o.unmount().map_err(|e| e.to_string())?;
    Ok((
        code.map_err(|e| e.to_string())?,
        String::from_utf8_lossy(&out).into_owned(),
    ))
}
