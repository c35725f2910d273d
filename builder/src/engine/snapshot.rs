//! The one way the engine sees a state's filesystem: a [`Snapshot`].
//! `prepare` stacks the state's layer snapshots under a fresh upperdir (a
//! step writes there), `view` gives a read-only look (a `--from` source, a
//! bind mount, verification), `commit` unmounts and hands over the
//! upperdir, the step's diff. Mounts go through [`Effects`] (so unit tests
//! use the recording fake), are undone on drop, and everything lives in a
//! scratch directory under `<root>/work/` that is removed with it.
//!
//! Layers are not made here: a committed diff becomes a layer snapshot
//! named by its diff_id (`Ctx::commit_upper`), whose blob is made only
//! when an export needs it (`super::lazy`).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::exec::effects::Effects;
use crate::exec::mounts::OverlaySpec;
use crate::store::Store;

/// A directory under `<root>/work/`, removed on drop (and by prune if the
/// process dies first).
#[derive(Debug)]
pub struct Scratch(pub PathBuf);

impl Scratch {
    /// A fresh scratch directory of `store` named after `what`.
    pub fn new(store: &Store, what: &str) -> Result<Scratch, String> {
        store
            .scratch(what)
            .map(Scratch)
            .map_err(|e| format!("scratch directory: {e}"))
    }

    /// A fresh directory `name` inside this one (removed with it).
    pub fn sub(&self, name: &str) -> Result<Scratch, String> {
        let d = self.0.join(name);
        fs::create_dir_all(&d).map_err(|e| format!("{}: {e}", d.display()))?;
        Ok(Scratch(d))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A step's diff: the upperdir of a committed snapshot, moved out of its
/// scratch directory; removed on drop unless something took it (a layer
/// snapshot adopts it by renaming it away).
#[derive(Debug)]
pub struct Diff(PathBuf);

impl Diff {
    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Diff {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A state's filesystem, prepared for one use (see the module doc).
pub struct Snapshot<'a> {
    fx: &'a dyn Effects,
    /// Where the filesystem is seen.
    root: PathBuf,
    /// The mount to undo, if one was made.
    mounted: Option<PathBuf>,
    /// The upperdir of a writable snapshot.
    upper: Option<PathBuf>,
    /// Holds the mount point, upperdir and workdir; declared last so it is
    /// removed after the unmount in `drop`.
    scratch: Scratch,
}

fn mkdir(p: &Path) -> Result<(), String> {
    fs::create_dir_all(p).map_err(|e| format!("{}: {e}", p.display()))
}

static NEXT_DIFF: AtomicUsize = AtomicUsize::new(0);

impl<'a> Snapshot<'a> {
    /// A writable filesystem of `lowers` (top first; none for scratch) with
    /// a fresh upperdir, in `scratch`.
    pub fn prepare(
        fx: &'a dyn Effects,
        scratch: Scratch,
        lowers: Vec<PathBuf>,
    ) -> Result<Snapshot<'a>, String> {
        let [upper, work, merged, empty] =
            ["upper", "work", "merged", "empty"].map(|d| scratch.0.join(d));
        for d in [&upper, &work, &merged, &empty] {
            mkdir(d)?;
        }
        // The upperdir's root becomes the image's `/` metadata: keep it 0755.
        fs::set_permissions(&upper, fs::Permissions::from_mode(0o755))
            .map_err(|e| e.to_string())?;
        let lowers = if lowers.is_empty() {
            vec![empty]
        } else {
            lowers
        };
        fx.mount_overlay(&OverlaySpec {
            lowers,
            upper: Some((upper.clone(), work)),
            target: merged.clone(),
        })
        .map_err(|e| e.to_string())?;
        Ok(Snapshot {
            fx,
            root: merged.clone(),
            mounted: Some(merged),
            upper: Some(upper),
            scratch,
        })
    }

    /// A read-only view of `lowers` (top first). One lower is used as it
    /// is and none gives an empty directory: overlayfs needs two to mount
    /// without an upperdir.
    pub fn view(
        fx: &'a dyn Effects,
        scratch: Scratch,
        mut lowers: Vec<PathBuf>,
    ) -> Result<Snapshot<'a>, String> {
        let (root, mounted) = match lowers.len() {
            0 => {
                let empty = scratch.0.join("empty-view");
                mkdir(&empty)?;
                (empty, None)
            }
            1 => (lowers.remove(0), None),
            _ => {
                let target = scratch.0.join("view");
                mkdir(&target)?;
                fx.mount_overlay(&OverlaySpec {
                    lowers,
                    upper: None,
                    target: target.clone(),
                })
                .map_err(|e| e.to_string())?;
                (target.clone(), Some(target))
            }
        };
        Ok(Snapshot {
            fx,
            root,
            mounted,
            upper: None,
            scratch,
        })
    }

    /// The filesystem's root as the host sees it.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// The scratch directory (for files that belong to this use, such as
    /// a runtime bundle or a throwaway copy).
    pub fn scratch(&self) -> &Scratch {
        &self.scratch
    }

    /// Undoes the mount now, reporting a failure (drop ignores it).
    pub fn unmount(&mut self) -> Result<(), String> {
        match self.mounted.take() {
            Some(t) => self.fx.unmount(&t).map_err(|e| e.to_string()),
            None => Ok(()),
        }
    }

    /// Unmounts and returns the upperdir as the step's diff, moved next to
    /// the scratch directory so it outlives it.
    pub fn commit(mut self) -> Result<Diff, String> {
        self.unmount()?;
        let upper = self
            .upper
            .take()
            .ok_or("internal: commit of a read-only snapshot")?;
        let kept = self.scratch.0.with_file_name(format!(
            "upper-{}-{}",
            std::process::id(),
            NEXT_DIFF.fetch_add(1, Ordering::Relaxed)
        ));
        fs::rename(&upper, &kept).map_err(|e| format!("keeping the step's changes: {e}"))?;
        Ok(Diff(kept))
    }
}

impl std::fmt::Debug for Snapshot<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("root", &self.root)
            .field("mounted", &self.mounted)
            .field("upper", &self.upper)
            .finish()
    }
}

impl Drop for Snapshot<'_> {
    fn drop(&mut self) {
        let _ = self.unmount();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::fake::{Call, Recording};

    fn tmp(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("mxbuild-snapshot-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn prepare_then_commit_keeps_only_the_changes() {
        let base = tmp("commit");
        let lower = base.join("lower");
        fs::create_dir_all(lower.join("etc")).unwrap();
        fs::write(lower.join("etc/os"), "debian").unwrap();
        let fx = Recording::default();
        let s = Snapshot::prepare(&fx, Scratch(base.join("s")), vec![lower.clone()]).unwrap();
        assert_eq!(
            fs::read_to_string(s.path().join("etc/os")).unwrap(),
            "debian"
        );
        fs::write(s.path().join("new"), "x").unwrap();
        let diff = s.commit().unwrap();
        assert_eq!(fs::read_to_string(diff.path().join("new")).unwrap(), "x");
        assert!(!diff.path().join("etc").exists(), "unchanged dirs stay out");
        assert!(fx.still_mounted().is_empty());
        assert!(!base.join("s").exists(), "scratch removed");
        let p = diff.path().to_path_buf();
        drop(diff);
        assert!(!p.exists(), "an unused diff is removed");
        let _ = fs::remove_dir_all(base);
    }

    #[test]
    fn views_mount_only_when_overlay_is_needed_and_unmount_on_drop() {
        let base = tmp("view");
        let (a, b) = (base.join("a"), base.join("b"));
        fs::create_dir_all(&a).unwrap();
        fs::create_dir_all(&b).unwrap();
        let fx = Recording::default();
        let one = Snapshot::view(&fx, Scratch(base.join("s1")), vec![a.clone()]).unwrap();
        assert_eq!(one.path(), a);
        drop(one);
        assert!(fx.calls().is_empty(), "one lower needs no mount");
        let two = Snapshot::view(&fx, Scratch(base.join("s2")), vec![a, b]).unwrap();
        let target = two.path().to_path_buf();
        drop(two);
        let calls = fx.calls();
        assert!(matches!(&calls[0], Call::Mount(o) if o.upper.is_none()));
        assert_eq!(calls[1], Call::Unmount(target));
        assert!(fx.still_mounted().is_empty());
        let _ = fs::remove_dir_all(base);
    }
}
