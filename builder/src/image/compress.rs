//! Layer compression: gzip (the default, with a fixed header so equal input
//! gives equal bytes), zstd, or none; and detecting which one a blob uses.

use std::io::{self, Read, Write};

/// How a layer is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// `application/vnd.oci.image.layer.v1.tar`.
    None,
    /// `...tar+gzip` (default).
    Gzip,
    /// `...tar+zstd`.
    Zstd,
}

impl Compression {
    /// The OCI media type of a layer compressed this way.
    pub fn media_type(self) -> &'static str {
        match self {
            Compression::None => "application/vnd.oci.image.layer.v1.tar",
            Compression::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
            Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
        }
    }

    /// Detects the compression from a blob's first bytes.
    pub fn sniff(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    /// A writer that compresses into `w`; call `finish` on the result.
    pub fn writer<'a, W: Write + 'a>(self, w: W) -> io::Result<Box<dyn FinishWrite + 'a>> {
        Ok(match self {
            Compression::None => Box::new(Plain(w)),
            // GzBuilder with no name, no mtime and OS "unknown": no varying header bytes.
            Compression::Gzip => Box::new(
                flate2::GzBuilder::new()
                    .operating_system(255)
                    .write(w, flate2::Compression::new(6)),
            ),
            Compression::Zstd => Box::new(zstd::Encoder::new(w, 3)?),
        })
    }

    /// Opens a stored blob and returns a reader of its uncompressed content,
    /// whatever compression it uses.
    pub fn open_decompressed(path: &std::path::Path) -> io::Result<Box<dyn Read>> {
        let mut f = std::fs::File::open(path)?;
        let mut head = [0u8; 4];
        let mut n = 0;
        while n < head.len() {
            let k = f.read(&mut head[n..])?;
            if k == 0 {
                break;
            }
            n += k;
        }
        let chained = io::Cursor::new(head[..n].to_vec()).chain(f);
        Compression::sniff(&head[..n]).reader(chained)
    }

    /// A reader that decompresses `r`.
    pub fn reader<'a, R: Read + 'a>(self, r: R) -> io::Result<Box<dyn Read + 'a>> {
        Ok(match self {
            Compression::None => Box::new(r),
            // Multi-member: some tools (pigz, concatenated layers) write several gzip members.
            Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(r)),
            Compression::Zstd => Box::new(zstd::Decoder::new(r)?),
        })
    }
}

/// A compressing writer that must be finished to write its trailer.
pub trait FinishWrite: Write {
    /// Writes any trailer and flushes.
    fn finish_box(self: Box<Self>) -> io::Result<()>;
}

struct Plain<W: Write>(W);

impl<W: Write> Write for Plain<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

impl<W: Write> FinishWrite for Plain<W> {
    fn finish_box(mut self: Box<Self>) -> io::Result<()> {
        self.0.flush()
    }
}

impl<W: Write> FinishWrite for flate2::write::GzEncoder<W> {
    fn finish_box(self: Box<Self>) -> io::Result<()> {
        (*self).finish().map(|_| ())
    }
}

impl<W: Write> FinishWrite for zstd::Encoder<'_, W> {
    fn finish_box(self: Box<Self>) -> io::Result<()> {
        (*self).finish().map(|_| ())
    }
}
