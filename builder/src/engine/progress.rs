//! Build progress for people and CI logs: one line per step start and end,
//! each prefixed `[linux/arm64 build 3/7]`, `CACHED` for reused steps, the
//! step time, and RUN output streamed line by line under the same prefix
//! (plain mode). Shared by the parallel workers behind a mutex so lines
//! never interleave mid-line.

use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Where progress goes.
pub struct Progress {
    out: Mutex<Box<dyn Write + Send>>,
    /// Show RUN output (plain) or only step lines (quiet).
    pub show_output: bool,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Progress")
            .field("show_output", &self.show_output)
            .finish_non_exhaustive()
    }
}

impl Progress {
    /// Progress to stderr.
    pub fn stderr(show_output: bool) -> Progress {
        Progress {
            out: Mutex::new(Box::new(std::io::stderr())),
            show_output,
        }
    }

    /// Progress into a buffer-like sink (tests).
    pub fn to(w: Box<dyn Write + Send>) -> Progress {
        Progress {
            out: Mutex::new(w),
            show_output: true,
        }
    }

    /// One line.
    pub fn line(&self, s: &str) {
        if let Ok(mut o) = self.out.lock() {
            let _ = writeln!(o, "{s}");
        }
    }

    /// A step begins.
    pub fn start(&self, prefix: &str, text: &str) {
        self.line(&format!("{prefix} {text}"));
    }

    /// A step was reused.
    pub fn cached(&self, prefix: &str, text: &str) {
        self.line(&format!("{prefix} CACHED {text}"));
    }

    /// A step finished.
    pub fn done(&self, prefix: &str, took: Duration) {
        self.line(&format!("{prefix} DONE {:.1}s", took.as_secs_f64()));
    }

    /// Output of a running step.
    pub fn output(&self, prefix: &str, line: &str) {
        if self.show_output {
            self.line(&format!("{prefix} | {line}"));
        }
    }
}
