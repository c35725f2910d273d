//! Parallel gzip, made as pigz makes it: the input is cut into fixed
//! blocks of [`BLOCK`] bytes; each block is deflated on its own (on a
//! worker thread) with the previous block's last 32 KiB as its dictionary
//! and ends on a byte boundary (a sync flush), the last one ends the
//! stream; the blocks go out in order between one gzip header and one
//! trailer (CRC-32 and length of the whole input). Where blocks start
//! depends only on the input, never on the thread count, so the bytes (and
//! a layer's digest) are the same with 1 thread or 64, and a single gzip
//! member comes out that any gunzip reads. At most `2 × threads` blocks
//! are in flight, so memory stays bounded whatever the layer's size.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use flate2::{Compress, Compression, Crc, FlushCompress, Status};

/// Bytes per block (pigz's default is 128 KiB).
pub const BLOCK: usize = 128 * 1024;
/// How much of the previous block primes the next one (deflate's window).
const DICT: usize = 32 * 1024;

/// Worker threads for a layer: one per core (the caller's thread makes the
/// tar and hashes it meanwhile).
pub fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// One block to compress: its number, the dictionary, the data, and
/// whether it ends the stream.
struct Job {
    seq: u64,
    dict: Vec<u8>,
    data: Vec<u8>,
    last: bool,
}

type Done = (u64, io::Result<Vec<u8>>);

/// Deflates one block (raw deflate, primed with `dict`).
fn deflate_block(level: Compression, job: &Job) -> io::Result<Vec<u8>> {
    let mut c = Compress::new(level, false);
    if !job.dict.is_empty() {
        c.set_dictionary(&job.dict).map_err(io::Error::other)?;
    }
    let flush = if job.last {
        FlushCompress::Finish
    } else {
        FlushCompress::Sync
    };
    let mut out = Vec::with_capacity(job.data.len() + job.data.len() / 8 + 128);
    loop {
        let consumed = usize::try_from(c.total_in()).unwrap_or(usize::MAX);
        let rest = job.data.get(consumed..).unwrap_or_default();
        let status = c
            .compress_vec(rest, &mut out, flush)
            .map_err(io::Error::other)?;
        let all_in = usize::try_from(c.total_in()).is_ok_and(|n| n == job.data.len());
        let finished = match flush {
            FlushCompress::Finish => status == Status::StreamEnd,
            // A sync flush is complete when it left room in the output.
            _ => all_in && out.len() < out.capacity(),
        };
        if finished {
            return Ok(out);
        }
        out.reserve(64 * 1024);
    }
}

/// The gzip header flate2's GzBuilder writes with no name and no mtime:
/// the extra-flags byte says "best" at level 9 and "fastest" at 1 or below,
/// and the OS byte is 255 (unknown).
fn header(level: Compression) -> [u8; 10] {
    let xfl = match level.level() {
        9 => 2,
        0 | 1 => 4,
        _ => 0,
    };
    [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 255]
}

/// A gzip writer compressing blocks on `threads` worker threads.
pub struct ParGz<W: Write> {
    out: Option<W>,
    level: Compression,
    /// The block being filled.
    buf: Vec<u8>,
    /// The last [`DICT`] bytes handed out (the next block's dictionary).
    tail: Vec<u8>,
    crc: Crc,
    next_seq: u64,
    next_out: u64,
    /// Finished blocks waiting for their predecessors.
    ready: BTreeMap<u64, Vec<u8>>,
    jobs: Option<Sender<Job>>,
    done: Receiver<Done>,
    workers: Vec<JoinHandle<()>>,
    limit: u64,
    header_written: bool,
}

impl<W: Write> std::fmt::Debug for ParGz<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParGz")
            .field("level", &self.level)
            .field("threads", &self.workers.len())
            .finish_non_exhaustive()
    }
}

impl<W: Write> ParGz<W> {
    /// A writer into `out` at `level` using `threads` workers (at least 1).
    pub fn new(out: W, level: Compression, threads: usize) -> ParGz<W> {
        let threads = threads.max(1);
        let (jobs, rx) = channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let (done_tx, done) = channel::<Done>();
        let workers = (0..threads)
            .map(|_| {
                let rx = Arc::clone(&rx);
                let done_tx = done_tx.clone();
                std::thread::spawn(move || {
                    loop {
                        let job = match rx.lock() {
                            Ok(r) => r.recv(),
                            Err(_) => return,
                        };
                        let Ok(job) = job else { return };
                        let r = deflate_block(level, &job);
                        if done_tx.send((job.seq, r)).is_err() {
                            return;
                        }
                    }
                })
            })
            .collect();
        ParGz {
            out: Some(out),
            level,
            buf: Vec::with_capacity(BLOCK),
            tail: Vec::new(),
            crc: Crc::new(),
            next_seq: 0,
            next_out: 0,
            ready: BTreeMap::new(),
            jobs: Some(jobs),
            done,
            workers,
            limit: 2 * threads as u64,
            header_written: false,
        }
    }

    fn sink(&mut self) -> io::Result<&mut W> {
        self.out
            .as_mut()
            .ok_or_else(|| io::Error::other("gzip stream already finished"))
    }

    /// Hands the filled block to the workers.
    fn dispatch(&mut self, last: bool) -> io::Result<()> {
        let data = std::mem::replace(&mut self.buf, Vec::with_capacity(BLOCK));
        self.crc.update(&data);
        let dict = std::mem::take(&mut self.tail);
        self.tail = if data.len() >= DICT {
            data[data.len() - DICT..].to_vec()
        } else {
            let mut t = dict.clone();
            t.extend_from_slice(&data);
            let cut = t.len().saturating_sub(DICT);
            t.split_off(cut)
        };
        let job = Job {
            seq: self.next_seq,
            dict,
            data,
            last,
        };
        self.next_seq += 1;
        self.jobs
            .as_ref()
            .ok_or_else(|| io::Error::other("gzip stream already finished"))?
            .send(job)
            .map_err(|_| io::Error::other("a compression thread stopped"))?;
        // Keep memory bounded: wait while too many blocks are in flight.
        while self.next_seq - self.next_out > self.limit {
            self.collect_one()?;
        }
        Ok(())
    }

    /// Waits for one finished block; writes every block now in order.
    fn collect_one(&mut self) -> io::Result<()> {
        let (seq, r) = self
            .done
            .recv()
            .map_err(|_| io::Error::other("a compression thread stopped"))?;
        self.ready.insert(seq, r?);
        self.write_ready()
    }

    fn write_ready(&mut self) -> io::Result<()> {
        if !self.header_written {
            let h = header(self.level);
            self.sink()?.write_all(&h)?;
            self.header_written = true;
        }
        while let Some(block) = self.ready.remove(&self.next_out) {
            self.sink()?.write_all(&block)?;
            self.next_out += 1;
        }
        Ok(())
    }

    /// Ends the stream (last block, trailer) and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.dispatch(true)?;
        while self.next_out < self.next_seq {
            self.collect_one()?;
        }
        self.write_ready()?;
        let (crc, len) = (self.crc.sum(), self.crc.amount());
        let sink = self.sink()?;
        sink.write_all(&crc.to_le_bytes())?;
        sink.write_all(&len.to_le_bytes())?;
        sink.flush()?;
        self.out
            .take()
            .ok_or_else(|| io::Error::other("gzip stream already finished"))
    }
}

impl<W: Write> Write for ParGz<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = BLOCK - self.buf.len();
        let n = room.min(data.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == BLOCK {
            self.dispatch(false)?;
        }
        Ok(n)
    }

    /// Blocks are written as they finish; a flush does not cut a block
    /// (that would make the bytes depend on how the caller wrote).
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<W: Write> Drop for ParGz<W> {
    fn drop(&mut self) {
        // Closing the job channel ends the workers.
        self.jobs = None;
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    /// Compressible but not trivial: text-like lines with a counter.
    fn sample(len: usize) -> Vec<u8> {
        let mut v = Vec::with_capacity(len);
        let mut i = 0u64;
        while v.len() < len {
            v.extend_from_slice(format!("line {i} of a layer, {}\n", i * 7919 % 1000).as_bytes());
            i += 1;
        }
        v.truncate(len);
        v
    }

    fn compress(data: &[u8], threads: usize, level: u32, chunk: usize) -> Vec<u8> {
        let mut w = ParGz::new(Vec::new(), Compression::new(level), threads);
        for c in data.chunks(chunk.max(1)) {
            w.write_all(c).unwrap();
        }
        w.finish().unwrap()
    }

    fn gunzip(gz: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(gz)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn round_trips_at_block_edges() {
        for len in [
            0,
            1,
            DICT,
            BLOCK - 1,
            BLOCK,
            BLOCK + 1,
            3 * BLOCK,
            5 * BLOCK + 123,
        ] {
            let data = sample(len);
            let gz = compress(&data, 3, 6, 10_000);
            assert_eq!(gunzip(&gz), data, "{len} bytes");
            // One member: a plain (single-member) decoder read it all.
            assert_eq!(&gz[..2], &[0x1f, 0x8b]);
        }
    }

    #[test]
    fn bytes_do_not_depend_on_threads_or_write_sizes() {
        let data = sample(7 * BLOCK + 4321);
        for level in [1, 6, 9] {
            let one = compress(&data, 1, level, BLOCK);
            for (threads, chunk) in [(2, 1000), (3, 65_536), (8, 7 * BLOCK), (64, 1)] {
                if chunk == 1 && level != 6 {
                    continue; // byte-at-a-time is slow; once is enough
                }
                assert_eq!(
                    compress(&data, threads, level, chunk),
                    one,
                    "level {level}, {threads} threads, writes of {chunk}"
                );
            }
        }
    }

    #[test]
    fn the_dictionary_keeps_the_ratio_of_one_stream() {
        // Blocks primed with the previous 32 KiB compress about as well as
        // one deflate stream (pigz's point); without it they would not.
        let data = sample(16 * BLOCK);
        let par = compress(&data, 2, 6, BLOCK).len();
        let mut one = flate2::write::GzEncoder::new(Vec::new(), Compression::new(6));
        one.write_all(&data).unwrap();
        let one = one.finish().unwrap().len();
        assert!(par * 100 <= one * 102, "parallel {par} vs one stream {one}");
    }

    #[test]
    fn gzip_itself_reads_it() {
        let data = sample(3 * BLOCK + 17);
        let gz = compress(&data, 2, 6, 4096);
        let dir = std::env::temp_dir().join(format!("mxbuild-pgzip-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("x.gz");
        std::fs::write(&f, &gz).unwrap();
        let out = std::process::Command::new("gzip")
            .arg("-dc")
            .arg(&f)
            .output();
        let _ = std::fs::remove_dir_all(&dir);
        let out = out.expect("gzip is part of every Debian system");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.stdout, data);
    }

    #[test]
    fn header_as_gz_builder_writes_it() {
        let mut g = flate2::GzBuilder::new()
            .operating_system(255)
            .write(Vec::new(), Compression::new(6));
        g.write_all(b"x").unwrap();
        let flate = g.finish().unwrap();
        assert_eq!(flate[..10], header(Compression::new(6)));
        assert_eq!(header(Compression::new(9))[8], 2);
        assert_eq!(header(Compression::new(1))[8], 4);
    }
}
