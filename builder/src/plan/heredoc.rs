//! Variables in a COPY here-document, expanded the way BuildKit does: only
//! `$NAME`, `${NAME}` and `${NAME<modifier>}` change, quotes are kept, an
//! escaped `\$` stays a dollar sign, and a `${…}` that does not expand is
//! left as written (a here-document is file content, not a shell word).

use super::scope::Scope;

/// Expands variables in a COPY here-document the way BuildKit does
/// (quotes are kept: only `$NAME`, `${NAME}` and `${NAME<modifier>}` change;
/// an escaped `\$` stays a dollar sign).
pub(super) fn expand(scope: &Scope, content: &str, escape: char) -> String {
    let chars: Vec<char> = content.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == escape && chars.get(i + 1) == Some(&'$') {
            out.push('$');
            i += 2;
            continue;
        }
        if c == '$' {
            if chars.get(i + 1) == Some(&'{') {
                if let Some(end) = chars[i..].iter().position(|&c| c == '}') {
                    let word: String = chars[i..=i + end].iter().collect();
                    match scope.expand(&word, escape) {
                        Ok(v) => out.push_str(&v.text),
                        Err(_) => out.push_str(&word),
                    }
                    i += end + 1;
                    continue;
                }
            }
            let name: String = chars[i + 1..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
                .collect();
            if !name.is_empty() {
                out.push_str(&scope.get(&name).unwrap_or_default());
                i += 1 + name.chars().count();
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    out
}
