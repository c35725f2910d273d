//! One compiled pattern and the two questions a walker asks of it.

use super::glob::{self, Shape};
use super::nfa::Program;
use super::regex;

/// A cleaned pattern (without its `!`), ready to match.
#[derive(Debug, Clone)]
pub(super) struct Pattern {
    /// The cleaned text, as BuildKit keeps it.
    text: String,
    /// How it is compared with paths.
    matcher: Matcher,
}

/// The comparison BuildKit picks for a pattern. The literal forms compare
/// bytes, as Go does, so even a pattern that starts with a byte order mark
/// behaves the same.
#[derive(Debug, Clone)]
enum Matcher {
    /// The path equals these bytes.
    Exact(Vec<u8>),
    /// The path starts with these bytes.
    Prefix(Vec<u8>),
    /// The path ends with these bytes (or equals them minus a leading `/`).
    Suffix(Vec<u8>),
    /// The expression matches the whole path.
    Program(Program),
}

impl Pattern {
    /// Compiles a cleaned pattern; the error says why BuildKit would refuse
    /// it (at load time, or when it first tries to use it).
    pub(super) fn compile(text: &str) -> Result<Pattern, String> {
        glob::validate(text)?;
        let translation = glob::translate(text);
        let bytes = text.as_bytes();
        let matcher = match translation.shape {
            Shape::Exact => Matcher::Exact(bytes.to_vec()),
            Shape::Prefix => {
                let keep = bytes.len().saturating_sub(2);
                Matcher::Prefix(bytes.get(..keep).unwrap_or_default().to_vec())
            }
            Shape::Suffix => Matcher::Suffix(bytes.get(2..).unwrap_or_default().to_vec()),
            Shape::Regex => Matcher::Program(compile_regex(&translation.regex)?),
        };
        Ok(Pattern {
            text: text.to_string(),
            matcher,
        })
    }

    /// The cleaned pattern text.
    pub(super) fn text(&self) -> &str {
        &self.text
    }

    /// Whether the pattern matches `path` or one of its parent directories
    /// (`path` is clean, relative and `/`-separated).
    pub(super) fn matches_path_or_parent(&self, path: &str) -> bool {
        match &self.matcher {
            Matcher::Program(program) => program.matches_path_or_parent(path),
            literal => path_and_parents(path).any(|candidate| literal.matches_literal(candidate)),
        }
    }

    /// Whether the pattern could match some path that starts with `prefix`
    /// (a directory followed by `/`). May answer true when it cannot, never
    /// false when it can.
    pub(super) fn may_match_under(&self, prefix: &str) -> bool {
        let prefix_bytes = prefix.as_bytes();
        match &self.matcher {
            Matcher::Exact(exact) => exact.starts_with(prefix_bytes),
            Matcher::Prefix(start) => {
                start.starts_with(prefix_bytes) || prefix_bytes.starts_with(start)
            }
            // `<dir>/<anything ending in the suffix>` always exists.
            Matcher::Suffix(_) => true,
            Matcher::Program(program) => program.may_match_with_prefix(prefix),
        }
    }
}

impl Matcher {
    /// The literal comparisons (a `Program` never gets here).
    fn matches_literal(&self, candidate: &[u8]) -> bool {
        match self {
            Matcher::Exact(exact) => candidate == exact.as_slice(),
            Matcher::Prefix(start) => candidate.starts_with(start),
            Matcher::Suffix(end) => {
                candidate.ends_with(end)
                    || (end.first() == Some(&b'/') && end.get(1..) == Some(candidate))
            }
            Matcher::Program(_) => false,
        }
    }
}

/// Parses and compiles a translated pattern, wording a failure the way a
/// user can act on.
fn compile_regex(text: &str) -> Result<Program, String> {
    let node = regex::parse(text).map_err(|why| {
        format!(
            "BuildKit turns this pattern into the regular expression `{text}`, which fails: {why}"
        )
    })?;
    Ok(Program::compile(&node))
}

/// `path`'s parent directories, shortest first, then `path` itself, as the
/// byte prefixes that end just before a `/`.
fn path_and_parents(path: &str) -> impl Iterator<Item = &[u8]> {
    let bytes = path.as_bytes();
    bytes
        .iter()
        .enumerate()
        .filter(|&(i, &b)| b == b'/' && i > 0)
        .map(|(i, _)| i)
        .chain(std::iter::once(bytes.len()))
        .filter_map(move |end| bytes.get(..end))
}
