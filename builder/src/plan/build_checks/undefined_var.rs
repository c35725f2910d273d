//! UndefinedVar (validations.go `reportUnmatchedVariables`): a word of an
//! instruction reads a variable that is neither in the stage's
//! environment (the base image's ENV, ENV and ARG values) nor a declared
//! ARG. The planner calls this where it expands words, so the environment
//! is the real one, base image included.

use std::collections::BTreeSet;

use super::suggest;
use crate::dockerfile::Span;
use crate::plan::Warning;
use crate::plan::scope::Scope;

/// Names BuildKit never puts in the environment (convert.go `nonEnvArgs`).
const NON_ENV: &[&str] = &["BUILDKIT_SBOM_SCAN_CONTEXT", "BUILDKIT_SBOM_SCAN_STAGE"];

/// The findings for the variables `used` by a word expanded in `scope` at `span`.
pub fn undefined(scope: &Scope, used: &BTreeSet<String>, span: Span) -> Vec<Warning> {
    let mut out = Vec::new();
    for name in used {
        if scope.get(name).is_some()
            || scope.args.contains_key(name)
            || NON_ENV.contains(&name.as_str())
        {
            continue;
        }
        let mut options: Vec<&str> = scope
            .env
            .iter()
            .map(|(k, _)| k.as_str())
            .chain(
                scope
                    .args
                    .iter()
                    .filter(|(_, v)| v.is_some())
                    .map(|(k, _)| k.as_str()),
            )
            .collect();
        options.sort_unstable();
        options.dedup();
        let mut message = format!("Usage of undefined variable '${name}'");
        if let Some(s) = suggest::search(name, options) {
            message.push_str(&format!(" (did you mean ${s}?)"));
        }
        super::warn(
            &mut out,
            span,
            "UndefinedVar",
            message,
            &format!("declare it first (ARG {name}), or set it with ENV"),
        );
    }
    out
}
