//! BuildKit's build checks (frontend/dockerfile/linter/ruleset.go): its
//! rules with its names, trigger conditions and messages, so that
//! `# check=skip=…`, `# check=error=true` and `mxbuild build --check`
//! written for `docker buildx build` mean the same here. One file per
//! family of rules; [`rules::RULES`] lists them all.

mod casing;
mod comments;
pub mod config;
pub mod copy_ignored;
mod from_rules;
mod instructions;
pub mod rules;
mod stage_rules;
mod suggest;
#[cfg(test)]
mod tests;
pub mod undefined_var;

use std::collections::BTreeMap;

use xx::Platform;

pub use config::{CheckConfig, config_of};

use super::Warning;
use super::stages::Stages;
use crate::dockerfile::{Dockerfile, SourceError, Span};

/// Adds a finding of `rule` at `span`.
pub(crate) fn warn(out: &mut Vec<Warning>, span: Span, rule: &str, message: String, hint: &str) {
    out.push(Warning {
        line: span.line,
        col: span.col,
        code: rule.to_string(),
        message,
        hint: hint.to_string(),
    });
}

/// The findings that need only the Dockerfile's text (no stage split), so
/// `--check` reports them even when the Dockerfile cannot be planned.
pub fn check_text(df: &Dockerfile) -> Vec<Warning> {
    let mut out = Vec::new();
    comments::empty_continuation(df, &mut out);
    casing::consistent(&df.nodes, &mut out);
    instructions::stage_names(&df.nodes, &mut out);
    for node in &df.nodes {
        casing::from_as(node, &mut out);
        instructions::node_rules(node, &mut out);
    }
    comments::definition_descriptions(df, &comments::prev_comments(df), &mut out);
    out
}

/// Every finding of the rules that read the stages (UndefinedVar comes
/// from the planner, which knows each stage's environment).
pub fn check_stages(
    df: &Dockerfile,
    stages: &Stages,
    build_args: &BTreeMap<String, String>,
    host: &Platform,
) -> Vec<Warning> {
    let mut out = Vec::new();
    stage_rules::stages(stages, &mut out);
    from_rules::from_rules(stages, build_args, host, df.directives.escape, &mut out);
    out
}

/// The findings `config` keeps: each checked against `config` merged with
/// the `# check=` comment right above its instruction (BuildKit's
/// `WithMergedConfigFromComments`), sorted by place and deduplicated.
pub fn filter(df: &Dockerfile, config: &CheckConfig, mut warnings: Vec<Warning>) -> Vec<Warning> {
    let prev = comments::prev_comments(df);
    let local = |line: usize| -> Option<CheckConfig> {
        let i = df
            .nodes
            .iter()
            .position(|n| n.span.line <= line && line <= n.end_line.max(n.span.line))?;
        prev.get(i)?.iter().find_map(|c| config::from_comment(c))
    };
    warnings.retain(|w| match local(w.line) {
        Some(extra) => config.merged(&extra).enabled(&w.code),
        None => config.enabled(&w.code),
    });
    warnings.sort_by(|a, b| {
        (a.line, a.col, &a.code, &a.message).cmp(&(b.line, b.col, &b.code, &b.message))
    });
    warnings.dedup();
    warnings
}

/// `# check=error=true`: findings of BuildKit's rules fail the build, at
/// the first one's line, naming every rule found (BuildKit's
/// "lint violation found for rules: …"). mxbuild's own lints stay warnings.
pub fn fail_on(df: &Dockerfile, warnings: &[Warning]) -> Result<(), SourceError> {
    let found: Vec<&Warning> = warnings
        .iter()
        .filter(|w| rules::is_buildkit(&w.code))
        .collect();
    let Some(first) = found.first() else {
        return Ok(());
    };
    let mut names: Vec<&str> = found.iter().map(|w| w.code.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let each: Vec<String> = found
        .iter()
        .map(|w| {
            format!(
                "{}:{}:{}: {}: {}",
                df.file, w.line, w.col, w.code, w.message
            )
        })
        .collect();
    Err(SourceError::new(
        &df.file,
        Span {
            line: first.line,
            col: first.col,
        },
        format!("lint violation found for rules: {}", names.join(", ")),
    )
    .hint(format!(
        "`# check=error=true` makes these fail the build; fix them or skip a rule with `# check=skip=Rule;error=true`:\n{}",
        each.join("\n")
    ))
    .with_line(&df.text))
}
