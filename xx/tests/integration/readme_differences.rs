//! The README's "Differences from tonistiigi/xx" table names, for every
//! deliberate difference, the test that holds it. This checks that each row
//! names at least one test and that every named test exists, so the table
//! cannot silently point at tests that were renamed or removed.

use std::path::{Path, PathBuf};

use crate::support::repo_dir;

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_difference_names_a_test_that_exists() {
    let readme = std::fs::read_to_string(repo_dir().join("README.md")).unwrap();
    let start = readme
        .find("### Differences from tonistiigi/xx")
        .expect("README has the differences section");
    let section = &readme[start..];
    let end = section[3..].find("\n##").map_or(section.len(), |i| i + 3);
    let rows: Vec<&str> = section[..end]
        .lines()
        .filter(|l| l.starts_with('|') && !l.starts_with("|---") && !l.starts_with("| Where"))
        .collect();
    assert!(rows.len() >= 10, "the table has its rows: {rows:?}");

    let mut files = Vec::new();
    rust_files(&repo_dir().join("xx/src"), &mut files);
    rust_files(&repo_dir().join("xx/tests"), &mut files);
    for row in rows {
        let tests_cell = row.trim_end_matches('|').rsplit('|').next().unwrap();
        let tests: Vec<&str> = tests_cell
            .split('`')
            .skip(1)
            .step_by(2)
            .filter(|t| t.contains("::"))
            .collect();
        assert!(!tests.is_empty(), "row names no test: {row}");
        for test in tests {
            let (file, function) = test.split_once("::").unwrap();
            let candidates: Vec<&PathBuf> = files
                .iter()
                .filter(|p| p.file_name().is_some_and(|n| n == file))
                .collect();
            assert!(!candidates.is_empty(), "{test}: no file {file} in xx/");
            let found = candidates.iter().any(|p| {
                std::fs::read_to_string(p)
                    .unwrap()
                    .contains(&format!("fn {function}()"))
            });
            assert!(found, "{test}: no test fn {function} in {candidates:?}");
        }
    }
}
