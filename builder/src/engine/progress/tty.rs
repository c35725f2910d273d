//! `--progress tty` (the default on a terminal): BuildKit's live view. A
//! header with the elapsed time, then each running step with its timer
//! (and `qemu` when it runs under emulation) and its last output lines;
//! a finished step collapses to one line printed above the live area
//! (`=> [build amd64 3/8] RUN make  DONE 3.0s`, `=> CACHED [...] COPY …`),
//! so the scrollback keeps every step once and the live area stays small.
//!
//! The screen is drawn by indicatif (a `MultiProgress` with one message
//! bar, redrawn in place without clearing the screen); what it shows is
//! [`render`]ed from the state, a pure function of the time and the
//! terminal size that the tests check on strings. A ticker redraws every
//! 150 ms so timers advance while nothing happens.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{Sink, StepInfo};

/// Output lines kept per running step (BuildKit shows 6).
const TAIL: usize = 6;

/// A step that is running.
#[derive(Debug, Clone)]
pub struct Running {
    /// Its cache key.
    pub id: String,
    /// `[build amd64 3/8] RUN make`.
    pub name: String,
    /// Under QEMU.
    pub emulated: bool,
    /// When it started.
    pub since: Instant,
    /// Its last output lines.
    pub tail: VecDeque<String>,
}

/// What the live area shows.
#[derive(Debug, Clone)]
pub struct State {
    /// When the build started.
    pub since: Instant,
    /// Steps running now, in start order.
    pub running: Vec<Running>,
    /// Steps finished (run or cached).
    pub finished: usize,
    /// The target platforms, as the header shows them.
    pub platforms: String,
}

/// The live area's lines at `now` for a `width` x `height` terminal:
/// the header, each running step (name cut to fit, timer at the right
/// edge) and as many of their output tails as fit.
pub fn render(s: &State, now: Instant, width: usize, height: usize) -> Vec<String> {
    let width = width.max(20);
    let mut lines = vec![cut(
        format!(
            "[+] Building {:.1}s ({} done, {} running) {}",
            now.saturating_duration_since(s.since).as_secs_f64(),
            s.finished,
            s.running.len(),
            s.platforms
        )
        .trim_end(),
        width,
    )];
    // Step lines first; tails only while the screen has room for them.
    let mut budget = height.saturating_sub(2 + s.running.len());
    let mut tails: Vec<Vec<String>> = Vec::new();
    for r in &s.running {
        let want = r.tail.len().min(budget);
        budget -= want;
        tails.push(r.tail.iter().skip(r.tail.len() - want).cloned().collect());
    }
    for (r, tail) in s.running.iter().zip(tails) {
        let timer = format!(
            "{}{:>5.1}s",
            if r.emulated { " qemu" } else { "" },
            now.saturating_duration_since(r.since).as_secs_f64()
        );
        lines.push(fit(&r.name, &timer, width));
        for t in tail {
            lines.push(cut(&format!(" => => # {t}"), width));
        }
    }
    lines
}

/// ` => NAME` and `suffix` on one line of `width`: the name cut to fit,
/// the suffix (a timer, `DONE 3.0s`) at the right edge. One column stays
/// free: a line that fills the last column wraps on some terminals.
fn fit(name: &str, suffix: &str, width: usize) -> String {
    let room = width.saturating_sub(suffix.chars().count() + 5);
    let name: String = name.chars().take(room).collect();
    let pad = room.saturating_sub(name.chars().count());
    format!(" => {name}{}{suffix}", " ".repeat(pad))
}

/// `s` cut to `w` characters.
fn cut(s: &str, w: usize) -> String {
    s.chars().take(w.saturating_sub(1)).collect()
}

/// A line of output as one screen row: what follows the last `\r`, control
/// characters dropped (a progress bar redrawn with `\r` shows its latest).
fn clean(line: &str) -> String {
    let last = line
        .rsplit('\r')
        .find(|p| !p.trim().is_empty())
        .unwrap_or("");
    strip_escapes(last)
        .chars()
        .filter(|c| !c.is_control())
        .collect()
}

/// `s` without ANSI escape sequences (colours, cursor moves).
fn strip_escapes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'[') {
            chars.next();
            // Parameters and intermediates, then one final byte.
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        } else {
            chars.next();
        }
    }
    out
}

/// The live view on stderr.
pub struct Tty {
    state: Arc<Mutex<State>>,
    multi: MultiProgress,
    bar: ProgressBar,
    stop: Arc<AtomicBool>,
    ticker: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Tty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tty").finish_non_exhaustive()
    }
}

impl Tty {
    /// Starts the live view (and its ticker) on the terminal on stderr.
    pub fn start() -> Tty {
        let term = console::Term::stderr();
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::term_like_with_hz(
            Box::new(term.clone()),
            10,
        ));
        let bar = multi.add(ProgressBar::new_spinner());
        if let Ok(style) = ProgressStyle::with_template("{msg}") {
            bar.set_style(style);
        }
        let state = Arc::new(Mutex::new(State {
            since: Instant::now(),
            running: Vec::new(),
            finished: 0,
            platforms: String::new(),
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let ticker = {
            let (state, bar, stop) = (state.clone(), bar.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    let (rows, cols) = term.size();
                    if let Ok(s) = state.lock() {
                        let lines = render(&s, Instant::now(), cols as usize, rows as usize);
                        bar.set_message(lines.join("\n"));
                    }
                    std::thread::sleep(Duration::from_millis(150));
                }
            })
        };
        Tty {
            state,
            multi,
            bar,
            stop,
            ticker: Mutex::new(Some(ticker)),
        }
    }

    /// A line above the live area.
    fn print(&self, line: &str) {
        let _ = self.multi.println(line);
    }

    /// A finished step's one line: its name cut to the terminal's width,
    /// `suffix` (`DONE 3.0s`) kept whole at the right.
    fn print_step(&self, name: &str, suffix: &str) {
        let (_, cols) = console::Term::stderr().size();
        self.print(&fit(name, suffix, cols as usize));
    }

    fn end(&self, step: &StepInfo<'_>) {
        if let Ok(mut s) = self.state.lock() {
            s.running.retain(|r| r.id != step.id);
            s.finished += 1;
        }
    }
}

impl Sink for Tty {
    fn platforms(&self, platforms: &[(String, bool)]) {
        let text: Vec<String> = platforms
            .iter()
            .map(|(p, emulated)| format!("{p} ({})", if *emulated { "qemu" } else { "native" }))
            .collect();
        if let Ok(mut s) = self.state.lock() {
            s.platforms = text.join(", ");
        }
    }

    fn line(&self, s: &str) {
        self.print(s);
    }

    fn start(&self, step: &StepInfo<'_>) {
        if let Ok(mut s) = self.state.lock() {
            s.running.push(Running {
                id: step.id.to_string(),
                name: format!("{} {}", step.label, step.text),
                emulated: step.emulated,
                since: Instant::now(),
                tail: VecDeque::new(),
            });
        }
    }

    fn output(&self, step: &StepInfo<'_>, line: &str) {
        let line = clean(line);
        if line.trim().is_empty() {
            return;
        }
        if let Ok(mut s) = self.state.lock() {
            if let Some(r) = s.running.iter_mut().find(|r| r.id == step.id) {
                r.tail.push_back(line);
                while r.tail.len() > TAIL {
                    r.tail.pop_front();
                }
            }
        }
    }

    fn done(&self, step: &StepInfo<'_>, took: Duration) {
        self.end(step);
        let qemu = if step.emulated { " qemu" } else { "" };
        self.print_step(
            &format!("{} {}", step.label, step.text),
            &format!("{qemu}  DONE {:.1}s", took.as_secs_f64()),
        );
    }

    fn cached(&self, step: &StepInfo<'_>) {
        if let Ok(mut s) = self.state.lock() {
            s.finished += 1;
        }
        self.print_step(&format!("CACHED {} {}", step.label, step.text), "");
    }

    fn failed(&self, step: &StepInfo<'_>, took: Duration) {
        self.end(step);
        self.print_step(
            &format!("ERROR {} {}", step.label, step.text),
            &format!("  {:.1}s", took.as_secs_f64()),
        );
    }

    fn finish(&self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.ticker.lock().ok().and_then(|mut t| t.take()) {
            let _ = t.join();
        }
        self.bar.finish_and_clear();
    }
}

impl Drop for Tty {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(t0: Instant) -> State {
        State {
            since: t0,
            running: vec![
                Running {
                    id: "a".into(),
                    name: "[build amd64 2/3] RUN make all".into(),
                    emulated: false,
                    since: t0 + Duration::from_secs(1),
                    tail: ["one", "two"].iter().map(|s| s.to_string()).collect(),
                },
                Running {
                    id: "b".into(),
                    name: "[stage-1 arm64 3/3] RUN ./configure && make -j2 install".into(),
                    emulated: true,
                    since: t0 + Duration::from_secs(2),
                    tail: VecDeque::new(),
                },
            ],
            finished: 3,
            platforms: "linux/amd64 (native), linux/arm64 (qemu)".into(),
        }
    }

    #[test]
    fn running_steps_have_timers_tails_and_the_qemu_mark() {
        let t0 = Instant::now();
        let lines = render(&state(t0), t0 + Duration::from_millis(4500), 80, 24);
        assert!(
            lines[0].starts_with("[+] Building 4.5s (3 done, 2 running) linux/amd64 (native), "),
            "{lines:?}"
        );
        assert!(
            lines[1].starts_with(" => [build amd64 2/3] RUN make all"),
            "{lines:?}"
        );
        assert!(lines[1].ends_with("  3.5s"), "{lines:?}");
        assert_eq!(
            fit(
                "[b amd64 2/2] RUN a very long command line",
                "  DONE 6.2s",
                30
            ),
            " => [b amd64 2/2]   DONE 6.2s"
        );
        assert_eq!(lines[2], " => => # one");
        assert!(lines[4].ends_with(" qemu  2.5s"), "{lines:?}");
        assert!(lines.iter().all(|l| l.chars().count() < 80), "{lines:?}");
        // A later frame: the timers advanced.
        let later = render(&state(t0), t0 + Duration::from_millis(6000), 80, 24);
        assert!(later[1].ends_with("  5.0s"), "{later:?}");
    }

    #[test]
    fn small_screens_keep_step_lines_and_drop_tails() {
        let t0 = Instant::now();
        let lines = render(&state(t0), t0, 40, 4);
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert!(lines.iter().all(|l| l.chars().count() < 40), "{lines:?}");
    }

    #[test]
    fn output_lines_are_cleaned_for_one_row() {
        assert_eq!(clean("10%\r50%\r100%"), "100%");
        assert_eq!(clean("\u{1b}[1;32mok\u{1b}[0m done"), "ok done");
        assert_eq!(clean("tab\there"), "tabhere");
    }
}
