//! What a build says when it ends, in the words its progress lines used:
//! the time and step counts (run, cached, shared), the time steps spent
//! natively and under QEMU (with the slowest emulated step), the critical
//! path (the stage instances the end waited on, each with its slowest
//! step), and each platform's image digest. The same facts as Markdown for CI
//! (`--summary-file`, and `$GITHUB_STEP_SUMMARY` when it is set), with
//! the verification table.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use crate::engine::Built;
use crate::engine::progress::Tally;

/// Everything the summary reports.
#[derive(Debug)]
pub struct Summary<'a> {
    /// The build's result.
    pub built: &'a Built,
    /// Wall time of the build.
    pub elapsed: Duration,
    /// Time in steps, native and under QEMU.
    pub tally: Tally,
}

impl Summary<'_> {
    /// The closing lines for the terminal or log.
    pub fn lines(&self) -> Vec<String> {
        let c = &self.built.counts;
        let platforms: Vec<String> = self
            .built
            .images
            .iter()
            .map(|(p, _, _)| p.to_string())
            .collect();
        let mut out = vec![format!(
            "built {} for {} in {:.1}s ({} steps run, {} cached, {} shared)",
            self.built.index,
            platforms.join(","),
            self.elapsed.as_secs_f64(),
            c.ran,
            c.cached,
            c.shared
        )];
        out.push(format!("time in steps: {}", self.time_split()));
        if let Some(c) = self.critical_path() {
            out.push(format!("critical path: {c}"));
        }
        for (p, digest, _) in &self.built.images {
            out.push(format!("  {:<16} {digest}", p.to_string()));
        }
        out
    }

    /// `12.1s native, 30.4s under QEMU (slowest: [..] RUN make 20.0s)`.
    fn time_split(&self) -> String {
        let t = &self.tally;
        let mut s = format!(
            "{:.1}s native, {:.1}s under QEMU",
            t.native.as_secs_f64(),
            t.emulated.as_secs_f64()
        );
        if let Some((step, took)) = &t.slowest_emulated {
            s.push_str(&format!(" (slowest: {step} {:.1}s)", took.as_secs_f64()));
        }
        s
    }

    /// `[build amd64->arm64] 300.1s (slowest: [..] RUN make 290.0s) ->
    /// [stage-1 arm64] 8.2s; 308.3s of 310.0s`; `None` when nothing ran.
    fn critical_path(&self) -> Option<String> {
        let c = &self.built.critical;
        if c.links.iter().all(|l| l.slowest.is_none()) {
            return None;
        }
        let links: Vec<String> = c
            .links
            .iter()
            .map(|l| {
                let mut s = format!("{} {:.1}s", l.label, l.took.as_secs_f64());
                if let Some((step, took)) = &l.slowest {
                    s.push_str(&format!(" (slowest: {step} {:.1}s)", took.as_secs_f64()));
                }
                s
            })
            .collect();
        Some(format!(
            "{}; {:.1}s of {:.1}s",
            links.join(" -> "),
            c.total().as_secs_f64(),
            self.elapsed.as_secs_f64()
        ))
    }

    /// The Markdown report; `verification` is the table `--verify` printed.
    pub fn markdown(&self, verification: Option<&str>) -> String {
        let c = &self.built.counts;
        let mut md = format!(
            "### mxbuild build\n\n{:.1}s; {} steps run, {} cached, {} shared; {}.\n\n",
            self.elapsed.as_secs_f64(),
            c.ran,
            c.cached,
            c.shared,
            self.time_split().replace('|', "\\|")
        );
        if let Some(path) = self.critical_path() {
            md.push_str(&format!("Critical path: {}.\n\n", path.replace('|', "\\|")));
        }
        md.push_str("| platform | image digest |\n|---|---|\n");
        for (p, digest, _) in &self.built.images {
            md.push_str(&format!("| `{p}` | `{digest}` |\n"));
        }
        md.push_str(&format!("\nindex: `{}`\n", self.built.index));
        match verification {
            Some(v) => md.push_str(&format!(
                "\n**Verification**\n\n```\n{}\n```\n",
                v.trim_end()
            )),
            None => md.push_str("\nVerification: off\n"),
        }
        md
    }
}

/// Writes `md` to `--summary-file` (replacing it) and appends it to
/// `$GITHUB_STEP_SUMMARY` when that is set, as GitHub Actions expects.
pub fn write_markdown(md: &str, file: Option<&Path>) -> Result<(), String> {
    if let Some(f) = file {
        std::fs::write(f, md).map_err(|e| format!("--summary-file {}: {e}", f.display()))?;
    }
    if let Some(gh) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|v| !v.is_empty()) {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&gh)
            .map_err(|e| format!("$GITHUB_STEP_SUMMARY {}: {e}", Path::new(&gh).display()))?;
        writeln!(f, "{md}").map_err(|e| format!("$GITHUB_STEP_SUMMARY: {e}"))?;
    }
    Ok(())
}
