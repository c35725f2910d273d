//! The CI and Kubernetes examples under `examples/` stay true: every
//! `mxbuild` command line in them (a `run:`/`script:` line with its
//! continuations, or a container's `args:` list) parses with the CLI's own
//! parser, and together they use the flags the distributed flow needs.

use std::fs;
use std::path::Path;

use clap::Parser;

use crate::support::mxbuild::repo;

/// The subcommands a command line in an example may start with.
const SUBCOMMANDS: &[&str] = &[
    "build",
    "plan",
    "image",
    "verify",
    "binfmt",
    "prune",
    "platforms",
    "imagetools",
    "sbom",
];

/// Values for the variables the examples use (anything else becomes `x`).
fn var(name: &str) -> String {
    match name {
        "IMAGE" => "registry.example.com/me/app".to_string(),
        "CACHE" => "registry.example.com/me/app:buildcache".to_string(),
        "ARCH" => "amd64".to_string(),
        _ => "x".to_string(),
    }
}

/// Replaces `${{ … }}`, `$( … )`, `${VAR}` and `$VAR` with test values
/// (a command substitution stands for a digest, as in the examples).
fn substitute(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let tail = &rest[i + 1..];
        if let Some(t) = tail.strip_prefix("{{") {
            let end = t.find("}}").map(|e| e + 2).unwrap_or(t.len());
            out.push('x');
            rest = &t[end..];
        } else if let Some(t) = tail.strip_prefix('(') {
            let end = t.find(')').map(|e| e + 1).unwrap_or(t.len());
            out.push_str(&format!("sha256:{}", "a".repeat(64)));
            rest = &t[end..];
        } else if let Some(t) = tail.strip_prefix('{') {
            let end = t.find('}').unwrap_or(t.len());
            out.push_str(&var(&t[..end]));
            rest = &t[(end + 1).min(t.len())..];
        } else {
            let end = tail
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(tail.len());
            out.push_str(&var(&tail[..end]));
            rest = &tail[end..];
        }
    }
    out.push_str(rest);
    out
}

/// Splits a command line as sh does for the quoting the examples use.
fn split(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                any = true;
            }
            (None, c) if c.is_whitespace() => {
                if any || !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            (None, c) => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// The `mxbuild` command lines of a CI file: from the word `mxbuild` to
/// the end of the line, joined with following lines while a line ends
/// with `\`, or (a YAML `>` block) while they keep its indentation.
fn ci_commands(text: &str) -> Vec<Vec<String>> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        // A command: `mxbuild` then one of its subcommands (not prose such
        // as a step's name, nor `cargo install … mxbuild`).
        let Some(pos) = l.find("mxbuild ").filter(|&p| {
            let next = l[p + 8..].split_whitespace().next().unwrap_or("");
            SUBCOMMANDS.contains(&next) && !l.trim_start().starts_with('#')
        }) else {
            i += 1;
            continue;
        };
        let indent = l.len() - l.trim_start().len();
        let folded = i > 0 && lines[i - 1].trim_end().ends_with('>');
        let mut cmd = l[pos..].to_string();
        while cmd.ends_with('\\') && i + 1 < lines.len() {
            cmd.pop();
            i += 1;
            cmd.push(' ');
            cmd.push_str(lines[i].trim());
        }
        // A folded block (`- >`): the command goes on over the lines of
        // the same indentation.
        while folded && i + 1 < lines.len() && pos == indent && {
            let n = lines[i + 1];
            !n.trim().is_empty() && n.len() - n.trim_start().len() == indent
        } {
            i += 1;
            cmd.push(' ');
            cmd.push_str(lines[i].trim());
        }
        out.push(split(&substitute(&cmd)));
        i += 1;
    }
    out
}

/// The `args:` lists of a Kubernetes manifest that start with `mxbuild`.
fn k8s_commands(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut cur: Option<(usize, Vec<String>)> = None;
    for l in text.lines() {
        let indent = l.len() - l.trim_start().len();
        let t = l.trim();
        if let Some((at, words)) = &mut cur {
            if let (Some(item), true) = (t.strip_prefix("- "), indent >= *at) {
                words.push(item.trim_matches('"').to_string());
                continue;
            }
            out.push(std::mem::take(words));
            cur = None;
        }
        if t == "args:" {
            cur = Some((indent, Vec::new()));
        }
    }
    if let Some((_, w)) = cur {
        out.push(w);
    }
    out.into_iter()
        .filter(|w| w.first().is_some_and(|c| c == "mxbuild"))
        .collect()
}

fn check(file: &Path, commands: &[Vec<String>]) -> String {
    assert!(
        !commands.is_empty(),
        "{}: no mxbuild command",
        file.display()
    );
    let mut seen = String::new();
    for c in commands {
        if let Err(e) = mxbuild::cli::Cli::try_parse_from(c) {
            panic!("{}: {c:?} does not parse:\n{e}", file.display());
        }
        seen.push_str(&c.join(" "));
        seen.push('\n');
    }
    seen
}

#[test]
fn every_example_command_line_parses() {
    let dir = repo().join("examples");
    for name in ["ci/github-actions.yml", "ci/gitlab-ci.yml"] {
        let f = dir.join(name);
        let text = fs::read_to_string(&f).unwrap();
        let seen = check(&f, &ci_commands(&text));
        for want in [
            "push-by-digest=true",
            "imagetools create",
            "type=registry,ref=",
        ] {
            assert!(seen.contains(want), "{name}: no {want} in\n{seen}");
        }
    }
    let mut k8s = String::new();
    for name in ["kubernetes/build-jobs.yaml", "kubernetes/merge-job.yaml"] {
        let f = dir.join(name);
        let text = fs::read_to_string(&f).unwrap();
        assert!(
            text.contains("kubernetes.io/arch") || name.contains("merge"),
            "{name}"
        );
        k8s.push_str(&check(&f, &k8s_commands(&text)));
    }
    assert!(
        k8s.contains("--platform linux/arm64") && k8s.contains("imagetools create"),
        "{k8s}"
    );
}

#[test]
fn the_extractors_find_continued_and_folded_commands() {
    let gh = "run: |\n  sudo -E mxbuild build \\\n    --platform ${{ matrix.platform }} \\\n    .\n  echo done\n";
    assert_eq!(ci_commands(gh), vec![split("mxbuild build --platform x .")]);
    let gl = "  script:\n    - >\n      mxbuild build\n      --platform linux/$ARCH\n      .\n    - jq x\n";
    assert_eq!(
        ci_commands(gl),
        vec![split("mxbuild build --platform linux/amd64 .")]
    );
    let k =
        "      args:\n        - mxbuild\n        - verify\n        - r/a:1\n      volumeMounts:\n";
    assert_eq!(k8s_commands(k), vec![split("mxbuild verify r/a:1")]);
    assert_eq!(split("a \"b c\" 'd'"), ["a", "b c", "d"]);
}
