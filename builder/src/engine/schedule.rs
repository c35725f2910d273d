//! The scheduler: stage instances run in parallel, each once everything it
//! reads (its base stage, `COPY --from` and `RUN --mount from=` stages) has
//! finished; the first failure stops new work.

use std::sync::atomic::Ordering;

use super::state::State;
use super::{BuildError, Ctx};
use crate::plan::Instance;

/// The instances `inst` reads (see [`Instance::deps`]).
pub(crate) fn instance_deps(inst: &Instance) -> Vec<usize> {
    inst.deps().into_iter().map(|(i, _)| i).collect()
}

/// Runs every instance once its inputs are done, up to `jobs` at a time;
/// the first failure stops new work and is returned after running steps end.
pub(crate) fn schedule(ctx: &Ctx) -> Result<(), BuildError> {
    let n = ctx.plan.instances.len();
    let deps: Vec<Vec<usize>> = ctx.plan.instances.iter().map(instance_deps).collect();
    let mut started = vec![false; n];
    let mut done = vec![false; n];
    let mut first_error: Option<BuildError> = None;
    let jobs = ctx.opts.jobs.max(1);
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::channel::<(usize, Result<State, BuildError>)>();
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
                            let t0 = std::time::Instant::now();
                            let r = super::instance::run_instance(ctx, i);
                            if let Ok(mut s) = ctx.spans.lock() {
                                s[i] = Some((t0, std::time::Instant::now()));
                            }
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
        Some(e) => Err(e),
        None if done.iter().all(|d| *d) => Ok(()),
        None => Err(BuildError::Failed(
            "internal: the build graph has a cycle".to_string(),
        )),
    }
}
