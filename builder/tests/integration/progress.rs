//! What a build shows (issue 17): the live view in a real terminal (tmux,
//! 80x24), `--progress rawjson` events, and the Markdown summary.

use std::fs;
use std::process::Command;
use std::time::{Duration, Instant};

use testkit::require;

use crate::build::{Scenario, context_with};
use crate::support::mxbuild::{mx, store, text, tool};

/// A tmux server of the test's own (its socket name), killed on drop.
struct Tmux(String);

impl Tmux {
    /// Starts `cmd` in a detached 80x24 session.
    fn start(cmd: &str) -> Tmux {
        let t = Tmux(format!("mxbuild-test-{}", std::process::id()));
        let ok = Command::new("tmux")
            .args([
                "-L",
                &t.0,
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-s",
                "b",
            ])
            .args(["-x", "80", "-y", "24", cmd])
            .status()
            .unwrap()
            .success();
        assert!(ok, "tmux new-session");
        t
    }

    /// The screen (`history`: with the scrollback), escapes interpreted.
    fn capture(&self, history: bool) -> String {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.0, "capture-pane", "-p", "-t", "b"]);
        if history {
            c.args(["-J", "-S", "-"]);
        }
        String::from_utf8_lossy(&c.output().unwrap().stdout).into_owned()
    }

    /// Captures until `pred` holds (or `limit` passes); the last capture.
    fn wait_for(&self, limit: Duration, pred: impl Fn(&str) -> bool) -> Option<String> {
        let t0 = Instant::now();
        while t0.elapsed() < limit {
            let s = self.capture(false);
            if pred(&s) {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        None
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.0, "kill-server"])
            .status();
    }
}

/// `[+] Building 12.3s` -> 12.3.
fn header_secs(screen: &str) -> Option<f64> {
    let l = screen.lines().find(|l| l.starts_with("[+] Building "))?;
    l.trim_start_matches("[+] Building ")
        .split('s')
        .next()?
        .parse()
        .ok()
}

const SLOW: &str = "FROM --platform=$BUILDPLATFORM debian:bookworm AS build\n\
RUN echo shared-step > /s\n\
ARG TARGETARCH\n\
RUN for i in 1 2 3 4 5 6; do echo tick $i; sleep 1; done > /t\n\
FROM debian:bookworm\n\
COPY --from=build /s /t /\n\
RUN for i in 1 2 3 4; do echo emu $i; sleep 1; done\n";

#[test]
fn live_view_in_a_terminal() {
    let Some(s) = Scenario::start("progress-tty").filter(|_| {
        require(
            tool("tmux"),
            "tmux is needed (scripts/setup.sh installs it)",
        )
    }) else {
        return;
    };
    let ctx = context_with(s.dir.path(), "ctx", SLOW);
    let cmd = format!(
        "MXBUILD_ROOT={} {} build --no-cache --platform linux/amd64,linux/arm64 {}; echo MXBUILD-EXIT=$?; sleep 600",
        store().display(),
        env!("CARGO_BIN_EXE_mxbuild"),
        ctx.display()
    );
    let tmux = Tmux::start(&cmd);
    let running = |s: &str| {
        s.lines()
            .any(|l| l.starts_with(" => [") && l.ends_with('s'))
    };
    let a = tmux
        .wait_for(Duration::from_secs(120), running)
        .unwrap_or_else(|| panic!("no running step shown:\n{}", tmux.capture(true)));
    std::thread::sleep(Duration::from_millis(1500));
    let b = tmux.capture(false);
    let (ta, tb) = (header_secs(&a), header_secs(&b));
    assert!(
        ta.is_some() && tb > ta,
        "the timer advances:\n{a}\n---\n{b}"
    );
    // An emulated step shows `qemu` while it runs.
    let emulated = tmux.wait_for(Duration::from_secs(180), |s| {
        s.lines()
            .any(|l| l.starts_with(" => [") && l.contains(" qemu "))
    });
    assert!(emulated.is_some(), "no qemu mark:\n{}", tmux.capture(true));
    for screen in [&a, &b] {
        assert!(screen.lines().count() <= 24);
        assert!(screen.lines().all(|l| l.chars().count() <= 80), "{screen}");
    }
    let done = tmux.wait_for(Duration::from_secs(300), |s| s.contains("MXBUILD-EXIT="));
    assert!(
        done.is_some(),
        "the build did not end:\n{}",
        tmux.capture(true)
    );
    let all = tmux.capture(true);
    assert!(all.contains("MXBUILD-EXIT=0"), "{all}");
    // The shared step is shown once, labelled with both targets.
    let shared: Vec<&str> = all
        .lines()
        .filter(|l| l.contains("RUN echo shared-step"))
        .collect();
    assert_eq!(shared.len(), 1, "{all}");
    assert!(
        shared[0].contains("[build amd64->amd64,arm64 2/3]"),
        "{all}"
    );
    assert!(shared[0].contains("DONE"), "{all}");
    // The counts say what the lines showed: 7 steps ran (the ARGs have
    // no line and no count), one was shared.
    assert_eq!(all.matches("  DONE ").count(), 7, "{all}");
    // The final screen: the summary, then the verification table.
    for want in [
        "(7 steps run, 0 cached, 1 shared)",
        "time in steps: ",
        "under QEMU (slowest: [stage-1 arm64 3/3]",
        "linux/amd64      sha256:",
        "linux/arm64      sha256:",
        "PLATFORM",
    ] {
        assert!(all.contains(want), "{want:?} missing:\n{all}");
    }
    for stray in ["\u{1b}", "[2K", "[1A", "[?25"] {
        assert!(!all.contains(stray), "stray escape {stray:?}:\n{all}");
    }
}

/// `--progress rawjson`: every line is one JSON object of BuildKit's
/// SolveStatus shape; each step's vertex comes before its logs and again
/// completed.
#[test]
fn rawjson_events() {
    let Some(s) = Scenario::start("progress-rawjson") else {
        return;
    };
    let ctx = context_with(
        s.dir.path(),
        "ctx",
        "FROM debian:bookworm\nRUN echo hello-json\nCOPY <<EOF /f\nx\nEOF\n",
    );
    let o = mx(&[
        "build",
        "--no-cache",
        "--progress",
        "rawjson",
        "--platform",
        "linux/amd64",
        ctx.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    let events: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let mut started = std::collections::BTreeSet::new();
    let mut completed = 0;
    let mut saw_log = false;
    for e in &events {
        for v in e["vertexes"].as_array().into_iter().flatten() {
            let d = v["digest"].as_str().unwrap().to_string();
            assert!(d.starts_with("sha256:"), "{v}");
            assert!(
                v["name"].as_str().unwrap().starts_with("[stage-0 amd64 "),
                "{v}"
            );
            if v.get("completed").is_some() {
                assert!(started.contains(&d), "completed before started: {v}");
                assert!(v["completed"].as_str() >= v["started"].as_str(), "{v}");
                completed += 1;
            } else {
                started.insert(d);
            }
        }
        for l in e["logs"].as_array().into_iter().flatten() {
            if let Some(v) = l["vertex"].as_str() {
                assert!(started.contains(v), "a log before its vertex: {l}");
                use base64::Engine as _;
                let data = base64::engine::general_purpose::STANDARD
                    .decode(l["data"].as_str().unwrap())
                    .unwrap();
                saw_log |= String::from_utf8_lossy(&data).contains("hello-json");
            }
        }
    }
    assert_eq!((started.len(), completed), (2, 2), "{stderr}");
    assert!(saw_log, "{stderr}");
}

/// `--summary-file` and `$GITHUB_STEP_SUMMARY`: the platforms, digests,
/// counts and verification as Markdown.
#[test]
fn markdown_summary() {
    let Some(s) = Scenario::start("progress-summary") else {
        return;
    };
    let t = s.dir.path();
    let ctx = context_with(t, "ctx", "FROM scratch\nCOPY <<EOF /f\nx\nEOF\n");
    let file = t.join("summary.md");
    let gh = t.join("gh.md");
    fs::write(&gh, "earlier step\n").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_mxbuild"))
        .args([
            "build",
            "--platform",
            "linux/amd64,linux/arm64",
            "--summary-file",
        ])
        .arg(&file)
        .arg(&ctx)
        .env("MXBUILD_ROOT", store())
        .env("GITHUB_STEP_SUMMARY", &gh)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let md = fs::read_to_string(&file).unwrap();
    for want in [
        "### mxbuild build",
        "| `linux/amd64` | `sha256:",
        "| `linux/arm64` | `sha256:",
        "index: `sha256:",
        "**Verification**",
        "under QEMU",
    ] {
        assert!(md.contains(want), "{want:?} missing:\n{md}");
    }
    let appended = fs::read_to_string(&gh).unwrap();
    assert!(
        appended.starts_with("earlier step\n### mxbuild build"),
        "{appended}"
    );
}
