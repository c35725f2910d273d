//! The README's "BuildKit compatibility" tables against the parsers' own
//! lists of the names they know: every flag, `--mount` key, build flag,
//! output key, cache key and directive the code accepts has a row; a row
//! for a name the code does not know says `refused`; no status says a name
//! is ignored (issue 21: everything does what BuildKit does, or is refused).

use std::collections::BTreeSet;

use mxbuild::cli::{build, output};
use mxbuild::dockerfile::{instruction, lines, mount};

/// One table row: the heading it is under, the backticked names of its
/// first cell, its status cell.
struct Row {
    heading: String,
    names: Vec<String>,
    status: String,
}

/// The cells of a Markdown table line (`\|` is a pipe inside a cell).
fn cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
    let mut out = vec![String::new()];
    let mut prev = ' ';
    for c in inner.chars() {
        if c == '|' && prev != '\\' {
            out.push(String::new());
        } else if let Some(cur) = out.last_mut() {
            cur.push(c);
        }
        prev = c;
    }
    out.into_iter().map(|c| c.trim().to_string()).collect()
}

/// The `code` spans of a cell.
fn backticked(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// The rows of the README's "BuildKit compatibility" section.
fn rows(readme: &str) -> Vec<Row> {
    let start = readme
        .find("\n## BuildKit compatibility\n")
        .expect("README has a \"## BuildKit compatibility\" section");
    let section = &readme[start + 1..];
    let end = section[3..].find("\n## ").map_or(section.len(), |i| i + 3);
    let mut heading = String::new();
    let mut out = Vec::new();
    for line in section[..end].lines() {
        if let Some(h) = line.strip_prefix("### ") {
            heading = h.to_string();
            continue;
        }
        if !line.starts_with('|') || line.starts_with("|---") {
            continue;
        }
        let c = cells(line);
        let names = backticked(&c[0]);
        if names.is_empty() {
            continue; // the header line
        }
        out.push(Row {
            heading: heading.clone(),
            names,
            status: c.get(1).cloned().unwrap_or_default(),
        });
    }
    out
}

/// The names a row documents, as `family:name` keys.
fn documented(row: &Row) -> Vec<String> {
    let h = row.heading.as_str();
    let n = &row.names;
    let pairs = |family: &str| -> Vec<String> {
        n[1..]
            .iter()
            .map(|k| format!("{family}:{} {k}", n[0]))
            .collect()
    };
    if h.starts_with("Dockerfile instruction flags") {
        n.iter()
            .filter_map(|f| f.split_once(' '))
            .map(|(kw, flag)| {
                format!(
                    "instruction:{} {}",
                    kw.to_ascii_lowercase(),
                    flag.trim_start_matches("--")
                )
            })
            .collect()
    } else if h.contains("--mount") {
        pairs("mount")
    } else if h.contains("mxbuild build") {
        n.iter()
            .filter_map(|f| f.strip_prefix("--"))
            .map(|f| format!("build:{f}"))
            .collect()
    } else if h.contains("--output") {
        pairs("output")
    } else if h.contains("--cache-from") {
        pairs("cache")
    } else if h.starts_with("Parser directives") && n.len() == 1 {
        vec![format!("directive:{}", n[0])]
    } else if h.starts_with("Parser directives") {
        pairs("directive")
    } else {
        Vec::new()
    }
}

/// Every name the parsers know, as `family:name` keys.
fn known() -> BTreeSet<String> {
    let mut k = BTreeSet::new();
    for (kw, flags) in instruction::INSTRUCTION_FLAGS {
        k.extend(flags.iter().map(|f| format!("instruction:{kw} {f}")));
    }
    for (ty, keys) in mount::MOUNT_KEYS {
        k.extend(keys.iter().map(|key| format!("mount:{ty} {key}")));
    }
    k.extend(
        build::flag_names()
            .iter()
            .filter(|f| *f != "help")
            .map(|f| format!("build:{f}")),
    );
    for (ty, keys) in output::OUTPUT_KEYS {
        k.extend(keys.iter().map(|key| format!("output:{ty} {key}")));
    }
    for (flag, keys) in [
        ("--cache-from", build::CACHE_FROM_KEYS),
        ("--cache-to", build::CACHE_TO_KEYS),
    ] {
        k.extend(keys.iter().map(|key| format!("cache:{flag} {key}")));
    }
    k.extend(lines::DIRECTIVES.iter().map(|d| format!("directive:{d}")));
    k.extend(
        mxbuild::plan::CHECK_KEYS
            .iter()
            .map(|c| format!("directive:check {c}")),
    );
    k
}

/// What is wrong with the README's tables: known names without a row,
/// rows for unknown names not marked refused, statuses of the wrong form.
fn problems(readme: &str) -> Vec<String> {
    let known = known();
    let mut seen = BTreeSet::new();
    let mut bad = Vec::new();
    for row in rows(readme) {
        let s = row.status.as_str();
        let form = s == "as BuildKit" || s.starts_with("differs: ") || s.starts_with("refused: ");
        if !form || s.to_ascii_lowercase().contains("ignor") {
            bad.push(format!(
                "row {:?}: status {s:?} is not `as BuildKit`, `differs: how` or `refused: why` (and never says ignored)",
                row.names
            ));
        }
        for name in documented(&row) {
            if !known.contains(&name) && !s.starts_with("refused") {
                bad.push(format!(
                    "row {name}: the code does not know it, so its status must be `refused: …`, not {s:?}"
                ));
            }
            if known.contains(&name) && s.contains("not parsed") {
                bad.push(format!(
                    "row {name}: says `not parsed`, but the code parses it now; say what it does"
                ));
            }
            seen.insert(name);
        }
    }
    for name in known.difference(&seen) {
        bad.push(format!("no README row for {name}"));
    }
    bad
}

#[test]
fn readme_table_names_every_known_option() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
    let readme = std::fs::read_to_string(path).unwrap();
    let bad = problems(&readme);
    assert!(
        bad.is_empty(),
        "README.md \"BuildKit compatibility\" is out of date:\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_check_itself_catches_gaps() {
    let readme = "intro\n## BuildKit compatibility\n\n### Dockerfile instruction flags\n\n| flag | status | notes |\n|---|---|---|\n| `FROM --platform` | as BuildKit | |\n| `RUN --bogus` | as BuildKit | |\n| `RUN --network` | accepted, ignored | |\n\n## Layout\n";
    let bad = problems(readme).join("\n");
    assert!(
        bad.contains("no README row for instruction:copy from"),
        "{bad}"
    );
    assert!(!bad.contains("instruction:from platform"), "{bad}");
    assert!(bad.contains("row instruction:run bogus"), "{bad}");
    assert!(bad.contains("accepted, ignored"), "{bad}");
}
