//! The verification report as people read it: one block per platform with
//! the counts, every binary the build added (format, linkage, loader) and
//! every failure with the reason.

use super::PlatformReport;

/// Renders the reports.
pub fn render(reports: &[PlatformReport]) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{:<14} {:>9} {:>7}  RESULT\n",
        "PLATFORM", "ELF FILES", "FAILED"
    ));
    for r in reports {
        out.push_str(&format!(
            "{:<14} {:>9} {:>7}  {}\n",
            r.platform,
            r.checked,
            r.failures.len(),
            if r.ok() { "ok" } else { "MISMATCH" }
        ));
    }
    for r in reports {
        for a in &r.added {
            let mark = if a.ok { "ok " } else { "BAD" };
            out.push_str(&format!(
                "  {mark} {:<12} {}: {}{}\n",
                r.platform,
                a.file,
                a.format.as_deref().unwrap_or("?"),
                a.linkage
                    .as_deref()
                    .map(|l| format!(", {l}"))
                    .unwrap_or_default()
            ));
        }
        for f in r
            .failures
            .iter()
            .filter(|f| !r.added.iter().any(|a| a.file == f.file))
        {
            out.push_str(&format!("  BAD {:<12} {}\n", r.platform, f.failure_line()));
        }
        for f in r
            .failures
            .iter()
            .filter(|f| r.added.iter().any(|a| a.file == f.file))
        {
            out.push_str(&format!("      {:<12} {}\n", r.platform, f.failure_line()));
        }
    }
    out
}
