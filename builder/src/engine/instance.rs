//! One stage instance, step by step: each step is looked up in the step
//! cache by its key first (a hit is reused when its blobs are still in the
//! store); a miss is claimed (see [`super::dedup`]), executed, and its
//! resulting state recorded under the key.

use std::sync::atomic::Ordering;
use std::time::Instant;

use super::ctx::Outcome;
use super::progress::StepInfo;
use super::state::State;
use super::{BuildError, Ctx, copy, meta, run};
use crate::image::config::History;
use crate::plan::{Instance, Op, Step};

/// Runs instance `i` of the plan; returns its final state.
pub(crate) fn run_instance(ctx: &Ctx, i: usize) -> Result<State, BuildError> {
    let inst = &ctx.plan.instances[i];
    let mut st = ctx.state_of(&inst.source)?;
    // The base's ONBUILD triggers are this instance's first steps (the plan
    // put them there); like docker, the new image does not pass them on.
    st.config.on_build.clear();
    // As BuildKit: a stage whose base sets no PATH (scratch, or an image
    // without one) gets the default one in its config (the plan did the
    // same for its variables and keys).
    if !st.config.env.iter().any(|e| e.starts_with("PATH=")) {
        st.config
            .env
            .push(crate::image::import::DEFAULT_PATH.to_string());
    }
    super::ahead::queue_new(ctx, i, 0, &st);
    let mut cmd_set_here = false;
    for (k, step) in inst.steps.iter().enumerate() {
        let before = st.layers.len();
        if ctx.abort.load(Ordering::SeqCst) {
            return Err(BuildError::Cancelled);
        }
        // Only the steps BuildKit numbers get progress lines.
        let label = ctx.labels.step(i, k);
        let info = StepInfo {
            id: &step.key,
            label: label.unwrap_or_default(),
            text: &step.text,
            platform: &inst.platform,
            emulated: inst.emulated && matches!(step.op, Op::Run { .. }),
        };
        if matches!(step.op, Op::Cmd(_)) {
            cmd_set_here = true;
        }
        // Wait while another instance runs this very step; then its result is cached.
        let claim = ctx.inflight.claim(&step.key);
        if !claim.is_ours() && ctx.abort.load(Ordering::SeqCst) {
            return Err(BuildError::Cancelled);
        }
        let fresh = ctx.opts.no_cache || ctx.no_cache.get(i).copied().unwrap_or(false);
        if let Some(hit) = cached(ctx, step, fresh) {
            // Work another instance did (or took from the cache) in this
            // build is SHARED: its line, whose label names every target it
            // serves, was shown once already. A first hit from an earlier
            // build is CACHED.
            let outcome = if ctx.inflight.ran(&step.key) || !ctx.inflight.first_showing(&step.key) {
                Outcome::Shared
            } else {
                if label.is_some() {
                    ctx.progress.cached(&info);
                }
                Outcome::Cached
            };
            if label.is_some() {
                ctx.count(outcome);
            }
            st = hit;
            super::ahead::queue_new(ctx, i, before, &st);
            continue;
        }
        let t0 = Instant::now();
        ctx.inflight.first_showing(&step.key);
        if label.is_some() {
            ctx.progress.start(&info);
        }
        st = match exec_step(ctx, inst, step, st, &info, &mut cmd_set_here) {
            Ok(st) => st,
            Err(e) => {
                if label.is_some() {
                    ctx.progress.failed(&info, t0.elapsed());
                }
                return Err(e);
            }
        };
        if label.is_some() {
            ctx.progress.done(&info, t0.elapsed());
        }
        ctx.cache
            .put(&step.key, &st)
            .map_err(|e| format!("writing the step cache: {e}"))?;
        ctx.inflight.mark_ran(&step.key);
        super::ahead::queue_new(ctx, i, before, &st);
        // Counted as the lines show steps: metadata steps (ENV, ARG, …)
        // have no line and no count, as in BuildKit.
        if label.is_some() {
            ctx.count(Outcome::Ran);
        }
    }
    Ok(st)
}

/// The cached state after `step`, if it may be used: `fresh` (`--no-cache`,
/// `--no-cache-filter`) skips what earlier builds recorded but not what this
/// build ran, and a record whose layers are gone (pruned: no
/// snapshot and no blob) is a miss.
fn cached(ctx: &Ctx, step: &Step, fresh: bool) -> Option<State> {
    if fresh && !ctx.inflight.ran(&step.key) {
        return None;
    }
    let hit: State = ctx.cache.get(&step.key)?;
    hit.layers
        .iter()
        .all(|l| ctx.snapshots.usable(&ctx.store.blobs, l))
        .then_some(hit)
}

/// Executes one step on `st`.
fn exec_step(
    ctx: &Ctx,
    inst: &Instance,
    step: &Step,
    mut st: State,
    info: &StepInfo<'_>,
    cmd_set_here: &mut bool,
) -> Result<State, BuildError> {
    match &step.op {
        Op::Run { .. } => run::run_step(ctx, inst, step, st, info),
        Op::Copy { .. } => copy::copy_step(ctx, inst, step, st),
        Op::Workdir(w) => workdir(ctx, st, w),
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

/// WORKDIR: sets the directory and, as BuildKit does, creates it (owned by
/// the current USER's ids); one that creates nothing only changes metadata.
fn workdir(ctx: &Ctx, mut st: State, w: &str) -> Result<State, BuildError> {
    let dir = meta::workdir(&st.config, w);
    let snap = ctx.prepare(&st, "workdir")?;
    let ids = match &st.config.user {
        Some(u) => crate::exec::users::resolve(snap.path(), u)
            .map(|i| (i.uid, i.gid))
            .unwrap_or((0, 0)),
        None => (0, 0),
    };
    crate::fsutil::mkdir_all(ctx.fx, snap.path(), &dir, ids.0, ids.1)
        .map_err(|e| format!("WORKDIR {dir}: {e}"))?;
    let diff = snap.commit()?;
    st.config.working_dir = Some(dir.clone());
    ctx.commit_upper(&mut st, diff, format!("WORKDIR {dir}"), false)?;
    Ok(st)
}
