//! `mxbuild build --check` / `--call=check`: BuildKit's build checks
//! without building, printed as buildx prints them (commands/build.go
//! `printResult`, BuildKit's lint `PrintTo`): a count line, then each
//! finding with its rule, URL, message and place (`file:line:col` and the
//! lines around it). Exit status 1 when anything was found, unless
//! `ignorestatus=true`.

use crate::dockerfile::Dockerfile;
use crate::plan::Warning;
use crate::plan::build_checks::rules;

/// What `--call` asks for (buildx's `ParseCallFunc`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallFunc {
    /// `check` (BuildKit's `lint`).
    pub check: bool,
    /// `ignorestatus=true`: exit 0 even with findings.
    pub ignore_status: bool,
}

/// Reads `--call VALUE` and `--check[=BOOL]` (an alias of `--call=check`)
/// as buildx does; `None` is a normal build. Calls mxbuild does not
/// answer (outline, targets, subrequests.describe, format=json) are refused.
pub fn call_func(call: &str, check: Option<&str>) -> Result<Option<CallFunc>, String> {
    let check_flag = match check {
        None => false,
        Some(v) => super::output::parse_bool("--check", v)?,
    };
    let call = if check_flag { "check" } else { call };
    let mut name = None;
    let mut ignore_status = false;
    for field in call.split(',').filter(|f| !f.is_empty()) {
        match field.split_once('=') {
            Some(("format", "json")) => {
                return Err(format!(
                    "--call {call:?}: format=json is not supported by mxbuild\nhint: drop format=json for the text report"
                ));
            }
            Some(("format", _)) => {}
            Some(("ignorestatus", v)) => {
                ignore_status = super::output::parse_bool("ignorestatus", v)?
            }
            Some(_) => return Err(format!("--call {call:?}: invalid print field: {field}")),
            None if name.is_some() => return Err(format!("--call: invalid print value: {call}")),
            None => name = Some(field),
        }
    }
    match name.unwrap_or("build") {
        "build" => Ok(None),
        "check" | "lint" => Ok(Some(CallFunc {
            check: true,
            ignore_status,
        })),
        other @ ("outline" | "targets" | "subrequests.describe") => Err(format!(
            "--call={other} is not supported by mxbuild\nhint: --call=check (or --check) runs the build checks; `mxbuild plan` shows the stages"
        )),
        other => Err(format!(
            "--call={other}: unknown method\nhint: build (the default) or check"
        )),
    }
}

/// The report buildx prints for `--call=check`.
pub fn report(df: &Dockerfile, warnings: &[Warning]) -> String {
    let mut s = String::new();
    match warnings.len() {
        0 => {}
        1 => s.push_str("Check complete, 1 warning has been found!\n"),
        n => s.push_str(&format!("Check complete, {n} warnings have been found!\n")),
    }
    for w in warnings {
        s.push_str(&format!("\nWARNING: {}", w.code));
        if let Some(url) = rules::url(&w.code) {
            s.push_str(&format!(" - {url}"));
        }
        s.push_str(&format!("\n{}\n", w.message));
        s.push_str(&source(df, w.line, w.col));
    }
    s
}

/// `file:line:col` and the lines around it, the line itself marked `>>>`
/// (BuildKit's `errdefs.Source.Print`, with the column added).
pub fn source(df: &Dockerfile, line: usize, col: usize) -> String {
    let lines: Vec<&str> = df.text.split('\n').collect();
    if line < 1 || line > lines.len() {
        return String::new();
    }
    let start = line.saturating_sub(2).max(1);
    let end = (line + 2).min(lines.len());
    let mut s = format!("{}:{line}:{col}\n--------------------\n", df.file);
    for (i, text) in lines.iter().enumerate().take(end).skip(start - 1) {
        let mark = if i + 1 == line { ">>>" } else { "   " };
        s.push_str(&format!(" {:>3} | {mark} {text}\n", i + 1));
    }
    s.push_str("--------------------\n");
    s
}

/// Runs the checks for a build's options and prints the report: exit
/// status 1 when there are findings (unless `ignorestatus=true`) or the
/// Dockerfile cannot be built (its error printed after the findings).
pub fn run(
    store: &crate::store::Store,
    opts: &crate::engine::Options,
    call: &CallFunc,
) -> Result<std::process::ExitCode, String> {
    let progress = crate::engine::progress::Progress::stderr(false);
    let (checked, df) = crate::engine::check(store, opts, &progress).map_err(|e| e.to_string())?;
    let text = report(&df, &checked.warnings);
    if let Some(e) = checked.error {
        print!("{text}");
        if !checked.warnings.is_empty() {
            println!();
        }
        return Err(e.to_string());
    }
    if checked.warnings.is_empty() {
        println!("Check complete, no warnings found.");
        return Ok(std::process::ExitCode::SUCCESS);
    }
    print!("{text}");
    Ok(if call.ignore_status {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_values_as_buildx() {
        assert_eq!(call_func("build", None).unwrap(), None);
        let check = Some(CallFunc {
            check: true,
            ignore_status: false,
        });
        assert_eq!(call_func("check", None).unwrap(), check);
        assert_eq!(call_func("build", Some("true")).unwrap(), check);
        assert_eq!(call_func("build", Some("false")).unwrap(), None);
        assert!(
            call_func("check,ignorestatus=true", None)
                .unwrap()
                .unwrap()
                .ignore_status
        );
        assert!(
            call_func("targets", None)
                .unwrap_err()
                .contains("--call=targets")
        );
        assert!(call_func("outline", None).is_err());
        assert!(call_func("check,format=json", None).is_err());
        assert!(call_func("check,bogus=1", None).is_err());
        assert!(call_func("check,build", None).is_err());
    }

    #[test]
    fn report_as_buildx_prints_it() {
        let df =
            crate::dockerfile::parse("FROM scratch AS Build\nCMD echo\n", "Dockerfile").unwrap();
        let w = vec![Warning {
            line: 1,
            col: 1,
            code: "StageNameCasing".into(),
            message: "Stage name 'Build' should be lowercase".into(),
            hint: String::new(),
        }];
        let r = report(&df, &w);
        assert!(r.starts_with("Check complete, 1 warning has been found!\n\nWARNING: StageNameCasing - https://docs.docker.com/go/dockerfile/rule/stage-name-casing/\nStage name 'Build' should be lowercase\nDockerfile:1:1\n"), "{r}");
        assert!(
            r.contains("   1 | >>> FROM scratch AS Build\n   2 |     CMD echo\n"),
            "{r}"
        );
        assert_eq!(report(&df, &[]), "");
    }
}
