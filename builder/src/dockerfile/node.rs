//! One instruction, parsed the way BuildKit's parser does before any
//! interpretation: keyword, `--flags`, and arguments split by the rule of that
//! instruction (JSON or shell form for RUN/CMD/ENTRYPOINT/SHELL, key/value
//! triples for ENV/LABEL, words for ARG, ...). [`Node::dump`] renders the
//! S-expression BuildKit's parser tests use, which is how we prove the rules
//! match.

use super::error::{SourceError, Span};
use super::lines::{Heredoc, LogicalLine};
use super::quote::go_quote;
use super::words::split_words;

/// The 18 Dockerfile instructions.
pub const INSTRUCTIONS: &[&str] = &[
    "add",
    "arg",
    "cmd",
    "copy",
    "entrypoint",
    "env",
    "expose",
    "from",
    "healthcheck",
    "label",
    "maintainer",
    "onbuild",
    "run",
    "shell",
    "stopsignal",
    "user",
    "volume",
    "workdir",
];

/// A parsed instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Lower-case instruction name (`run`).
    pub keyword: String,
    /// `--name[=value]` flags as written, in order.
    pub flags: Vec<String>,
    /// Arguments, split by the instruction's rule (see the module docs).
    pub args: Vec<String>,
    /// Exec (JSON array) form.
    pub json: bool,
    /// ONBUILD's instruction.
    pub next: Option<Box<Node>>,
    /// Here-documents (RUN/COPY/ADD).
    pub heredocs: Vec<Heredoc>,
    /// Where the instruction starts.
    pub span: Span,
    /// The last source line it covers.
    pub end_line: usize,
    /// The instruction as written, continuations joined.
    pub original: String,
}

/// Why an instruction could not be parsed (positioned by the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeError {
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub hint: Option<String>,
}

impl NodeError {
    fn new(message: impl Into<String>, hint: Option<&str>) -> NodeError {
        NodeError {
            message: message.into(),
            hint: hint.map(str::to_string),
        }
    }
}

impl Node {
    /// BuildKit's parser dump: `(copy ["--from=a"] "src" "dst")`.
    pub fn dump(&self) -> String {
        let mut s = format!("({}", self.keyword);
        if !self.flags.is_empty() {
            let flags: Vec<String> = self.flags.iter().map(|f| go_quote(f)).collect();
            s.push_str(&format!(" [{}]", flags.join(" ")));
        }
        if let Some(next) = &self.next {
            s.push(' ');
            s.push_str(&next.dump());
        }
        for a in &self.args {
            s.push(' ');
            s.push_str(&go_quote(a));
        }
        s.push(')');
        s
    }
}

/// Parses one logical line into a node.
pub fn parse_line(
    line: &LogicalLine,
    escape: char,
    file: &str,
    text: &str,
) -> Result<Node, SourceError> {
    let mut node = parse_instruction(&line.text, escape).map_err(|e| {
        let mut err = SourceError::new(file, line.start, e.message).with_line(text);
        err.hint = e.hint;
        err
    })?;
    node.span = line.start;
    node.end_line = line.end_line;
    node.heredocs = line.heredocs.clone();
    Ok(node)
}

/// Parses `KEYWORD [--flags] args` (also ONBUILD's nested instruction).
fn parse_instruction(text: &str, escape: char) -> Result<Node, NodeError> {
    let trimmed = text.trim_start();
    let (word, rest) = match trimmed.find(char::is_whitespace) {
        Some(i) => (&trimmed[..i], trimmed[i..].trim_start()),
        None => (trimmed, ""),
    };
    let keyword = word.to_ascii_lowercase();
    if !INSTRUCTIONS.contains(&keyword.as_str()) {
        let hint = suggest(&keyword).map(|s| format!("did you mean {}?", s.to_ascii_uppercase()));
        return Err(NodeError {
            message: format!("unknown instruction: {word}"),
            hint: hint.or_else(|| Some("instructions are FROM, RUN, COPY, ADD, ENV, ARG, ... (see the Dockerfile reference)".to_string())),
        });
    }
    let (flags, rest) = extract_flags(rest, escape);
    let mut node = Node {
        keyword: keyword.clone(),
        flags,
        args: Vec::new(),
        json: false,
        next: None,
        heredocs: Vec::new(),
        span: Span::default(),
        end_line: 0,
        original: text.to_string(),
    };
    match keyword.as_str() {
        "run" | "cmd" | "entrypoint" | "shell" => (node.args, node.json) = maybe_json(rest)?,
        "add" | "copy" | "volume" => (node.args, node.json) = maybe_json_list(rest)?,
        "from" | "expose" => node.args = rest.split_whitespace().map(str::to_string).collect(),
        "env" | "label" => node.args = name_values(&keyword, rest, escape)?,
        "arg" => node.args = split_words(rest, escape),
        "maintainer" | "stopsignal" | "user" | "workdir" if !rest.is_empty() => {
            node.args = vec![rest.trim_end().to_string()];
        }
        "healthcheck" => (node.args, node.json) = healthcheck(rest)?,
        "onbuild" => {
            if rest.is_empty() {
                return Err(NodeError::new(
                    "ONBUILD needs an instruction",
                    Some("e.g. ONBUILD RUN make"),
                ));
            }
            let inner = parse_instruction(rest, escape)?;
            if matches!(inner.keyword.as_str(), "onbuild" | "from" | "maintainer") {
                return Err(NodeError::new(
                    format!(
                        "{} isn't allowed as an ONBUILD trigger",
                        inner.keyword.to_ascii_uppercase()
                    ),
                    None,
                ));
            }
            node.next = Some(Box::new(inner));
        }
        _ => {}
    }
    Ok(node)
}

/// Leading `--name[=value]` words; a lone `--` ends them and is dropped.
fn extract_flags(rest: &str, escape: char) -> (Vec<String>, &str) {
    let mut flags = Vec::new();
    let mut remaining = rest;
    loop {
        let t = remaining.trim_start();
        if !t.starts_with("--") {
            return (flags, t);
        }
        // The flag word ends at whitespace outside quotes.
        let word = split_words(t, escape)
            .into_iter()
            .next()
            .unwrap_or_default();
        let len = raw_word_len(t, escape);
        remaining = &t[len..];
        if word == "--" {
            return (flags, remaining.trim_start());
        }
        flags.push(word);
    }
}

/// Byte length of the first raw word of `t` (same rules as [`split_words`]).
fn raw_word_len(t: &str, escape: char) -> usize {
    let mut quote: Option<char> = None;
    let mut it = t.char_indices();
    while let Some((i, c)) = it.next() {
        if c.is_whitespace() && quote.is_none() {
            return i;
        }
        if c == escape {
            it.next();
            continue;
        }
        match quote {
            None if c == '"' || c == '\'' => quote = Some(c),
            Some(q) if c == q => quote = None,
            _ => {}
        }
    }
    t.len()
}

/// JSON array of strings (exec form), else the whole text (shell form). Valid
/// JSON that is not an array of strings is an error, as in BuildKit.
fn maybe_json(rest: &str) -> Result<(Vec<String>, bool), NodeError> {
    let t = rest.trim();
    let parsed = t
        .starts_with('[')
        .then(|| serde_json::from_str::<serde_json::Value>(t).ok())
        .flatten();
    if let Some(serde_json::Value::Array(items)) = parsed {
        let mut out = Vec::new();
        for item in items {
            match item {
                serde_json::Value::String(s) => out.push(s),
                other => {
                    return Err(NodeError::new(
                        format!("only strings are allowed in a JSON array, not {other}"),
                        Some("write the exec form as [\"cmd\", \"arg\", ...]"),
                    ));
                }
            }
        }
        return Ok((out, true));
    }
    if t.is_empty() {
        return Ok((Vec::new(), false));
    }
    Ok((vec![rest.trim_end().to_string()], false))
}

/// JSON array of strings, else whitespace-separated words (COPY, ADD, VOLUME).
fn maybe_json_list(rest: &str) -> Result<(Vec<String>, bool), NodeError> {
    let (args, json) = maybe_json(rest)?;
    if json {
        return Ok((args, true));
    }
    Ok((rest.split_whitespace().map(str::to_string).collect(), false))
}

/// ENV/LABEL: `key value` (legacy, one pair, value is the rest of the line)
/// or `k=v k2="v 2"` (any number of pairs); triples `key value separator`.
fn name_values(keyword: &str, rest: &str, escape: char) -> Result<Vec<String>, NodeError> {
    let upper = keyword.to_ascii_uppercase();
    let words = split_words(rest, escape);
    let Some(first) = words.first() else {
        return Err(NodeError::new(
            format!("{upper} requires at least one argument"),
            Some(&format!("e.g. {upper} name=value")),
        ));
    };
    if !first.contains('=') {
        let mut parts = rest.splitn(2, char::is_whitespace);
        let key = parts.next().unwrap_or_default();
        let value = parts.next().map(str::trim_start).unwrap_or_default();
        if value.is_empty() {
            return Err(NodeError::new(
                format!("{upper} {key} has no value"),
                Some(&format!(
                    "write {upper} {key}=value (or {upper} {key} value)"
                )),
            ));
        }
        return Ok(vec![key.to_string(), value.to_string(), String::new()]);
    }
    let mut out = Vec::new();
    for w in words {
        let Some((k, v)) = w.split_once('=') else {
            return Err(NodeError::new(
                format!("syntax error - can't find = in {w:?}; {upper} takes name=value pairs"),
                Some("quote values that contain spaces: name=\"a b\""),
            ));
        };
        if k.is_empty() {
            return Err(NodeError::new(
                format!("{upper} names can not be blank"),
                None,
            ));
        }
        out.extend([k.to_string(), v.to_string(), "=".to_string()]);
    }
    Ok(out)
}

/// HEALTHCHECK: nothing, `NONE`, `CMD <shell or exec form>`, or another type
/// and its rest; `json` tells whether the CMD was in exec form.
fn healthcheck(rest: &str) -> Result<(Vec<String>, bool), NodeError> {
    let t = rest.trim();
    if t.is_empty() {
        return Ok((Vec::new(), false));
    }
    let (kind, after) = match t.find(char::is_whitespace) {
        Some(i) => (&t[..i], t[i..].trim_start()),
        None => (t, ""),
    };
    let kind = kind.to_ascii_uppercase();
    let mut out = vec![kind.clone()];
    let mut json = false;
    match kind.as_str() {
        "NONE" if !after.is_empty() => {
            return Err(NodeError::new("HEALTHCHECK NONE takes no arguments", None));
        }
        "CMD" => {
            let (args, is_json) = maybe_json(after)?;
            out.extend(args);
            json = is_json;
        }
        _ if !after.is_empty() => out.push(after.to_string()),
        _ => {}
    }
    Ok((out, json))
}

/// The closest instruction name, for "did you mean" hints.
fn suggest(word: &str) -> Option<&'static str> {
    INSTRUCTIONS
        .iter()
        .map(|k| (distance(word, k), *k))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, k)| k)
}

/// Levenshtein distance (short strings only).
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dump(text: &str) -> String {
        match parse_instruction(text, '\\') {
            Ok(n) => n.dump(),
            Err(e) => format!("ERR {}", e.message),
        }
    }

    #[test]
    fn forms() {
        assert_eq!(
            dump("COPY --from=a -- x y"),
            r#"(copy ["--from=a"] "x" "y")"#
        );
        assert_eq!(dump("CMD --doit -- [ ]"), r#"(cmd ["--doit"])"#);
        assert_eq!(dump("CMD ['a']"), r#"(cmd "['a']")"#);
        assert_eq!(
            dump("ENV a=b c=\"d e\""),
            r#"(env "a" "b" "=" "c" "\"d e\"" "=")"#
        );
        assert_eq!(dump("ENV a b c"), r#"(env "a" "b c" "")"#);
        assert_eq!(
            dump("HEALTHCHECK CONNECT TCP 7000"),
            r#"(healthcheck "CONNECT" "TCP 7000")"#
        );
        assert_eq!(dump("ONBUILD RUN [\"a\"]"), r#"(onbuild (run "a"))"#);
        assert_eq!(
            dump("RUN --mount=type=cache,target=\"/a b\" make"),
            r#"(run ["--mount=type=cache,target=\"/a b\""] "make")"#
        );
    }

    #[test]
    fn errors_have_hints() {
        let e = parse_instruction("FORM ubuntu", '\\').unwrap_err();
        assert_eq!(
            (e.message.as_str(), e.hint.as_deref()),
            ("unknown instruction: FORM", Some("did you mean FROM?"))
        );
        assert!(parse_instruction("ENV PATH", '\\').is_err());
        assert!(parse_instruction("ENV a=b c", '\\').is_err());
        assert!(parse_instruction("CMD [ \"echo\", [ \"nested\" ] ]", '\\').is_err());
        assert!(parse_instruction("ONBUILD FROM x", '\\').is_err());
    }
}
