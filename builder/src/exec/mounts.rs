//! Overlay mounts for build steps, in a private mount namespace: `mxbuild
//! build` moves itself into a new mount namespace before it starts any
//! thread, so every overlay it mounts vanishes with the process, even after
//! SIGKILL, and nothing it mounts is visible to (or left behind on) the host.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

fn cstr(p: &Path) -> std::io::Result<CString> {
    CString::new(p.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::other(format!("path with NUL byte: {}", p.display())))
}

fn check(rc: libc::c_int, what: &str) -> std::io::Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        let e = std::io::Error::last_os_error();
        Err(std::io::Error::new(e.kind(), format!("{what}: {e}")))
    }
}

/// Moves this process into a private mount namespace. Must be called while
/// the process is single-threaded (the kernel refuses otherwise).
pub fn enter_private_namespace() -> std::io::Result<()> {
    // SAFETY: plain syscalls with valid arguments; no memory is shared.
    unsafe {
        check(libc::unshare(libc::CLONE_NEWNS), "unshare(CLONE_NEWNS)")?;
        let root = cstr(Path::new("/"))?;
        check(
            libc::mount(
                std::ptr::null(),
                root.as_ptr(),
                std::ptr::null(),
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            ),
            "make / private",
        )
    }
}

/// An overlay mount; unmounted on drop.
#[derive(Debug)]
pub struct Overlay {
    target: PathBuf,
    mounted: bool,
}

impl Overlay {
    /// Mounts `lowers` (top first) under `upper` at `target`. `work` must be
    /// an empty directory on the same filesystem as `upper`; `empty` is used
    /// as the only lower layer when there are none (`FROM scratch`).
    pub fn mount(
        lowers: &[PathBuf],
        upper: &Path,
        work: &Path,
        empty: &Path,
        target: &Path,
    ) -> std::io::Result<Overlay> {
        let lower = if lowers.is_empty() {
            empty.display().to_string()
        } else {
            lowers
                .iter()
                .map(|l| l.display().to_string())
                .collect::<Vec<_>>()
                .join(":")
        };
        let opts = format!(
            "lowerdir={lower},upperdir={},workdir={}",
            upper.display(),
            work.display()
        );
        if opts.len() >= 4000 {
            return Err(std::io::Error::other(format!(
                "{} layers are too many for one overlay mount; hint: squash the base image or use a shorter MXBUILD_ROOT",
                lowers.len()
            )));
        }
        if opts.contains(',') && opts.matches(',').count() != 2 {
            return Err(std::io::Error::other(
                "store path contains ',' which overlayfs cannot take; hint: set MXBUILD_ROOT to a plain path",
            ));
        }
        let src = CString::new("overlay").map_err(std::io::Error::other)?;
        let data = CString::new(opts).map_err(std::io::Error::other)?;
        let t = cstr(target)?;
        // SAFETY: valid NUL-terminated strings that outlive the call.
        let rc = unsafe {
            libc::mount(
                src.as_ptr(),
                t.as_ptr(),
                src.as_ptr(),
                0,
                data.as_ptr().cast(),
            )
        };
        check(rc, &format!("mount overlay at {}", target.display()))?;
        Ok(Overlay {
            target: target.to_path_buf(),
            mounted: true,
        })
    }

    /// A read-only view of `lowers` (top first) at `target`: overlay needs
    /// two or more lowerdirs without an upperdir; callers use a single
    /// lower directly instead.
    pub fn mount_readonly(lowers: &[PathBuf], target: &Path) -> std::io::Result<Overlay> {
        if lowers.len() < 2 {
            return Err(std::io::Error::other(
                "a read-only overlay needs two lower layers",
            ));
        }
        let lower = lowers
            .iter()
            .map(|l| l.display().to_string())
            .collect::<Vec<_>>()
            .join(":");
        let opts = format!("lowerdir={lower}");
        if opts.len() >= 4000 {
            return Err(std::io::Error::other(format!(
                "{} layers are too many for one overlay mount; hint: use a shorter MXBUILD_ROOT",
                lowers.len()
            )));
        }
        let src = CString::new("overlay").map_err(std::io::Error::other)?;
        let data = CString::new(opts).map_err(std::io::Error::other)?;
        let t = cstr(target)?;
        // SAFETY: valid NUL-terminated strings that outlive the call.
        let rc = unsafe {
            libc::mount(
                src.as_ptr(),
                t.as_ptr(),
                src.as_ptr(),
                libc::MS_RDONLY,
                data.as_ptr().cast(),
            )
        };
        check(
            rc,
            &format!("mount read-only overlay at {}", target.display()),
        )?;
        Ok(Overlay {
            target: target.to_path_buf(),
            mounted: true,
        })
    }

    /// Where it is mounted.
    pub fn path(&self) -> &Path {
        &self.target
    }

    /// Unmounts now (errors reported, unlike drop).
    pub fn unmount(mut self) -> std::io::Result<()> {
        self.mounted = false;
        unmount(&self.target)
    }
}

impl Drop for Overlay {
    fn drop(&mut self) {
        if self.mounted {
            let _ = unmount(&self.target);
        }
    }
}

/// Detaches the mount at `target`.
pub fn unmount(target: &Path) -> std::io::Result<()> {
    let t = cstr(target)?;
    // SAFETY: valid NUL-terminated path.
    check(
        unsafe { libc::umount2(t.as_ptr(), libc::MNT_DETACH) },
        &format!("unmount {}", target.display()),
    )
}

/// Mount points at or below `dir` in this namespace (for cleanup checks).
pub fn mounts_under(dir: &Path) -> Vec<PathBuf> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    info.lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|p| PathBuf::from(p.replace("\\040", " ")))
        .filter(|p| p.starts_with(dir))
        .collect()
}
