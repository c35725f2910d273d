//! Every side effect the build engine has on the host, behind one trait:
//! mounting and unmounting overlays, changing owners and times, and running
//! a process. The engine never calls `mount(2)`, `lchown(2)` or the OCI
//! runtime directly, so its step logic (RUN mounts and environment, COPY
//! destinations and owners, the scheduler and step cache) is unit-tested
//! with the recording fake in [`super::fake`] and no root, runc or kernel.

use std::path::Path;

use super::mounts::{self, OverlaySpec};
use super::{ExecError, RunSpec, Runtime};
use crate::fsutil::{self, FileOps};

/// The host effects of a build (see the module doc).
pub trait Effects: FileOps {
    /// Mounts an overlay.
    fn mount_overlay(&self, spec: &OverlaySpec) -> std::io::Result<()>;
    /// Detaches the mount at `target`.
    fn unmount(&self, target: &Path) -> std::io::Result<()>;
    /// Runs `spec` to completion (see [`Runtime::run`]).
    fn run(&self, spec: &RunSpec, log: &mut dyn FnMut(&[u8])) -> Result<i32, ExecError>;
}

/// The real host: the kernel's mounts and an OCI runtime.
pub struct Host<'a> {
    runtime: Option<&'a dyn Runtime>,
}

impl std::fmt::Debug for Host<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host")
            .field("runtime", &self.runtime.is_some())
            .finish()
    }
}

impl<'a> Host<'a> {
    /// Effects that run processes with `runtime`.
    pub fn new(runtime: &'a dyn Runtime) -> Host<'a> {
        Host {
            runtime: Some(runtime),
        }
    }

    /// Effects for looking at filesystems only (`mxbuild verify`): running
    /// a process is an internal error.
    pub fn without_runtime() -> Host<'static> {
        Host { runtime: None }
    }
}

impl FileOps for Host<'_> {
    fn lchown(&self, p: &Path, uid: u32, gid: u32) -> std::io::Result<()> {
        fsutil::Direct.lchown(p, uid, gid)
    }
    fn set_times(&self, p: &Path, secs: i64, nsec: i64) -> std::io::Result<()> {
        fsutil::Direct.set_times(p, secs, nsec)
    }
}

impl Effects for Host<'_> {
    fn mount_overlay(&self, spec: &OverlaySpec) -> std::io::Result<()> {
        mounts::mount_overlay(spec)
    }
    fn unmount(&self, target: &Path) -> std::io::Result<()> {
        mounts::unmount(target)
    }
    fn run(&self, spec: &RunSpec, log: &mut dyn FnMut(&[u8])) -> Result<i32, ExecError> {
        match self.runtime {
            Some(r) => r.run(spec, log),
            None => Err(ExecError("internal: no OCI runtime here".to_string())),
        }
    }
}
