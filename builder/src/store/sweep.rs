//! The sweep half of `mxbuild prune`: given the set of blobs still reachable
//! (computed by the caller from references and the step cache, which know
//! what manifests mean), delete every other blob, the temp files of killed
//! writers, and the scratch work directories. The caller holds the store's
//! exclusive lock, so no build is half-way through writing.

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::Path;

use super::blobs::Blobs;
use super::digest::Digest;

/// What a sweep removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Swept {
    /// Unreferenced blobs removed.
    pub blobs: usize,
    /// Their total size.
    pub bytes: u64,
    /// Temp files and work directories removed.
    pub temps: usize,
}

/// Removes every blob not in `keep`, temp files, and `<root>/work/*`.
pub fn sweep(root: &Path, blobs: &Blobs, keep: &BTreeSet<Digest>) -> io::Result<Swept> {
    let mut out = Swept::default();
    for d in blobs.list()? {
        if !keep.contains(&d) {
            out.bytes += fs::metadata(blobs.path(&d)).map(|m| m.len()).unwrap_or(0);
            blobs.remove(&d)?;
            out.blobs += 1;
        }
    }
    out.temps += blobs.clean_tmp()?;
    let work = root.join("work");
    if let Ok(rd) = fs::read_dir(&work) {
        for e in rd {
            let p = e?.path();
            if p.is_dir() && !p.is_symlink() {
                fs::remove_dir_all(&p)?;
            } else {
                fs::remove_file(&p)?;
            }
            out.temps += 1;
        }
    }
    Ok(out)
}
