//! Dockerfiles in the styles real projects use (testdata/dockerfiles/realworld,
//! one directory per case, its README says what each models): every case
//! plans for two platforms, and the buildable ones (a `BUILD` file) build
//! for two platforms into `-o type=local` and are checked against their
//! `EXPECT` file.
//!
//! Case files, all optional but the Dockerfile:
//! - `BUILD`: extra `mxbuild build` arguments, split on whitespace, with
//!   `{dir}` standing for the case directory. Its `--target`,
//!   `--build-arg` and `--build-context` pairs are also used to plan.
//! - `PLAN`: one extra `mxbuild plan` run per line (same splitting).
//! - `EXPECT`: one check per line on the local output, paths relative to
//!   it (`linux_arm64/...`): `PATH: TEXT` (the file contains TEXT),
//!   `PATH !` (absent), `PATH +x` (executable), `PATH =0640` (mode),
//!   `PATH -> TARGET` (a symlink to TARGET).
//!
//! Cases mxbuild does not support yet are listed in [`KNOWN`] with the
//! error they give: the test passes while they fail that way, and fails
//! once they work (then the entry goes).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::build::Scenario;
use crate::support::mxbuild::{mx, repo, text};
use crate::support::shared_store;

const PLATFORMS: &str = "linux/amd64,linux/arm64";

/// A case that fails today on purpose: what is missing, and the error that
/// says so (a substring of mxbuild's output).
struct Known {
    case: &'static str,
    reason: &'static str,
    error: &'static str,
}

const KNOWN: &[Known] = &[];

fn corpus() -> PathBuf {
    repo().join("testdata/dockerfiles/realworld")
}

/// The case directories, sorted.
fn cases() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(corpus())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("Dockerfile").is_file())
        .collect();
    dirs.sort();
    dirs
}

fn name(case: &Path) -> String {
    case.file_name().unwrap().to_string_lossy().into_owned()
}

fn known(case: &Path) -> Option<&'static Known> {
    KNOWN.iter().find(|k| k.case == name(case))
}

/// The lines of `case/file` as argument lists (`{dir}` replaced); empty
/// lines are kept out, a missing file is no lines.
fn arg_lines(case: &Path, file: &str) -> Vec<Vec<String>> {
    let dir = case.to_string_lossy();
    fs::read_to_string(case.join(file))
        .unwrap_or_default()
        .lines()
        .map(|l| {
            l.split_whitespace()
                .map(|w| w.replace("{dir}", &dir))
                .collect::<Vec<_>>()
        })
        .filter(|l| !l.is_empty())
        .collect()
}

/// `BUILD`'s arguments, all lines as one list (`None`: not buildable).
fn build_args(case: &Path) -> Option<Vec<String>> {
    case.join("BUILD")
        .is_file()
        .then(|| arg_lines(case, "BUILD").concat())
}

/// The pairs of `BUILD` that `mxbuild plan` takes too.
fn plan_args_of_build(case: &Path) -> Vec<String> {
    let all = build_args(case).unwrap_or_default();
    let mut out = Vec::new();
    for pair in all.chunks(2) {
        if let [flag, value] = pair {
            if ["--target", "--build-arg", "--build-context"].contains(&flag.as_str()) {
                out.extend([flag.clone(), value.clone()]);
            }
        }
    }
    out
}

/// Whether `out` (a run's output and success) is what the case should
/// give; `Err` says how it is not.
fn judge(case: &Path, what: &str, ok: bool, out: &str) -> Result<(), String> {
    match (known(case), ok) {
        (None, true) => Ok(()),
        (None, false) => Err(format!("{}: {what} failed:\n{out}", name(case))),
        (Some(k), true) => Err(format!(
            "{}: {what} works now although KNOWN says {:?}: remove it from KNOWN",
            name(case),
            k.reason
        )),
        (Some(k), false) if out.contains(k.error) => Ok(()),
        (Some(k), false) => Err(format!(
            "{}: {what} failed, but not with the KNOWN error {:?}:\n{out}",
            name(case),
            k.error
        )),
    }
}

#[test]
fn corpus_has_a_dozen_documented_cases() {
    let all = cases();
    assert!(all.len() >= 12, "{} cases", all.len());
    let readme = fs::read_to_string(corpus().join("README.md")).unwrap();
    for case in &all {
        assert!(
            readme.contains(&format!("`{}`", name(case))),
            "README.md does not describe {}",
            name(case)
        );
    }
    for k in KNOWN {
        assert!(
            all.iter().any(|c| name(c) == k.case),
            "KNOWN names {} but there is no such case",
            k.case
        );
    }
    assert!(
        all.iter().filter(|c| build_args(c).is_some()).count() >= 6,
        "too few buildable cases"
    );
}

#[test]
fn every_case_plans_for_two_platforms() {
    // Plans read the store and filter contexts in its work directory.
    let _store = shared_store();
    let mut failures = Vec::new();
    for case in cases() {
        let mut runs = vec![plan_args_of_build(&case)];
        runs.extend(arg_lines(&case, "PLAN"));
        for extra in runs {
            let mut args = vec!["plan".to_string(), "--platform".into(), PLATFORMS.into()];
            args.extend(extra.iter().cloned());
            args.push(case.to_string_lossy().into_owned());
            let argv: Vec<&str> = args.iter().map(String::as_str).collect();
            let o = mx(&argv);
            let out = text(&o);
            let both = out.contains("linux/amd64") && out.contains("linux/arm64");
            let what = format!("plan {extra:?}");
            let ok = o.status.success() && both;
            if let Err(e) = judge(&case, &what, ok, &out) {
                failures.push(e);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn buildable_cases_build_for_two_platforms() {
    let Some(s) = Scenario::start("realworld") else {
        return;
    };
    let mut failures = Vec::new();
    for case in cases() {
        let Some(extra) = build_args(&case) else {
            continue;
        };
        let dest = s.dir.path().join(name(&case));
        let mut args = vec![
            "build".to_string(),
            "--no-cache".into(),
            "--progress".into(),
            "plain".into(),
            "--platform".into(),
            PLATFORMS.into(),
            "-o".into(),
            format!("type=local,dest={}", dest.display()),
        ];
        args.extend(extra);
        args.push(case.to_string_lossy().into_owned());
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let start = Instant::now();
        let o = mx(&argv);
        eprintln!("realworld {}: {:.1?}", name(&case), start.elapsed());
        let built = judge(&case, "build", o.status.success(), &text(&o));
        let checked = built.and_then(|()| match known(&case) {
            Some(_) => Ok(()),
            None => check_expectations(&case, &dest),
        });
        if let Err(e) = checked {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Every line of `case/EXPECT` against the output in `dest`.
fn check_expectations(case: &Path, dest: &Path) -> Result<(), String> {
    let expect = fs::read_to_string(case.join("EXPECT")).unwrap_or_default();
    let mut bad = Vec::new();
    for line in expect.lines().filter(|l| !l.trim().is_empty()) {
        if let Err(e) = check_line(dest, line) {
            bad.push(format!("  {line}: {e}"));
        }
    }
    if bad.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}: the output does not match EXPECT:\n{}",
            name(case),
            bad.join("\n")
        ))
    }
}

fn check_line(dest: &Path, line: &str) -> Result<(), String> {
    if let Some((path, want)) = line.split_once(": ") {
        let got = fs::read_to_string(dest.join(path)).map_err(|e| e.to_string())?;
        return match got.contains(want) {
            true => Ok(()),
            false => Err(format!("the file holds {got:?}")),
        };
    }
    if let Some((path, target)) = line.split_once(" -> ") {
        let got = fs::read_link(dest.join(path)).map_err(|e| e.to_string())?;
        return match got == Path::new(target) {
            true => Ok(()),
            false => Err(format!("links to {}", got.display())),
        };
    }
    let (path, check) = line.rsplit_once(' ').unwrap_or((line, ""));
    let meta = fs::symlink_metadata(dest.join(path));
    let mode = meta.as_ref().map(|m| m.permissions().mode() & 0o7777);
    match (check, mode) {
        ("!", Err(_)) => Ok(()),
        ("!", Ok(_)) => Err("exists".to_string()),
        (_, Err(e)) => Err(e.to_string()),
        ("+x", Ok(m)) if m & 0o111 != 0 => Ok(()),
        (want, Ok(m)) if want.strip_prefix('=') == Some(&format!("{m:04o}")) => Ok(()),
        (_, Ok(m)) => Err(format!("mode is {m:04o}")),
    }
}
