//! `RUN --mount`: one handler per mount kind, as BuildKit keeps one per
//! kind. Each turns a mount of the plan into what the runtime gets (a
//! [`MountSpec`]), notes the mount point so a stub the runtime had to
//! create never reaches the layer, and keeps alive what must outlast the
//! run (a cache lock, a view of a stage).

mod bind;
mod cache;
mod secret;
mod ssh;
mod tmpfs;

use std::path::{Path, PathBuf};

use super::Ctx;
use super::run::env::Env;
use super::run::stubs::Stubs;
use super::snapshot::Snapshot;
use crate::dockerfile::mount::MountKind;
use crate::exec::MountSpec;
use crate::fsutil;
use crate::plan::RunMount;

/// What must stay alive until the step's process has ended (only dropped,
/// never read: dropping releases the lock or undoes the view).
#[allow(dead_code)]
pub(crate) enum Hold<'a> {
    /// A cache mount's lock.
    Lock(cache::CacheLock),
    /// A view of a stage or image (or a copy-on-write one for `rw`).
    View(Snapshot<'a>),
}

/// The mounts of one RUN step, being prepared.
pub(crate) struct Mounts<'a> {
    /// `file:line` of the step.
    pub at: String,
    /// The instance's platform (cache ids without `id=` include it).
    pub platform: String,
    /// The step's working directory.
    pub cwd: String,
    /// The step's scratch directory.
    pub scratch: PathBuf,
    /// What the runtime gets.
    pub specs: Vec<MountSpec>,
    /// What must outlive the run.
    pub holds: Vec<Hold<'a>>,
    /// How many ssh mounts so far.
    ssh: usize,
}

impl<'a> Mounts<'a> {
    /// No mounts yet.
    pub fn new(at: String, platform: String, cwd: String, scratch: PathBuf) -> Mounts<'a> {
        Mounts {
            at,
            platform,
            cwd,
            scratch,
            specs: Vec::new(),
            holds: Vec::new(),
            ssh: 0,
        }
    }

    /// `target` made absolute (relative ones are under the working directory).
    fn target_abs(&self, target: &str) -> String {
        if target.starts_with('/') {
            target.to_string()
        } else {
            fsutil::clean_abs(&format!("{}/{target}", self.cwd))
        }
    }

    /// Prepares one mount (see the module doc).
    pub fn add(
        &mut self,
        ctx: &'a Ctx,
        rm: &RunMount,
        rootfs: &Path,
        env: &mut Env,
        stubs: &mut Stubs,
    ) -> Result<(), String> {
        let m = &rm.mount;
        let target = self.target_abs(m.target.as_deref().unwrap_or_default());
        // BuildKit (dockerfile2llb/convert_runmount.go) joins an empty or
        // relative target to the working directory and refuses a result of `/`.
        if target == "/"
            && matches!(
                m.kind,
                MountKind::Cache | MountKind::Tmpfs | MountKind::Bind
            )
        {
            return Err(format!(
                "{}: invalid mount target \"/\" (target={:?} in working directory {})\nhint: give the mount a target=<path> other than /, or set a WORKDIR",
                self.at,
                m.target.as_deref().unwrap_or_default(),
                self.cwd
            ));
        }
        match m.kind {
            MountKind::Cache => cache::add(ctx, self, m, rm.from.as_ref(), target, rootfs, stubs),
            MountKind::Tmpfs => tmpfs::add(self, m, target, rootfs, stubs),
            MountKind::Secret => secret::add(ctx, self, m, target, rootfs, env, stubs),
            MountKind::Bind => bind::add(ctx, self, rm, target, rootfs, stubs),
            MountKind::Ssh => ssh::add(ctx, self, m, rootfs, env, stubs),
        }
    }
}

/// An octal `mode=`, or `default`.
fn parse_octal(s: &Option<String>, default: u32) -> Result<u32, String> {
    match s {
        None => Ok(default),
        Some(v) => u32::from_str_radix(v, 8).map_err(|_| format!("mode={v} is not an octal mode")),
    }
}

/// A numeric `uid=`/`gid=` (root when absent).
fn parse_id(s: &Option<String>) -> Result<u32, String> {
    match s {
        None => Ok(0),
        Some(v) => v
            .parse()
            .map_err(|_| format!("uid/gid {v:?} is not a number")),
    }
}
