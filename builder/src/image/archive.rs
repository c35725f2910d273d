//! ADD's local archives: BuildKit unpacks a source file when it is a tar
//! archive, uncompressed or compressed with gzip, bzip2, xz or zstd (moby's
//! `compression.DetectCompression` by magic number, then Go's tar reader
//! must read a first header). Anything else is copied as a file.

use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

/// How an archive is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A plain tar.
    Identity,
    /// gzip (`1f 8b 08`).
    Gzip,
    /// bzip2 (`BZh`).
    Bzip2,
    /// xz (`fd 37 7a 58 5a 00`).
    Xz,
    /// zstd (`28 b5 2f fd`).
    Zstd,
}

/// The compression a file's first bytes announce.
pub fn sniff(head: &[u8]) -> Kind {
    if head.starts_with(&[0x1f, 0x8b, 0x08]) {
        Kind::Gzip
    } else if head.starts_with(b"BZh") {
        Kind::Bzip2
    } else if head.starts_with(&[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) {
        Kind::Xz
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Kind::Zstd
    } else {
        Kind::Identity
    }
}

/// The uncompressed tar stream of `path` if it is an archive BuildKit would
/// unpack (a regular file whose decompressed start is a valid tar header),
/// else `None`.
pub fn open(path: &Path) -> io::Result<Option<Box<dyn Read + Send>>> {
    let meta = std::fs::symlink_metadata(path)?;
    if !meta.is_file() {
        return Ok(None);
    }
    let mut probe = decompressed(path)?;
    let mut block = [0u8; 512];
    let mut n = 0;
    while n < block.len() {
        match probe.read(&mut block[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(_) => return Ok(None),
        }
    }
    drop(probe);
    if n < block.len() || !header_checksum_ok(&block) {
        return Ok(None);
    }
    decompressed(path).map(Some)
}

/// A reader of `path`'s content with its compression undone.
fn decompressed(path: &Path) -> io::Result<Box<dyn Read + Send>> {
    let mut f = File::open(path)?;
    let mut head = [0u8; 6];
    let mut n = 0;
    while n < head.len() {
        let k = f.read(&mut head[n..])?;
        if k == 0 {
            break;
        }
        n += k;
    }
    let f = File::open(path)?;
    Ok(match sniff(&head[..n]) {
        Kind::Identity => Box::new(f),
        Kind::Gzip => Box::new(flate2::read::MultiGzDecoder::new(f)),
        Kind::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(f)),
        Kind::Zstd => Box::new(zstd::Decoder::new(f)?),
        Kind::Xz => Box::new(XzReader::start(f)?),
    })
}

/// A tar header block is valid when its checksum field matches the sum of
/// its bytes with that field read as spaces (unsigned, or signed as some
/// old tars wrote it); an all-zero block is the end of an empty archive.
fn header_checksum_ok(block: &[u8; 512]) -> bool {
    if block.iter().all(|b| *b == 0) {
        return false;
    }
    let field = &block[148..156];
    let text: String = field
        .iter()
        .take_while(|b| **b != 0)
        .map(|b| *b as char)
        .collect();
    let Ok(want) = i64::from_str_radix(text.trim(), 8) else {
        return false;
    };
    let (mut unsigned, mut signed) = (0i64, 0i64);
    for (i, b) in block.iter().enumerate() {
        let b = if (148..156).contains(&i) { b' ' } else { *b };
        unsigned += i64::from(b);
        signed += i64::from(b as i8);
    }
    want == unsigned || want == signed
}

/// xz decoding on a thread (lzma-rs decodes into a writer) that hands
/// decoded chunks over a bounded channel, so memory stays bounded and the
/// tar reader (and its size budget) sees a stream; a decoding error is
/// reported where the stream ends.
struct XzReader {
    chunks: Receiver<Vec<u8>>,
    current: Vec<u8>,
    pos: usize,
    worker: Option<JoinHandle<io::Result<()>>>,
}

/// The decoder thread's end of the channel.
struct ChunkWriter(SyncSender<Vec<u8>>);

impl Write for ChunkWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .send(buf.to_vec())
            .map_err(|_| io::Error::from(io::ErrorKind::BrokenPipe))?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl XzReader {
    fn start(f: File) -> io::Result<XzReader> {
        let (tx, chunks) = sync_channel(4);
        let worker = std::thread::spawn(move || {
            let mut w = io::BufWriter::with_capacity(64 << 10, ChunkWriter(tx));
            lzma_rs::xz_decompress(&mut BufReader::new(f), &mut w)
                .map_err(|e| io::Error::other(format!("xz: {e}")))?;
            w.flush()
        });
        Ok(XzReader {
            chunks,
            current: Vec::new(),
            pos: 0,
            worker: Some(worker),
        })
    }
}

impl Read for XzReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos >= self.current.len() {
            match self.chunks.recv() {
                Ok(c) => {
                    self.current = c;
                    self.pos = 0;
                }
                Err(_) => {
                    if let Some(w) = self.worker.take() {
                        w.join()
                            .map_err(|_| io::Error::other("xz: decoder thread failed"))??;
                    }
                    return Ok(0);
                }
            }
        }
        let n = buf.len().min(self.current.len() - self.pos);
        buf[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_numbers() {
        assert_eq!(sniff(&[0x1f, 0x8b, 0x08, 0]), Kind::Gzip);
        assert_eq!(sniff(b"BZh91AY"), Kind::Bzip2);
        assert_eq!(sniff(&[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), Kind::Xz);
        assert_eq!(sniff(&[0x28, 0xb5, 0x2f, 0xfd]), Kind::Zstd);
        assert_eq!(sniff(b"hello"), Kind::Identity);
    }

    #[test]
    fn only_valid_tar_headers_count() {
        let mut h = tar::Header::new_gnu();
        h.set_path("a.txt").unwrap();
        h.set_size(0);
        h.set_cksum();
        let mut block = [0u8; 512];
        block.copy_from_slice(h.as_bytes());
        assert!(header_checksum_ok(&block));
        block[0] = b'b';
        assert!(!header_checksum_ok(&block));
        assert!(!header_checksum_ok(&[0u8; 512]));
    }
}
