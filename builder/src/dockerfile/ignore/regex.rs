//! A parser for the regular expressions BuildKit builds from ignore patterns,
//! with the meaning Go's `regexp` package gives them (RE2 syntax, Perl flags:
//! `.` does not match a newline, `^`/`$` only match at the ends of the text,
//! negated classes do match a newline, `\b` and `\w` are ASCII-only).
//!
//! BuildKit passes `[...]` classes and `\x` escapes from the pattern straight
//! into the expression, so a pattern like `[[:digit:]]`, `[*]` or `\d` means
//! what Go's regexp makes of it, not what a shell would. This parser covers
//! everything the translation can produce except Unicode classes (`\p{..}`)
//! and `\Q..\E`, which it refuses with a clear error rather than guess.

/// Zero-width tests of the position between two characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Assertion {
    /// `^` or `\A`: the start of the text.
    BeginText,
    /// `$` or `\z`: the end of the text.
    EndText,
    /// `\b`: an ASCII word character on exactly one side.
    WordBoundary,
    /// `\B`: not a word boundary.
    NotWordBoundary,
}

/// A set of characters, as inclusive code point ranges, possibly negated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct CharClass {
    ranges: Vec<(u32, u32)>,
    negated: bool,
}

impl CharClass {
    /// Exactly one character.
    fn literal(c: char) -> CharClass {
        CharClass {
            ranges: vec![(c as u32, c as u32)],
            negated: false,
        }
    }

    /// `.`: anything but a newline.
    fn any_but_newline() -> CharClass {
        CharClass {
            ranges: vec![(0x0A, 0x0A)],
            negated: true,
        }
    }

    /// Whether `c` is in the set.
    pub(super) fn contains(&self, c: char) -> bool {
        let c = c as u32;
        self.ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != self.negated
    }
}

/// The parsed expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Node {
    /// Matches the empty string.
    Empty,
    /// One character from the set.
    Class(CharClass),
    /// A zero-width test.
    Assert(Assertion),
    /// Each part in turn.
    Concat(Vec<Node>),
    /// Zero or more times.
    Star(Box<Node>),
    /// One or more times.
    Plus(Box<Node>),
    /// Zero or one time.
    Quest(Box<Node>),
}

/// Deepest group nesting accepted; BuildKit's translation never nests groups,
/// so this only guards the recursion against hostile input.
const MAX_DEPTH: usize = 64;

/// Parses `text` (a translated pattern) into a [`Node`]; the error says what
/// Go's regexp package would reject, or what this parser does not support.
pub(super) fn parse(text: &str) -> Result<Node, String> {
    let mut parser = Parser {
        chars: text.chars().collect(),
        pos: 0,
        depth: 0,
        no_posix_close_after: None,
    };
    let node = parser.concat()?;
    if parser.pos < parser.chars.len() {
        return Err("unexpected `)`".into());
    }
    Ok(node)
}

/// Recursive-descent parser state.
struct Parser {
    chars: Vec<char>,
    pos: usize,
    depth: usize,
    /// A position after which the text has no `:]`: once a search for one
    /// failed, later ones need not rescan (keeps hostile input linear).
    no_posix_close_after: Option<usize>,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.pos + offset).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    /// A sequence of atoms and repetitions, up to the end or a `)`.
    fn concat(&mut self) -> Result<Node, String> {
        let mut items: Vec<Node> = Vec::new();
        let mut last_was_repeat = false;
        while let Some(c) = self.peek() {
            match c {
                ')' => break,
                '*' | '+' | '?' => {
                    self.repeat(c, &mut items, last_was_repeat)?;
                    last_was_repeat = true;
                }
                '|' | '{' | '}' => {
                    return Err(format!("unsupported regular expression operator `{c}`"));
                }
                _ => {
                    items.push(self.atom()?);
                    last_was_repeat = false;
                }
            }
        }
        Ok(match items.len() {
            0 => Node::Empty,
            1 => items.pop().unwrap_or(Node::Empty),
            _ => Node::Concat(items),
        })
    }

    /// Applies the repetition operator `op` to the last item (Go refuses a
    /// missing operand and stacked operators such as `**`; a `?` right after
    /// an operator only makes it non-greedy, which changes nothing here).
    fn repeat(&mut self, op: char, items: &mut Vec<Node>, stacked: bool) -> Result<(), String> {
        self.pos += 1;
        if stacked {
            return Err(format!("invalid nested repetition operator `{op}`"));
        }
        let Some(operand) = items.pop() else {
            return Err(format!("missing argument to repetition operator `{op}`"));
        };
        if self.peek() == Some('?') {
            self.pos += 1;
        }
        let operand = Box::new(operand);
        items.push(match op {
            '*' => Node::Star(operand),
            '+' => Node::Plus(operand),
            _ => Node::Quest(operand),
        });
        Ok(())
    }

    /// One atom: a group, class, `.`, anchor, escape or literal character.
    fn atom(&mut self) -> Result<Node, String> {
        let Some(c) = self.bump() else {
            return Ok(Node::Empty);
        };
        Ok(match c {
            '(' => self.group()?,
            '[' => Node::Class(self.class()?),
            '.' => Node::Class(CharClass::any_but_newline()),
            '^' => Node::Assert(Assertion::BeginText),
            '$' => Node::Assert(Assertion::EndText),
            '\\' => self.escape_atom()?,
            other => Node::Class(CharClass::literal(other)),
        })
    }

    /// The inside of `( ... )`, after the `(`.
    fn group(&mut self) -> Result<Node, String> {
        if self.peek() == Some('?') {
            return Err("unsupported group syntax `(?`".into());
        }
        if self.depth >= MAX_DEPTH {
            return Err("groups nested too deeply".into());
        }
        self.depth += 1;
        let inner = self.concat();
        self.depth -= 1;
        let inner = inner?;
        if self.bump() != Some(')') {
            return Err("missing closing `)`".into());
        }
        Ok(inner)
    }

    /// What follows a `\` outside a class: an anchor, a Perl class or an
    /// escaped character.
    fn escape_atom(&mut self) -> Result<Node, String> {
        let Some(c) = self.bump() else {
            return Err("trailing `\\` at the end of the expression".into());
        };
        Ok(match c {
            'A' => Node::Assert(Assertion::BeginText),
            'z' => Node::Assert(Assertion::EndText),
            'b' => Node::Assert(Assertion::WordBoundary),
            'B' => Node::Assert(Assertion::NotWordBoundary),
            'p' | 'P' | 'Q' => return Err(unsupported_escape(c)),
            _ => match perl_class(c) {
                Some(class) => Node::Class(class),
                None => Node::Class(CharClass::literal(self.escaped_char(c)?)),
            },
        })
    }

    /// The character an escape `\c` stands for (`c` already consumed): Go
    /// keeps ASCII punctuation as itself and knows octal, `\x` hex and the
    /// C control escapes; any other letter, digit or non-ASCII is an error.
    fn escaped_char(&mut self, c: char) -> Result<char, String> {
        if c.is_ascii() && !c.is_ascii_alphanumeric() {
            return Ok(c);
        }
        let code = match c {
            '1'..='7' if self.peek().is_some_and(is_octal) => self.octal(c),
            '0' => self.octal(c),
            'x' => self.hex()?,
            'a' => 0x07,
            'f' => 0x0C,
            'n' => 0x0A,
            'r' => 0x0D,
            't' => 0x09,
            'v' => 0x0B,
            _ => return Err(format!("invalid escape sequence `\\{c}`")),
        };
        char::from_u32(code).ok_or_else(|| format!("invalid escape sequence `\\{c}`"))
    }

    /// Up to three octal digits, the first already consumed.
    fn octal(&mut self, first: char) -> u32 {
        let mut value = first.to_digit(8).unwrap_or(0);
        for _ in 0..2 {
            match self.peek().and_then(|d| d.to_digit(8)) {
                Some(d) => {
                    value = value * 8 + d;
                    self.pos += 1;
                }
                None => break,
            }
        }
        value
    }

    /// `\x` followed by exactly two hex digits (the `\x{...}` form cannot
    /// come out of BuildKit's translation, which escapes `{`).
    fn hex(&mut self) -> Result<u32, String> {
        let hi = self.bump().and_then(|d| d.to_digit(16));
        let lo = self.bump().and_then(|d| d.to_digit(16));
        match (hi, lo) {
            (Some(hi), Some(lo)) => Ok(hi * 16 + lo),
            _ => Err("invalid escape sequence `\\x` (two hex digits expected)".into()),
        }
    }

    /// The inside of `[ ... ]`, after the `[`: Go's rules, where `]` or `-`
    /// first is literal, `[:name:]` is a POSIX class, `\d`-style Perl
    /// classes are allowed and a range must not run backwards.
    fn class(&mut self) -> Result<CharClass, String> {
        let negated = self.peek() == Some('^');
        if negated {
            self.pos += 1;
        }
        let mut ranges: Vec<(u32, u32)> = Vec::new();
        let mut first = true;
        loop {
            match self.peek() {
                None => return Err("missing closing `]` of a character class".into()),
                Some(']') if !first => {
                    self.pos += 1;
                    break;
                }
                _ => {}
            }
            first = false;
            if !self.class_group(&mut ranges)? {
                self.class_range(&mut ranges)?;
            }
        }
        Ok(CharClass { ranges, negated })
    }

    /// A POSIX (`[:alpha:]`) or Perl (`\d`) group inside a class; false when
    /// the next item is an ordinary character or range.
    fn class_group(&mut self, ranges: &mut Vec<(u32, u32)>) -> Result<bool, String> {
        match (self.peek(), self.peek_at(1)) {
            (Some('['), Some(':')) => self.posix_group(ranges),
            (Some('\\'), Some(c @ ('p' | 'P'))) => Err(unsupported_escape(c)),
            (Some('\\'), Some(c)) => match perl_class(c) {
                Some(class) => {
                    self.pos += 2;
                    add_class(ranges, &class);
                    Ok(true)
                }
                None => Ok(false),
            },
            _ => Ok(false),
        }
    }

    /// `[:name:]` at the current position. Like Go, the name runs to the
    /// next `:]` anywhere in the rest of the text; with no `:]` the `[` is an
    /// ordinary character, and an unknown name is an error.
    fn posix_group(&mut self, ranges: &mut Vec<(u32, u32)>) -> Result<bool, String> {
        if self.no_posix_close_after.is_some_and(|p| p <= self.pos) {
            return Ok(false);
        }
        let rest = self.chars.get(self.pos + 2..).unwrap_or(&[]);
        let Some(end) = rest.windows(2).position(|w| w == [':', ']']) else {
            self.no_posix_close_after = Some(self.pos);
            return Ok(false);
        };
        let name_len = end + 4;
        let name: String = self.chars.iter().skip(self.pos).take(name_len).collect();
        let Some(class) = posix_class(&name) else {
            return Err(format!("invalid character class range `{name}`"));
        };
        self.pos += name_len;
        add_class(ranges, &class);
        Ok(true)
    }

    /// A character or `lo-hi` range inside a class.
    fn class_range(&mut self, ranges: &mut Vec<(u32, u32)>) -> Result<(), String> {
        let lo = self.class_char()?;
        let mut hi = lo;
        if self.peek() == Some('-') && self.peek_at(1).is_some_and(|c| c != ']') {
            self.pos += 1;
            hi = self.class_char()?;
            if hi < lo {
                return Err(format!("invalid character class range `{lo}-{hi}`"));
            }
        }
        ranges.push((lo as u32, hi as u32));
        Ok(())
    }

    /// One (possibly escaped) character inside a class.
    fn class_char(&mut self) -> Result<char, String> {
        match self.bump() {
            None => Err("missing closing `]` of a character class".into()),
            Some('\\') => match self.bump() {
                None => Err("trailing `\\` at the end of the expression".into()),
                Some(c) => self.escaped_char(c),
            },
            Some(c) => Ok(c),
        }
    }
}

/// Whether `c` is an octal digit.
fn is_octal(c: char) -> bool {
    matches!(c, '0'..='7')
}

/// The error for escapes Go understands but this matcher does not.
fn unsupported_escape(c: char) -> String {
    format!(
        "`\\{c}` is a Unicode class or quoting escape in the regular expression BuildKit \
         builds, which mxbuild does not support; escape only punctuation"
    )
}

/// Go's Perl classes `\d \s \w` and their negations.
fn perl_class(c: char) -> Option<CharClass> {
    let ranges: &[(u32, u32)] = match c.to_ascii_lowercase() {
        'd' => &[(0x30, 0x39)],
        's' => &[(0x09, 0x0A), (0x0C, 0x0D), (0x20, 0x20)],
        'w' => &[(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)],
        _ => return None,
    };
    Some(CharClass {
        ranges: ranges.to_vec(),
        negated: c.is_ascii_uppercase(),
    })
}

/// Go's ASCII POSIX classes by their full name, `[:alpha:]` or `[:^alpha:]`.
fn posix_class(name: &str) -> Option<CharClass> {
    let inner = name.strip_prefix("[:")?.strip_suffix(":]")?;
    let (negated, inner) = match inner.strip_prefix('^') {
        Some(rest) => (true, rest),
        None => (false, inner),
    };
    let ranges: &[(u32, u32)] = match inner {
        "alnum" => &[(0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A)],
        "alpha" => &[(0x41, 0x5A), (0x61, 0x7A)],
        "ascii" => &[(0x00, 0x7F)],
        "blank" => &[(0x09, 0x09), (0x20, 0x20)],
        "cntrl" => &[(0x00, 0x1F), (0x7F, 0x7F)],
        "digit" => &[(0x30, 0x39)],
        "graph" => &[(0x21, 0x7E)],
        "lower" => &[(0x61, 0x7A)],
        "print" => &[(0x20, 0x7E)],
        "punct" => &[(0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E)],
        "space" => &[(0x09, 0x0D), (0x20, 0x20)],
        "upper" => &[(0x41, 0x5A)],
        "word" => &[(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)],
        "xdigit" => &[(0x30, 0x39), (0x41, 0x46), (0x61, 0x66)],
        _ => return None,
    };
    Some(CharClass {
        ranges: ranges.to_vec(),
        negated,
    })
}

/// Adds the members of `class` (honouring its negation) to `ranges`.
fn add_class(ranges: &mut Vec<(u32, u32)>, class: &CharClass) {
    if !class.negated {
        ranges.extend_from_slice(&class.ranges);
        return;
    }
    let mut sorted = class.ranges.clone();
    sorted.sort_unstable();
    let mut next = 0u32;
    for (lo, hi) in sorted {
        if lo > next {
            ranges.push((next, lo - 1));
        }
        next = next.max(hi.saturating_add(1));
    }
    if next <= char::MAX as u32 {
        ranges.push((next, char::MAX as u32));
    }
}

#[cfg(test)]
mod tests {
    use super::{CharClass, Node, parse};

    fn class_of(text: &str) -> CharClass {
        match parse(text) {
            Ok(Node::Class(c)) => c,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn classes_follow_go_regexp() {
        assert!(class_of("[[:digit:]]").contains('7'));
        assert!(!class_of("[[:digit:]]").contains('a'));
        assert!(class_of("[[:^digit:]]").contains('a'));
        assert!(class_of("[\\D]").contains('x'));
        assert!(!class_of("[\\D]").contains('1'));
        assert!(class_of("[^a]").contains('\n'));
        assert!(!class_of(".").contains('\n'));
        assert!(class_of("[]a]").contains(']'));
        assert!(class_of("[\\]a]").contains(']'));
        assert!(class_of("\\x41").contains('A'));
        assert!(class_of("\\101").contains('A'));
        assert!(class_of("[[]").contains('['));
    }

    #[test]
    fn hostile_classes_stay_linear() {
        let text = format!("[{}]", "[:a".repeat(50_000));
        let started = std::time::Instant::now();
        assert!(parse(&text).is_ok());
        assert!(started.elapsed().as_secs() < 2);
    }

    #[test]
    fn rejects_what_go_rejects() {
        for bad in [
            "[z-a]",
            "[[:nope:]]",
            "\\y",
            "\\1",
            "\\8",
            "a**",
            "*",
            "(a",
            "a)",
            "[a",
            "\\",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
