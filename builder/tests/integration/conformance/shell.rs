//! BuildKit's shell-lexer test data (`shell/envVarTest`, `shell/wordsTest`)
//! run against mxbuild's expansion: every line must give BuildKit's answer.
//! The files are read the way BuildKit's own `lex_test.go` reads them.

use mxbuild::dockerfile::expand::{expand_word, expand_words};
use std::path::PathBuf;

/// The `shell/` directory of the conformance data, or None (after a SKIP).
fn shell_dir() -> Option<PathBuf> {
    crate::support::conformance_dir().map(|dir| dir.join("shell"))
}

/// Looks `name` up in `KEY=VALUE` pairs, the last assignment winning (BuildKit's `BuildEnvs`).
fn lookup(vars: &[(String, String)], name: &str) -> Option<String> {
    vars.iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

/// `KEY=VALUE` (or a bare `KEY`, set but empty) as a pair.
fn parse_assignment(text: &str) -> (String, String) {
    match text.split_once('=') {
        Some((k, v)) => (k.to_string(), v.to_string()),
        None => (text.to_string(), String::new()),
    }
}

#[test]
fn env_var_test() {
    let Some(dir) = shell_dir() else { return };
    let path = dir.join("envVarTest");
    let text = std::fs::read_to_string(&path).expect("read envVarTest");
    let vars: Vec<(String, String)> = ["PWD=/home", "SHELL=bash", "KOREAN=한국어", "NULL="]
        .iter()
        .map(|a| parse_assignment(a))
        .collect();
    let env = |name: &str| lookup(&vars, name);

    let (mut ran, mut failures) = (0, Vec::new());
    for (number, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if raw.starts_with('#') || line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split('|').collect();
        assert_eq!(
            fields.len(),
            3,
            "line {}: expected PLATFORM|input|expected: {raw:?}",
            number + 1
        );
        let (platform, input, expected) = (fields[0].trim(), fields[1].trim(), fields[2].trim());
        match platform {
            "A" | "U" => {}
            "W" => continue,
            other => panic!("line {}: unknown platform {other:?}", number + 1),
        }
        ran += 1;
        let got = expand_word(input, &env, '\\');
        let pass = match (&got, expected) {
            (Err(_), "error") => true,
            (Ok(e), want) => want != "error" && e.value == want,
            (Err(_), _) => false,
        };
        if !pass {
            let got = match got {
                Ok(e) => format!("{:?}", e.value),
                Err(e) => format!("error: {e} (offset {})", e.offset),
            };
            failures.push(format!(
                "line {}: {input:?}: got {got}, expected {expected:?}",
                number + 1
            ));
        }
    }
    eprintln!("envVarTest: {ran} cases, {} failed", failures.len());
    assert!(ran > 200, "only {ran} cases found in {}", path.display());
    assert!(
        failures.is_empty(),
        "{} of {ran} envVarTest cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn words_test() {
    let Some(dir) = shell_dir() else { return };
    let path = dir.join("wordsTest");
    let text = std::fs::read_to_string(&path).expect("read wordsTest");
    let mut vars: Vec<(String, String)> = Vec::new();

    let (mut ran, mut failures) = (0, Vec::new());
    for (number, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        // As in BuildKit's test: the value keeps its trailing spaces.
        if let Some(assignment) = line.strip_prefix("ENV ") {
            vars.push(parse_assignment(assignment.trim_start_matches(' ')));
            continue;
        }
        let fields: Vec<&str> = line.split('|').collect();
        assert_eq!(
            fields.len(),
            2,
            "line {}: expected input | words: {line:?}",
            number + 1
        );
        let input = fields[0].trim();
        // Only leading spaces are trimmed: some expected words end in spaces.
        let expected: Vec<&str> = fields[1].trim_start_matches(' ').split(',').collect();
        ran += 1;
        let env = |name: &str| lookup(&vars, name);
        let got = match expand_words(input, &env, '\\') {
            Ok((words, _)) => words,
            Err(_) => vec!["error".to_string()],
        };
        if got != expected {
            failures.push(format!(
                "line {}: {input:?}: got {got:?}, expected {expected:?}",
                number + 1
            ));
        }
    }
    eprintln!("wordsTest: {ran} cases, {} failed", failures.len());
    assert!(ran > 20, "only {ran} cases found in {}", path.display());
    assert!(
        failures.is_empty(),
        "{} of {ran} wordsTest cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
