//! What the workers of one build share: the store, the host effects, the
//! plan and what was resolved, fetched and filtered for it, and the
//! finished instances' states.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;

use super::dedup::InFlight;
use super::layers::Snapshots;
use super::progress::Progress;
use super::snapshot::{Diff, Scratch, Snapshot};
use super::state::{LayerRec, State};
use super::{Options, contexts, resolve};
use crate::exec::effects::Effects;
use crate::image::config::History;
use crate::image::layer::{self, LayerOptions};
use crate::plan::{Plan, Source, Step};
use crate::store::Store;
use crate::store::steps::StepCache;

/// What happened to a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// It ran in this instance.
    Ran,
    /// An earlier build's result (the step cache, or `--cache-from`).
    Cached,
    /// Another instance of this build ran it (same key).
    Shared,
}

/// Steps by outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Ran here.
    pub ran: usize,
    /// Taken from an earlier build.
    pub cached: usize,
    /// Run by another instance of this build.
    pub shared: usize,
}

/// Everything the workers share.
pub(crate) struct Ctx<'a> {
    pub store: &'a Store,
    /// Every host side effect (mounts, owners, times, processes).
    pub fx: &'a dyn Effects,
    pub opts: &'a Options,
    pub plan: &'a Plan,
    pub file: String,
    pub resolved: &'a resolve::Resolved,
    pub snapshots: Snapshots,
    pub cache: StepCache,
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
    /// Each instance's final state, once it has finished.
    pub finals: Mutex<Vec<Option<State>>>,
    /// When each instance started and ended (for the critical path).
    pub spans: Mutex<Vec<Option<(std::time::Instant, std::time::Instant)>>>,
    /// Steps running now and run by this build (one run per step).
    pub inflight: InFlight,
    /// Set by the first failure: no new step starts.
    pub abort: AtomicBool,
    /// How many steps ran, came from the cache, were shared.
    pub counts: Mutex<Counts>,
    /// Each step's progress label (see [`crate::plan::labels`]).
    pub labels: crate::plan::labels::Labels,
    /// The result's layers whose blobs are made while the build goes on.
    pub ahead: super::ahead::Ahead,
    /// Per instance: its steps are not taken from earlier builds' cache
    /// (`--no-cache-filter`, see [`super::no_cache`]).
    pub no_cache: Vec<bool>,
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

    /// A writable snapshot of `st` (see [`Snapshot::prepare`]).
    pub fn prepare(&self, st: &State, what: &str) -> Result<Snapshot<'_>, String> {
        let lowers = self.snapshots.lowers(&self.store.blobs, st)?;
        Snapshot::prepare(self.fx, Scratch::new(self.store, what)?, lowers)
    }

    /// A read-only view of `st` (see [`Snapshot::view`]).
    pub fn view(&self, st: &State, what: &str) -> Result<Snapshot<'_>, String> {
        let lowers = self.snapshots.lowers(&self.store.blobs, st)?;
        Snapshot::view(self.fx, Scratch::new(self.store, what)?, lowers)
    }

    /// Counts a step by what happened to it.
    pub fn count(&self, outcome: Outcome) {
        if let Ok(mut c) = self.counts.lock() {
            match outcome {
                Outcome::Ran => c.ran += 1,
                Outcome::Cached => c.cached += 1,
                Outcome::Shared => c.shared += 1,
            }
        }
    }

    /// Turns the diff of a finished step into a layer (a snapshot named by
    /// its diff_id; no blob yet) and appends it to `st`; records history either way. An upperdir with nothing in it
    /// makes an empty layer when `always` (RUN and COPY, as BuildKit), else
    /// an `empty_layer` history entry.
    pub fn commit_upper(
        &self,
        st: &mut State,
        diff: Diff,
        created_by: String,
        always: bool,
    ) -> Result<(), String> {
        let upper = diff.path();
        let empty = std::fs::read_dir(upper)
            .map(|mut d| d.next().is_none())
            .unwrap_or(true);
        if empty && !always {
            st.history.push(History {
                created_by,
                empty_layer: true,
            });
            return Ok(());
        }
        // Only hashed: the blob is made if and when an export needs it
        // (see `super::lazy`).
        let diff_id = layer::diff_id_of(
            upper,
            &LayerOptions {
                epoch: self.epoch,
                overlay: true,
                ..LayerOptions::default()
            },
        )
        .map_err(|e| format!("creating layer: {e}"))?;
        let rec = LayerRec::snapshot_only(&diff_id, self.epoch);
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
