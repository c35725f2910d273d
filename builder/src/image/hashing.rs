//! sha256 over a byte stream as it passes: the uncompressed tar of a layer
//! is hashed while it is written (its diff_id) and while it is applied
//! (checked against the image config's diff_id), never in a second pass.

use std::io::{self, Read, Write};

use sha2::{Digest as _, Sha256};

use crate::store::digest::Digest;

/// Hashes everything read through it.
pub struct HashingReader<R: Read> {
    inner: R,
    sha: Sha256,
    len: u64,
}

impl<R: Read> HashingReader<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        HashingReader {
            inner,
            sha: Sha256::new(),
            len: 0,
        }
    }

    /// Reads what is left (a tar's trailing padding counts towards its
    /// digest), then returns the digest and length of the whole stream.
    pub fn finish(mut self) -> io::Result<(Digest, u64)> {
        io::copy(&mut self, &mut io::sink())?;
        Ok((Digest::from_sha(&self.sha.finalize()), self.len))
    }
}

impl<R: Read> std::fmt::Debug for HashingReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HashingReader({} bytes)", self.len)
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.sha.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
}

/// Hashes everything written through it.
pub struct HashingWriter<W: Write> {
    inner: W,
    sha: Sha256,
}

impl<W: Write> HashingWriter<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            sha: Sha256::new(),
        }
    }

    /// The digest of what was written so far.
    pub fn digest(&mut self) -> Digest {
        Digest::from_sha(&std::mem::take(&mut self.sha).finalize())
    }
}

impl<W: Write> std::fmt::Debug for HashingWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HashingWriter")
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.sha.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
