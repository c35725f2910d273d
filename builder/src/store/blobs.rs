//! Content-addressed blobs: `<root>/blobs/sha256/<hex>`. A blob is written to
//! `<root>/tmp/` while it is hashed, flushed to disk, checked against the
//! expected digest, then renamed into place: a killed process leaves only a
//! temp file (removed by prune), never a half-written blob. Reads verify the
//! content against the name, so a corrupted blob is reported, not used.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use super::digest::Digest;

/// Why a blob operation failed.
#[derive(Debug)]
pub enum BlobError {
    /// The content does not hash to its name (on disk or as received).
    Corrupt {
        /// The digest it should have.
        expected: Digest,
        /// The digest it has.
        actual: Digest,
    },
    /// The blob is not in the store.
    Missing(Digest),
    /// A filesystem error.
    Io(io::Error),
}

impl std::fmt::Display for BlobError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BlobError::Corrupt { expected, actual } => write!(
                f,
                "blob {expected} is corrupt: its content hashes to {actual} (remove it with `mxbuild prune` and pull or build again)"
            ),
            BlobError::Missing(d) => write!(f, "blob {d} is not in the store"),
            BlobError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for BlobError {}

impl From<io::Error> for BlobError {
    fn from(e: io::Error) -> Self {
        BlobError::Io(e)
    }
}

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
    pub fn put(&self, bytes: &[u8]) -> Result<(Digest, u64), BlobError> {
        let mut w = self.writer()?;
        w.write_all(bytes)?;
        w.commit(None)
    }

    /// Stores what `r` yields; fails (storing nothing) unless it hashes to `expected`.
    pub fn put_stream(
        &self,
        mut r: impl Read,
        expected: Option<&Digest>,
    ) -> Result<(Digest, u64), BlobError> {
        let mut w = self.writer()?;
        io::copy(&mut r, &mut w)?;
        w.commit(expected)
    }

    /// Reads and verifies a blob.
    pub fn read(&self, d: &Digest) -> Result<Vec<u8>, BlobError> {
        let bytes = match fs::read(self.path(d)) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(BlobError::Missing(d.clone()));
            }
            Err(e) => return Err(e.into()),
        };
        let actual = Digest::of(&bytes);
        if &actual != d {
            return Err(BlobError::Corrupt {
                expected: d.clone(),
                actual,
            });
        }
        Ok(bytes)
    }

    /// Verifies a blob by streaming it (for large layers).
    pub fn verify(&self, d: &Digest) -> Result<u64, BlobError> {
        let mut f = match File::open(self.path(d)) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(BlobError::Missing(d.clone()));
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
            return Err(BlobError::Corrupt {
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
    /// Finishes the blob: flushes it to disk, checks `expected`, and moves it
    /// into place. Returns its digest and size.
    pub fn commit(mut self, expected: Option<&Digest>) -> Result<(Digest, u64), BlobError> {
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
                return Err(BlobError::Corrupt {
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
        assert!(matches!(b.read(&d), Err(BlobError::Corrupt { .. })));
        assert!(matches!(b.verify(&d), Err(BlobError::Corrupt { .. })));
        assert!(matches!(
            b.read(&Digest::of(b"nope")),
            Err(BlobError::Missing(_))
        ));
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn wrong_expected_digest_stores_nothing() {
        let (dir, b) = store("expected");
        let err = b
            .put_stream(&b"data"[..], Some(&Digest::of(b"other")))
            .unwrap_err();
        assert!(matches!(err, BlobError::Corrupt { .. }));
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
