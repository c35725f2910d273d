//! The filesystem calls applying a layer makes, none of which follows a
//! symlink at the final component: make nodes, set owners, times and
//! extended attributes, remove trees.

use std::ffi::CString;
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// The path as a C string.
pub fn cstring(p: &Path) -> io::Result<CString> {
    CString::new(p.as_os_str().as_bytes()).map_err(|_| io::Error::other("path contains a NUL byte"))
}

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// `mknod(path, fmt | perm, dev)`.
pub fn mknod(path: &Path, fmt: libc::mode_t, perm: u32, dev: libc::dev_t) -> io::Result<()> {
    let c = cstring(path)?;
    // SAFETY: a valid C path; mknod creates one node and touches no memory of ours.
    check(unsafe { libc::mknod(c.as_ptr(), fmt | perm as libc::mode_t, dev) })
}

/// overlayfs's whiteout: a 0/0 character device.
pub fn mark_whiteout(path: &Path) -> io::Result<()> {
    mknod(path, libc::S_IFCHR, 0, 0)
}

/// overlayfs's opaque directory marker.
pub fn mark_opaque(dir: &Path) -> io::Result<()> {
    let c = cstring(dir)?;
    let name = c"trusted.overlay.opaque";
    // SAFETY: valid NUL-terminated strings and a 1-byte value.
    check(unsafe { libc::lsetxattr(c.as_ptr(), name.as_ptr(), b"y".as_ptr().cast(), 1, 0) })
}

/// Sets the owner without following a symlink.
pub fn lchown(path: &Path, uid: u32, gid: u32) -> io::Result<()> {
    let c = cstring(path)?;
    // SAFETY: a valid C path; lchown does not follow symlinks.
    check(unsafe { libc::lchown(c.as_ptr(), uid, gid) })
}

/// Sets atime and mtime without following a symlink.
pub fn set_mtime(p: &Path, secs: i64) -> io::Result<()> {
    let c = cstring(p)?;
    let t = libc::timespec {
        tv_sec: secs as libc::time_t,
        tv_nsec: 0,
    };
    let times = [t, t];
    // SAFETY: valid path and a two-element timespec array, as utimensat requires.
    check(unsafe {
        libc::utimensat(
            libc::AT_FDCWD,
            c.as_ptr(),
            times.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    })
}

/// Best effort: a filesystem without xattr support keeps the file anyway.
pub fn set_xattr(p: &Path, name: &[u8], value: &[u8]) {
    let (Ok(c), Ok(n)) = (cstring(p), CString::new(name)) else {
        return;
    };
    // SAFETY: valid C strings and a value buffer of the given length.
    unsafe {
        libc::lsetxattr(
            c.as_ptr(),
            n.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        );
    }
}

/// Removes a file, symlink or directory tree without following symlinks.
pub fn remove_any(p: &Path) -> io::Result<()> {
    match fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(p),
        Ok(_) => fs::remove_file(p),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}
