//! Creating a layer from a directory: one tar with entries in sorted order
//! and deterministic headers (no user/group names, mtimes clamped to
//! SOURCE_DATE_EPOCH when given), PAX records for long names, long link
//! targets and xattrs, hardlinks for files seen twice, devices and FIFOs.
//! From an overlay upperdir, whiteout devices become `.wh.<name>` and opaque
//! directories get `.wh..wh..opq`. The uncompressed stream is hashed (the
//! diff_id) while the compressed one is written into the blob store, or
//! only hashed ([`diff_id_of`]) for a layer whose blob is made later.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use super::compress::Compression;
use super::extract::name::{OPAQUE, WHITEOUT};
use super::hashing::HashingWriter;
use crate::store::blobs::Blobs;
use crate::store::digest::Digest;
use crate::store::error::StoreError;

/// How to write the layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerOptions {
    /// Compression (gzip by default).
    pub compression: Compression,
    /// Compression level (`None`: the compression's default).
    pub level: Option<i32>,
    /// SOURCE_DATE_EPOCH: later mtimes are clamped to it.
    pub epoch: Option<i64>,
    /// The directory is an overlay upperdir: convert whiteouts.
    pub overlay: bool,
}

impl Default for LayerOptions {
    fn default() -> Self {
        LayerOptions {
            compression: Compression::Gzip,
            level: None,
            epoch: None,
            overlay: false,
        }
    }
}

/// The stored layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    /// Digest of the compressed blob.
    pub digest: Digest,
    /// Digest of the uncompressed tar (`rootfs.diff_ids`).
    pub diff_id: Digest,
    /// Size of the compressed blob.
    pub size: u64,
    /// OCI media type.
    pub media_type: &'static str,
}

/// Writes the layer for `dir` into the blob store.
pub fn from_dir(dir: &Path, blobs: &Blobs, opts: LayerOptions) -> Result<Layer, StoreError> {
    let mut blob = blobs.writer()?;
    let diff_id = {
        let mut compressor = opts.compression.writer_at(&mut blob, opts.level)?;
        let diff_id = write_tar(dir, &mut compressor, &opts)?;
        compressor.finish_box()?;
        diff_id
    };
    let (digest, size) = blob.commit(None)?;
    Ok(Layer {
        digest,
        diff_id,
        size,
        media_type: opts.compression.media_type(),
    })
}

/// The diff_id the layer for `dir` has, without writing it anywhere (the
/// tar is only hashed): what a step's snapshot is named by before, and
/// unless, an export needs its blob.
pub fn diff_id_of(dir: &Path, opts: &LayerOptions) -> Result<Digest, StoreError> {
    Ok(write_tar(dir, &mut io::sink(), opts)?)
}

/// Writes the tar of `dir` to `out`; returns its digest.
fn write_tar<W: Write>(dir: &Path, out: W, opts: &LayerOptions) -> io::Result<Digest> {
    let mut hashing = HashingWriter::new(out);
    {
        let mut builder = tar::Builder::new(&mut hashing);
        let mut links = BTreeMap::new();
        walk(dir, b"", &mut builder, &mut links, opts)?;
        builder.finish()?;
    }
    Ok(hashing.digest())
}

type Links = BTreeMap<(u64, u64), Vec<u8>>;

/// `rel/name` as bytes (names are bytes on Linux and in tar: kept exactly).
fn join(rel: &[u8], name: &[u8]) -> Vec<u8> {
    if rel.is_empty() {
        name.to_vec()
    } else {
        [rel, b"/", name].concat()
    }
}

/// A user's file named like a whiteout would delete `NAME` when the layer
/// is applied (and `.wh..` would reach outside the root in a careless
/// unpacker); docker refuses such files too.
fn reserved_name(path: &[u8]) -> io::Error {
    io::Error::other(format!(
        "{}: file names starting with .wh. are reserved for layer whiteouts and cannot go into a layer; hint: rename the file (or, if it comes from the build context, add it to .dockerignore)",
        path.escape_ascii()
    ))
}

/// Appends `dir/rel` (a directory) and everything below it, sorted by name.
fn walk<W: Write>(
    root: &Path,
    rel: &[u8],
    b: &mut tar::Builder<W>,
    links: &mut Links,
    opts: &LayerOptions,
) -> io::Result<()> {
    let mut names: Vec<_> = fs::read_dir(root.join(OsStr::from_bytes(rel)))?
        .flatten()
        .map(|e| e.file_name())
        .collect();
    names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    for name in names {
        let name = name.as_bytes();
        let path = join(rel, name);
        let full = root.join(OsStr::from_bytes(&path));
        let meta = fs::symlink_metadata(&full)?;
        let ft = meta.file_type();
        if opts.overlay && ft.is_char_device() && meta.rdev() == 0 {
            // overlayfs marks a deleted file with a 0/0 character device.
            let wh = join(rel, &[WHITEOUT, name].concat());
            append_marker(b, &wh, &meta, opts)?;
            continue;
        }
        if name.starts_with(WHITEOUT) {
            return Err(reserved_name(&path));
        }
        let xattrs = read_xattrs(&full, opts.overlay);
        let entry = |kind, link| Entry::new(&path, &meta, kind, link, &xattrs);
        if ft.is_dir() {
            let dir = [&path[..], b"/"].concat();
            append(
                b,
                &Entry {
                    path: &dir,
                    ..entry(tar::EntryType::Directory, None)
                },
                opts,
                &mut io::empty(),
                0,
            )?;
            if opts.overlay && is_opaque(&full) {
                append_marker(b, &join(&path, OPAQUE), &meta, opts)?;
            }
            walk(root, &path, b, links, opts)?;
        } else if ft.is_symlink() {
            let target = fs::read_link(&full)?;
            let e = entry(tar::EntryType::Symlink, Some(target.as_os_str().as_bytes()));
            append(b, &e, opts, &mut io::empty(), 0)?;
        } else if ft.is_file() {
            if meta.nlink() > 1 {
                if let Some(first) = links.get(&(meta.dev(), meta.ino())) {
                    let first = first.clone();
                    let e = entry(tar::EntryType::Link, Some(&first));
                    append(b, &e, opts, &mut io::empty(), 0)?;
                    continue;
                }
                links.insert((meta.dev(), meta.ino()), path.clone());
            }
            let mut f = fs::File::open(&full)?;
            append(
                b,
                &entry(tar::EntryType::Regular, None),
                opts,
                &mut f,
                meta.len(),
            )?;
        } else if ft.is_char_device() || ft.is_block_device() || ft.is_fifo() {
            let kind = if ft.is_char_device() {
                tar::EntryType::Char
            } else if ft.is_block_device() {
                tar::EntryType::Block
            } else {
                tar::EntryType::Fifo
            };
            append(b, &entry(kind, None), opts, &mut io::empty(), 0)?;
        }
        // Sockets cannot be stored in a layer; they are skipped like docker does.
    }
    Ok(())
}

/// An empty regular file that only marks something: a whiteout.
fn append_marker<W: Write>(
    b: &mut tar::Builder<W>,
    path: &[u8],
    meta: &fs::Metadata,
    opts: &LayerOptions,
) -> io::Result<()> {
    let e = Entry {
        path,
        meta,
        kind: tar::EntryType::Regular,
        link: None,
        xattrs: &[],
    };
    append(b, &e, opts, &mut io::empty(), 0)
}

/// What one tar entry says about a file.
struct Entry<'a> {
    path: &'a [u8],
    meta: &'a fs::Metadata,
    kind: tar::EntryType,
    link: Option<&'a [u8]>,
    xattrs: &'a [(String, Vec<u8>)],
}

impl<'a> Entry<'a> {
    fn new(
        path: &'a [u8],
        meta: &'a fs::Metadata,
        kind: tar::EntryType,
        link: Option<&'a [u8]>,
        xattrs: &'a [(String, Vec<u8>)],
    ) -> Entry<'a> {
        Entry {
            path,
            meta,
            kind,
            link,
            xattrs,
        }
    }
}

/// Writes one entry: PAX records first when needed, then a ustar header.
/// Names that are not UTF-8 go into PAX records as they are, marked
/// `hdrcharset=BINARY` (POSIX), so readers keep the bytes.
fn append<W: Write>(
    b: &mut tar::Builder<W>,
    e: &Entry<'_>,
    opts: &LayerOptions,
    data: &mut dyn io::Read,
    size: u64,
) -> io::Result<()> {
    let mut pax: Vec<(String, Vec<u8>)> = Vec::new();
    let mut binary = false;
    if e.path.len() > 99 {
        binary |= std::str::from_utf8(e.path).is_err();
        pax.push(("path".to_string(), e.path.to_vec()));
    }
    if let Some(l) = e.link {
        if l.len() > 99 {
            binary |= std::str::from_utf8(l).is_err();
            pax.push(("linkpath".to_string(), l.to_vec()));
        }
    }
    if binary {
        pax.insert(0, ("hdrcharset".to_string(), b"BINARY".to_vec()));
    }
    for (k, v) in e.xattrs {
        pax.push((format!("SCHILY.xattr.{k}"), v.clone()));
    }
    if !pax.is_empty() {
        b.append_pax_extensions(pax.iter().map(|(k, v)| (k.as_str(), v.as_slice())))?;
    }
    let meta = e.meta;
    let mut h = tar::Header::new_ustar();
    set_truncated(&mut h.as_old_mut().name, e.path);
    if let Some(l) = e.link {
        set_truncated(&mut h.as_old_mut().linkname, l);
    }
    h.set_entry_type(e.kind);
    h.set_mode(meta.mode() & 0o7777);
    h.set_uid(u64::from(meta.uid()));
    h.set_gid(u64::from(meta.gid()));
    let mtime = match opts.epoch {
        Some(t) => meta.mtime().min(t),
        None => meta.mtime(),
    };
    h.set_mtime(mtime.max(0) as u64);
    h.set_size(size);
    if matches!(e.kind, tar::EntryType::Char | tar::EntryType::Block) {
        let rdev = meta.rdev();
        h.set_device_major(libc::major(rdev))?;
        h.set_device_minor(libc::minor(rdev))?;
    }
    h.set_cksum();
    b.append(&h, data)
}

/// Writes a name into a fixed header field (the PAX record carries the full one).
fn set_truncated(field: &mut [u8], value: &[u8]) {
    let n = value.len().min(field.len());
    field[..n].copy_from_slice(&value[..n]);
    for b in &mut field[n..] {
        *b = 0;
    }
}

/// Extended attributes worth keeping (overlay's own are dropped).
fn read_xattrs(path: &Path, overlay: bool) -> Vec<(String, Vec<u8>)> {
    let Ok(cpath) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return Vec::new();
    };
    let mut names = vec![0u8; 4096];
    // SAFETY: the buffer is valid for its length; the kernel writes at most that much.
    let n = unsafe { libc::llistxattr(cpath.as_ptr(), names.as_mut_ptr().cast(), names.len()) };
    if n <= 0 {
        return Vec::new();
    }
    names.truncate(n as usize);
    let mut out = Vec::new();
    for name in names.split(|&b| b == 0).filter(|n| !n.is_empty()) {
        let Ok(key) = std::str::from_utf8(name) else {
            continue;
        };
        if overlay && key.starts_with("trusted.overlay.") {
            continue;
        }
        let Ok(cname) = std::ffi::CString::new(name) else {
            continue;
        };
        let mut value = vec![0u8; 65536];
        // SAFETY: as above, for the value buffer.
        let len = unsafe {
            libc::lgetxattr(
                cpath.as_ptr(),
                cname.as_ptr(),
                value.as_mut_ptr().cast(),
                value.len(),
            )
        };
        if len >= 0 {
            value.truncate(len as usize);
            out.push((key.to_string(), value));
        }
    }
    out.sort();
    out
}

/// An overlay directory that hides the lower layers' contents.
pub fn is_opaque(path: &Path) -> bool {
    read_xattrs(path, false)
        .iter()
        .any(|(k, v)| k == "trusted.overlay.opaque" && v == b"y")
}
