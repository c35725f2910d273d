//! Rules and settings that come from the Dockerfile's text around the
//! instructions: the comments right above each instruction (BuildKit's
//! `PrevComment`: a `# check=` there applies to that instruction, and
//! InvalidDefinitionDescription reads them) and NoEmptyContinuation
//! (parser.go's `hasEmptyContinuationLine`).

use super::warn;
use crate::dockerfile::{Dockerfile, Node};
use crate::plan::Warning;

/// For each node, the comments between the previous instruction and it,
/// as BuildKit's parser collects them: `#` alone clears them, blank lines
/// do not, and the parser directives at the top are not comments.
pub(super) fn prev_comments(df: &Dockerfile) -> Vec<Vec<String>> {
    let lines: Vec<&str> = df.text.lines().collect();
    let mut start = 0;
    // The leading directives (`# syntax=`, `# escape=`, `# check=`).
    while let Some(l) = lines.get(start) {
        let Some(body) = l.trim_start().strip_prefix('#') else {
            break;
        };
        let key = body.split('=').next().unwrap_or_default().trim();
        let is_directive = body.contains('=')
            && ["syntax", "escape", "check"]
                .iter()
                .any(|d| key.eq_ignore_ascii_case(d));
        if !is_directive {
            break;
        }
        start += 1;
    }
    let mut out = Vec::with_capacity(df.nodes.len());
    for node in &df.nodes {
        let mut comments = Vec::new();
        let end = node.span.line.saturating_sub(1).min(lines.len());
        for l in lines.get(start..end).unwrap_or_default() {
            if let Some(c) = l.trim_start().strip_prefix('#') {
                let c = c.trim();
                if c.is_empty() {
                    comments.clear();
                } else {
                    comments.push(c.to_string());
                }
            }
        }
        start = node.end_line.max(start);
        out.push(comments);
    }
    out
}

/// NoEmptyContinuation: a blank line inside an instruction continued with
/// the escape character, reported at the instruction's last line.
pub(super) fn empty_continuation(df: &Dockerfile, out: &mut Vec<Warning>) {
    let lines: Vec<&str> = df.text.lines().collect();
    let escape = df.directives.escape;
    let continues = |l: &str| l.trim_end().ends_with(escape);
    for node in &df.nodes {
        let mut i = node.span.line.saturating_sub(1);
        let Some(first) = lines.get(i) else { continue };
        let (mut more, mut empty) = (continues(first), false);
        while more && i + 1 < lines.len() {
            i += 1;
            let l = lines[i].trim_start();
            if l.starts_with('#') {
                continue;
            }
            if l.is_empty() {
                empty = true;
                continue;
            }
            more = continues(l);
        }
        if empty {
            let span = crate::dockerfile::Span {
                line: i + 1,
                col: 1,
            };
            warn(
                out,
                span,
                "NoEmptyContinuation",
                "Empty continuation line".to_string(),
                "remove the blank line, or end the instruction before it",
            );
        }
    }
}

/// InvalidDefinitionDescription (experimental): the comment right above
/// `ARG` or `FROM … AS name` does not start with the name it describes.
pub(super) fn definition_descriptions(
    df: &Dockerfile,
    comments: &[Vec<String>],
    out: &mut Vec<Warning>,
) {
    for (node, prev) in df.nodes.iter().zip(comments) {
        let Some(last) = prev.last() else { continue };
        let (instruction, keys) = match node.keyword.as_str() {
            "arg" => ("ARG", arg_keys(node)),
            "from" if node.args.len() == 3 => ("FROM", vec![node.args[2].to_lowercase()]),
            _ => continue,
        };
        let first = last.split(' ').next().unwrap_or_default();
        if keys.is_empty() || keys.iter().any(|k| k == first) {
            continue;
        }
        let example = if keys.len() > 1 {
            "<arg_key>"
        } else {
            &keys[0]
        };
        warn(
            out,
            node.span,
            "InvalidDefinitionDescription",
            format!(
                "Comment for {instruction} should follow the format: `# {example} <description>`"
            ),
            "start the comment with the name, or put an empty line or `#` between",
        );
    }
}

fn arg_keys(node: &Node) -> Vec<String> {
    node.args
        .iter()
        .map(|a| a.split('=').next().unwrap_or_default().to_string())
        .collect()
}
