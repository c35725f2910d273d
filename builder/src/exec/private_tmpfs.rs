//! A tmpfs that only this build's mount namespace sees, for what must never
//! reach a disk or another process: secret files of `RUN --mount=type=secret`
//! and the network namespace files of sandboxed steps.
//!
//! `mxbuild build` runs in a private mount namespace (see
//! [`super::mounts::enter_private_namespace`]), so a tmpfs mounted there is
//! invisible on the host and vanishes with the process, even after SIGKILL:
//! its pages are freed and nothing is left under the store. Only the empty
//! mount-point directory `<base>/<pid>` stays on disk; [`sweep_stale`]
//! removes those of processes that are gone.

use std::fs;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::mounts::unmount;

/// The mounted tmpfs; unmounted (and its directory removed) on drop.
#[derive(Debug)]
pub struct PrivateTmpfs {
    path: PathBuf,
}

impl PrivateTmpfs {
    /// Mounts a fresh tmpfs (mode 0700, no devices, no set-uid) at
    /// `<base>/<pid>`. Call it only inside the private mount namespace:
    /// elsewhere the mount would be visible to the whole host.
    pub fn mount(base: &Path) -> std::io::Result<PrivateTmpfs> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(base)?;
        fs::set_permissions(base, fs::Permissions::from_mode(0o700))?;
        let path = base.join(std::process::id().to_string());
        let _ = fs::remove_dir_all(&path);
        fs::DirBuilder::new().mode(0o700).create(&path)?;
        let target = cstring(&path)?;
        let fstype = cstring(Path::new("tmpfs"))?;
        let data = cstring(Path::new("mode=0700"))?;
        // SAFETY: valid NUL-terminated strings that outlive the call.
        let rc = unsafe {
            libc::mount(
                fstype.as_ptr(),
                target.as_ptr(),
                fstype.as_ptr(),
                libc::MS_NOSUID | libc::MS_NODEV,
                data.as_ptr().cast(),
            )
        };
        if rc != 0 {
            let e = std::io::Error::last_os_error();
            let _ = fs::remove_dir(&path);
            return Err(std::io::Error::new(
                e.kind(),
                format!("mount tmpfs at {}: {e}", path.display()),
            ));
        }
        Ok(PrivateTmpfs { path })
    }

    /// Where it is mounted.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for PrivateTmpfs {
    fn drop(&mut self) {
        if unmount(&self.path).is_ok() {
            let _ = fs::remove_dir(&self.path);
        }
    }
}

fn cstring(p: &Path) -> std::io::Result<std::ffi::CString> {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::CString::new(p.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::other(format!("path with NUL byte: {}", p.display())))
}

/// True if process `pid` exists.
pub(crate) fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Removes the mount-point directories under `base` left by mxbuild
/// processes that no longer run. In this namespace they are plain
/// directories (their tmpfs died with the killed build's namespace), so
/// anything found inside is removed too. Returns how many were removed.
pub fn sweep_stale(base: &Path) -> usize {
    let Ok(rd) = fs::read_dir(base) else {
        return 0;
    };
    let mut n = 0;
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Ok(pid) = name.parse::<u32>() else {
            continue;
        };
        if pid == std::process::id() || alive(pid) {
            continue;
        }
        if fs::remove_dir_all(e.path()).is_ok() {
            n += 1;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweep_removes_only_dead_processes_dirs() {
        let base = std::env::temp_dir().join(format!("mxbuild-tmpfs-sweep-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        // pid_max is at most 2^22: this pid cannot exist.
        let dead = base.join("99999999");
        let mine = base.join(std::process::id().to_string());
        let other = base.join("not-a-pid");
        for d in [&dead, &mine, &other] {
            fs::create_dir_all(d).unwrap_or_default();
        }
        fs::write(dead.join("left"), b"x").unwrap_or_default();
        assert_eq!(sweep_stale(&base), 1);
        assert!(!dead.exists() && mine.exists() && other.exists());
        let _ = fs::remove_dir_all(&base);
    }
}
