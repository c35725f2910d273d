//! A cap on what the tar reader may read on its own. Between two entries it
//! reads headers, GNU long names and PAX records, and it buffers the last
//! two whole in memory: a layer of a few compressed megabytes could make it
//! allocate gigabytes. File contents are read by the caller, in a stream,
//! and are not limited here.

use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

/// What the tar reader may read to find the next entry: far more than any
/// real set of headers, PAX records and xattrs needs.
pub const METADATA_LIMIT: u64 = 16 << 20;

/// A reader with a shared, adjustable allowance.
pub struct Budget<R> {
    pub(super) inner: R,
    left: Rc<Cell<u64>>,
}

impl<R: Read> Budget<R> {
    /// Wraps `inner`; the returned handle sets the allowance.
    pub fn new(inner: R) -> (Budget<R>, Rc<Cell<u64>>) {
        let left = Rc::new(Cell::new(u64::MAX));
        (
            Budget {
                inner,
                left: left.clone(),
            },
            left,
        )
    }
}

impl<R: Read> Read for Budget<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.left.get();
        if left == 0 {
            return Err(io::Error::other(format!(
                "tar metadata (headers, PAX records, GNU long names) of one entry exceeds {} MiB; refusing the layer",
                METADATA_LIMIT >> 20
            )));
        }
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.left.set(left.saturating_sub(n as u64));
        Ok(n)
    }
}
