//! Filesystem helpers for COPY/ADD and RUN preparation, all confined to a
//! root: paths inside an image are resolved the way the container would see
//! them (symlinks followed, but never out of the root), and Go's
//! `filepath.Match` for COPY source globs.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

mod mode;
pub use mode::Mode;

/// The metadata changes that need privileges (owners) or reach past `std`
/// (times without following links). The engine routes them through this
/// trait so its unit tests can record them instead of needing root.
pub trait FileOps: Send + Sync {
    /// Sets the owner of `p` without following a symlink.
    fn lchown(&self, p: &Path, uid: u32, gid: u32) -> io::Result<()>;
    /// Sets the access and modification times of `p` without following a symlink.
    fn set_times(&self, p: &Path, secs: i64, nsec: i64) -> io::Result<()>;
}

/// [`FileOps`] straight on the filesystem.
#[derive(Debug, Clone, Copy, Default)]
pub struct Direct;

impl FileOps for Direct {
    fn lchown(&self, p: &Path, uid: u32, gid: u32) -> io::Result<()> {
        std::os::unix::fs::lchown(p, Some(uid), Some(gid))
    }
    fn set_times(&self, p: &Path, secs: i64, nsec: i64) -> io::Result<()> {
        set_times(p, secs, nsec)
    }
}

/// Lexically cleans an absolute in-container path (`/a/./b/../c` -> `/a/c`).
pub fn clean_abs(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    format!("/{}", parts.join("/"))
}

/// Resolves in-container path `p` inside `root`, following symlinks as the
/// kernel would in a chroot (an absolute link target restarts at `root`,
/// `..` never climbs above it). Missing components are returned as they are.
pub fn resolve(root: &Path, p: &str) -> io::Result<PathBuf> {
    let mut todo: Vec<String> = clean_abs(p)
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .rev()
        .collect();
    let mut cur: Vec<String> = Vec::new();
    let mut hops = 0;
    while let Some(part) = todo.pop() {
        if part == ".." {
            cur.pop();
            continue;
        }
        if part == "." {
            continue;
        }
        let candidate = root.join(cur.join("/")).join(&part);
        match fs::symlink_metadata(&candidate) {
            Ok(m) if m.file_type().is_symlink() => {
                hops += 1;
                if hops > 40 {
                    return Err(io::Error::other(format!("too many symlinks resolving {p}")));
                }
                let target = fs::read_link(&candidate)?;
                let t = target.to_string_lossy().into_owned();
                if t.starts_with('/') {
                    cur.clear();
                }
                for s in t.split('/').filter(|s| !s.is_empty()).rev() {
                    todo.push(s.to_string());
                }
            }
            _ => cur.push(part),
        }
    }
    Ok(root.join(cur.join("/")))
}

/// Creates directory `p` (in-container path) and missing parents inside
/// `root`, owned by `uid:gid`, mode 0755; returns the host path.
pub fn mkdir_all(
    ops: &dyn FileOps,
    root: &Path,
    p: &str,
    uid: u32,
    gid: u32,
) -> io::Result<PathBuf> {
    mkdir_all_mode(ops, root, p, (uid, gid), 0o755)
}

/// [`mkdir_all`] with the mode the created directories get.
pub fn mkdir_all_mode(
    ops: &dyn FileOps,
    root: &Path,
    p: &str,
    (uid, gid): (u32, u32),
    mode: u32,
) -> io::Result<PathBuf> {
    let clean = clean_abs(p);
    let mut sofar = String::new();
    let mut host = root.to_path_buf();
    for part in clean.split('/').filter(|s| !s.is_empty()) {
        sofar.push('/');
        sofar.push_str(part);
        host = resolve(root, &sofar)?;
        match fs::symlink_metadata(&host) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(io::Error::other(format!(
                    "{sofar} exists and is not a directory"
                )));
            }
            Err(_) => {
                fs::create_dir(&host)?;
                fs::set_permissions(&host, fs::Permissions::from_mode(mode))?;
                ops.lchown(&host, uid, gid)?;
            }
        }
    }
    Ok(host)
}

/// Go's `filepath.Match` on one path (pattern and name use `/`).
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let pp: Vec<&str> = pattern.split('/').collect();
    let np: Vec<&str> = name.split('/').collect();
    pp.len() == np.len()
        && pp
            .iter()
            .zip(&np)
            .all(|(p, n)| seg_match(p.as_bytes(), n.as_bytes()))
}

fn seg_match(p: &[u8], n: &[u8]) -> bool {
    if p.is_empty() {
        return n.is_empty();
    }
    match p[0] {
        b'*' => (0..=n.len()).any(|i| seg_match(&p[1..], &n[i..])),
        b'?' => !n.is_empty() && seg_match(&p[1..], &n[1..]),
        b'[' => {
            if n.is_empty() {
                return false;
            }
            let mut i = 1;
            let negate = p.get(1).is_some_and(|c| *c == b'^' || *c == b'!');
            if negate {
                i += 1;
            }
            let mut matched = false;
            let mut first = true;
            while i < p.len() && (p[i] != b']' || first) {
                first = false;
                let mut lo = p[i];
                if lo == b'\\' && i + 1 < p.len() {
                    i += 1;
                    lo = p[i];
                }
                let mut hi = lo;
                if i + 2 < p.len() && p[i + 1] == b'-' && p[i + 2] != b']' {
                    hi = p[i + 2];
                    i += 2;
                }
                if lo <= n[0] && n[0] <= hi {
                    matched = true;
                }
                i += 1;
            }
            if i >= p.len() {
                return false;
            }
            matched != negate && seg_match(&p[i + 1..], &n[1..])
        }
        b'\\' if p.len() > 1 => !n.is_empty() && p[1] == n[0] && seg_match(&p[2..], &n[1..]),
        c => !n.is_empty() && c == n[0] && seg_match(&p[1..], &n[1..]),
    }
}

/// The paths under `root` that glob `rel` (clean, relative, `/`-separated)
/// matches, one level at a time as Go's `filepath.Glob` walks, sorted. Each
/// directory is read through [`resolve`], so a symlinked directory on the
/// way is followed inside `root` only, never into the host's files.
pub fn expand_glob(root: &Path, rel: &str) -> Vec<String> {
    let parts: Vec<&str> = rel.split('/').collect();
    let mut level = vec![String::new()];
    for d in 0..parts.len() {
        let prefix = parts[..=d].join("/");
        let mut next = Vec::new();
        for dir in &level {
            let Ok(host) = resolve(root, dir) else {
                continue;
            };
            let Ok(rd) = fs::read_dir(&host) else {
                continue;
            };
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                let p = if dir.is_empty() {
                    name
                } else {
                    format!("{dir}/{name}")
                };
                if glob_match(&prefix, &p) {
                    next.push(p);
                }
            }
        }
        level = next;
    }
    level.sort();
    level
}

/// True if the text has glob metacharacters.
pub fn has_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// How copied entries get their owner and mode.
#[derive(Debug, Clone, Copy)]
pub struct Ownership<'a> {
    /// `uid:gid` for every copied entry (`--chown`, or 0:0 for a build
    /// context); `None` keeps each source entry's own owner, as BuildKit
    /// does for `COPY --from` without `--chown`.
    pub owner: Option<(u32, u32)>,
    /// `--chmod`, applied to every copied entry.
    pub chmod: Option<&'a Mode>,
}

impl Ownership<'_> {
    /// The owner a copied entry whose source is owned by `uid:gid` gets.
    pub fn owner_of(&self, uid: u32, gid: u32) -> (u32, u32) {
        self.owner.unwrap_or((uid, gid))
    }

    /// The owner of directories created on the way to a destination: the
    /// `--chown` owner, else root.
    pub fn created_owner(&self) -> (u32, u32) {
        self.owner.unwrap_or((0, 0))
    }
}

/// What a copy does with one source path (`COPY --exclude`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// Copy it (a directory with everything under it not left out).
    Copy,
    /// Leave it and everything under it out.
    Skip,
    /// An excluded directory that an exception may reach into: walk it,
    /// and create it only when something inside is copied (as BuildKit's
    /// copier does with its delayed parent directories).
    Look,
}

/// Copies every path (no `--exclude`).
pub fn pick_all(_: &str, _: bool) -> Pick {
    Pick::Copy
}

/// Copies trees for one COPY source: owners and modes by [`Ownership`],
/// mtimes kept, and files that are hard links of each other in the source
/// stay hard links of each other in the destination (as BuildKit's copier
/// does, per source).
pub struct Copier<'a> {
    ops: &'a dyn FileOps,
    own: Ownership<'a>,
    pick: &'a dyn Fn(&str, bool) -> Pick,
    /// Source (device, inode) of a multiply-linked file -> where its first
    /// copy went.
    links: HashMap<(u64, u64), PathBuf>,
}

impl std::fmt::Debug for Copier<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Copier")
            .field("own", &self.own)
            .field("links", &self.links.len())
            .finish()
    }
}

impl<'a> Copier<'a> {
    /// A copier; `pick` says what to do with each source-relative path
    /// (see [`pick_all`]).
    pub fn new(
        ops: &'a dyn FileOps,
        own: Ownership<'a>,
        pick: &'a dyn Fn(&str, bool) -> Pick,
    ) -> Copier<'a> {
        Copier {
            ops,
            own,
            pick,
            links: HashMap::new(),
        }
    }

    /// Whether the source-relative path `rel` (host path `src`) is copied:
    /// picked, or an excluded directory with something re-included inside.
    pub fn wants(&self, src: &Path, rel: &str, is_dir: bool) -> io::Result<bool> {
        Ok(match (self.pick)(rel, is_dir) {
            Pick::Copy => true,
            Pick::Skip => false,
            Pick::Look => is_dir && keeps_something(src, rel, self.pick)?,
        })
    }

    /// Copies `src` (file, symlink, node or directory tree) to host path
    /// `dest`, replacing what is there (a directory onto a directory
    /// merges). `rel` is `src`'s path relative to what the source names
    /// (for `pick`). Returns the number of entries written.
    pub fn copy(&mut self, src: &Path, dest: &Path, rel: &str) -> io::Result<u64> {
        let m = fs::symlink_metadata(src)?;
        let ft = m.file_type();
        let existing = fs::symlink_metadata(dest).ok();
        let mut n = 1;
        if ft.is_dir() {
            match &existing {
                Some(e) if e.is_dir() => {}
                Some(_) => {
                    fs::remove_file(dest)?;
                    fs::create_dir(dest)?;
                }
                None => fs::create_dir(dest)?,
            }
            for (name, child_rel, is_dir) in children(src, rel)? {
                let child = src.join(&name);
                if self.wants(&child, &child_rel, is_dir)? {
                    n += self.copy(&child, &dest.join(&name), &child_rel)?;
                }
            }
        } else {
            if let Some(e) = &existing {
                if e.is_dir() {
                    fs::remove_dir_all(dest)?;
                } else {
                    fs::remove_file(dest)?;
                }
            }
            if ft.is_symlink() {
                std::os::unix::fs::symlink(fs::read_link(src)?, dest)?;
            } else if ft.is_file() {
                if m.nlink() > 1 {
                    if let Some(first) = self.links.get(&(m.dev(), m.ino())) {
                        fs::hard_link(first, dest)?;
                        return Ok(n);
                    }
                    self.links.insert((m.dev(), m.ino()), dest.to_path_buf());
                }
                fs::copy(src, dest)?;
            } else {
                // FIFOs, devices and sockets: BuildKit's copy (fsutil
                // copyDevice) recreates them, so `COPY --from` keeps them.
                // A build context never has any (its filtered tree leaves
                // them out).
                make_node(dest, &m)?;
            }
        }
        self.set_meta(&m, dest)?;
        Ok(n)
    }

    /// Gives `dest` the owner, mode and mtime a copy of an entry with
    /// metadata `m` has.
    pub fn set_meta(&self, m: &fs::Metadata, dest: &Path) -> io::Result<()> {
        let (uid, gid) = self.own.owner_of(m.uid(), m.gid());
        self.ops.lchown(dest, uid, gid)?;
        if !m.file_type().is_symlink() {
            let mode = match self.own.chmod {
                Some(c) => c.apply(m.mode(), m.is_dir()),
                None => m.mode() & 0o7777,
            };
            fs::set_permissions(dest, fs::Permissions::from_mode(mode))?;
            self.ops.set_times(dest, m.mtime(), m.mtime_nsec())?;
        }
        Ok(())
    }
}

/// The entries of directory `src` (whose source-relative path is `rel`),
/// sorted: name, relative path, whether it is a directory.
fn children(src: &Path, rel: &str) -> io::Result<Vec<(std::ffi::OsString, String, bool)>> {
    let mut names: Vec<_> = fs::read_dir(src)?
        .flatten()
        .map(|e| e.file_name())
        .collect();
    names.sort();
    Ok(names
        .into_iter()
        .map(|name| {
            let child_rel = if rel.is_empty() {
                name.to_string_lossy().into_owned()
            } else {
                format!("{rel}/{}", name.to_string_lossy())
            };
            let is_dir = fs::symlink_metadata(src.join(&name)).is_ok_and(|m| m.is_dir());
            (name, child_rel, is_dir)
        })
        .collect())
}

/// Whether anything under the excluded directory `dir` is re-included, so
/// the directory must be made to hold it (BuildKit makes the parents of a
/// re-included path and nothing else).
pub fn keeps_something(
    dir: &Path,
    rel: &str,
    pick: &dyn Fn(&str, bool) -> Pick,
) -> io::Result<bool> {
    for (name, child_rel, is_dir) in children(dir, rel)? {
        let kept = match pick(&child_rel, is_dir) {
            Pick::Copy => true,
            Pick::Skip => false,
            Pick::Look => is_dir && keeps_something(&dir.join(&name), &child_rel, pick)?,
        };
        if kept {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A node of the same type, mode and device number as `m` at `dest`.
fn make_node(dest: &Path, m: &fs::Metadata) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dest.as_os_str().as_bytes()).map_err(io::Error::other)?;
    // SAFETY: a valid NUL-terminated path; mknod only creates the node.
    let rc = unsafe {
        libc::mknod(
            c.as_ptr(),
            m.mode() as libc::mode_t,
            m.rdev() as libc::dev_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Sets a path's access and modification times (not following a symlink).
pub fn set_times(p: &Path, secs: i64, nsec: i64) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(p.as_os_str().as_bytes()).map_err(io::Error::other)?;
    let t = libc::timespec {
        tv_sec: secs,
        tv_nsec: nsec,
    };
    let times = [t, t];
    // SAFETY: valid path and a two-element timespec array.
    let rc = unsafe {
        libc::utimensat(
            libc::AT_FDCWD,
            c.as_ptr(),
            times.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// A relative source path from COPY, cleaned and checked not to leave the
/// source root (`../x` is refused, as BuildKit does for the context).
pub fn source_rel(s: &str) -> Result<String, String> {
    let mut parts: Vec<String> = Vec::new();
    for c in Path::new(s).components() {
        match c {
            Component::Normal(p) => parts.push(p.to_string_lossy().into_owned()),
            Component::ParentDir if parts.pop().is_none() => {
                return Err(format!("{s}: source is outside the build context"));
            }
            _ => {}
        }
    }
    Ok(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_filepath_match() {
        assert!(glob_match("*.txt", "a.txt"));
        assert!(!glob_match("*.txt", "d/a.txt"));
        assert!(glob_match("d/*.txt", "d/a.txt"));
        assert!(glob_match("fil?", "file"));
        assert!(glob_match("[a-c]x", "bx"));
        assert!(!glob_match("[^a-c]x", "bx"));
        assert!(glob_match("\\*", "*"));
        assert!(!glob_match("a", "b"));
    }

    /// `COPY --from` of a directory holding a FIFO keeps the FIFO, with its
    /// mode, as BuildKit's copy does (fsutil copyDevice).
    #[test]
    fn copier_recreates_fifos() {
        use std::os::unix::fs::FileTypeExt;
        let root = std::env::temp_dir().join(format!("mx-fsutil-fifo-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(root.join("src")).unwrap();
        let fifo = root.join("src/pipe");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        fs::set_permissions(&fifo, fs::Permissions::from_mode(0o640)).unwrap();
        let own = Ownership {
            owner: Some(nix_ids()),
            chmod: None,
        };
        let n = Copier::new(&Direct, own, &pick_all)
            .copy(&root.join("src"), &root.join("dst"), "")
            .unwrap();
        let m = fs::symlink_metadata(root.join("dst/pipe")).unwrap();
        assert!(m.file_type().is_fifo());
        assert_eq!(m.mode() & 0o7777, 0o640);
        assert_eq!(n, 2);
        fs::remove_dir_all(&root).unwrap();
    }

    /// An excluded directory marked `Look` is made only to hold what is
    /// re-included under it; one with nothing re-included is not made.
    #[test]
    fn look_directories_hold_only_reincluded_entries() {
        let root = std::env::temp_dir().join(format!("mx-fsutil-look-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        for d in ["src/drop/inner", "src/drop/other", "src/empty/sub"] {
            fs::create_dir_all(root.join(d)).unwrap();
        }
        for f in [
            "src/drop/inner/f",
            "src/drop/other/g",
            "src/drop/top",
            "src/empty/sub/x",
        ] {
            fs::write(root.join(f), "x").unwrap();
        }
        let pick = |rel: &str, is_dir: bool| match rel {
            "drop/inner" | "drop/inner/f" => Pick::Copy,
            "drop" | "empty" | "empty/sub" if is_dir => Pick::Look,
            _ if rel.starts_with("drop") || rel.starts_with("empty") => Pick::Skip,
            _ => Pick::Copy,
        };
        let own = Ownership {
            owner: Some(nix_ids()),
            chmod: None,
        };
        Copier::new(&Direct, own, &pick)
            .copy(&root.join("src"), &root.join("dst"), "")
            .unwrap();
        assert!(root.join("dst/drop/inner/f").is_file());
        assert!(!root.join("dst/drop/other").exists());
        assert!(!root.join("dst/drop/top").exists());
        assert!(!root.join("dst/empty").exists());
        fs::remove_dir_all(&root).unwrap();
    }

    /// This process's uid and gid (lchown to them works without root).
    fn nix_ids() -> (u32, u32) {
        // SAFETY: no preconditions.
        unsafe { (libc::geteuid(), libc::getegid()) }
    }

    #[test]
    fn resolve_stays_in_root() {
        let root = std::env::temp_dir().join(format!("mx-fsutil-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(root.join("usr/bin")).unwrap();
        std::os::unix::fs::symlink("/usr/bin", root.join("bin")).unwrap();
        std::os::unix::fs::symlink("../../../../etc", root.join("usr/escape")).unwrap();
        assert_eq!(resolve(&root, "/bin/sh").unwrap(), root.join("usr/bin/sh"));
        assert_eq!(
            resolve(&root, "/usr/escape/passwd").unwrap(),
            root.join("etc/passwd")
        );
        assert_eq!(resolve(&root, "/../../x").unwrap(), root.join("x"));
        // SAFETY: no preconditions.
        let (u, g) = unsafe { (libc::geteuid(), libc::getegid()) };
        let d = mkdir_all(&Direct, &root, "/bin/sub/dir", u, g).unwrap();
        assert_eq!(d, root.join("usr/bin/sub/dir"));
        assert_eq!(source_rel("./a/../b").unwrap(), "b");
        assert!(source_rel("../x").is_err());
        assert_eq!(clean_abs("a/./b/../c"), "/a/c");
        fs::remove_dir_all(&root).unwrap();
    }
}
