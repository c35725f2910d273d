//! Content-addressed blobs: `<root>/blobs/sha256/<hex>`. A blob is written to
//! `<root>/tmp/` while it is hashed, flushed to disk, checked against the
//! expected digest, then renamed into place: a killed process leaves only a
//! temp file (removed by prune), never a half-written blob. Reads verify the
//! content against the name, so a corrupted blob is reported, not used.
//!
//! Blobs come from untrusted places (registries, layouts), so a blob with a
//! known descriptor is stored with [`Blobs::put_sized`]: never more than its
//! declared size is read, and a length or digest mismatch stores nothing.
//! [`Blobs::read`] loads only small blobs (manifests, indexes, configs) into
//! memory: anything over [`MAX_READ`] is refused before it is read.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use super::digest::Digest;
use super::error::StoreError;

/// The largest blob [`Blobs::read`] loads into memory: 4 MiB, what registries
/// accept for a manifest (distribution and containerd refuse larger ones).
/// Only manifests, indexes and configs are read whole; layers are streamed.
pub const MAX_READ: u64 = 4 << 20;

/// The old name of [`StoreError`], kept so code written against it (the
/// engine matches on `BlobError::Corrupt`) keeps compiling.
pub type BlobError = StoreError;

/// The blob directory of a store.
#[derive(Debug, Clone)]
pub struct Blobs {
    root: PathBuf,
}

impl Blobs {
    /// Opens (creating) the blob directories under the store root.
    pub fn open(store_root: &Path) -> io::Result<Blobs> {
        fs::create_dir_all(store_root.join("blobs/sha256"))?;
        fs::create_dir_all(store_root.join("tmp"))?;
        Ok(Blobs {
            root: store_root.to_path_buf(),
        })
    }

    /// Where blob `d` lives.
    pub fn path(&self, d: &Digest) -> PathBuf {
        self.root.join("blobs/sha256").join(d.hex())
    }

    /// Whether the store has blob `d` (not verified: see [`Blobs::read`]).
    pub fn contains(&self, d: &Digest) -> bool {
        self.path(d).is_file()
    }

    /// A writer for a new blob; [`BlobWriter::commit`] names it by its content.
    pub fn writer(&self) -> io::Result<BlobWriter> {
        let tmp = tempfile_in(&self.root.join("tmp"))?;
        Ok(BlobWriter {
            blobs: self.clone(),
            file: Some(File::create(&tmp)?),
            tmp,
            sha: Sha256::new(),
            size: 0,
        })
    }

    /// Stores `bytes`.
    pub fn put(&self, bytes: &[u8]) -> Result<(Digest, u64), StoreError> {
        let mut w = self.writer()?;
        w.write_all(bytes)?;
        w.commit(None)
    }

    /// Stores what `r` yields; fails (storing nothing) unless it hashes to `expected`.
    pub fn put_stream(
        &self,
        mut r: impl Read,
        expected: Option<&Digest>,
    ) -> Result<(Digest, u64), StoreError> {
        let mut w = self.writer()?;
        io::copy(&mut r, &mut w)?;
        w.commit(expected)
    }

    /// Stores blob `d` of `size` bytes from `r`, reading at most `size + 1`
    /// bytes: a source that is shorter or longer than its descriptor, or whose
    /// content hashes to something else, stores nothing.
    pub fn put_sized(&self, r: impl Read, d: &Digest, size: u64) -> Result<(), StoreError> {
        let mut w = self.writer()?;
        let got = io::copy(&mut r.take(size.saturating_add(1)), &mut w)?;
        if got != size {
            return Err(StoreError::WrongSize {
                digest: d.clone(),
                expected: size,
                got,
            });
        }
        w.commit(Some(d))?;
        Ok(())
    }

    /// Whether blob `d` is stored with `size` bytes. A stored blob of another
    /// size means the descriptor lies about it (the digest fixes the content):
    /// that is an error, not a reason to fetch it again.
    pub fn has_sized(&self, d: &Digest, size: u64) -> Result<bool, StoreError> {
        match fs::metadata(self.path(d)) {
            Ok(m) if m.len() == size => Ok(true),
            Ok(m) => Err(StoreError::WrongSize {
                digest: d.clone(),
                expected: size,
                got: m.len(),
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Reads and verifies a small blob (manifest, index, config); one larger
    /// than [`MAX_READ`] is refused without being read.
    pub fn read(&self, d: &Digest) -> Result<Vec<u8>, StoreError> {
        let f = match File::open(self.path(d)) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(StoreError::Missing(d.clone()));
            }
            Err(e) => return Err(e.into()),
        };
        let size = f.metadata()?.len();
        if size > MAX_READ {
            return Err(StoreError::TooLarge {
                digest: d.clone(),
                size,
                limit: MAX_READ,
            });
        }
        let mut bytes = Vec::with_capacity(size as usize);
        f.take(MAX_READ + 1).read_to_end(&mut bytes)?;
        let actual = Digest::of(&bytes);
        if &actual != d {
            return Err(StoreError::Corrupt {
                expected: d.clone(),
                actual,
            });
        }
        Ok(bytes)
    }

    /// Verifies a blob by streaming it (for large layers).
    pub fn verify(&self, d: &Digest) -> Result<u64, StoreError> {
        let mut f = match File::open(self.path(d)) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(StoreError::Missing(d.clone()));
            }
            Err(e) => return Err(e.into()),
        };
        let mut sha = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        let mut size = 0u64;
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                break;
            }
            sha.update(&buf[..n]);
            size += n as u64;
        }
        let actual = Digest::from_sha(&sha.finalize());
        if &actual != d {
            return Err(StoreError::Corrupt {
                expected: d.clone(),
                actual,
            });
        }
        Ok(size)
    }

    /// Every blob digest in the store (names that are not digests are skipped).
    pub fn list(&self) -> io::Result<Vec<Digest>> {
        let mut out = Vec::new();
        for e in fs::read_dir(self.root.join("blobs/sha256"))? {
            let name = e?.file_name();
            if let Ok(d) = format!("sha256:{}", name.to_string_lossy()).parse::<Digest>() {
                out.push(d);
            }
        }
        out.sort();
        Ok(out)
    }

    /// Removes a blob (prune).
    pub fn remove(&self, d: &Digest) -> io::Result<()> {
        match fs::remove_file(self.path(d)) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }

    /// Removes leftover temp files (from killed writers).
    pub fn clean_tmp(&self) -> io::Result<usize> {
        let mut n = 0;
        for e in fs::read_dir(self.root.join("tmp"))? {
            fs::remove_file(e?.path())?;
            n += 1;
        }
        Ok(n)
    }
}

/// A blob being written; hashed as it goes.
#[derive(Debug)]
pub struct BlobWriter {
    blobs: Blobs,
    file: Option<File>,
    tmp: PathBuf,
    sha: Sha256,
    size: u64,
}

impl Write for BlobWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let f = self
            .file
            .as_mut()
            .ok_or_else(|| io::Error::other("blob writer already committed"))?;
        let n = f.write(buf)?;
        self.sha.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.file.as_mut() {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

impl BlobWriter {
    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.size
    }

    /// Finishes the blob: flushes it to disk, checks `expected`, and moves it
    /// into place. Returns its digest and size.
    pub fn commit(mut self, expected: Option<&Digest>) -> Result<(Digest, u64), StoreError> {
        let file = self
            .file
            .take()
            .ok_or_else(|| io::Error::other("blob writer already committed"))?;
        file.sync_all()?;
        drop(file);
        let actual = Digest::from_sha(&std::mem::take(&mut self.sha).finalize());
        if let Some(e) = expected {
            if e != &actual {
                let _ = fs::remove_file(&self.tmp);
                return Err(StoreError::Corrupt {
                    expected: e.clone(),
                    actual,
                });
            }
        }
        let dest = self.blobs.path(&actual);
        if dest.exists() {
            let _ = fs::remove_file(&self.tmp);
        } else {
            fs::rename(&self.tmp, &dest)?;
        }
        Ok((actual, self.size))
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        // Not committed: the temp file is garbage.
        if self.file.is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// A new, unique temp file name in `dir`.
fn tempfile_in(dir: &Path) -> io::Result<PathBuf> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    Ok(dir.join(format!("blob-{}-{n}-{nanos}", std::process::id())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(tag: &str) -> (PathBuf, Blobs) {
        let dir = std::env::temp_dir().join(format!("mxbuild-blobs-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let b = Blobs::open(&dir).unwrap();
        (dir, b)
    }

    #[test]
    fn put_read_verify_and_corruption() {
        let (dir, b) = store("basic");
        let (d, size) = b.put(b"hello").unwrap();
        assert_eq!(size, 5);
        assert_eq!(b.read(&d).unwrap(), b"hello");
        assert_eq!(b.verify(&d).unwrap(), 5);
        assert_eq!(b.list().unwrap(), vec![d.clone()]);
        fs::write(b.path(&d), b"hellO").unwrap();
        assert!(matches!(b.read(&d), Err(StoreError::Corrupt { .. })));
        assert!(matches!(b.verify(&d), Err(StoreError::Corrupt { .. })));
        assert!(matches!(
            b.read(&Digest::of(b"nope")),
            Err(StoreError::Missing(_))
        ));
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn sizes_are_enforced_and_nothing_wrong_is_stored() {
        let (dir, b) = store("sized");
        let d = Digest::of(b"0123456789");
        // Longer than declared: reading stops one byte past the size.
        let mut endless = io::repeat(b'x');
        let err = b.put_sized(&mut endless, &d, 4).unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::WrongSize {
                    expected: 4,
                    got: 5,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("longer than the 4 bytes"), "{err}");
        // Shorter than declared.
        let err = b.put_sized(&b"0123"[..], &d, 10).unwrap_err();
        assert!(err.to_string().contains("has 4 bytes"), "{err}");
        // Right size, wrong content.
        let err = b.put_sized(&b"abcdefghij"[..], &d, 10).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
        assert!(b.list().unwrap().is_empty());
        assert_eq!(fs::read_dir(dir.join("tmp")).unwrap().count(), 0);
        // Right everything.
        b.put_sized(&b"0123456789"[..], &d, 10).unwrap();
        assert!(b.has_sized(&d, 10).unwrap());
        assert!(matches!(
            b.has_sized(&d, 3),
            Err(StoreError::WrongSize { got: 10, .. })
        ));
        assert!(!b.has_sized(&Digest::of(b"other"), 3).unwrap());
        // read() refuses what is too large to hold in memory.
        let (big, _) = b.put(&vec![b' '; MAX_READ as usize + 1]).unwrap();
        assert!(matches!(b.read(&big), Err(StoreError::TooLarge { .. })));
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn wrong_expected_digest_stores_nothing() {
        let (dir, b) = store("expected");
        let err = b
            .put_stream(&b"data"[..], Some(&Digest::of(b"other")))
            .unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }));
        assert!(b.list().unwrap().is_empty());
        assert_eq!(fs::read_dir(dir.join("tmp")).unwrap().count(), 0);
        // An abandoned writer leaves no temp file either.
        let mut w = b.writer().unwrap();
        w.write_all(b"partial").unwrap();
        drop(w);
        assert_eq!(b.clean_tmp().unwrap(), 0);
        fs::remove_dir_all(dir).unwrap();
    }
}
