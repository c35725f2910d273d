//! The verification report as people read it: one line per platform with
//! the counts, then every binary the build added (format, linkage), every
//! failure with the reason, and notes on libraries tagged for newer ARM
//! levels.

use super::PlatformReport;

/// Renders the reports.
pub fn render(reports: &[PlatformReport]) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{:<14} {:>9} {:>7} {:>6}  RESULT\n",
        "PLATFORM", "ELF FILES", "FAILED", "NOTES"
    ));
    for r in reports {
        out.push_str(&format!(
            "{:<14} {:>9} {:>7} {:>6}  {}\n",
            r.platform,
            r.checked,
            r.failures.len(),
            r.notes.len(),
            if r.ok() { "ok" } else { "MISMATCH" }
        ));
    }
    for r in reports {
        for a in &r.added {
            let mark = if a.ok { "ok  " } else { "BAD " };
            out.push_str(&format!(
                "  {mark}{:<13} {}: {}\n",
                r.platform,
                a.file,
                a.format.as_deref().unwrap_or("?"),
            ));
        }
        for f in &r.failures {
            out.push_str(&format!("  BAD {:<13} {}\n", r.platform, f.failure_line()));
        }
        for n in &r.notes {
            out.push_str(&format!(
                "  note {:<12} {}: tagged {} (newer instructions behind run-time checks, as distributions ship them)\n",
                r.platform,
                n.file,
                n.platform.as_deref().unwrap_or("?")
            ));
        }
    }
    out
}
