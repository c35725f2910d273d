//! Applying a layer to a root directory: whiteouts delete what lower layers
//! put there, entries keep their owners (as root), modes, xattrs and mtimes.
//! A layer is hostile until proven otherwise: an entry with an absolute name
//! or `..`, one under a symlinked directory, or a hardlink to a path outside
//! the root stops the whole layer with an error, and nothing is ever written
//! outside the root (parents are checked before every write, never followed).

use std::fs;
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use super::compress::Compression;

/// Why a layer could not be applied.
#[derive(Debug)]
pub enum ExtractError {
    /// The layer tries to write outside the root or through a symlink.
    Unsafe {
        /// The entry's name as stored.
        entry: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A malformed archive or a filesystem error.
    Io(io::Error),
}

impl std::fmt::Display for ExtractError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExtractError::Unsafe { entry, reason } => {
                write!(
                    f,
                    "refusing layer: entry {entry:?} {reason}; nothing was written outside the root"
                )
            }
            ExtractError::Io(e) => write!(f, "cannot apply layer: {e}"),
        }
    }
}

impl std::error::Error for ExtractError {}

impl From<io::Error> for ExtractError {
    fn from(e: io::Error) -> Self {
        ExtractError::Io(e)
    }
}

/// What applying a layer did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Entries written.
    pub entries: usize,
    /// Paths removed by whiteouts.
    pub whiteouts: usize,
    /// Device nodes skipped (not root).
    pub skipped_devices: usize,
}

/// Applies a (possibly compressed) layer read from `r` onto `root`.
pub fn apply(r: impl Read, root: &Path) -> Result<Stats, ExtractError> {
    apply_with(r, root, false)
}

/// Unpacks one layer into an empty directory *as an overlayfs layer*:
/// whiteouts become 0/0 character devices and opaque markers become the
/// `trusted.overlay.opaque` xattr, so the directory can serve as a lowerdir
/// above the layers it changes (how a cached build step is restored).
pub fn unpack_overlay_layer(r: impl Read, root: &Path) -> Result<Stats, ExtractError> {
    apply_with(r, root, true)
}

fn mark_whiteout(path: &Path) -> io::Result<()> {
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).map_err(io::Error::other)?;
    // SAFETY: valid NUL-terminated path; a 0/0 character device is overlayfs's whiteout.
    let rc = unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR, 0) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

fn mark_opaque(dir: &Path) -> io::Result<()> {
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).map_err(io::Error::other)?;
    let name = c"trusted.overlay.opaque";
    // SAFETY: valid NUL-terminated strings and a 1-byte value.
    let rc = unsafe { libc::lsetxattr(c.as_ptr(), name.as_ptr(), b"y".as_ptr().cast(), 1, 0) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

fn apply_with(mut r: impl Read, root: &Path, overlay: bool) -> Result<Stats, ExtractError> {
    let mut head = [0u8; 4];
    let n = read_up_to(&mut r, &mut head)?;
    let chained = io::Cursor::new(head[..n].to_vec()).chain(r);
    let reader = Compression::sniff(&head[..n]).reader(chained)?;
    let mut archive = tar::Archive::new(reader);
    // SAFETY: geteuid has no preconditions and cannot fail.
    let is_root = unsafe { libc::geteuid() } == 0;
    let mut stats = Stats::default();
    let mut dir_times: Vec<(PathBuf, i64)> = Vec::new();
    for entry in archive.entries()? {
        let mut entry = entry?;
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let Some(rel) = safe_relative(&raw)? else {
            continue;
        };
        let name = rel
            .file_name()
            .map(|n| n.as_bytes().to_vec())
            .unwrap_or_default();
        let parent = rel.parent().map(Path::to_path_buf).unwrap_or_default();
        ensure_parents(root, &parent, &raw)?;

        if overlay && name == b".wh..wh..opq" {
            mark_opaque(&root.join(&parent))?;
            stats.whiteouts += 1;
            continue;
        }
        if overlay {
            if let Some(hidden) = name.strip_prefix(b".wh.") {
                let target = root.join(&parent).join(std::ffi::OsStr::from_bytes(hidden));
                remove_any(&target)?;
                mark_whiteout(&target)?;
                stats.whiteouts += 1;
                continue;
            }
        }
        if name == b".wh..wh..opq" {
            for child in fs::read_dir(root.join(&parent))? {
                remove_any(&child?.path())?;
            }
            stats.whiteouts += 1;
            continue;
        }
        if let Some(hidden) = name.strip_prefix(b".wh.") {
            remove_any(&root.join(&parent).join(std::ffi::OsStr::from_bytes(hidden)))?;
            stats.whiteouts += 1;
            continue;
        }

        let dest = root.join(&rel);
        let kind = entry.header().entry_type();
        let existing = fs::symlink_metadata(&dest).ok();
        let keep_dir = kind.is_dir() && existing.as_ref().is_some_and(|m| m.is_dir());
        if existing.is_some() && !keep_dir {
            remove_any(&dest)?;
        }
        let header = entry.header().clone();
        let mode = header.mode().unwrap_or(0o644) & 0o7777;
        match kind {
            tar::EntryType::Directory => {
                if !keep_dir {
                    fs::create_dir(&dest)?;
                }
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                let mut f = fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&dest)?;
                io::copy(&mut entry, &mut f)?;
            }
            tar::EntryType::Symlink => {
                let target = entry
                    .link_name()?
                    .ok_or_else(|| io::Error::other(format!("symlink {raw} has no target")))?;
                std::os::unix::fs::symlink(target, &dest)?;
            }
            tar::EntryType::Link => {
                let target = entry
                    .link_name_bytes()
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .ok_or_else(|| io::Error::other(format!("hardlink {raw} has no target")))?;
                let Some(target_rel) = safe_relative(&target)? else {
                    return Err(unsafe_entry(&raw, "is a hardlink to the root itself"));
                };
                if let Some(p) = target_rel.parent() {
                    ensure_parents(root, p, &raw)?;
                }
                let src = root.join(&target_rel);
                match fs::symlink_metadata(&src) {
                    Ok(m) if m.is_file() => fs::hard_link(&src, &dest)?,
                    _ => {
                        return Err(unsafe_entry(
                            &raw,
                            &format!(
                                "is a hardlink to {target:?}, which is not a file in this layer's root"
                            ),
                        ));
                    }
                }
                stats.entries += 1;
                continue;
            }
            tar::EntryType::Char | tar::EntryType::Block | tar::EntryType::Fifo => {
                if !is_root && kind != tar::EntryType::Fifo {
                    stats.skipped_devices += 1;
                    continue;
                }
                let fmt = match kind {
                    tar::EntryType::Char => libc::S_IFCHR,
                    tar::EntryType::Block => libc::S_IFBLK,
                    _ => libc::S_IFIFO,
                };
                // Empty device fields (FIFOs, some writers) mean 0.
                let dev = libc::makedev(
                    header.device_major().ok().flatten().unwrap_or(0),
                    header.device_minor().ok().flatten().unwrap_or(0),
                );
                let c = cstring(&dest)?;
                // SAFETY: a valid C path; mknod creates one node and touches no memory of ours.
                if unsafe { libc::mknod(c.as_ptr(), fmt | mode, dev) } != 0 {
                    return Err(io::Error::last_os_error().into());
                }
            }
            // PAX/GNU metadata entries are consumed by the tar reader; others are ignored.
            _ => continue,
        }
        if is_root {
            let c = cstring(&dest)?;
            // SAFETY: a valid C path; lchown does not follow symlinks.
            unsafe {
                // An empty owner field means root, as tar(1) reads it.
                libc::lchown(
                    c.as_ptr(),
                    header.uid().unwrap_or(0) as u32,
                    header.gid().unwrap_or(0) as u32,
                );
            }
        }
        if kind != tar::EntryType::Symlink {
            fs::set_permissions(&dest, std::os::unix::fs::PermissionsExt::from_mode(mode))?;
        }
        if let Some(exts) = entry.pax_extensions()? {
            for ext in exts.flatten() {
                if let Some(name) = ext.key_bytes().strip_prefix(b"SCHILY.xattr.") {
                    set_xattr(&dest, name, ext.value_bytes());
                }
            }
        }
        let mtime = header.mtime().unwrap_or(0) as i64;
        if kind.is_dir() {
            dir_times.push((dest, mtime));
        } else {
            set_mtime(&dest, mtime)?;
        }
        stats.entries += 1;
    }
    // Directory times last: creating their children changed them.
    for (dir, t) in dir_times.iter().rev() {
        set_mtime(dir, *t)?;
    }
    Ok(stats)
}

fn unsafe_entry(entry: &str, reason: &str) -> ExtractError {
    ExtractError::Unsafe {
        entry: entry.to_string(),
        reason: reason.to_string(),
    }
}

/// The entry's path relative to the root, or `None` for the root itself.
/// Absolute names and `..` are refused.
fn safe_relative(raw: &str) -> Result<Option<PathBuf>, ExtractError> {
    let mut out = PathBuf::new();
    for c in Path::new(raw).components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir => {}
            Component::ParentDir => return Err(unsafe_entry(raw, "contains `..`")),
            Component::RootDir | Component::Prefix(_) => {
                return Err(unsafe_entry(raw, "has an absolute name"));
            }
        }
    }
    Ok((!out.as_os_str().is_empty()).then_some(out))
}

/// Makes sure every directory from the root down to `parent` is a real
/// directory (creating missing ones); a symlink or file on the way is refused.
fn ensure_parents(root: &Path, parent: &Path, raw: &str) -> Result<(), ExtractError> {
    let mut cur = root.to_path_buf();
    for c in parent.components() {
        cur.push(c);
        match fs::symlink_metadata(&cur) {
            Ok(m) if m.is_dir() => {}
            Ok(m) if m.file_type().is_symlink() => {
                return Err(unsafe_entry(
                    raw,
                    &format!(
                        "lies under {}, which is a symlink",
                        cur.strip_prefix(root).unwrap_or(&cur).display()
                    ),
                ));
            }
            Ok(_) => {
                return Err(unsafe_entry(
                    raw,
                    "lies under a path that is not a directory",
                ));
            }
            Err(_) => fs::create_dir(&cur)?,
        }
    }
    Ok(())
}

/// Removes a file, symlink or directory tree without following symlinks.
fn remove_any(p: &Path) -> io::Result<()> {
    match fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(p),
        Ok(_) => fs::remove_file(p),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

fn cstring(p: &Path) -> io::Result<std::ffi::CString> {
    std::ffi::CString::new(p.as_os_str().as_bytes())
        .map_err(|_| io::Error::other("path contains a NUL byte"))
}

fn set_mtime(p: &Path, secs: i64) -> io::Result<()> {
    let c = cstring(p)?;
    let t = libc::timespec {
        tv_sec: secs as libc::time_t,
        tv_nsec: 0,
    };
    let times = [t, t];
    // SAFETY: valid path and a two-element timespec array, as utimensat requires.
    let rc = unsafe {
        libc::utimensat(
            libc::AT_FDCWD,
            c.as_ptr(),
            times.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Best effort: a filesystem without xattr support keeps the file anyway.
fn set_xattr(p: &Path, name: &[u8], value: &[u8]) {
    let (Ok(c), Ok(n)) = (cstring(p), std::ffi::CString::new(name)) else {
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

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}
