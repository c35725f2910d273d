//! `.dockerignore` matching with the semantics of Docker and BuildKit (moby's
//! `patternmatcher` and `ignorefile` packages), so the build context mxbuild
//! assembles holds exactly the files `docker buildx build` would send.
//!
//! Reading a file, line by line:
//! - a UTF-8 byte order mark at the very start is dropped;
//! - a line whose *first character* is `#` is a comment (`  # x` is not: it
//!   is the pattern `# x`);
//! - the line is trimmed and skipped if empty; a leading `!` makes it an
//!   exception (re-include), and the rest is trimmed again;
//! - the pattern is cleaned like Go's `filepath.Clean` (`./a//b/` is `a/b`)
//!   and one leading `/` is removed: patterns are anchored at the context
//!   root, so `foo` matches `foo` but not `a/foo` (unlike `.gitignore`).
//!
//! Matching a clean, `/`-separated path relative to the context root:
//! - `*` is any run of non-`/` characters, `?` one non-`/` character,
//!   `[...]` a class (ranges, `^` negation; `!` is an ordinary member),
//!   `\` escapes the next character;
//! - `**` is any number of directories, zero included (`**/x`, `x/**`,
//!   `a/**/b`);
//! - a pattern that matches a directory matches everything beneath it;
//! - the last pattern matching the path (or one of its parents) decides:
//!   excluded unless that pattern is an exception.
//!
//! The finer points follow BuildKit's implementation, which turns each glob
//! into a Go regular expression: see `glob.rs` and `regex.rs`.

mod clean;
mod glob;
mod nfa;
mod pattern;
mod regex;

use std::ffi::OsString;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use clean::clean;
use pattern::Pattern;

/// A `.dockerignore` pattern that cannot be used, or an ignore file that
/// cannot be read. Docker refuses to build with such a file, and so do we.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoreError {
    /// 1-based line of the pattern in the file (its 1-based position for
    /// [`IgnoreMatcher::from_patterns`]); 0 when the file could not be read.
    pub line: usize,
    /// The offending line as written (trimmed); empty for read errors.
    pub pattern: String,
    /// What is wrong, and where it helps, what to write instead.
    pub message: String,
}

impl IgnoreError {
    /// An error in the pattern on `line`.
    fn at(line: usize, pattern: &str, message: impl Into<String>) -> IgnoreError {
        IgnoreError {
            line,
            pattern: pattern.trim().to_string(),
            message: message.into(),
        }
    }

    /// A failure to read `path`.
    fn io(path: &Path, err: &io::Error) -> IgnoreError {
        IgnoreError {
            line: 0,
            pattern: String::new(),
            message: format!("cannot read ignore file {}: {err}", path.display()),
        }
    }

    /// The same error, saying which file it is in.
    fn in_file(mut self, path: &Path) -> IgnoreError {
        self.message = format!("{} (in {})", self.message, path.display());
        self
    }
}

impl fmt::Display for IgnoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.message)
        } else {
            write!(
                f,
                "line {}: invalid .dockerignore pattern `{}`: {}",
                self.line, self.pattern, self.message
            )
        }
    }
}

impl std::error::Error for IgnoreError {}

/// The compiled patterns of one ignore file, in order. Answers "is this path
/// left out of the build context?" and "may the walker skip this directory?".
#[derive(Debug, Clone, Default)]
pub struct IgnoreMatcher {
    rules: Vec<Rule>,
}

/// One pattern line.
#[derive(Debug, Clone)]
struct Rule {
    /// `!pattern`: re-includes what it matches.
    exception: bool,
    pattern: Pattern,
}

impl IgnoreMatcher {
    /// Parses the text of a `.dockerignore` file, with Docker's reading rules
    /// (comments, trimming, `!`, cleaning, leading `/`). Errors name the line.
    pub fn parse(contents: &str) -> Result<IgnoreMatcher, IgnoreError> {
        let contents = contents.strip_prefix('\u{feff}').unwrap_or(contents);
        let mut rules = Vec::new();
        for (index, line) in contents.split('\n').enumerate() {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.starts_with('#') {
                continue;
            }
            if let Some(rule) =
                Rule::from_line(line).map_err(|m| IgnoreError::at(index + 1, line, m))?
            {
                rules.push(rule);
            }
        }
        Ok(IgnoreMatcher { rules })
    }

    /// Builds a matcher from patterns that are already split (for example
    /// `["node_modules", "!keep.txt"]` from a config or a flag). Each gets
    /// the same trimming, `!` handling and cleaning as a file line, but `#`
    /// is an ordinary character here, not a comment. Errors give the
    /// 1-based position as the line.
    pub fn from_patterns(patterns: &[&str]) -> Result<IgnoreMatcher, IgnoreError> {
        let mut rules = Vec::new();
        for (index, pattern) in patterns.iter().enumerate() {
            if let Some(rule) =
                Rule::from_line(pattern).map_err(|m| IgnoreError::at(index + 1, pattern, m))?
            {
                rules.push(rule);
            }
        }
        Ok(IgnoreMatcher { rules })
    }

    /// True if `path` (relative to the context root, `/`-separated) is left
    /// out of the build context: the last pattern that matches it or one of
    /// its parent directories is not an exception. The path is cleaned first
    /// (`./a//b/` is `a/b`); the context root itself is never excluded.
    pub fn is_excluded(&self, path: &str) -> bool {
        let Some(path) = normalize_path(path) else {
            return false;
        };
        self.deciding_rule(&path)
            .is_some_and(|(_, rule)| !rule.exception)
    }

    /// True if `dir` and everything beneath it are excluded, so a context
    /// walker need not descend into it. Only says so when it is safe: `dir`
    /// is excluded and no exception after the pattern that excludes it could
    /// match anything under it. (`!**/keep` keeps every directory open.)
    pub fn can_skip_dir(&self, dir: &str) -> bool {
        let Some(dir) = normalize_path(dir) else {
            return false;
        };
        let Some((index, rule)) = self.deciding_rule(&dir) else {
            return false;
        };
        if rule.exception {
            return false;
        }
        let under = format!("{dir}/");
        !self
            .rules
            .iter()
            .skip(index + 1)
            .any(|later| later.exception && later.pattern.may_match_under(&under))
    }

    /// The patterns in their cleaned form, exceptions with their `!`, in file
    /// order: what Docker's reader produces, handy for logs and plans.
    pub fn patterns(&self) -> Vec<String> {
        self.rules
            .iter()
            .map(|r| {
                let bang = if r.exception { "!" } else { "" };
                format!("{bang}{}", r.pattern.text())
            })
            .collect()
    }

    /// Whether any pattern is an exception (`!...`); without one, every
    /// excluded directory can be skipped whole.
    pub fn has_exceptions(&self) -> bool {
        self.rules.iter().any(|r| r.exception)
    }

    /// Number of patterns (comments and blank lines not counted).
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// True when there are no patterns: nothing is excluded.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The last rule matching `path` or a parent, with its index.
    fn deciding_rule(&self, path: &str) -> Option<(usize, &Rule)> {
        self.rules
            .iter()
            .enumerate()
            .rev()
            .find(|(_, rule)| rule.pattern.matches_path_or_parent(path))
    }
}

impl Rule {
    /// Turns one line into a rule (None for a blank line). This is Docker's
    /// reader (`ignorefile.ReadAll`) followed by its compiler
    /// (`patternmatcher.New`), which cleans the pattern a second time with
    /// the `!` still attached.
    fn from_line(line: &str) -> Result<Option<Rule>, String> {
        let Some(read) = reader_form(line) else {
            return Ok(None);
        };
        let compiled = clean(read.trim());
        let (exception, body) = match compiled.strip_prefix('!') {
            Some("") => {
                return Err("a lone `!` is an illegal exclusion pattern (write `!path`)".into());
            }
            Some(body) => (true, body),
            None => (false, compiled.as_str()),
        };
        let pattern = Pattern::compile(body)?;
        Ok(Some(Rule { exception, pattern }))
    }
}

/// A line as Docker's ignore-file reader returns it: trimmed, `!` kept in
/// front, the rest trimmed, cleaned and stripped of one leading `/`.
fn reader_form(line: &str) -> Option<String> {
    let line = line.trim();
    if line.is_empty() {
        return None;
    }
    let (bang, rest) = match line.strip_prefix('!') {
        Some(rest) => ("!", rest.trim()),
        None => ("", line),
    };
    if rest.is_empty() {
        return Some(bang.to_string());
    }
    let cleaned = clean(rest);
    let relative = match cleaned.strip_prefix('/') {
        Some(stripped) if !stripped.is_empty() => stripped,
        _ => cleaned.as_str(),
    };
    Some(format!("{bang}{relative}"))
}

/// A path as matched: cleaned, without a leading `/`; None for the root.
fn normalize_path(path: &str) -> Option<String> {
    let cleaned = clean(path);
    let relative = cleaned.trim_start_matches('/');
    if relative.is_empty() || relative == "." {
        None
    } else {
        Some(relative.to_string())
    }
}

/// The ignore file that applies to a build: `<dockerfile>.dockerignore` next
/// to the Dockerfile if it exists (Docker gives it precedence so several
/// Dockerfiles can share one context), else `<context>/.dockerignore`;
/// `Ok(None)` when neither exists. `dockerfile` is the path as given with
/// `-f` (relative paths resolve against the current directory, as buildx
/// does); `-` (stdin) has no ignore file of its own.
pub fn load_for(
    context_dir: &Path,
    dockerfile: &Path,
) -> Result<Option<IgnoreMatcher>, IgnoreError> {
    Ok(load_for_with_path(context_dir, dockerfile)?.map(|(_, matcher)| matcher))
}

/// Like [`load_for`], also returning which file was used, so the build log
/// can say where a surprising exclusion comes from.
pub fn load_for_with_path(
    context_dir: &Path,
    dockerfile: &Path,
) -> Result<Option<(PathBuf, IgnoreMatcher)>, IgnoreError> {
    for candidate in ignore_file_candidates(context_dir, dockerfile) {
        let Some(contents) = read_if_present(&candidate)? else {
            continue;
        };
        let matcher = IgnoreMatcher::parse(&contents).map_err(|e| e.in_file(&candidate))?;
        return Ok(Some((candidate, matcher)));
    }
    Ok(None)
}

/// The files that may hold the ignore patterns, in order of precedence (the
/// first that exists wins), so a caller can name them in messages or watch
/// them for changes.
pub fn ignore_file_candidates(context_dir: &Path, dockerfile: &Path) -> Vec<PathBuf> {
    let mut candidates = Vec::with_capacity(2);
    if let Some(name) = dockerfile.file_name().filter(|n| *n != "-") {
        let mut specific = OsString::from(name);
        specific.push(".dockerignore");
        candidates.push(dockerfile.with_file_name(specific));
    }
    candidates.push(context_dir.join(".dockerignore"));
    candidates
}

/// The text of `path`, None if it does not exist. Invalid UTF-8 is replaced
/// (such bytes could not match any path we handle anyway).
fn read_if_present(path: &Path) -> Result<Option<String>, IgnoreError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(IgnoreError::io(path, &e)),
    }
}
