//! BuildKit's parser test data: each of the 33 `parser/testfiles` cases must
//! dump exactly its `result`, and the 4 `testfiles-negative` cases must be
//! rejected (with an error, never a panic).

use mxbuild::dockerfile;

#[test]
fn every_positive_case_dumps_its_result() {
    let Some(dir) = crate::support::conformance_dir() else {
        return;
    };
    let mut cases: Vec<_> = std::fs::read_dir(dir.join("parser/testfiles"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    cases.sort();
    assert_eq!(cases.len(), 33, "expected the 33 BuildKit parser cases");
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(case.join("Dockerfile")).unwrap();
        let want = std::fs::read_to_string(case.join("result")).unwrap();
        let got = match dockerfile::parse(&text, "Dockerfile") {
            Ok(df) => df.nodes.iter().map(|n| n.dump() + "\n").collect::<String>(),
            Err(e) => format!("ERROR {e}\n"),
        };
        if got.trim_end() != want.trim_end() {
            let diff: Vec<String> = got
                .lines()
                .zip(want.lines().chain(std::iter::repeat("<missing>")))
                .filter(|(g, w)| g != w)
                .take(3)
                .map(|(g, w)| format!("  got:  {g}\n  want: {w}"))
                .collect();
            failures.push(format!("{name}:\n{}", diff.join("\n")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of 33 cases differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_negative_case_is_rejected() {
    let Some(dir) = crate::support::conformance_dir() else {
        return;
    };
    let mut cases: Vec<_> = std::fs::read_dir(dir.join("parser/testfiles-negative"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    cases.sort();
    assert_eq!(cases.len(), 4);
    for case in cases {
        let text = std::fs::read_to_string(case.join("Dockerfile")).unwrap();
        let err = dockerfile::parse(&text, "Dockerfile").expect_err(&case.display().to_string());
        let shown = err.to_string();
        assert!(shown.starts_with("Dockerfile:"), "{shown}");
        assert!(
            shown.contains("hint:"),
            "every front-end error carries a hint: {shown}"
        );
    }
}
