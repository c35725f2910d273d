//! Shell patterns for `${name#pat}`, `${name%pat}` and `${name/pat/rep}`, with
//! the semantics BuildKit gets from translating them to Go regular
//! expressions: `*` is any run of characters and `?` any one character,
//! neither crossing a newline (Go's `.` excludes `\n`); `\*`, `\?` and `\\`
//! are literal, `\}` and `\/` are `}` and `/`, any other backslash escape is
//! an error; everything else, `[` included, matches itself. Pattern escapes
//! are always backslashes, whatever the Dockerfile's escape character.
//!
//! Matching is a set-of-positions simulation rather than backtracking, so it
//! is linear in the value for each pattern token and cannot blow up.

/// One element of a compiled pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// Matches exactly this character.
    Lit(char),
    /// `?`: any character but a newline.
    Any,
    /// `*`: any run of characters without a newline.
    Star,
}

/// "No match reaches this position" in the position tables below.
const NONE: usize = usize::MAX;

/// A compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Glob {
    tokens: Vec<Token>,
}

impl Glob {
    /// Compiles `pattern`; the error says which escape is invalid.
    pub(super) fn parse(pattern: &str) -> Result<Glob, String> {
        let mut tokens = Vec::new();
        // Go's text/scanner, which reads BuildKit's patterns, drops a leading BOM.
        let pattern = pattern.strip_prefix(super::BOM).unwrap_or(pattern);
        let mut chars = pattern.chars().peekable();
        while let Some(c) = chars.next() {
            let token = match c {
                '*' => Token::Star,
                '?' => Token::Any,
                '\\' => match chars.peek() {
                    // The backslash only kept `}` or `/` from ending the operand.
                    Some('}' | '/') => continue,
                    Some(&e @ ('*' | '?' | '\\')) => {
                        chars.next();
                        Token::Lit(e)
                    }
                    Some(other) => return Err(format!("invalid escape '\\{other}'")),
                    None => return Err("invalid escape '\\' at the end of the pattern".to_string()),
                },
                c => Token::Lit(c),
            };
            tokens.push(token);
        }
        Ok(Glob { tokens })
    }

    /// For every end position in `chars`, the smallest start among `starts`
    /// (a table of the same shape: `starts[i] == i` for allowed starts) from
    /// which the whole pattern matches `chars[start..end]`, or [`NONE`].
    fn run(&self, chars: &[char], starts: Vec<usize>) -> Vec<usize> {
        self.tokens
            .iter()
            .fold(starts, |reach, &token| step(token, chars, &reach))
    }

    /// The leftmost match at or after `from`, and of the matches starting
    /// there the longest: what Go's leftmost-first search finds for a
    /// pattern whose stars are all greedy.
    fn find(&self, chars: &[char], from: usize) -> Option<(usize, usize)> {
        let starts = (0..=chars.len())
            .map(|i| if i >= from { i } else { NONE })
            .collect();
        let reach = self.run(chars, starts);
        let start = reach.iter().copied().min().filter(|&s| s != NONE)?;
        let end = reach.iter().rposition(|&s| s == start)?;
        Some((start, end))
    }

    /// `${name/pat/rep}`: the first match replaced by `replacement`, taken
    /// literally (BuildKit splices it in as is).
    pub(super) fn replace_first(&self, value: &str, replacement: &str) -> String {
        let chars: Vec<char> = value.chars().collect();
        match self.find(&chars, 0) {
            Some((start, end)) => {
                let mut out: String = chars[..start].iter().collect();
                out.push_str(replacement);
                out.extend(&chars[end..]);
                out
            }
            None => value.to_string(),
        }
    }

    /// `${name//pat/rep}`: every match replaced, with Go's
    /// `Regexp.ReplaceAllString` rules, which BuildKit uses: an empty match
    /// right after a previous match is skipped, and `replacement` is a Go
    /// template (`$0`/`${0}` is the match, `$$` a dollar, other `$names` empty).
    pub(super) fn replace_all(&self, value: &str, replacement: &str) -> String {
        let chars: Vec<char> = value.chars().collect();
        let mut out = String::new();
        let mut last_end = 0;
        let mut search = 0;
        while search <= chars.len() {
            let Some((start, end)) = self.find(&chars, search) else {
                break;
            };
            out.extend(&chars[last_end..start]);
            if end > last_end || start == 0 {
                let matched: String = chars[start..end].iter().collect();
                out.push_str(&expand_template(replacement, &matched));
            }
            last_end = end;
            search = if end > search { end } else { search + 1 };
        }
        out.extend(chars.get(last_end..).unwrap_or_default());
        out
    }
}

/// Advances every partial match by one token.
fn step(token: Token, chars: &[char], reach: &[usize]) -> Vec<usize> {
    let mut next = vec![NONE; reach.len()];
    match token {
        Token::Lit(_) | Token::Any => {
            for (i, &c) in chars.iter().enumerate() {
                let ok = match token {
                    Token::Lit(l) => c == l,
                    _ => c != '\n',
                };
                if ok && reach[i] < next[i + 1] {
                    next[i + 1] = reach[i];
                }
            }
        }
        Token::Star => {
            let mut best = NONE;
            for (i, slot) in next.iter_mut().enumerate() {
                best = best.min(reach[i]);
                *slot = best;
                if chars.get(i) == Some(&'\n') {
                    best = NONE;
                }
            }
        }
    }
    next
}

/// `${name#pat}` / `${name##pat}`: `value` without the shortest (or longest)
/// prefix that `pattern` matches; unchanged when none does.
pub(super) fn trim_prefix(pattern: &str, value: &str, longest: bool) -> Result<String, String> {
    let glob = Glob::parse(pattern)?;
    let chars: Vec<char> = value.chars().collect();
    let mut starts = vec![NONE; chars.len() + 1];
    starts[0] = 0;
    let reach = glob.run(&chars, starts);
    let mut ends = reach
        .iter()
        .enumerate()
        .filter(|&(_, &s)| s == 0)
        .map(|(e, _)| e);
    let end = if longest {
        ends.next_back()
    } else {
        ends.next()
    };
    Ok(match end {
        Some(end) => chars[end..].iter().collect(),
        None => value.to_string(),
    })
}

/// `${name%pat}` / `${name%%pat}`: `value` without the shortest (or longest)
/// suffix that `pattern` matches. Done as BuildKit does it, as a prefix
/// trim of the reversed value with the reversed pattern, so that even odd
/// patterns (a trailing lone backslash) behave the same.
pub(super) fn trim_suffix(pattern: &str, value: &str, longest: bool) -> Result<String, String> {
    let reversed: String = value.chars().rev().collect();
    let trimmed = trim_prefix(&reverse_pattern(pattern), &reversed, longest)?;
    Ok(trimmed.chars().rev().collect())
}

/// Reverses a pattern keeping each backslash before the character it
/// escapes (`a\*c` becomes `c\*a`). A backslash with nothing after it is a
/// unit of its own and so moves to the front.
fn reverse_pattern(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut units: Vec<&[char]> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let width = if chars[i] == '\\' && i + 1 < chars.len() {
            2
        } else {
            1
        };
        units.push(&chars[i..i + width]);
        i += width;
    }
    units.iter().rev().flat_map(|unit| unit.iter()).collect()
}

/// Go's `Regexp.Expand` for a regexp without capture groups: `$$` is `$`,
/// `$0`/`${0}` the match, any other `$name`/`${name}` nothing, and a `$` not
/// followed by a (well-formed) name is kept.
fn expand_template(template: &str, matched: &str) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        rest = &rest[dollar + 1..];
        if let Some(after) = rest.strip_prefix('$') {
            out.push('$');
            rest = after;
            continue;
        }
        match template_name(rest) {
            Some((name, after)) => {
                if name == "0" {
                    out.push_str(matched);
                }
                rest = after;
            }
            None => out.push('$'),
        }
    }
    out.push_str(rest);
    out
}

/// The name after a template `$` (`name` or `{name}`) and the text after it.
fn template_name(s: &str) -> Option<(&str, &str)> {
    let (braced, body) = match s.strip_prefix('{') {
        Some(body) => (true, body),
        None => (false, s),
    };
    let len = body
        .char_indices()
        .find(|&(_, c)| !(super::is_letter(c) || super::is_digit(c) || c == '_'))
        .map_or(body.len(), |(i, _)| i);
    if len == 0 {
        return None;
    }
    let (name, after) = body.split_at(len);
    if !braced {
        return Some((name, after));
    }
    after.strip_prefix('}').map(|after| (name, after))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glob(p: &str) -> Glob {
        Glob::parse(p).unwrap()
    }

    #[test]
    fn escapes() {
        assert_eq!(
            glob(r"\*\?\\").tokens,
            [Token::Lit('*'), Token::Lit('?'), Token::Lit('\\')]
        );
        assert_eq!(glob(r"\}\/").tokens, [Token::Lit('}'), Token::Lit('/')]);
        assert!(Glob::parse(r"\x").is_err());
        assert!(Glob::parse(r"a\").is_err());
        assert!(Glob::parse(r"\\\").is_err());
    }

    #[test]
    fn reversing_keeps_escape_pairs() {
        assert_eq!(reverse_pattern(r"a\*c"), r"c\*a");
        assert_eq!(reverse_pattern(r"\\\ab"), r"b\a\\");
        assert_eq!(reverse_pattern(r"ab\"), r"\ba");
        assert_eq!(reverse_pattern("👽\\🚀🖖"), "🖖\\🚀👽");
    }

    #[test]
    fn prefix_and_suffix() {
        assert_eq!(trim_prefix("*x*y", "xxyy", false).unwrap(), "y");
        assert_eq!(trim_prefix("*x", "xxyy", true).unwrap(), "yy");
        assert_eq!(trim_prefix("*", "xxyy", false).unwrap(), "xxyy");
        assert_eq!(trim_prefix("*", "xxyy", true).unwrap(), "");
        assert_eq!(trim_suffix(".*", "1.2.3", false).unwrap(), "1.2");
        assert_eq!(trim_suffix(".*", "1.2.3", true).unwrap(), "1");
        assert_eq!(trim_suffix(r"\**\*", "a***yy*", true).unwrap(), "a");
        assert_eq!(trim_prefix("a*", "ab\ncd", true).unwrap(), "\ncd");
    }

    #[test]
    fn first_and_all() {
        assert_eq!(glob("ba").replace_first("foobarbaz", "fo"), "fooforbaz");
        assert_eq!(glob("ba").replace_all("foobarbaz", "fo"), "fooforfoz");
        assert_eq!(glob("").replace_first("ab", "-"), "-ab");
        assert_eq!(glob("").replace_all("ab", "-"), "-a-b-");
        assert_eq!(glob("x*").replace_all("axbxc", "-"), "a-");
        assert_eq!(glob("b*").replace_all("abab", "[$0]"), "a[bab]");
        assert_eq!(glob("b").replace_first("abab", "[$0]"), "a[$0]ab");
    }

    #[test]
    fn go_templates() {
        assert_eq!(
            expand_template("<$0|${0}|$$|$x|${x}|$|${|$}>", "m"),
            "<m|m|$|||$|${|$}>"
        );
        assert_eq!(expand_template("$1x|$0", "m"), "|m");
        assert_eq!(expand_template("$0.", "m"), "m.");
    }
}
