//! Build progress: the engine reports each step's start, output lines,
//! end (`DONE` with its time, or `CACHED`) and free-form notes; a [`Sink`]
//! shows them. Sinks: [`plain`] (one line per event, for CI logs; the
//! default when stderr is not a terminal), [`tty`] (BuildKit's live view:
//! running steps with timers and their last lines, finished ones collapsed
//! to one line), [`rawjson`] (one JSON object per event, BuildKit's
//! SolveStatus shape) and quiet. [`Progress`] also keeps the tally the
//! summary reports: time native and under QEMU, the slowest emulated
//! step, and when each step started and how long it took (for the
//! critical path and `--metadata-file`).
//!
//! Every step is named by its label from the plan (see
//! [`crate::plan::labels`]) and identified by its cache key: a step that
//! several instances share is one step.

pub mod plain;
pub mod rawjson;
pub mod tty;

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One step as progress shows it.
#[derive(Debug, Clone, Copy)]
pub struct StepInfo<'a> {
    /// Its cache key (equal keys are one step).
    pub id: &'a str,
    /// `[build amd64->arm64 3/8]`.
    pub label: &'a str,
    /// The instruction as expanded (`RUN make`).
    pub text: &'a str,
    /// The platform it runs as (`linux/amd64`).
    pub platform: &'a str,
    /// Runs under QEMU.
    pub emulated: bool,
}

/// Where progress events go.
pub trait Sink: Send + Sync {
    /// The build's target platforms, each with whether any of its steps
    /// run under QEMU (for a header).
    fn platforms(&self, platforms: &[(String, bool)]) {
        let _ = platforms;
    }
    /// A note (pulls, downloads, warnings, the result).
    fn line(&self, s: &str);
    /// A step begins.
    fn start(&self, step: &StepInfo<'_>);
    /// A line of a running step's output.
    fn output(&self, step: &StepInfo<'_>, line: &str);
    /// A step finished after `took`.
    fn done(&self, step: &StepInfo<'_>, took: Duration);
    /// A step was taken from an earlier build.
    fn cached(&self, step: &StepInfo<'_>);
    /// A step failed.
    fn failed(&self, step: &StepInfo<'_>, took: Duration) {
        let _ = (step, took);
    }
    /// The build is over: a live view leaves the screen clean.
    fn finish(&self) {}
}

/// What the summary says about time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    /// Time of steps run natively.
    pub native: Duration,
    /// Time of steps run under QEMU.
    pub emulated: Duration,
    /// The slowest step under QEMU: its label and text, and time.
    pub slowest_emulated: Option<(String, Duration)>,
    /// Every step shown, in the order it finished.
    pub steps: Vec<StepTime>,
}

/// One step's time, as `--metadata-file` records it.
#[derive(Debug, Clone, PartialEq)]
pub struct StepTime {
    /// Its cache key.
    pub id: String,
    /// `[build amd64->arm64 3/8]`.
    pub label: String,
    /// The instruction as expanded.
    pub text: String,
    /// The platform it ran as.
    pub platform: String,
    /// Ran under QEMU.
    pub emulated: bool,
    /// Taken from an earlier build (it took no time).
    pub cached: bool,
    /// When it started, from the start of the build.
    pub start: Duration,
    /// How long it ran.
    pub took: Duration,
}

impl StepTime {
    fn of(step: &StepInfo<'_>, cached: bool, start: Duration, took: Duration) -> StepTime {
        StepTime {
            id: step.id.to_string(),
            label: step.label.to_string(),
            text: step.text.to_string(),
            platform: step.platform.to_string(),
            emulated: step.emulated,
            cached,
            start,
            took,
        }
    }
}

/// The engine's progress reporter: a sink and the tally.
pub struct Progress {
    sink: Box<dyn Sink>,
    tally: Mutex<Tally>,
    /// When the build started (step times are counted from here).
    t0: Instant,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Progress").finish_non_exhaustive()
    }
}

impl Progress {
    /// Progress into `sink`.
    pub fn new(sink: Box<dyn Sink>) -> Progress {
        Progress {
            sink,
            tally: Mutex::new(Tally::default()),
            t0: Instant::now(),
        }
    }

    /// Plain lines on stderr; `show_output`: with RUN output.
    pub fn stderr(show_output: bool) -> Progress {
        Progress::new(Box::new(plain::Plain::new(
            Box::new(std::io::stderr()),
            show_output,
        )))
    }

    /// Plain lines with RUN output into a writer (tests).
    pub fn to(w: Box<dyn std::io::Write + Send>) -> Progress {
        Progress::new(Box::new(plain::Plain::new(w, true)))
    }

    /// Nothing at all (`--progress quiet|none`).
    pub fn quiet() -> Progress {
        Progress::to(Box::new(std::io::sink()))
    }

    /// The build's target platforms and whether each emulates.
    pub fn platforms(&self, platforms: &[(String, bool)]) {
        self.sink.platforms(platforms);
    }

    /// One line.
    pub fn line(&self, s: &str) {
        self.sink.line(s);
    }

    /// A step begins.
    pub fn start(&self, step: &StepInfo<'_>) {
        self.sink.start(step);
    }

    /// Output of a running step.
    pub fn output(&self, step: &StepInfo<'_>, line: &str) {
        self.sink.output(step, line);
    }

    /// A step finished.
    pub fn done(&self, step: &StepInfo<'_>, took: Duration) {
        if let Ok(mut t) = self.tally.lock() {
            if step.emulated {
                t.emulated += took;
                if t.slowest_emulated.as_ref().is_none_or(|(_, d)| *d < took) {
                    t.slowest_emulated = Some((format!("{} {}", step.label, step.text), took));
                }
            } else {
                t.native += took;
            }
            let start = self.t0.elapsed().saturating_sub(took);
            t.steps.push(StepTime::of(step, false, start, took));
        }
        self.sink.done(step, took);
    }

    /// A step was reused from an earlier build.
    pub fn cached(&self, step: &StepInfo<'_>) {
        if let Ok(mut t) = self.tally.lock() {
            let now = self.t0.elapsed();
            t.steps.push(StepTime::of(step, true, now, Duration::ZERO));
        }
        self.sink.cached(step);
    }

    /// A step failed.
    pub fn failed(&self, step: &StepInfo<'_>, took: Duration) {
        self.sink.failed(step, took);
    }

    /// The build is over (clears a live view).
    pub fn finish(&self) {
        self.sink.finish();
    }

    /// Time native and under QEMU so far.
    pub fn tally(&self) -> Tally {
        self.tally.lock().map(|t| t.clone()).unwrap_or_default()
    }
}
