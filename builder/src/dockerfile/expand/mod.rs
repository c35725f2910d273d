//! BuildKit's shell-word expansion: what `ProcessWord`/`ProcessWords` do to
//! the arguments of ENV, ARG, COPY, FROM, WORKDIR and friends.
//!
//! A Dockerfile is not run through a shell, yet its words look like shell
//! words: quotes are removed, the escape character protects the next
//! character, and `$name` / `${name...}` are replaced from the build's
//! variables. Images built by mxbuild must match those built by
//! `docker buildx build`, so this module reproduces BuildKit's rules rather
//! than POSIX sh's wherever the two differ (see the notes on each function
//! and the conformance suite in `tests/conformance_shell.rs`). Notable
//! differences from a real shell, all deliberate:
//!
//! - positional and special parameters (`$1`, `$@`, `$$`, ...) are never set;
//! - `${name:=word}`, `${#name}` and other unsupported forms are errors;
//! - inside `${...}` operands, quotes are removed but do not protect pattern
//!   characters, and the expanded result of `$...` is split into words by
//!   [`expand_words`] even when it came from a quoted default;
//! - patterns know `*`, `?` and backslash escapes only: `[` is an ordinary
//!   character (BuildKit has no bracket expressions), and neither `*` nor `?`
//!   matches a newline (BuildKit translates patterns to Go regexps, whose `.`
//!   stops at `\n`).
//!
//! Windows rules (case-insensitive names) are not implemented.

mod pattern;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::fmt;

/// Result of expanding one word: the text and every variable name it referenced
/// (set or not), which the planner uses to know whether a step reads e.g. TARGETARCH.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expanded {
    /// The expanded text: quotes removed, escapes applied, variables substituted.
    pub value: String,
    /// Names looked up while expanding, whether they were set or not, so that
    /// callers can tell which build arguments a step depends on.
    pub used: BTreeSet<String>,
}

/// Expansion failure: message + byte offset into the input word where it happened.
///
/// The offset points at the `$`, quote or `${` that opened the construct that
/// failed, so a caller can underline it in the Dockerfile; the message is
/// BuildKit's wording where BuildKit has one, without its
/// `failed to process "..."` prefix (callers add their own context).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpandError {
    /// What went wrong, e.g. `syntax error: missing '}'`.
    pub message: String,
    /// Byte offset into the input word (always on a character boundary).
    pub offset: usize,
}

impl ExpandError {
    fn new(message: impl Into<String>, offset: usize) -> Self {
        ExpandError {
            message: message.into(),
            offset,
        }
    }
}

impl fmt::Display for ExpandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ExpandError {}

/// Expands one word (quotes removed, escapes processed, $var/${...} substituted; no word splitting).
///
/// This is what BuildKit applies to single-valued arguments (WORKDIR, USER,
/// ENV values, FROM image names...): whitespace in the result is kept.
/// `env` returns `None` for unset variables and `Some("")` for set-but-empty
/// ones; `escape` is the Dockerfile's escape character (`\` or `` ` ``).
pub fn expand_word(
    word: &str,
    env: &dyn Fn(&str) -> Option<String>,
    escape: char,
) -> Result<Expanded, ExpandError> {
    let mut lexer = Lexer::new(word, env, escape);
    let segment = lexer.process_until(None, false)?;
    Ok(Expanded {
        value: segment.text,
        used: lexer.used,
    })
}

/// Like expand_word but splits the result into words on unquoted whitespace (BuildKit ProcessWords), used for instructions that take word lists.
///
/// Whitespace typed in the word or produced by a `$` expansion separates
/// words; whitespace inside quotes or after the escape character does not.
/// Empty words are dropped (`""` alone yields no word), as in BuildKit.
pub fn expand_words(
    word: &str,
    env: &dyn Fn(&str) -> Option<String>,
    escape: char,
) -> Result<(Vec<String>, BTreeSet<String>), ExpandError> {
    let mut lexer = Lexer::new(word, env, escape);
    let segment = lexer.process_until(None, false)?;
    Ok((segment.words.finish(), lexer.used))
}

/// Collects the words of a segment the way BuildKit does: characters typed
/// in the Dockerfile or produced by `$` split at whitespace, quoted text and
/// escaped characters never do.
#[derive(Debug, Default)]
struct Words {
    done: Vec<String>,
    word: String,
    in_word: bool,
}

impl Words {
    /// A character that separates words when it is whitespace.
    fn push_char(&mut self, c: char) {
        if !c.is_whitespace() {
            self.push_raw(c);
        } else if self.in_word && !self.word.is_empty() {
            self.done.push(std::mem::take(&mut self.word));
            self.in_word = false;
        }
    }

    /// Each character of an expansion result, splitting at whitespace.
    fn push_split(&mut self, s: &str) {
        s.chars().for_each(|c| self.push_char(c));
    }

    /// A character that belongs to the current word whatever it is.
    fn push_raw(&mut self, c: char) {
        self.word.push(c);
        self.in_word = true;
    }

    /// Quoted text: part of the current word, even when empty or blank.
    fn push_raw_str(&mut self, s: &str) {
        self.word.push_str(s);
        self.in_word = true;
    }

    /// The words, the last one included unless it is empty.
    fn finish(mut self) -> Vec<String> {
        if !self.word.is_empty() {
            self.done.push(self.word);
        }
        self.done
    }
}

/// The expansion of part of a word, up to a stop character or the end.
#[derive(Debug)]
struct Segment {
    text: String,
    words: Words,
}

/// The byte-order mark, which Go's text/scanner skips at the start of its input.
const BOM: char = '\u{feff}';

/// A cursor over the input word with the state of one expansion.
struct Lexer<'a> {
    /// The word's characters with their byte offsets.
    chars: Vec<(usize, char)>,
    /// Byte length of the word: the offset reported at its end.
    len: usize,
    /// Index into `chars` of the next character.
    pos: usize,
    env: &'a dyn Fn(&str) -> Option<String>,
    escape: char,
    /// Keep escape characters in the output: BuildKit does so in pattern
    /// operands, where the pattern matcher interprets them.
    raw_escapes: bool,
    used: BTreeSet<String>,
}

impl<'a> Lexer<'a> {
    fn new(word: &str, env: &'a dyn Fn(&str) -> Option<String>, escape: char) -> Self {
        let chars: Vec<(usize, char)> = word.char_indices().collect();
        // BuildKit reads words with Go's text/scanner, which drops a leading BOM.
        let pos = usize::from(chars.first().is_some_and(|&(_, c)| c == BOM));
        Lexer {
            chars,
            len: word.len(),
            pos,
            env,
            escape,
            raw_escapes: false,
            used: BTreeSet::new(),
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).map(|&(_, c)| c)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        Some(c)
    }

    /// Byte offset of the next character (the word's length at the end).
    fn offset(&self) -> usize {
        self.chars.get(self.pos).map_or(self.len, |&(o, _)| o)
    }

    /// Looks a variable up and remembers that it was referenced.
    fn lookup(&mut self, name: &str) -> Option<String> {
        if !name.is_empty() {
            self.used.insert(name.to_string());
        }
        (self.env)(name)
    }

    /// Expands until `stop` (consumed, not part of the result) or, with no
    /// stop character, until the end of the word. `raw_escapes` applies to
    /// this segment and everything nested in it that does not set its own.
    fn process_until(
        &mut self,
        stop: Option<char>,
        raw_escapes: bool,
    ) -> Result<Segment, ExpandError> {
        let saved = std::mem::replace(&mut self.raw_escapes, raw_escapes);
        let result = self.process_segment(stop);
        self.raw_escapes = saved;
        result
    }

    fn process_segment(&mut self, stop: Option<char>) -> Result<Segment, ExpandError> {
        let mut text = String::new();
        let mut words = Words::default();
        while let Some(c) = self.peek() {
            if Some(c) == stop {
                self.pos += 1;
                return Ok(Segment { text, words });
            }
            match c {
                '$' => {
                    let value = self.dollar()?;
                    words.push_split(&value);
                    text.push_str(&value);
                }
                '\'' | '"' => {
                    let value = if c == '\'' {
                        self.single_quoted()?
                    } else {
                        self.double_quoted()?
                    };
                    words.push_raw_str(&value);
                    text.push_str(&value);
                }
                _ => {
                    if !self.plain_char(&mut text, &mut words) {
                        break;
                    }
                }
            }
        }
        match stop {
            Some(s) => Err(ExpandError::new(
                format!("unexpected end of statement while looking for matching {s}"),
                self.offset(),
            )),
            None => Ok(Segment { text, words }),
        }
    }

    /// Consumes an ordinary character, or the escape character and the one it
    /// protects. Returns false when the word ended right after an escape
    /// character, which is then dropped (BuildKit ignores a trailing escape).
    fn plain_char(&mut self, text: &mut String, words: &mut Words) -> bool {
        let Some(c) = self.bump() else {
            return false;
        };
        if c != self.escape {
            words.push_char(c);
            text.push(c);
            return true;
        }
        if self.raw_escapes {
            words.push_raw(c);
            text.push(c);
        }
        match self.bump() {
            Some(escaped) => {
                words.push_raw(escaped);
                text.push(escaped);
                true
            }
            None => false,
        }
    }

    /// `'...'`: everything literal up to the next single quote; there is no
    /// way to escape a single quote inside.
    fn single_quoted(&mut self) -> Result<String, ExpandError> {
        let start = self.offset();
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.bump() {
                None => {
                    return Err(ExpandError::new(
                        "unexpected end of statement while looking for matching single-quote",
                        start,
                    ));
                }
                Some('\'') => return Ok(out),
                Some(c) => out.push(c),
            }
        }
    }

    /// `"..."`: `$` expands; the escape character only protects `"`, `$` and
    /// itself and is otherwise kept, as in POSIX sh.
    fn double_quoted(&mut self) -> Result<String, ExpandError> {
        let start = self.offset();
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => {
                    return Err(ExpandError::new(
                        "unexpected end of statement while looking for matching double-quote",
                        start,
                    ));
                }
                Some('"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some('$') => out.push_str(&self.dollar()?),
                Some(_) => self.double_quoted_char(&mut out),
            }
        }
    }

    /// One character inside double quotes. With raw escapes (pattern
    /// operands) BuildKit keeps the escape character and, when it escapes
    /// nothing special, writes it twice so the pattern reads a literal one.
    fn double_quoted_char(&mut self, out: &mut String) {
        let Some(mut c) = self.bump() else {
            return;
        };
        if c == self.escape {
            if self.raw_escapes {
                out.push(c);
            }
            match self.peek() {
                // A trailing escape is dropped; the missing quote is reported next.
                None => return,
                Some(next) if next == '"' || next == '$' || next == self.escape => {
                    self.pos += 1;
                    c = next;
                }
                Some(_) => {}
            }
        }
        out.push(c);
    }

    /// Reads a parameter name: a run of digits (positional), one special
    /// parameter character, or letters, digits and underscores. Empty when
    /// the next character can start none of these.
    fn name(&mut self) -> String {
        let mut name = String::new();
        let Some(first) = self.peek() else {
            return name;
        };
        if is_digit(first) {
            while let Some(c) = self.peek().filter(|&c| is_digit(c)) {
                name.push(c);
                self.pos += 1;
            }
        } else if is_special_param(first) {
            name.push(first);
            self.pos += 1;
        } else {
            while let Some(c) = self
                .peek()
                .filter(|&c| is_letter(c) || is_digit(c) || c == '_')
            {
                name.push(c);
                self.pos += 1;
            }
        }
        name
    }

    /// `$name`, `${...}`, or a lone `$` (kept when no name follows).
    fn dollar(&mut self) -> Result<String, ExpandError> {
        let start = self.offset();
        self.pos += 1;
        if self.peek() != Some('{') {
            let name = self.name();
            if name.is_empty() {
                return Ok("$".to_string());
            }
            return Ok(self.lookup(&name).unwrap_or_default());
        }
        self.pos += 1;
        match self.peek() {
            None => return Err(missing_brace(start)),
            Some('{' | '}' | ':') => {
                return Err(ExpandError::new("syntax error: bad substitution", start));
            }
            Some(_) => {}
        }
        let name = self.name();
        match self.bump() {
            None => Err(missing_brace(start)),
            Some('}') => Ok(self.lookup(&name).unwrap_or_default()),
            Some(':') => {
                let op = self.bump();
                self.modifier(start, &name, true, op)
            }
            Some(op @ ('+' | '-' | '?' | '#' | '%')) => {
                self.modifier(start, &name, false, Some(op))
            }
            Some('/') => self.substitute(start, &name),
            Some(other) => Err(unsupported(&other.to_string(), start)),
        }
    }

    /// The operand of `${name<op>...}` up to `stop`. A failure that ran into
    /// the end of the word is reported as the missing terminator of the
    /// `${` at `start`, which is what the user forgot.
    fn operand(
        &mut self,
        start: usize,
        stop: char,
        raw_escapes: bool,
    ) -> Result<String, ExpandError> {
        match self.process_until(Some(stop), raw_escapes) {
            Ok(segment) => Ok(segment.text),
            Err(_) if self.peek().is_none() && stop == '/' => {
                Err(ExpandError::new("syntax error: missing '/' in ${}", start))
            }
            Err(_) if self.peek().is_none() => Err(missing_brace(start)),
            Err(e) => Err(e),
        }
    }

    /// `${name-word}`, `${name+word}`, `${name?word}`, `${name#pat}`,
    /// `${name%pat}`, the `##`/`%%` forms, and the `:` variants of the
    /// first three, which also treat an empty value as unset.
    fn modifier(
        &mut self,
        start: usize,
        name: &str,
        colon: bool,
        op: Option<char>,
    ) -> Result<String, ExpandError> {
        let label = format!(
            "{}{}",
            if colon { ":" } else { "" },
            op.map(String::from).unwrap_or_default()
        );
        let is_pattern = matches!(op, Some('#' | '%'));
        if colon && is_pattern {
            return Err(unsupported(&label, start));
        }
        let word = self.operand(start, '}', is_pattern)?;
        let value = self.lookup(name);
        let unset = match &value {
            None => true,
            Some(v) => colon && v.is_empty(),
        };
        match op {
            Some('-') if unset => Ok(word),
            Some('-') => Ok(value.unwrap_or_default()),
            Some('+') if unset => Ok(String::new()),
            Some('+') => Ok(word),
            Some('?') => required(name, value, colon, word, start),
            Some(op @ ('#' | '%')) => {
                let value = value.unwrap_or_default();
                trim(op, &word, &value).map_err(|e| invalid_pattern(&word, &e, start))
            }
            _ => Err(unsupported(&label, start)),
        }
    }

    /// `${name/pattern/replacement}` and `${name//pattern/replacement}`
    /// (bash). Unlike bash, BuildKit requires the second `/`.
    fn substitute(&mut self, start: usize, name: &str) -> Result<String, ExpandError> {
        let all = self.peek() == Some('/');
        if all {
            self.pos += 1;
        }
        let pat = self.operand(start, '/', true)?;
        let replacement = self.operand(start, '}', true)?;
        let value = self.lookup(name).unwrap_or_default();
        let glob = pattern::Glob::parse(&pat).map_err(|e| invalid_pattern(&pat, &e, start))?;
        Ok(if all {
            glob.replace_all(&value, &replacement)
        } else {
            glob.replace_first(&value, &replacement)
        })
    }
}

/// `${name?word}`: the value, or an error carrying `word` (or a default
/// message) when the variable is unset, or empty with the `:` form.
fn required(
    name: &str,
    value: Option<String>,
    colon: bool,
    word: String,
    start: usize,
) -> Result<String, ExpandError> {
    let default = match &value {
        None => "is not allowed to be unset",
        Some(v) if colon && v.is_empty() => "is not allowed to be empty",
        Some(_) => return Ok(value.unwrap_or_default()),
    };
    let message = if word.is_empty() {
        default.to_string()
    } else {
        word
    };
    Err(ExpandError::new(format!("{name}: {message}"), start))
}

/// `#`/`##` (prefix) and `%`/`%%` (suffix) trimming; a doubled operator
/// selects the longest match.
fn trim(op: char, word: &str, value: &str) -> Result<String, String> {
    let (longest, pat) = match word.strip_prefix(op) {
        Some(rest) => (true, rest),
        None => (false, word),
    };
    if op == '#' {
        pattern::trim_prefix(pat, value, longest)
    } else {
        pattern::trim_suffix(pat, value, longest)
    }
}

fn missing_brace(start: usize) -> ExpandError {
    ExpandError::new("syntax error: missing '}'", start)
}

fn unsupported(label: &str, start: usize) -> ExpandError {
    ExpandError::new(
        format!("unsupported modifier ({label}) in substitution"),
        start,
    )
}

fn invalid_pattern(pat: &str, why: &str, start: usize) -> ExpandError {
    ExpandError::new(
        format!("invalid pattern ({pat}) in substitution: {why}"),
        start,
    )
}

/// Go's `unicode.IsDigit` (BuildKit's name rule), approximated with std:
/// non-ASCII numerics also count.
fn is_digit(c: char) -> bool {
    c.is_ascii_digit() || (!c.is_ascii() && c.is_numeric())
}

/// Go's `unicode.IsLetter`, approximated by Unicode's Alphabetic property.
fn is_letter(c: char) -> bool {
    c.is_alphabetic()
}

/// POSIX special parameters, which BuildKit reads as one-character names.
fn is_special_param(c: char) -> bool {
    matches!(c, '@' | '*' | '#' | '?' | '-' | '$' | '!' | '0')
}
