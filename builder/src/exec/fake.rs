//! A recording stand-in for [`Effects`], for unit tests of the engine: it
//! writes down every mount, owner change, time change and run, and
//! imitates their filesystem results with plain copies so that the code
//! under test sees what it would on a real host. An overlay mount copies
//! its lowers into the mount point; unmounting a writable one copies what
//! changed (new or modified entries) into the upperdir, as overlayfs would
//! have written it. Deletions are not imitated (no whiteouts): tests that
//! need them belong to the integration suite. Runs call a test-supplied
//! closure on the spec (to write the files a command would) and return its
//! exit code.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::effects::Effects;
use super::mounts::OverlaySpec;
use super::{ExecError, RunSpec};
use crate::fsutil::FileOps;

/// One recorded effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// An overlay mount.
    Mount(OverlaySpec),
    /// An unmount.
    Unmount(PathBuf),
    /// An owner change.
    Lchown(PathBuf, u32, u32),
    /// A time change.
    SetTimes(PathBuf, i64),
    /// A process run (the spec as given).
    Run(Box<RunSpec>),
}

/// What a fake run does: may write into `spec.rootfs`, prints the returned
/// output, exits with the returned code.
pub type OnRun = dyn Fn(&RunSpec) -> (i32, String) + Send + Sync;

/// The recording fake (see the module doc).
pub struct Recording {
    calls: Mutex<Vec<Call>>,
    mounted: Mutex<BTreeMap<PathBuf, OverlaySpec>>,
    on_run: Box<OnRun>,
}

impl std::fmt::Debug for Recording {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recording")
            .field("calls", &self.calls())
            .finish()
    }
}

impl Default for Recording {
    fn default() -> Self {
        Recording::new(|_| (0, String::new()))
    }
}

impl Recording {
    /// A fake whose runs do `on_run`.
    pub fn new(on_run: impl Fn(&RunSpec) -> (i32, String) + Send + Sync + 'static) -> Recording {
        Recording {
            calls: Mutex::new(Vec::new()),
            mounted: Mutex::new(BTreeMap::new()),
            on_run: Box::new(on_run),
        }
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// The specs of every run so far.
    pub fn runs(&self) -> Vec<RunSpec> {
        self.calls()
            .into_iter()
            .filter_map(|c| match c {
                Call::Run(s) => Some(*s),
                _ => None,
            })
            .collect()
    }

    /// Mount points still mounted (a leak if not empty after a step).
    pub fn still_mounted(&self) -> Vec<PathBuf> {
        self.mounted
            .lock()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn record(&self, c: Call) {
        if let Ok(mut calls) = self.calls.lock() {
            calls.push(c);
        }
    }
}

/// Copies the tree at `src` over `dest` (entries of `src` win).
fn overlay_copy(src: &Path, dest: &Path) -> io::Result<()> {
    for e in fs::read_dir(src)? {
        let e = e?;
        let (from, to) = (e.path(), dest.join(e.file_name()));
        let m = fs::symlink_metadata(&from)?;
        if m.is_dir() {
            if !to.is_dir() {
                let _ = fs::remove_file(&to);
                fs::create_dir(&to)?;
            }
            fs::set_permissions(&to, fs::Permissions::from_mode(m.mode() & 0o7777))?;
            overlay_copy(&from, &to)?;
        } else {
            let _ = fs::remove_file(&to);
            if m.file_type().is_symlink() {
                std::os::unix::fs::symlink(fs::read_link(&from)?, &to)?;
            } else {
                fs::copy(&from, &to)?;
            }
        }
    }
    Ok(())
}

/// Whether `a` and `b` hold the same entry (type, mode, content or target).
fn same(a: &Path, b: &Path) -> bool {
    let (Ok(ma), Ok(mb)) = (fs::symlink_metadata(a), fs::symlink_metadata(b)) else {
        return false;
    };
    if ma.file_type() != mb.file_type() || ma.mode() != mb.mode() || ma.uid() != mb.uid() {
        return false;
    }
    if ma.is_file() {
        return fs::read(a).ok() == fs::read(b).ok();
    }
    if ma.file_type().is_symlink() {
        return fs::read_link(a).ok() == fs::read_link(b).ok();
    }
    true
}

/// Copies into `upper` what in `merged` differs from `lower` (overlayfs'
/// copy-up, without whiteouts).
fn copy_up(merged: &Path, lower: &Path, upper: &Path) -> io::Result<()> {
    for e in fs::read_dir(merged)? {
        let e = e?;
        let name = e.file_name();
        let (m, l, u) = (e.path(), lower.join(&name), upper.join(&name));
        let meta = fs::symlink_metadata(&m)?;
        if meta.is_dir() {
            fs::create_dir_all(&u)?;
            fs::set_permissions(&u, fs::Permissions::from_mode(meta.mode() & 0o7777))?;
            copy_up(&m, &l, &u)?;
            // Overlayfs copies a directory up only for a change in or on it.
            if fs::read_dir(&u)?.next().is_none() && same(&m, &l) {
                fs::remove_dir(&u)?;
            }
        } else if !same(&m, &l) {
            let _ = fs::remove_file(&u);
            if meta.file_type().is_symlink() {
                std::os::unix::fs::symlink(fs::read_link(&m)?, &u)?;
            } else {
                fs::copy(&m, &u)?;
            }
        }
    }
    Ok(())
}

impl FileOps for Recording {
    fn lchown(&self, p: &Path, uid: u32, gid: u32) -> io::Result<()> {
        self.record(Call::Lchown(p.to_path_buf(), uid, gid));
        Ok(())
    }
    fn set_times(&self, p: &Path, secs: i64, _nsec: i64) -> io::Result<()> {
        self.record(Call::SetTimes(p.to_path_buf(), secs));
        Ok(())
    }
}

impl Effects for Recording {
    fn mount_overlay(&self, spec: &OverlaySpec) -> io::Result<()> {
        self.record(Call::Mount(spec.clone()));
        for l in spec.lowers.iter().rev() {
            overlay_copy(l, &spec.target)?;
        }
        if let Ok(mut m) = self.mounted.lock() {
            m.insert(spec.target.clone(), spec.clone());
        }
        Ok(())
    }

    fn unmount(&self, target: &Path) -> io::Result<()> {
        self.record(Call::Unmount(target.to_path_buf()));
        let spec = self
            .mounted
            .lock()
            .ok()
            .and_then(|mut m| m.remove(target))
            .ok_or_else(|| io::Error::other(format!("{} is not mounted", target.display())))?;
        if let Some((upper, _)) = &spec.upper {
            // What the lowers alone look like, to tell changes apart.
            let lower = target.with_extension("fake-lower");
            fs::create_dir_all(&lower)?;
            for l in spec.lowers.iter().rev() {
                overlay_copy(l, &lower)?;
            }
            copy_up(target, &lower, upper)?;
            fs::remove_dir_all(&lower)?;
        }
        for e in fs::read_dir(target)? {
            let p = e?.path();
            if p.is_dir() && !p.is_symlink() {
                fs::remove_dir_all(&p)?;
            } else {
                fs::remove_file(&p)?;
            }
        }
        Ok(())
    }

    fn run(&self, spec: &RunSpec, log: &mut dyn FnMut(&[u8])) -> Result<i32, ExecError> {
        self.record(Call::Run(Box::new(spec.clone())));
        let (code, out) = (self.on_run)(spec);
        log(out.as_bytes());
        Ok(code)
    }
}
