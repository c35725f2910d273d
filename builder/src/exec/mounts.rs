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

/// What an overlay mount stacks, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverlaySpec {
    /// Lower layers, top first; never empty (a `FROM scratch` state passes
    /// an empty directory).
    pub lowers: Vec<PathBuf>,
    /// `(upperdir, workdir)` of a writable mount (the workdir empty, on the
    /// upperdir's filesystem); `None` for a read-only view, which overlayfs
    /// accepts only over two or more lowers.
    pub upper: Option<(PathBuf, PathBuf)>,
    /// The mount point.
    pub target: PathBuf,
}

impl OverlaySpec {
    /// The mount's option string, checked against what overlayfs can take.
    fn options(&self) -> std::io::Result<String> {
        if self.lowers.is_empty() || (self.upper.is_none() && self.lowers.len() < 2) {
            return Err(std::io::Error::other(
                "internal: an overlay needs a lower layer (two for a read-only one)",
            ));
        }
        let lower = self
            .lowers
            .iter()
            .map(|l| l.display().to_string())
            .collect::<Vec<_>>()
            .join(":");
        let opts = match &self.upper {
            Some((upper, work)) => format!(
                "lowerdir={lower},upperdir={},workdir={}",
                upper.display(),
                work.display()
            ),
            None => format!("lowerdir={lower}"),
        };
        if opts.len() >= 4000 {
            return Err(std::io::Error::other(format!(
                "{} layers are too many for one overlay mount; hint: squash the base image or use a shorter MXBUILD_ROOT",
                self.lowers.len()
            )));
        }
        let commas = if self.upper.is_some() { 2 } else { 0 };
        if opts.matches(',').count() != commas {
            return Err(std::io::Error::other(
                "store path contains ',' which overlayfs cannot take; hint: set MXBUILD_ROOT to a plain path",
            ));
        }
        Ok(opts)
    }
}

/// Mounts an overlay as `spec` says (read-only when it has no upperdir).
pub fn mount_overlay(spec: &OverlaySpec) -> std::io::Result<()> {
    let opts = spec.options()?;
    let flags = if spec.upper.is_some() {
        0
    } else {
        libc::MS_RDONLY
    };
    let src = CString::new("overlay").map_err(std::io::Error::other)?;
    let data = CString::new(opts).map_err(std::io::Error::other)?;
    let t = cstr(&spec.target)?;
    // SAFETY: valid NUL-terminated strings that outlive the call.
    let rc = unsafe {
        libc::mount(
            src.as_ptr(),
            t.as_ptr(),
            src.as_ptr(),
            flags,
            data.as_ptr().cast(),
        )
    };
    let what = if spec.upper.is_some() {
        "mount overlay"
    } else {
        "mount read-only overlay"
    };
    check(rc, &format!("{what} at {}", spec.target.display()))
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
