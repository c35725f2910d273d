//! The verification report as people read it: one line per platform with
//! the counts, then every binary the build added (format, linkage), every
//! failure with the reason, and notes on libraries tagged for newer ARM
//! levels.

use super::PlatformReport;

/// How many passing binaries the build added are listed per platform.
const ADDED_SHOWN: usize = 10;

/// Renders the reports.
pub fn render(reports: &[PlatformReport]) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{:<14} {:>9} {:>7} {:>6}  {:<11} RESULT\n",
        "PLATFORM", "ELF FILES", "FAILED", "NOTES", "LIBC"
    ));
    for r in reports {
        out.push_str(&format!(
            "{:<14} {:>9} {:>7} {:>6}  {:<11} {}\n",
            r.platform,
            r.checked,
            r.failures.len(),
            r.notes.len(),
            r.libc,
            if r.ok() { "ok" } else { "MISMATCH" }
        ));
    }
    for r in reports {
        // Failed files are listed with their reasons below; of the passing
        // ones a few are enough to see what the build produced (an
        // `apt-get install gcc` adds hundreds).
        let passed: Vec<_> = r.added.iter().filter(|a| a.ok).collect();
        for a in passed.iter().take(ADDED_SHOWN) {
            out.push_str(&format!(
                "  ok  {:<13} {}: {}\n",
                r.platform,
                a.file,
                a.format.as_deref().unwrap_or("?"),
            ));
        }
        if passed.len() > ADDED_SHOWN {
            out.push_str(&format!(
                "  ok  {:<13} ... and {} more ELF files the build added\n",
                r.platform,
                passed.len() - ADDED_SHOWN
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

#[cfg(test)]
mod tests {
    use super::*;
    use xx::verify::Report;

    fn report(file: &str, ok: bool) -> Report {
        Report {
            file: file.to_string(),
            ok,
            target: "linux/arm64".to_string(),
            error: None,
            format: Some("ELF 64-bit LSB ARM aarch64".to_string()),
            platform: Some(if ok { "linux/arm64" } else { "linux/amd64" }.to_string()),
            linkage: Some("dynamic".to_string()),
            interpreter: None,
            needed: Vec::new(),
            max_glibc: None,
            problems: if ok {
                Vec::new()
            } else {
                vec!["wrong architecture".to_string()]
            },
        }
    }

    #[test]
    fn long_lists_of_added_binaries_are_cut_and_failures_kept() {
        let mut added: Vec<Report> = (0..25)
            .map(|i| report(&format!("/usr/lib/l{i:02}.so"), true))
            .collect();
        let bad = report("/usr/local/bin/hello", false);
        added.push(bad.clone());
        let r = PlatformReport {
            platform: "linux/arm64".to_string(),
            checked: 700,
            failures: vec![bad],
            notes: Vec::new(),
            added,
            libc: "glibc 2.36".to_string(),
        };
        let text = render(&[r]);
        assert!(
            text.contains("linux/arm64          700       1      0  glibc 2.36  MISMATCH"),
            "{text}"
        );
        assert!(
            text.contains("/usr/lib/l09.so") && !text.contains("/usr/lib/l10.so"),
            "{text}"
        );
        assert!(
            text.contains("... and 15 more ELF files the build added"),
            "{text}"
        );
        assert_eq!(text.matches("/usr/local/bin/hello").count(), 1, "{text}");
        assert!(
            text.contains("BAD linux/arm64   /usr/local/bin/hello: linux/amd64"),
            "{text}"
        );
    }
}
