//! Applying a layer to a root directory: whiteouts delete what lower layers
//! put there, entries keep their owners (as root), modes, xattrs and mtimes.
//!
//! A layer is hostile until proven otherwise (SECURITY.md). Every path that
//! unpacks a tar goes through [`apply`]: snapshots, `-o type=local`, import,
//! `verify` and `ADD` of an archive. Names are checked by [`name::classify`]
//! before anything is written; an entry under a symlinked directory, or a
//! hardlink to something that is not a file inside the root, stops the
//! whole layer; nothing is ever written outside the root (parents are
//! checked before every write, never followed). The uncompressed stream is
//! hashed as it is read, so a caller that knows the config's diff_id can
//! refuse a layer whose content is not what the image claims.

mod budget;
mod fsops;
pub mod name;

use std::fs;
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use self::name::EntryName;
use super::compress::Compression;
use super::hashing::HashingReader;
use crate::store::digest::Digest;

/// What the root directory is and so what whiteouts and special files become.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Layers applied one after another onto one directory (base snapshots,
    /// import, verify): whiteouts delete.
    Layer,
    /// One layer unpacked alone as an overlayfs lowerdir: whiteouts become
    /// 0/0 character devices, opaque markers the `trusted.overlay.opaque`
    /// xattr, so it can sit above the layers it changes.
    Overlay,
    /// `-o type=local` on the host: like [`Mode::Layer`], but device nodes
    /// and FIFOs are never created, setuid/setgid bits are stripped from
    /// files, and only `user.*` extended attributes are kept (a file
    /// capability is as good as setuid).
    Export,
    /// A user's archive (`ADD x.tar`): no whiteout semantics at all, so an
    /// entry named `.wh.*` is refused rather than written as a file that the
    /// next layer would read as a whiteout.
    Archive,
}

/// Why a layer could not be applied.
#[derive(Debug)]
pub enum ExtractError {
    /// The layer tries to write outside the root, through a symlink, or
    /// names an entry no layer writer produces.
    Unsafe {
        /// The entry's name as stored (non-UTF-8 bytes as `\xNN`).
        entry: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Something this implementation does not write correctly, refused
    /// rather than written wrong.
    Unsupported {
        /// The entry's name.
        entry: String,
        /// What it uses.
        what: String,
    },
    /// The content is not what the image config says (`rootfs.diff_ids`).
    DiffId {
        /// The config's diff_id.
        expected: Digest,
        /// The digest of the uncompressed stream.
        actual: Digest,
    },
    /// A malformed archive or a filesystem error (ENOSPC included).
    Io(io::Error),
}

impl std::fmt::Display for ExtractError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExtractError::Unsafe { entry, reason } => write!(
                f,
                "refusing layer: entry \"{entry}\" {reason}; nothing was written outside the root"
            ),
            ExtractError::Unsupported { entry, what } => write!(
                f,
                "refusing layer: entry \"{entry}\" uses {what}, which mxbuild cannot apply faithfully; hint: rebuild the layer without it"
            ),
            ExtractError::DiffId { expected, actual } => write!(
                f,
                "refusing layer: its uncompressed content is {actual} but the image config's rootfs.diff_ids says {expected}; the image is corrupt or forged, and nothing of it was kept"
            ),
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
    /// Whiteouts and opaque markers applied.
    pub whiteouts: usize,
    /// Device nodes and FIFOs not created (not root, or an export).
    pub skipped_special: usize,
    /// Files whose setuid/setgid bits an export stripped.
    pub stripped_setid: usize,
    /// Extended attributes not set (overlayfs's own; all but `user.*` in an export).
    pub dropped_xattrs: usize,
}

/// The result of [`apply`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// What was done.
    pub stats: Stats,
    /// sha256 of the uncompressed stream: the layer's diff_id.
    pub diff_id: Digest,
}

/// Applies a (possibly compressed) tar read from `r` onto `root`. With
/// `expect` set, the uncompressed stream must hash to it, or the result is
/// [`ExtractError::DiffId`] (the caller discards `root`: a layer's files are
/// written before its last byte is read).
pub fn apply(
    mut r: impl Read,
    root: &Path,
    mode: Mode,
    expect: Option<&Digest>,
) -> Result<Applied, ExtractError> {
    let mut head = [0u8; 4];
    let n = read_up_to(&mut r, &mut head)?;
    let chained = io::Cursor::new(head[..n].to_vec()).chain(r);
    let hashing = HashingReader::new(Compression::sniff(&head[..n]).reader(chained)?);
    let (reader, allowance) = budget::Budget::new(hashing);
    let mut archive = tar::Archive::new(reader);
    let mut run = Run {
        root,
        mode,
        // SAFETY: geteuid has no preconditions and cannot fail.
        is_root: unsafe { libc::geteuid() } == 0,
        stats: Stats::default(),
        dir_times: Vec::new(),
    };
    {
        let mut entries = archive.entries()?;
        loop {
            allowance.set(budget::METADATA_LIMIT);
            let next = entries.next();
            allowance.set(u64::MAX);
            let Some(entry) = next else { break };
            run.entry(&mut entry?)?;
        }
    }
    // Directory times last: creating their children changed them.
    for (dir, t) in run.dir_times.iter().rev() {
        fsops::set_mtime(dir, *t)?;
    }
    let (diff_id, _) = archive.into_inner().inner.finish()?;
    if let Some(expected) = expect {
        if *expected != diff_id {
            return Err(ExtractError::DiffId {
                expected: expected.clone(),
                actual: diff_id,
            });
        }
    }
    Ok(Applied {
        stats: run.stats,
        diff_id,
    })
}

/// Extended attributes from an entry's PAX records: (name, value).
type Xattrs = Vec<(Vec<u8>, Vec<u8>)>;

/// One application in progress.
struct Run<'a> {
    root: &'a Path,
    mode: Mode,
    is_root: bool,
    stats: Stats,
    dir_times: Vec<(PathBuf, i64)>,
}

fn unsafe_entry(raw: &[u8], reason: &str) -> ExtractError {
    ExtractError::Unsafe {
        entry: name::shown(raw),
        reason: reason.to_string(),
    }
}

impl Run<'_> {
    fn entry<R: Read>(&mut self, entry: &mut tar::Entry<R>) -> Result<(), ExtractError> {
        let raw = entry.path_bytes().into_owned();
        let kind = entry.header().entry_type();
        // PAX and GNU metadata entries are consumed by the tar reader;
        // a global header ('g', e.g. git archive's commit id) says nothing about files.
        if kind == tar::EntryType::XGlobalHeader {
            return Ok(());
        }
        let xattrs = self.pax_records(entry, &raw)?;
        let named = name::classify(&raw).map_err(|why| unsafe_entry(&raw, why))?;
        match named {
            EntryName::Root => Ok(()),
            EntryName::Whiteout { parent, name } => self.whiteout(&raw, &parent, &name),
            EntryName::Opaque { parent } => self.opaque(&raw, &parent),
            EntryName::Path(rel) => self.write(entry, &raw, &rel, kind, &xattrs),
        }
    }

    /// The entry's `SCHILY.xattr.*` records; PAX sparse files are refused
    /// (the tar reader would hand over their map as file content).
    fn pax_records<R: Read>(
        &self,
        entry: &mut tar::Entry<R>,
        raw: &[u8],
    ) -> Result<Xattrs, ExtractError> {
        let mut xattrs = Vec::new();
        let Some(exts) = entry.pax_extensions()? else {
            return Ok(xattrs);
        };
        for ext in exts {
            let ext = ext?;
            let key = ext.key_bytes();
            if key.starts_with(b"GNU.sparse.") {
                return Err(ExtractError::Unsupported {
                    entry: name::shown(raw),
                    what: "the PAX sparse-file format (GNU.sparse.*)".to_string(),
                });
            }
            if let Some(n) = key.strip_prefix(b"SCHILY.xattr.") {
                xattrs.push((n.to_vec(), ext.value_bytes().to_vec()));
            }
        }
        Ok(xattrs)
    }

    fn whiteout(&mut self, raw: &[u8], parent: &Path, hidden: &[u8]) -> Result<(), ExtractError> {
        if self.mode == Mode::Archive {
            return Err(reserved(raw));
        }
        self.parents(raw, parent)?;
        let target = self
            .root
            .join(parent)
            .join(std::ffi::OsStr::from_bytes(hidden));
        fsops::remove_any(&target)?;
        if self.mode == Mode::Overlay {
            fsops::mark_whiteout(&target)?;
        }
        self.stats.whiteouts += 1;
        Ok(())
    }

    fn opaque(&mut self, raw: &[u8], parent: &Path) -> Result<(), ExtractError> {
        if self.mode == Mode::Archive {
            return Err(reserved(raw));
        }
        self.parents(raw, parent)?;
        let dir = self.root.join(parent);
        if self.mode == Mode::Overlay {
            fsops::mark_opaque(&dir)?;
        } else {
            for child in fs::read_dir(&dir)? {
                fsops::remove_any(&child?.path())?;
            }
        }
        self.stats.whiteouts += 1;
        Ok(())
    }

    /// Makes sure every directory from the root down to `parent` is a real
    /// directory (creating missing ones); a symlink or file on the way is refused.
    fn parents(&self, raw: &[u8], parent: &Path) -> Result<(), ExtractError> {
        let mut cur = self.root.to_path_buf();
        for c in parent.components() {
            cur.push(c);
            match fs::symlink_metadata(&cur) {
                Ok(m) if m.is_dir() => {}
                Ok(m) if m.file_type().is_symlink() => {
                    let shown = cur.strip_prefix(self.root).unwrap_or(&cur);
                    return Err(unsafe_entry(
                        raw,
                        &format!("lies under {}, which is a symlink", shown.display()),
                    ));
                }
                Ok(_) => {
                    return Err(unsafe_entry(
                        raw,
                        "lies under a path that is not a directory",
                    ));
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => fs::create_dir(&cur)?,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    fn write<R: Read>(
        &mut self,
        entry: &mut tar::Entry<R>,
        raw: &[u8],
        rel: &Path,
        kind: tar::EntryType,
        xattrs: &Xattrs,
    ) -> Result<(), ExtractError> {
        if let Some(parent) = rel.parent() {
            self.parents(raw, parent)?;
        }
        let dest = self.root.join(rel);
        let existing = fs::symlink_metadata(&dest).ok();
        let keep_dir = kind.is_dir() && existing.as_ref().is_some_and(|m| m.is_dir());
        if existing.is_some() && !keep_dir {
            fsops::remove_any(&dest)?;
        }
        let header = entry.header().clone();
        let mut mode = header.mode().unwrap_or(0o644) & 0o7777;
        match kind {
            tar::EntryType::Directory => {
                if !keep_dir {
                    fs::create_dir(&dest)?;
                }
            }
            // tar's reader expands old-GNU sparse entries, holes as zeros.
            tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse => {
                let mut f = fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&dest)?;
                io::copy(entry, &mut f)?;
                if self.mode == Mode::Export && mode & 0o6000 != 0 {
                    mode &= !0o6000;
                    self.stats.stripped_setid += 1;
                }
            }
            tar::EntryType::Symlink => {
                let target = entry
                    .link_name_bytes()
                    .ok_or_else(|| unsafe_entry(raw, "is a symlink without a target"))?;
                std::os::unix::fs::symlink(std::ffi::OsStr::from_bytes(&target), &dest)?;
            }
            tar::EntryType::Link => return self.hardlink(entry, raw, &dest),
            tar::EntryType::Char | tar::EntryType::Block | tar::EntryType::Fifo => {
                if !self.special(&header, kind, mode, &dest)? {
                    return Ok(());
                }
            }
            other => {
                return Err(ExtractError::Unsupported {
                    entry: name::shown(raw),
                    what: format!("tar entry type {:?}", other.as_byte() as char),
                });
            }
        }
        self.finish(&dest, &header, kind, mode, xattrs)
    }

    /// Creates a device node or FIFO; false when it is skipped instead.
    fn special(
        &mut self,
        header: &tar::Header,
        kind: tar::EntryType,
        mode: u32,
        dest: &Path,
    ) -> Result<bool, ExtractError> {
        let device = kind != tar::EntryType::Fifo;
        if self.mode == Mode::Export || (device && !self.is_root) {
            self.stats.skipped_special += 1;
            return Ok(false);
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
        fsops::mknod(dest, fmt, mode, dev)?;
        Ok(true)
    }

    fn hardlink<R: Read>(
        &mut self,
        entry: &tar::Entry<R>,
        raw: &[u8],
        dest: &Path,
    ) -> Result<(), ExtractError> {
        let target = entry
            .link_name_bytes()
            .ok_or_else(|| unsafe_entry(raw, "is a hardlink without a target"))?;
        let rel = name::link_target(&target).map_err(|why| unsafe_entry(raw, why))?;
        // The target's parents must be real directories too (never created here).
        let mut cur = self.root.to_path_buf();
        for c in rel.parent().into_iter().flat_map(Path::components) {
            cur.push(c);
            if !fs::symlink_metadata(&cur).is_ok_and(|m| m.is_dir()) {
                return Err(not_a_file(raw, &target));
            }
        }
        let src = self.root.join(&rel);
        match fs::symlink_metadata(&src) {
            Ok(m) if m.is_file() => fs::hard_link(&src, dest)?,
            _ => return Err(not_a_file(raw, &target)),
        }
        self.stats.entries += 1;
        Ok(())
    }

    /// Owner, mode, extended attributes and time of a written entry.
    fn finish(
        &mut self,
        dest: &Path,
        header: &tar::Header,
        kind: tar::EntryType,
        mode: u32,
        xattrs: &Xattrs,
    ) -> Result<(), ExtractError> {
        if self.is_root {
            // An empty owner field means root, as tar(1) reads it.
            let uid = header.uid().unwrap_or(0) as u32;
            let gid = header.gid().unwrap_or(0) as u32;
            // Best effort, as tar(1): a filesystem may refuse some ids.
            let _ = fsops::lchown(dest, uid, gid);
        }
        if kind != tar::EntryType::Symlink {
            fs::set_permissions(dest, std::os::unix::fs::PermissionsExt::from_mode(mode))?;
        }
        for (n, v) in xattrs {
            if self.keeps_xattr(n) {
                fsops::set_xattr(dest, n, v);
            } else {
                self.stats.dropped_xattrs += 1;
            }
        }
        let mtime = header.mtime().unwrap_or(0) as i64;
        if kind.is_dir() {
            self.dir_times.push((dest.to_path_buf(), mtime));
        } else {
            fsops::set_mtime(dest, mtime)?;
        }
        self.stats.entries += 1;
        Ok(())
    }

    /// overlayfs reads its own `trusted.overlay.*` attributes from lowerdirs
    /// (opaque, redirect, metacopy): a layer never gets to set them. An
    /// export keeps only `user.*`.
    fn keeps_xattr(&self, n: &[u8]) -> bool {
        if n.starts_with(b"trusted.overlay.") || n.starts_with(b"user.overlay.") {
            return false;
        }
        self.mode != Mode::Export || n.starts_with(b"user.")
    }
}

fn reserved(raw: &[u8]) -> ExtractError {
    unsafe_entry(
        raw,
        "has a name starting with .wh., which layers reserve for whiteouts; hint: rename it in the archive",
    )
}

fn not_a_file(raw: &[u8], target: &[u8]) -> ExtractError {
    unsafe_entry(
        raw,
        &format!(
            "is a hardlink to \"{}\", which is not a file in this layer's root",
            name::shown(target)
        ),
    )
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
