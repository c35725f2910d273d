//! Plain progress, one line per event, for CI logs and pipes:
//! `[build amd64->arm64 3/8] RUN make`, its output as
//! `[build amd64->arm64 3/8] | line`, then `... DONE 3.0s` (`(qemu)` when
//! it ran under emulation) or `... CACHED RUN make`. Lines never
//! interleave mid-line: one mutex'd writer.

use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

use super::{Sink, StepInfo};

/// Lines into a writer.
pub struct Plain {
    out: Mutex<Box<dyn Write + Send>>,
    show_output: bool,
}

impl std::fmt::Debug for Plain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plain").finish_non_exhaustive()
    }
}

impl Plain {
    /// Plain lines into `out`; `show_output`: with RUN output lines.
    pub fn new(out: Box<dyn Write + Send>, show_output: bool) -> Plain {
        Plain {
            out: Mutex::new(out),
            show_output,
        }
    }
}

fn qemu(step: &StepInfo<'_>) -> &'static str {
    if step.emulated { " (qemu)" } else { "" }
}

impl Sink for Plain {
    fn line(&self, s: &str) {
        if let Ok(mut o) = self.out.lock() {
            let _ = writeln!(o, "{s}");
        }
    }

    fn start(&self, step: &StepInfo<'_>) {
        self.line(&format!("{} {}{}", step.label, step.text, qemu(step)));
    }

    fn output(&self, step: &StepInfo<'_>, line: &str) {
        if self.show_output {
            self.line(&format!("{} | {line}", step.label));
        }
    }

    fn done(&self, step: &StepInfo<'_>, took: Duration) {
        self.line(&format!(
            "{} DONE {:.1}s{}",
            step.label,
            took.as_secs_f64(),
            qemu(step)
        ));
    }

    fn cached(&self, step: &StepInfo<'_>) {
        self.line(&format!("{} CACHED {}", step.label, step.text));
    }

    fn failed(&self, step: &StepInfo<'_>, took: Duration) {
        self.line(&format!(
            "{} ERROR after {:.1}s",
            step.label,
            took.as_secs_f64()
        ));
    }
}
