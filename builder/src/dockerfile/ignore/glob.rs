//! The two things BuildKit does with a cleaned pattern before matching:
//!
//! 1. it checks the syntax with Go's `filepath.Match` (a bad `[...]` class or
//!    a lone trailing `\` is refused when the ignore file is loaded), and
//! 2. it rewrites the glob into a Go regular expression (`*` to `[^/]*`, `?`
//!    to `[^/]`, `**` to `(.*/)?` or `.*`, regex metacharacters escaped,
//!    `[...]` and `\x` passed through), unless the pattern is a plain string,
//!    a string followed by `**` or `**` followed by a string, which it
//!    compares directly instead.
//!
//! Both steps are reproduced here rule for rule, because their corners decide
//! what ends up in a build context (`**file` also matches `xfile`, `a**b`
//! does not match `axb`, `**` never crosses a newline in a file name).

/// How a pattern is compared with a path, as BuildKit decides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shape {
    /// Only literal characters: the path must equal the pattern.
    Exact,
    /// Literal characters then a final `**`: the path must start with the
    /// pattern minus those two bytes.
    Prefix,
    /// A leading `**` then only literal characters: the path must end with
    /// the pattern minus its first two bytes (or equal it minus `**/`).
    Suffix,
    /// Anything else: the regular expression must match the whole path.
    Regex,
}

/// A pattern as BuildKit prepares it for matching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Translation {
    /// Which comparison applies.
    pub(super) shape: Shape,
    /// The regular expression text (meaningful only for [`Shape::Regex`]).
    pub(super) regex: String,
}

/// Checks `pattern` the way Go's `filepath.Match` does (BuildKit calls it only
/// for its error), so exactly the patterns Docker refuses are refused.
/// Returns what is wrong, for the error message.
pub(super) fn validate(pattern: &str) -> Result<(), String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        i = match c {
            '\\' if i + 1 >= chars.len() => {
                return Err("the pattern ends with a lone `\\` (escape it as `\\\\`)".into());
            }
            '\\' => i + 2,
            '[' => skip_class(&chars, i + 1)?,
            _ => i + 1,
        };
    }
    Ok(())
}

/// Checks the character class whose body starts at `i` (just after `[`) and
/// returns the index after its closing `]`. Go's rules: an optional `^`, then
/// at least one item (a character or `lo-hi`), where `-` and `]` must be
/// escaped and `\` escapes anything.
fn skip_class(chars: &[char], mut i: usize) -> Result<usize, String> {
    if chars.get(i) == Some(&'^') {
        i += 1;
    }
    let mut items = 0;
    loop {
        if items > 0 && chars.get(i) == Some(&']') {
            return Ok(i + 1);
        }
        i = class_char(chars, i)?;
        if chars.get(i) == Some(&'-') {
            i = class_char(chars, i + 1)?;
        }
        items += 1;
    }
}

/// One (possibly escaped) character of a class; fails where Go's
/// `filepath.Match` reports `ErrBadPattern`.
fn class_char(chars: &[char], mut i: usize) -> Result<usize, String> {
    match chars.get(i) {
        None => return Err(unterminated()),
        Some(']') => {
            return Err("a character class needs at least one character before `]` \
                        (escape a literal one as `\\]`)"
                .into());
        }
        Some('-') => {
            return Err(
                "`-` in a character class must be escaped as `\\-` unless it forms a range".into(),
            );
        }
        Some('\\') => i += 1,
        Some(_) => {}
    }
    if i >= chars.len() {
        return Err(unterminated());
    }
    i += 1;
    // Go also wants something after every class character: at least the `]`.
    if i >= chars.len() {
        return Err(unterminated());
    }
    Ok(i)
}

/// The message for a `[` without its `]`.
fn unterminated() -> String {
    "unterminated character class: `[` without a closing `]` (escape a literal one as `\\[`)".into()
}

/// Rewrites a cleaned pattern the way BuildKit does: decides the comparison
/// shape and builds the regular expression text, character by character.
pub(super) fn translate(pattern: &str) -> Translation {
    // Go's text/scanner, which BuildKit reads the pattern with, skips a
    // leading byte order mark.
    let body = pattern.strip_prefix('\u{feff}').unwrap_or(pattern);
    let mut chars = body.chars().peekable();
    let mut out = String::from("^");
    let mut shape = Shape::Exact;
    let mut first = true;
    while let Some(c) = chars.next() {
        match c {
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                if chars.peek() == Some(&'/') {
                    chars.next();
                }
                shape = double_star(&mut out, shape, chars.peek().is_none());
                if first {
                    shape = Shape::Suffix;
                }
            }
            '*' => {
                out.push_str("[^/]*");
                shape = Shape::Regex;
            }
            '?' => {
                out.push_str("[^/]");
                shape = Shape::Regex;
            }
            '.' | '+' | '(' | ')' | '|' | '{' | '}' | '$' => {
                out.push('\\');
                out.push(c);
            }
            '\\' => {
                out.push('\\');
                if let Some(next) = chars.next() {
                    out.push(next);
                    shape = Shape::Regex;
                }
            }
            '[' | ']' => {
                out.push(c);
                shape = Shape::Regex;
            }
            _ => out.push(c),
        }
        first = false;
    }
    if shape == Shape::Regex {
        out.push('$');
    }
    Translation { shape, regex: out }
}

/// Handles a `**` (with its optional `/` already eaten): at the end of the
/// pattern it accepts anything (a prefix test when all before was literal),
/// elsewhere it becomes "any directories, or none": `(.*/)?`.
fn double_star(out: &mut String, shape: Shape, at_end: bool) -> Shape {
    if !at_end {
        out.push_str("(.*/)?");
        Shape::Regex
    } else if shape == Shape::Exact {
        Shape::Prefix
    } else {
        out.push_str(".*");
        Shape::Regex
    }
}

#[cfg(test)]
mod tests {
    use super::{Shape, translate, validate};

    #[test]
    fn translation_matches_buildkit_compile_table() {
        // moby/patternmatcher's compile tests (Unix column).
        let cases = [
            ("*", Shape::Regex, "^[^/]*$"),
            ("file*", Shape::Regex, "^file[^/]*$"),
            ("*file", Shape::Regex, "^[^/]*file$"),
            ("a*/b", Shape::Regex, "^a[^/]*/b$"),
            ("**", Shape::Suffix, ""),
            ("**/**", Shape::Regex, "^(.*/)?.*$"),
            ("dir/**", Shape::Prefix, ""),
            ("**/dir", Shape::Suffix, ""),
            ("**/dir2/*", Shape::Regex, "^(.*/)?dir2/[^/]*$"),
            ("**/dir2/**", Shape::Regex, "^(.*/)?dir2/.*$"),
            ("**file", Shape::Suffix, ""),
            ("**/file*txt", Shape::Regex, "^(.*/)?file[^/]*txt$"),
            ("**/**/*.txt", Shape::Regex, "^(.*/)?(.*/)?[^/]*\\.txt$"),
            ("a[b-d]e", Shape::Regex, "^a[b-d]e$"),
            (".*", Shape::Regex, "^\\.[^/]*$"),
            ("abc.def", Shape::Exact, ""),
            ("abc/def", Shape::Exact, ""),
            ("a\\*b", Shape::Regex, "^a\\*b$"),
        ];
        for (pattern, shape, regex) in cases {
            let t = translate(pattern);
            assert_eq!(t.shape, shape, "{pattern}");
            if shape == Shape::Regex {
                assert_eq!(t.regex, regex, "{pattern}");
            }
        }
    }

    #[test]
    fn validation_follows_go_filepath_match() {
        for good in [
            "abc", "[\\]a]", "[\\-]", "[x\\-]", "[\\-x]", "a\\*b", "[a-ζ]*", "[^a]",
        ] {
            assert!(validate(good).is_ok(), "{good}");
        }
        for bad in [
            "[]a]", "[-]", "[x-]", "[-x]", "\\", "[a-b-c]", "[", "[^", "[^bc", "a[", "[a-",
        ] {
            assert!(validate(bad).is_err(), "{bad}");
        }
    }
}
