//! What `# check=` (or `--build-arg BUILDKIT_DOCKERFILE_CHECK=…`) asks
//! for, read as BuildKit's `linter.ParseLintOptions` reads it, and which
//! rules that leaves on (BuildKit's `Linter.Run`: experimental rules only
//! when named by `experimental=`, others unless named by `skip=`).

use std::collections::BTreeMap;

use super::rules;
use crate::dockerfile::{Dockerfile, SourceError, Span};

/// The build argument that replaces the `# check=` directive (BuildKit's
/// dockerui `build-arg:BUILDKIT_DOCKERFILE_CHECK`).
pub const CHECK_ARG: &str = "BUILDKIT_DOCKERFILE_CHECK";

/// What `# check=` asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckConfig {
    /// `skip=all`.
    pub skip_all: bool,
    /// `skip=Rule1,Rule2`.
    pub skip: Vec<String>,
    /// `experimental=all`.
    pub experimental_all: bool,
    /// `experimental=Rule1,Rule2`.
    pub experimental: Vec<String>,
    /// `error=true`: a finding of a BuildKit rule fails the build.
    pub error: bool,
}

impl CheckConfig {
    /// Whether findings of `rule` are reported: an experimental rule only
    /// when enabled (whatever `skip=` says), any other unless skipped.
    /// mxbuild's own lints (not BuildKit rules) follow `skip=` too.
    pub fn enabled(&self, rule: &str) -> bool {
        if rules::is_experimental(rule) {
            return self.experimental_all || self.experimental.iter().any(|r| r == rule);
        }
        !(self.skip_all || self.skip.iter().any(|r| r == rule))
    }

    /// BuildKit's `WithMergedConfig`: `other` adds to this one (a comment
    /// `# check=…` right above an instruction, for that instruction).
    pub fn merged(&self, other: &CheckConfig) -> CheckConfig {
        let mut c = self.clone();
        c.skip_all |= other.skip_all;
        c.experimental_all |= other.experimental_all;
        c.skip.extend(other.skip.iter().cloned());
        c.experimental.extend(other.experimental.iter().cloned());
        c
    }
}

/// The keys of `# check=` (as BuildKit's `ParseLintOptions`): the list the
/// README's compatibility table is tested against.
pub const CHECK_KEYS: &[&str] = &["skip", "error", "experimental"];

/// Reads `skip=A,B;error=true;experimental=C` as BuildKit's
/// `ParseLintOptions` does (at most three `;` parts, `key=value` each).
pub fn parse_check(value: &str) -> Result<CheckConfig, String> {
    let mut c = CheckConfig::default();
    let value = value.trim();
    if value.is_empty() {
        return Ok(c);
    }
    let list = |v: &str| -> Vec<String> { v.split(',').map(|r| r.trim().to_string()).collect() };
    for part in value.splitn(3, ';') {
        let Some((k, v)) = part.split_once('=') else {
            return Err(format!("invalid check option {part:?}"));
        };
        let v = v.trim();
        match k.trim() {
            "skip" if v == "all" => c.skip_all = true,
            "skip" => c.skip = list(v),
            "experimental" if v == "all" => c.experimental_all = true,
            "experimental" => c.experimental = list(v),
            "error" => {
                c.error = go_bool(v).ok_or_else(|| {
                    format!("failed to parse check option {part:?}: error= takes true or false")
                })?
            }
            other => return Err(format!("invalid check option {other:?}")),
        }
    }
    Ok(c)
}

/// Go's `strconv.ParseBool`.
fn go_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// The configuration of a build: `--build-arg BUILDKIT_DOCKERFILE_CHECK`
/// when given (it replaces the directive, as in BuildKit), else the
/// `# check=` directive of `df`; refused at its line when malformed.
pub fn config_of(
    df: &Dockerfile,
    build_args: &BTreeMap<String, String>,
) -> Result<CheckConfig, SourceError> {
    let hint = "e.g. # check=skip=JSONArgsRecommended,StageNameCasing;error=true";
    if let Some(v) = build_args.get(CHECK_ARG) {
        return parse_check(v).map_err(|e| {
            SourceError::new(
                &df.file,
                Span { line: 1, col: 1 },
                format!("failed to parse build-arg:{CHECK_ARG}: {e}"),
            )
            .hint(hint)
        });
    }
    let Some(value) = &df.directives.check else {
        return Ok(CheckConfig::default());
    };
    parse_check(value).map_err(|e| {
        let line = df
            .text
            .lines()
            .position(|l| l.trim_start().starts_with('#') && l.contains("check"))
            .map_or(1, |i| i + 1);
        SourceError::new(&df.file, Span { line, col: 1 }, e)
            .hint(hint)
            .with_line(&df.text)
    })
}

/// A comment's `check=…` (the text after `#`), as BuildKit's
/// `WithMergedConfigFromComments` reads it: the value up to the first space;
/// a malformed one is ignored, as there.
pub fn from_comment(comment: &str) -> Option<CheckConfig> {
    let (k, v) = comment.trim().split_once('=')?;
    if !k.trim().eq_ignore_ascii_case("check") {
        return None;
    }
    let v = v.trim();
    let v = v.split(' ').next().unwrap_or_default();
    parse_check(v).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_directive_as_buildkit_parses_it() {
        let c = parse_check("skip=JSONArgsRecommended, StageNameCasing;error=true").unwrap();
        assert_eq!(c.skip, ["JSONArgsRecommended", "StageNameCasing"]);
        assert!(c.error && !c.skip_all && !c.enabled("StageNameCasing"));
        assert!(c.enabled("FromAsCasing"));
        assert!(!parse_check("skip=all").unwrap().enabled("Anything"));
        assert!(parse_check("error=1").unwrap().error);
        assert!(parse_check("error=maybe").is_err());
        assert!(parse_check("skips=x").is_err());
        assert!(parse_check("skip").is_err());
        assert_eq!(parse_check("  ").unwrap(), CheckConfig::default());
    }

    #[test]
    fn experimental_rules_only_when_named() {
        let rule = "InvalidDefinitionDescription";
        assert!(!CheckConfig::default().enabled(rule));
        assert!(parse_check("experimental=all").unwrap().enabled(rule));
        let c = parse_check("skip=all;experimental=InvalidDefinitionDescription").unwrap();
        assert!(c.enabled(rule) && !c.enabled("StageNameCasing"));
    }

    #[test]
    fn comment_configs() {
        let c = from_comment(" check=skip=JSONArgsRecommended trailing").unwrap();
        assert_eq!(c.skip, ["JSONArgsRecommended"]);
        assert!(from_comment("just a comment").is_none());
        assert!(from_comment("check=bogus").is_none());
    }
}
