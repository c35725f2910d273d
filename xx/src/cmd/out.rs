//! Helpers' standard output: a closed stdout (`xx-info | head -0`) is a
//! normal end, not a panic.

use std::io::{self, Write};

/// Buffered stdout whose write errors (e.g. a closed pipe) end the command
/// quietly instead of panicking like `println!`.
pub struct Out {
    inner: io::BufWriter<io::Stdout>,
}

impl Default for Out {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Out")
    }
}

impl Out {
    /// A writer on the process's stdout.
    pub fn new() -> Out {
        Out {
            inner: io::BufWriter::new(io::stdout()),
        }
    }

    /// Writes one line and flushes (helpers print a handful of lines at most).
    pub fn line(&mut self, s: &str) -> io::Result<()> {
        writeln!(self.inner, "{s}")?;
        self.inner.flush()
    }
}
