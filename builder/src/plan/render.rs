//! `mxbuild plan` output: a table for people, JSON for tools (its shape is
//! documented in README and kept stable).

use super::Plan;

/// The JSON form.
pub fn json(plan: &Plan) -> String {
    serde_json::to_string_pretty(plan).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// The text form.
pub fn text(plan: &Plan, file: &str) -> String {
    let mut s = format!(
        "host {}; platforms {}\n\n",
        plan.host,
        plan.platforms.join(", ")
    );
    let rows: Vec<[String; 6]> = plan
        .instances
        .iter()
        .map(|i| {
            [
                i.stage.clone(),
                i.platform.clone(),
                if i.emulated {
                    "QEMU".to_string()
                } else {
                    "native".to_string()
                },
                i.targets.join(","),
                i.steps.len().to_string(),
                i.base.clone(),
            ]
        })
        .collect();
    let header = [
        "STAGE",
        "PLATFORM",
        "RUNS",
        "SERVES TARGETS",
        "STEPS",
        "BASE",
    ];
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.len());
        }
    }
    let line = |cells: Vec<&str>| -> String {
        let mut l = String::new();
        for (c, w) in cells.iter().zip(&widths) {
            l.push_str(&format!("{c:<w$}  "));
        }
        l.trim_end().to_string() + "\n"
    };
    s.push_str(&line(header.to_vec()));
    for r in &rows {
        s.push_str(&line(r.iter().map(String::as_str).collect()));
    }
    let m = &plan.summary;
    s.push_str(&format!(
        "\nsteps: {} in all, {} unique; RUN steps: {} native, {} under QEMU\n",
        m.steps_total, m.steps_unique, m.runs_native, m.runs_emulated
    ));
    for w in &plan.warnings {
        s.push_str(&format!(
            "\nwarning: {file}:{}:{}: {} [{}]\n  hint: {}\n",
            w.line, w.col, w.message, w.code, w.hint
        ));
    }
    s
}
