//! BuildKit's build checks from the command line: `mxbuild build --check`
//! and `--call=check` print buildx's report and exit 1 on findings without
//! building; `# check=error=true` fails a real build; other `--call`
//! methods are refused by name.

use crate::build::{Scenario, context_with};
use crate::support::mxbuild::{mx, text};

/// Several findings of several rules, on a base image the test store has
/// (so UndefinedVar sees debian's ENV: $PATH is defined).
const WARNED: &str = "FROM debian:bookworm AS Build\nMAINTAINER me\nENV PATH=$PATH:/opt/bin\nARG DIR_ASSETS=assets/\nCOPY $DIR_ASSET /x\nCMD echo hi\n";

#[test]
fn check_reports_without_building_and_error_true_fails_the_build() {
    let Some(s) = Scenario::start("compat-check-call") else {
        return;
    };
    let t = s.dir.path();
    let ctx = context_with(t, "warned", WARNED);
    let dest = t.join("out.tar");
    let out = mx(&[
        "build",
        "--check",
        "--platform",
        "linux/amd64",
        "-o",
        &format!("type=tar,dest={}", dest.display()),
        ctx.to_str().unwrap(),
    ]);
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(!dest.exists(), "--check built something");
    assert!(
        report.starts_with("Check complete, 4 warnings have been found!\n"),
        "{report}"
    );
    let file = ctx.join("Dockerfile").display().to_string();
    for (rule, message, line) in [
        (
            "StageNameCasing",
            "Stage name 'Build' should be lowercase",
            1,
        ),
        (
            "MaintainerDeprecated",
            "Maintainer instruction is deprecated in favor of using label",
            2,
        ),
        (
            "UndefinedVar",
            "Usage of undefined variable '$DIR_ASSET' (did you mean $DIR_ASSETS?)",
            5,
        ),
        (
            "JSONArgsRecommended",
            "JSON arguments recommended for CMD to prevent unintended behavior related to OS signals",
            6,
        ),
    ] {
        assert!(
            report.contains(&format!(
                "\nWARNING: {rule} - https://docs.docker.com/go/dockerfile/rule/"
            )),
            "{rule}: {report}"
        );
        assert!(
            report.contains(&format!("\n{message}\n{file}:{line}:1\n")),
            "{rule}: {report}"
        );
    }
    assert!(
        !report.contains("'$PATH'"),
        "ENV of the base image counts: {report}"
    );

    // --call=check,ignorestatus=true: the same report, exit 0; skip= drops rules.
    let quiet = context_with(
        t,
        "quiet",
        &format!(
            "# check=skip=StageNameCasing,MaintainerDeprecated,UndefinedVar,JSONArgsRecommended\n{WARNED}"
        ),
    );
    let out = mx(&[
        "build",
        "--call=check,ignorestatus=true",
        quiet.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Check complete, no warnings found.\n"
    );

    // # check=error=true makes a build fail on them, naming each rule.
    let strict = context_with(t, "strict", &format!("# check=error=true\n{WARNED}"));
    let out = mx(&[
        "build",
        "--platform",
        "linux/amd64",
        strict.to_str().unwrap(),
    ]);
    let msg = text(&out);
    assert!(!out.status.success(), "{msg}");
    assert!(
        msg.contains("lint violation found for rules: JSONArgsRecommended, MaintainerDeprecated, StageNameCasing, UndefinedVar"),
        "{msg}"
    );

    // Methods mxbuild does not answer are refused by name.
    let out = mx(&["build", "--call=targets", ctx.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("--call=targets is not supported"),
        "{}",
        text(&out)
    );
}

/// CopyIgnoredFile: a COPY of a path `.dockerignore` leaves out is reported
/// at its line (as BuildKit's `validateCopySourcePath`).
#[test]
fn copy_of_an_ignored_file_is_reported() {
    let Some(s) = Scenario::start("compat-check-ignored") else {
        return;
    };
    let ctx = context_with(
        s.dir.path(),
        "ignored",
        "FROM scratch\nCOPY secret.txt kept.txt /\n",
    );
    std::fs::write(ctx.join(".dockerignore"), "secret.txt\n").unwrap();
    std::fs::write(ctx.join("secret.txt"), "s").unwrap();
    std::fs::write(ctx.join("kept.txt"), "k").unwrap();
    let out = mx(&["build", "--check", ctx.to_str().unwrap()]);
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        report.starts_with("Check complete, 1 warning has been found!\n"),
        "{report}"
    );
    assert!(report.contains("CopyIgnoredFile"), "{report}");
    assert!(
        report.contains("Attempting to Copy file \"secret.txt\" that is excluded by .dockerignore"),
        "{report}"
    );
}
