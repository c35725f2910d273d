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

    /// A writer that compresses into `w` at the default level (gzip 6,
    /// zstd 3); call `finish` on the result.
    pub fn writer<'a, W: Write + 'a>(self, w: W) -> io::Result<Box<dyn FinishWrite + 'a>> {
        self.writer_at(w, None)
    }

    /// The levels `compression-level=` may name for this compression, as
    /// BuildKit's compressors accept them (gzip 0-9, zstd 0-22, where 0 is
    /// zstd's default); `None` for no compression, which has no level.
    pub fn levels(self) -> Option<std::ops::RangeInclusive<i32>> {
        match self {
            Compression::None => None,
            Compression::Gzip => Some(0..=9),
            Compression::Zstd => Some(0..=22),
        }
    }

    /// A writer that compresses into `w` at `level` (the default when
    /// `None`; the caller checked it against [`Compression::levels`]).
    pub fn writer_at<'a, W: Write + 'a>(
        self,
        w: W,
        level: Option<i32>,
    ) -> io::Result<Box<dyn FinishWrite + 'a>> {
        Ok(match self {
            Compression::None => Box::new(Plain(w)),
            // In parallel blocks, pigz-style; the same bytes whatever the
            // number of cores (see pgzip), with no name, no mtime and OS
            // "unknown" in the header.
            Compression::Gzip => {
                let level = u32::try_from(level.unwrap_or(6).clamp(0, 9)).unwrap_or(6);
                Box::new(super::pgzip::ParGz::new(
                    w,
                    flate2::Compression::new(level),
                    super::pgzip::threads(),
                ))
            }
            Compression::Zstd => Box::new(zstd::Encoder::new(w, level.unwrap_or(3))?),
        })
    }

    /// The compression a layer media type names (OCI or Docker spelling).
    pub fn of_media_type(media: &str) -> Compression {
        if media.ends_with("+zstd") || media.ends_with(".zstd") {
            Compression::Zstd
        } else if media.ends_with("gzip") {
            Compression::Gzip
        } else {
            Compression::None
        }
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

impl<W: Write> FinishWrite for super::pgzip::ParGz<W> {
    fn finish_box(self: Box<Self>) -> io::Result<()> {
        (*self).finish().map(|_| ())
    }
}

impl<W: Write> FinishWrite for zstd::Encoder<'_, W> {
    fn finish_box(self: Box<Self>) -> io::Result<()> {
        (*self).finish().map(|_| ())
    }
}
