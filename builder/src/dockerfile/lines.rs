//! From Dockerfile text to logical instruction lines, as BuildKit reads it:
//! parser directives at the very top (`# syntax=`, `# escape=`, `# check=`),
//! comments and blank lines dropped, continuation lines (ending in the escape
//! character) joined, with blank and comment lines inside a continuation
//! skipped, and heredoc bodies (`<<EOF` ... `EOF`) collected for RUN/COPY/ADD.
//! Every logical line remembers where it started.

use super::error::{SourceError, Span};

/// The parser directives of a Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directives {
    /// `# syntax=`: the frontend image BuildKit would use. Only the Dockerfile
    /// frontend (`docker/dockerfile` or `docker/dockerfile-upstream`, any tag
    /// or digest) is accepted, and this crate is that frontend: the image is
    /// never pulled. Any other frontend is refused.
    pub syntax: Option<String>,
    /// `# escape=`: `\` (default) or `` ` ``.
    pub escape: char,
    /// `# check=` (lint configuration).
    pub check: Option<String>,
}

impl Default for Directives {
    fn default() -> Self {
        Directives {
            syntax: None,
            escape: '\\',
            check: None,
        }
    }
}

/// A here-document attached to an instruction (`RUN <<EOF`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    /// The delimiter word (`EOF`).
    pub name: String,
    /// The body, each line ending in `\n` (leading tabs removed for `<<-`).
    pub content: String,
    /// Variables are expanded in the body unless the delimiter was quoted.
    pub expand: bool,
    /// `<<-`: leading tabs were stripped.
    pub chomp: bool,
    /// A file descriptor written before `<<` (`3<<EOF`), if any.
    pub fd: Option<u32>,
}

/// One instruction's text with continuations joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogicalLine {
    /// The joined text (escape characters at line ends removed).
    pub text: String,
    /// Where the instruction starts (line, column of its first character).
    pub start: Span,
    /// The last source line it covers (heredoc bodies included).
    pub end_line: usize,
    /// Heredoc bodies, in the order their markers appear.
    pub heredocs: Vec<Heredoc>,
}

/// Splits the text into directives and logical lines.
pub fn split(text: &str, file: &str) -> Result<(Directives, Vec<LogicalLine>), SourceError> {
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let (directives, first) = read_directives(&lines, file, text)?;
    let e = directives.escape;
    let mut out = Vec::new();
    let mut i = first;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            i += 1;
            continue;
        }
        let col = line.chars().count() - trimmed.chars().count() + 1;
        let start = Span { line: i + 1, col };
        let (mut joined, mut more) = strip_continuation(trimmed, e);
        i += 1;
        while more && i < lines.len() {
            let next = lines[i];
            i += 1;
            let t = next.trim_start();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            let (part, again) = strip_continuation(next, e);
            joined.push_str(&part);
            more = again;
        }
        let mut end_line = i;
        let heredocs = if wants_heredocs(&joined) {
            let markers = heredoc_markers(&joined, e);
            let mut docs = Vec::new();
            for m in markers {
                let (doc, next_i) = read_heredoc(&lines, i, m).map_err(|msg| {
                    SourceError::new(file, start, msg)
                        .hint("end the here-document with a line that holds only its delimiter")
                        .with_line(text)
                })?;
                docs.push(doc);
                i = next_i;
                end_line = i;
            }
            docs
        } else {
            Vec::new()
        };
        out.push(LogicalLine {
            text: joined,
            start,
            end_line,
            heredocs,
        });
    }
    Ok((directives, out))
}

/// The parser directives mxbuild reads (any other `# key=value` at the top
/// is a comment, as in BuildKit): the list the README's compatibility table
/// is tested against.
pub const DIRECTIVES: &[&str] = &["syntax", "escape", "check"];

/// Reads `# key=value` directives from the top; returns them and the index of
/// the first line that is not one. The first non-directive line (comment,
/// blank line or instruction) ends the directives.
fn read_directives(
    lines: &[&str],
    file: &str,
    text: &str,
) -> Result<(Directives, usize), SourceError> {
    let mut d = Directives::default();
    let mut seen: Vec<String> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some((key, value)) = directive(line) else {
            return Ok((d, i));
        };
        // An unknown directive is just a comment, and ends the directives.
        if !DIRECTIVES.contains(&key.as_str()) {
            return Ok((d, i));
        }
        let span = Span {
            line: i + 1,
            col: 1,
        };
        if seen.contains(&key) {
            return Err(SourceError::new(
                file,
                span,
                format!("only one {key} parser directive can be used"),
            )
            .hint("remove the duplicate directive")
            .with_line(text));
        }
        match key.as_str() {
            "escape" => {
                d.escape = match value.as_str() {
                    "\\" => '\\',
                    "`" => '`',
                    other => {
                        return Err(SourceError::new(
                            file,
                            span,
                            format!("invalid escape token {other:?}"),
                        )
                        .hint("the escape directive takes \\ or `")
                        .with_line(text));
                    }
                }
            }
            "syntax" => {
                check_syntax(&value).map_err(|(msg, hint)| {
                    SourceError::new(file, span, msg).hint(hint).with_line(text)
                })?;
                d.syntax = Some(value);
            }
            "check" => d.check = Some(value),
            _ => return Ok((d, i)),
        }
        seen.push(key);
    }
    Ok((d, lines.len()))
}

/// Accepts a `# syntax=` that names BuildKit's Dockerfile frontend
/// (`[docker.io/]docker/dockerfile[-upstream][:tag][@digest]`); anything
/// else is another language we do not implement.
fn check_syntax(value: &str) -> Result<(), (String, String)> {
    let name = value.split('@').next().unwrap_or_default();
    // A tag follows the last `:` after the last `/` (a registry port does not).
    let slash = name.rfind('/').map_or(0, |i| i + 1);
    let repo = match name[slash..].find(':') {
        Some(i) => &name[..slash + i],
        None => name,
    };
    let repo = repo
        .strip_prefix("docker.io/")
        .or_else(|| repo.strip_prefix("index.docker.io/"))
        .unwrap_or(repo);
    if matches!(repo, "docker/dockerfile" | "docker/dockerfile-upstream") {
        return Ok(());
    }
    Err((
        format!(
            "unsupported frontend syntax={value:?}: mxbuild implements the Dockerfile frontend itself and cannot run other frontend images"
        ),
        "use `# syntax=docker/dockerfile:1` (or remove the line), or build this file with BuildKit"
            .to_string(),
    ))
}

/// `# key = value` -> (lower-case key, value).
fn directive(line: &str) -> Option<(String, String)> {
    let rest = line.trim_start().strip_prefix('#')?;
    let (key, value) = rest.split_once('=')?;
    let key = key.trim();
    let value = value.trim();
    let ok_key = !key.is_empty()
        && key.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && key.chars().all(|c| c.is_ascii_alphanumeric());
    (ok_key && !value.is_empty()).then(|| (key.to_ascii_lowercase(), value.to_string()))
}

/// Removes a line-continuation escape at the end of `line`: the escape
/// character, optionally followed by spaces/tabs, that is either alone on the
/// line or not itself escaped (`\\` at the end is a literal backslash).
fn strip_continuation(line: &str, e: char) -> (String, bool) {
    let t = line.trim_end_matches([' ', '\t']);
    if let Some(body) = t.strip_suffix(e) {
        if body.is_empty() || !body.ends_with(e) {
            return (body.to_string(), true);
        }
    }
    (line.to_string(), false)
}

/// Heredocs exist for the instructions that take file contents or scripts.
fn wants_heredocs(text: &str) -> bool {
    let word = text.split_whitespace().next().unwrap_or("");
    ["RUN", "COPY", "ADD"]
        .iter()
        .any(|k| word.eq_ignore_ascii_case(k))
}

/// A heredoc marker found in an instruction.
#[derive(Debug, Clone)]
struct Marker {
    name: String,
    expand: bool,
    chomp: bool,
    fd: Option<u32>,
}

/// Every `[n]<<[-]WORD` / `<<"WORD"` / `<<'WORD'` word outside quotes.
fn heredoc_markers(text: &str, e: char) -> Vec<Marker> {
    super::words::split_words(text, e)
        .into_iter()
        .filter_map(|w| parse_marker(&w))
        .collect()
}

fn parse_marker(word: &str) -> Option<Marker> {
    let pos = word.find("<<")?;
    let (fd_text, rest) = (&word[..pos], &word[pos + 2..]);
    let fd = if fd_text.is_empty() {
        None
    } else {
        Some(fd_text.parse::<u32>().ok()?)
    };
    let (chomp, rest) = match rest.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    // BuildKit's `^(\d*)<<(-?)\s*([^<]*)$`: the name is the rest of the
    // word, any characters but `<` (`<<robots.txt` is a file name), one
    // shell word once unquoted; any quote in it turns expansion off.
    if rest.contains('<') {
        return None;
    }
    let (name, quoted) = unquote_word(rest);
    let valid = !name.is_empty();
    valid.then(|| Marker {
        name: name.to_string(),
        expand: !quoted,
        chomp,
        fd,
    })
}

/// A shell word with its quotes and backslash escapes removed, and whether
/// it had any quote (BuildKit compares the word lexed with and without
/// quotes for that).
fn unquote_word(word: &str) -> (String, bool) {
    let (mut out, mut quoted, mut quote) = (String::new(), false, None::<char>);
    let mut chars = word.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '"' | '\'') => (quote, quoted) = (Some(c), true),
            (Some(q), _) if c == q => quote = None,
            (Some('\''), _) => out.push(c),
            (_, '\\') => out.extend(chars.next()),
            _ => out.push(c),
        }
    }
    (out, quoted)
}

/// Reads a heredoc body starting at line index `i`; returns it and the index after its delimiter.
fn read_heredoc(lines: &[&str], mut i: usize, m: Marker) -> Result<(Heredoc, usize), String> {
    let mut content = String::new();
    while i < lines.len() {
        let raw = lines[i];
        let line = if m.chomp {
            raw.trim_start_matches('\t')
        } else {
            raw
        };
        i += 1;
        if line == m.name {
            return Ok((
                Heredoc {
                    name: m.name,
                    content,
                    expand: m.expand,
                    chomp: m.chomp,
                    fd: m.fd,
                },
                i,
            ));
        }
        content.push_str(line);
        content.push('\n');
    }
    Err(format!(
        "unterminated here-document: no line {:?} before the end of the file",
        m.name
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(src: &str) -> Vec<String> {
        split(src, "Dockerfile")
            .unwrap()
            .1
            .into_iter()
            .map(|l| l.text)
            .collect()
    }

    #[test]
    fn continuations_and_comments() {
        assert_eq!(texts("RUN a \\\n  b\n"), ["RUN a   b"]);
        assert_eq!(texts("RUN a \\\n\n# c\n b\n"), ["RUN a  b"]);
        assert_eq!(texts("ENV C x\\\\\nENV D y\n"), ["ENV C x\\\\", "ENV D y"]);
        assert_eq!(texts("RUN a \\"), ["RUN a "]);
        assert_eq!(texts("RUN a \\  \nb"), ["RUN a b"]);
    }

    #[test]
    fn directives() {
        let (d, lines) = split(
            "# escape=`\n# syntax = docker/dockerfile:1\nRUN a `\n b\n",
            "Dockerfile",
        )
        .unwrap();
        assert_eq!(
            (d.escape, d.syntax.as_deref()),
            ('`', Some("docker/dockerfile:1"))
        );
        assert_eq!(lines[0].text, "RUN a  b");
        let (d, _) = split("# comment\n# escape=`\nFROM a\n", "Dockerfile").unwrap();
        assert_eq!(d.escape, '\\', "directives must come first");
        assert!(split("# escape=x\nFROM a\n", "Dockerfile").is_err());
        assert!(split("# escape=`\n# escape=\\\nFROM a\n", "Dockerfile").is_err());
    }

    #[test]
    fn heredocs() {
        let src =
            "FROM a\nRUN <<EOF cat >/x && <<-'END' sh\necho $HOME\nEOF\n\tliteral $X\nEND\nRUN b\n";
        let (_, lines) = split(src, "Dockerfile").unwrap();
        assert_eq!(lines.len(), 3);
        let h = &lines[1].heredocs;
        assert_eq!(h.len(), 2);
        assert_eq!(
            (h[0].name.as_str(), h[0].content.as_str(), h[0].expand),
            ("EOF", "echo $HOME\n", true)
        );
        assert_eq!(
            (
                h[1].name.as_str(),
                h[1].content.as_str(),
                h[1].expand,
                h[1].chomp
            ),
            ("END", "literal $X\n", false, true)
        );
        assert_eq!(lines[1].end_line, 6);
        assert_eq!(lines[2].start, Span { line: 7, col: 1 });
        assert!(split("RUN <<EOF\nno end\n", "Dockerfile").is_err());
        let (_, l) = split("COPY 3<<X /a\nx\nX\n", "Dockerfile").unwrap();
        assert_eq!(l[0].heredocs[0].fd, Some(3));
        let (_, l) = split("RUN echo '<<EOF'\n", "Dockerfile").unwrap();
        assert!(l[0].heredocs.is_empty(), "quoted << is not a heredoc");
    }

    /// BuildKit's reference example: heredoc names are file names, dots
    /// and all (`COPY <<robots.txt <<humans.txt /dir/`); part-quoted names
    /// do not expand; `<<<` is not a heredoc.
    #[test]
    fn heredoc_names_are_any_word_without_lt() {
        let src = "COPY <<robots.txt <<\"humans-1.txt\" /html/\nr\nrobots.txt\nh\nhumans-1.txt\n";
        let (_, l) = split(src, "Dockerfile").unwrap();
        let names: Vec<(&str, &str, bool)> = l[0]
            .heredocs
            .iter()
            .map(|h| (h.name.as_str(), h.content.as_str(), h.expand))
            .collect();
        assert_eq!(
            names,
            [("robots.txt", "r\n", true), ("humans-1.txt", "h\n", false)]
        );
        let (_, l) = split("RUN <<E\"O\"F sh\nx\nEOF\n", "Dockerfile").unwrap();
        assert_eq!(
            (l[0].heredocs[0].name.as_str(), l[0].heredocs[0].expand),
            ("EOF", false)
        );
        let (_, l) = split("RUN cat <<<here\n", "Dockerfile").unwrap();
        assert!(l[0].heredocs.is_empty(), "a here-string is not a heredoc");
    }

    #[test]
    fn spans() {
        let (_, l) = split("\n\n   FROM a\nRUN b\n", "Dockerfile").unwrap();
        assert_eq!(l[0].start, Span { line: 3, col: 4 });
        assert_eq!(l[1].start, Span { line: 4, col: 1 });
    }

    #[test]
    fn syntax_names_the_dockerfile_frontend_or_is_refused() {
        for ok in [
            "docker/dockerfile:1",
            "docker/dockerfile:1.7",
            "docker/dockerfile:1.7-labs",
            "docker/dockerfile:labs",
            "docker/dockerfile",
            "docker.io/docker/dockerfile:1",
            "docker/dockerfile-upstream:master",
            "docker/dockerfile:1@sha256:ac85f380a63b13dfcefa89046420e1781752bab202122f8f50032edf31be0021",
        ] {
            assert!(
                split(&format!("# syntax={ok}\nFROM a\n"), "D").is_ok(),
                "{ok}"
            );
        }
        for bad in [
            "tonistiigi/dockerfile:runmount",
            "example.com:5000/docker/dockerfile:1",
            "docker/dockerfile-other:1",
            "earthly/dockerfile:1",
        ] {
            let e = split(&format!("# syntax={bad}\nFROM a\n"), "D")
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(e.starts_with("D:1:1: unsupported frontend"), "{bad}: {e}");
        }
    }
}
