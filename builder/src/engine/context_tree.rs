//! A build context as the build's steps may see it: a copy of a directory
//! holding only what its ignore file lets through, made once per build.
//!
//! BuildKit never hands ignored files to a build: its context transfer sends
//! only what `.dockerignore` keeps, symlinks as symlinks, and every step
//! resolves paths inside that transferred snapshot, so a link to an ignored
//! file dangles. Filtering by name at each use cannot give that guarantee (a
//! symlink, a bind mount or a hash reads the real directory underneath), so
//! COPY/ADD, bind mounts and cache-key hashes all read this one tree instead.
//!
//! The tree lives under `<store>/work/contexts/`: regular files are hard
//! links where the filesystem allows (else copies), directories and symlinks
//! are recreated with their owner, mode and times, and devices, FIFOs and
//! sockets are left out (COPY never copies them; through a bind mount they
//! would give a step a door to the host). A directory an ignore pattern
//! excludes is not walked at all unless a later `!` exception could re-include
//! something inside it (`target/`, `node_modules/`).
//!
//! Each tree is held by an `flock` on `<name>.lock` beside it; the tree and
//! the lock file are removed when the build ends, and [`sweep_stale`] removes
//! those of builds that were killed (their lock is free) at the next start.

use std::collections::HashSet;
use std::fs;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::dockerfile::ignore::IgnoreMatcher;
use crate::fsutil;

/// Where the trees of a store live, under its work directory (which prune
/// also clears).
pub fn trees_dir(work: &Path) -> PathBuf {
    work.join("contexts")
}

/// A filtered copy of a context directory, removed on drop.
#[derive(Debug)]
pub struct ContextTree {
    root: PathBuf,
    lock_path: PathBuf,
    /// Holds the flock that tells [`sweep_stale`] this tree is in use.
    _lock: fs::File,
    /// What was put in, for logs and measurements.
    pub stats: Stats,
}

/// What a materialisation did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Regular files hard-linked.
    pub linked: usize,
    /// Regular files copied (hard links were not possible).
    pub copied: usize,
    /// Directories created.
    pub dirs: usize,
    /// Symlinks recreated.
    pub symlinks: usize,
    /// Entries an ignore pattern left out (a skipped directory counts once).
    pub ignored: usize,
    /// Devices, FIFOs and sockets left out.
    pub special: usize,
}

impl ContextTree {
    /// Copies what `ignore` keeps of `src` into a new tree under `trees`
    /// (see [`trees_dir`]).
    pub fn materialize(
        src: &Path,
        ignore: Option<&IgnoreMatcher>,
        trees: &Path,
    ) -> Result<ContextTree, String> {
        let meta = fs::metadata(src).map_err(|e| format!("{}: {e}", src.display()))?;
        if !meta.is_dir() {
            return Err(format!("{} is not a directory", src.display()));
        }
        let mut tree = ContextTree::empty(trees)?;
        // The trees themselves may sit inside the context (a context that
        // holds the store): never walk into them.
        let avoid = fs::metadata(trees)
            .map(|m| (m.dev(), m.ino()))
            .map_err(|e| e.to_string())?;
        let mut filler = Filler {
            src,
            dest: &tree.root,
            ignore,
            avoid,
            try_links: true,
            made: Vec::new(),
            created: HashSet::new(),
            stats: Stats::default(),
        };
        filler
            .fill()
            .map_err(|e| format!("preparing the build context {}: {e}", src.display()))?;
        tree.stats = filler.stats;
        Ok(tree)
    }

    /// An empty tree under `trees`: the main context of a build that never
    /// reads it.
    pub fn empty(trees: &Path) -> Result<ContextTree, String> {
        fs::create_dir_all(trees).map_err(|e| format!("{}: {e}", trees.display()))?;
        let (name, lock) = claim_name(trees).map_err(|e| format!("{}: {e}", trees.display()))?;
        Ok(ContextTree {
            root: trees.join(&name),
            lock_path: trees.join(format!("{name}.lock")),
            _lock: lock,
            stats: Stats::default(),
        })
    }

    /// The tree's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }
}

impl Drop for ContextTree {
    fn drop(&mut self) {
        // The tree first: a lock file without its tree is harmless, a tree
        // without its lock file is swept as an orphan.
        let _ = fs::remove_dir_all(&self.root);
        let _ = fs::remove_file(&self.lock_path);
    }
}

/// Creates and locks `<trees>/<name>.lock` for a fresh name.
fn claim_name(trees: &Path) -> io::Result<(String, fs::File)> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    for _ in 0..100 {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "{}-{}-{nanos:09}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let lock_path = trees.join(format!("{name}.lock"));
        let file = match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&lock_path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        };
        if !try_lock(&file)? {
            // A sweeper got there between create and lock; it removes the file.
            continue;
        }
        // A sweeper may have locked and unlinked the file before we locked
        // it: then our lock is on a file nobody can find. Start over.
        let on_disk = fs::metadata(&lock_path).map(|m| (m.dev(), m.ino())).ok();
        let held = file.metadata().map(|m| (m.dev(), m.ino()))?;
        if on_disk != Some(held) {
            continue;
        }
        if fs::symlink_metadata(trees.join(&name)).is_ok() {
            continue;
        }
        fs::create_dir(trees.join(&name))?;
        return Ok((name, file));
    }
    Err(io::Error::other("no free name for the context tree"))
}

/// Takes an exclusive flock without waiting; false when someone holds it.
fn try_lock(f: &fs::File) -> io::Result<bool> {
    // SAFETY: flock on a descriptor we own; no memory is passed.
    let rc = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc == 0 {
        return Ok(true);
    }
    let e = io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(false)
    } else {
        Err(e)
    }
}

/// Removes the trees under `trees` whose build is gone (their lock is free,
/// or their lock file is missing); returns how many. Trees of running builds
/// are left alone.
pub fn sweep_stale(trees: &Path) -> usize {
    let Ok(entries) = fs::read_dir(trees) else {
        return 0;
    };
    let mut removed = 0;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let path = e.path();
        if let Some(tree) = name.strip_suffix(".lock") {
            let Ok(f) = fs::File::open(&path) else {
                continue;
            };
            if try_lock(&f).unwrap_or(false) {
                let _ = fs::remove_dir_all(trees.join(tree));
                let _ = fs::remove_file(&path);
                removed += 1;
            }
        } else if !trees.join(format!("{name}.lock")).exists() {
            // Its owner created the lock file first and removes it last: a
            // tree without one was left by a remover that died half-way.
            let _ = fs::remove_dir_all(&path);
            removed += 1;
        }
    }
    removed
}

/// One materialisation in progress.
struct Filler<'a> {
    src: &'a Path,
    dest: &'a Path,
    ignore: Option<&'a IgnoreMatcher>,
    /// (device, inode) of the directory holding the trees.
    avoid: (u64, u64),
    /// False once a hard link failed across filesystems: copy from then on.
    try_links: bool,
    /// Directories created, parents first, with the metadata to give them
    /// once their contents are in (creating entries changes a directory's
    /// mtime).
    made: Vec<(String, fs::Metadata)>,
    /// The directories in `made`, for a lookup per file without a `stat`.
    created: HashSet<String>,
    stats: Stats,
}

impl Filler<'_> {
    fn fill(&mut self) -> io::Result<()> {
        self.walk("")?;
        // Deepest first, so setting a child's times never touches a parent's.
        for (rel, m) in std::mem::take(&mut self.made).iter().rev() {
            let p = self.dest.join(rel);
            std::os::unix::fs::lchown(&p, Some(m.uid()), Some(m.gid()))?;
            fs::set_permissions(&p, fs::Permissions::from_mode(m.mode() & 0o7777))?;
            fsutil::set_times(&p, m.mtime(), m.mtime_nsec())?;
        }
        if let Ok(m) = fs::metadata(self.src) {
            fs::set_permissions(self.dest, fs::Permissions::from_mode(m.mode() & 0o7777))?;
            fsutil::set_times(self.dest, m.mtime(), m.mtime_nsec())?;
        }
        Ok(())
    }

    fn excluded(&self, rel: &str) -> bool {
        self.ignore.is_some_and(|m| m.is_excluded(rel))
    }

    /// Copies the kept entries under `rel` (a directory of the source).
    /// Regular files cost one `link` each: their type comes from the
    /// directory entry, and a hard link needs no metadata.
    fn walk(&mut self, rel: &str) -> io::Result<()> {
        let dir = self.src.join(rel);
        for entry in fs::read_dir(&dir)? {
            let entry = entry?;
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                // Patterns are text; BuildKit's paths are too. A name that is
                // not UTF-8 cannot be matched reliably, so it stays out.
                self.stats.ignored += 1;
                continue;
            };
            let child = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let path = entry.path();
            let ft = entry.file_type()?;
            let excluded = self.excluded(&child);
            if ft.is_dir() {
                let m = fs::symlink_metadata(&path)?;
                if (m.dev(), m.ino()) == self.avoid {
                    continue;
                }
                if excluded && self.ignore.is_some_and(|i| i.can_skip_dir(&child)) {
                    self.stats.ignored += 1;
                    continue;
                }
                if !excluded {
                    self.ensure_dir(&child)?;
                }
                // An excluded directory is walked only for what an exception
                // keeps inside it; it is created when the first such entry is.
                self.walk(&child)?;
                continue;
            }
            if excluded {
                self.stats.ignored += 1;
                continue;
            }
            if !(ft.is_file() || ft.is_symlink()) {
                self.stats.special += 1;
                continue;
            }
            self.ensure_dir(rel)?;
            let target = self.dest.join(&child);
            if ft.is_symlink() {
                let m = fs::symlink_metadata(&path)?;
                std::os::unix::fs::symlink(fs::read_link(&path)?, &target)?;
                std::os::unix::fs::lchown(&target, Some(m.uid()), Some(m.gid()))?;
                fsutil::set_times(&target, m.mtime(), m.mtime_nsec())?;
                self.stats.symlinks += 1;
            } else {
                self.put_file(&path, &target)?;
            }
        }
        Ok(())
    }

    /// Creates directory `rel` in the tree, and any missing parents.
    fn ensure_dir(&mut self, rel: &str) -> io::Result<()> {
        if rel.is_empty() || self.created.contains(rel) {
            return Ok(());
        }
        if let Some((parent, _)) = rel.rsplit_once('/') {
            self.ensure_dir(parent)?;
        }
        let m = fs::symlink_metadata(self.src.join(rel))?;
        fs::create_dir(self.dest.join(rel))?;
        self.created.insert(rel.to_string());
        self.made.push((rel.to_string(), m));
        self.stats.dirs += 1;
        Ok(())
    }

    /// A hard link of `src` at `dest`, or a copy with its metadata.
    fn put_file(&mut self, src: &Path, dest: &Path) -> io::Result<()> {
        if self.try_links {
            match fs::hard_link(src, dest) {
                Ok(()) => {
                    self.stats.linked += 1;
                    return Ok(());
                }
                Err(e) if e.raw_os_error() == Some(libc::EXDEV) => self.try_links = false,
                // Not allowed for this one file (protected_hardlinks, too many links).
                Err(_) => {}
            }
        }
        let m = fs::symlink_metadata(src)?;
        fs::copy(src, dest)?;
        std::os::unix::fs::lchown(dest, Some(m.uid()), Some(m.gid()))?;
        fs::set_permissions(dest, fs::Permissions::from_mode(m.mode() & 0o7777))?;
        fsutil::set_times(dest, m.mtime(), m.mtime_nsec())?;
        self.stats.copied += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(tag: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!("mx-ctxtree-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).unwrap();
        p
    }

    fn listing(root: &Path) -> Vec<String> {
        let mut out = Vec::new();
        fn go(root: &Path, rel: &str, out: &mut Vec<String>) {
            let mut names: Vec<_> = fs::read_dir(root.join(rel))
                .unwrap()
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            for n in names {
                let child = if rel.is_empty() {
                    n
                } else {
                    format!("{rel}/{n}")
                };
                let m = fs::symlink_metadata(root.join(&child)).unwrap();
                if m.is_dir() {
                    out.push(format!("{child}/"));
                    go(root, &child, out);
                } else if m.file_type().is_symlink() {
                    let t = fs::read_link(root.join(&child)).unwrap();
                    out.push(format!("{child} -> {}", t.display()));
                } else {
                    out.push(child);
                }
            }
        }
        go(root, "", &mut out);
        out
    }

    #[test]
    fn keeps_only_what_the_ignore_file_lets_through() {
        let t = scratch("filter");
        let src = t.join("src");
        for d in ["secret", "target/debug", "docs/private", "keep/sub"] {
            fs::create_dir_all(src.join(d)).unwrap();
        }
        for f in [
            "a.txt",
            "secret/key",
            "target/debug/big",
            "docs/readme.md",
            "docs/private/x.md",
            "keep/sub/y",
        ] {
            fs::write(src.join(f), f).unwrap();
        }
        std::os::unix::fs::symlink("secret/key", src.join("link")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", src.join("abs")).unwrap();
        fs::set_permissions(src.join("a.txt"), fs::Permissions::from_mode(0o640)).unwrap();
        fsutil::set_times(&src.join("docs"), 1_000_000, 5).unwrap();
        let m = IgnoreMatcher::from_patterns(&["secret", "target", "docs", "!docs/*.md"]).unwrap();
        let trees = trees_dir(&t.join("work"));
        let tree = ContextTree::materialize(&src, Some(&m), &trees).unwrap();
        assert_eq!(
            listing(tree.root()),
            [
                "a.txt",
                "abs -> /etc/passwd",
                "docs/",
                "docs/readme.md",
                "keep/",
                "keep/sub/",
                "keep/sub/y",
                "link -> secret/key",
            ]
        );
        // `target` has no exception inside: skipped whole, never walked.
        assert_eq!(tree.stats.ignored, 3, "{:?}", tree.stats);
        let a = fs::metadata(tree.root().join("a.txt")).unwrap();
        assert_eq!(a.mode() & 0o777, 0o640);
        assert_eq!(
            a.ino(),
            fs::metadata(src.join("a.txt")).unwrap().ino(),
            "hard link"
        );
        let docs = fs::metadata(tree.root().join("docs")).unwrap();
        assert_eq!((docs.mtime(), docs.mtime_nsec()), (1_000_000, 5));
        let root = tree.root().to_path_buf();
        drop(tree);
        assert!(!root.exists(), "removed on drop");
        assert_eq!(
            fs::read_dir(&trees).unwrap().count(),
            0,
            "lock file removed"
        );
        fs::remove_dir_all(&t).unwrap();
    }

    /// `drop` then `!drop/inner`, `docs` then `!docs/sub/deep/*.md`: the
    /// re-included paths and the directories leading to them are kept,
    /// nothing else of the excluded directories (BuildKit's fsutil walker).
    #[test]
    fn keeps_reincluded_paths_deep_under_excluded_directories() {
        let t = scratch("reinclude");
        let src = t.join("src");
        for f in [
            "drop/inner/f",
            "drop/other/g",
            "drop/top",
            "docs/sub/deep/a.md",
            "docs/sub/deep/b.txt",
            "docs/x/y.md",
        ] {
            fs::create_dir_all(src.join(f).parent().unwrap()).unwrap();
            fs::write(src.join(f), f).unwrap();
        }
        let m = IgnoreMatcher::parse("drop\n!drop/inner\ndocs\n!docs/sub/deep/*.md\n").unwrap();
        let tree = ContextTree::materialize(&src, Some(&m), &trees_dir(&t.join("work"))).unwrap();
        assert_eq!(
            listing(tree.root()),
            [
                "docs/",
                "docs/sub/",
                "docs/sub/deep/",
                "docs/sub/deep/a.md",
                "drop/",
                "drop/inner/",
                "drop/inner/f",
            ]
        );
        drop(tree);
        fs::remove_dir_all(&t).unwrap();
    }

    #[test]
    fn never_walks_into_its_own_trees() {
        let t = scratch("self");
        fs::write(t.join("f"), "x").unwrap();
        let trees = trees_dir(&t.join("store/work"));
        let tree = ContextTree::materialize(&t, None, &trees).unwrap();
        let l = listing(tree.root());
        assert!(l.contains(&"f".to_string()), "{l:?}");
        assert!(!l.iter().any(|e| e.contains("contexts/")), "{l:?}");
        drop(tree);
        fs::remove_dir_all(&t).unwrap();
    }

    #[test]
    fn sweep_removes_only_trees_of_dead_builds() {
        let t = scratch("sweep");
        let src = t.join("src");
        fs::create_dir_all(&src).unwrap();
        fs::write(src.join("f"), "x").unwrap();
        let trees = trees_dir(&t.join("work"));
        let live = ContextTree::materialize(&src, None, &trees).unwrap();
        // A killed build: its tree and lock file, with nobody holding the lock.
        fs::create_dir_all(trees.join("1-0-0/d")).unwrap();
        fs::write(trees.join("1-0-0.lock"), "").unwrap();
        // A remover that died between removing the lock file and the tree.
        fs::create_dir_all(trees.join("2-0-0")).unwrap();
        assert_eq!(sweep_stale(&trees), 2);
        assert!(live.root().join("f").exists(), "a live tree is kept");
        assert!(!trees.join("1-0-0").exists() && !trees.join("1-0-0.lock").exists());
        assert!(!trees.join("2-0-0").exists());
        drop(live);
        fs::remove_dir_all(&t).unwrap();
    }
}
