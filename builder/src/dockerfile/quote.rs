//! Go's `%q` string quoting, which BuildKit's parser test data uses for every
//! argument. Rendering our AST in exactly that form is how the conformance
//! tests compare us with BuildKit.

/// `s` quoted as Go's `strconv.Quote` does: `"`, `\` and control characters
/// escaped (`\n`, `\t`, `\x00`, ...), printable Unicode kept as is.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if c.is_control() || is_unprintable(c) => {
                if (c as u32) <= 0xffff {
                    out.push_str(&format!("\\u{:04x}", c as u32));
                } else {
                    out.push_str(&format!("\\U{:08x}", c as u32));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Characters Go does not print literally beyond the ASCII controls: the C1
/// controls, the Unicode line/paragraph separators and the BOM-like formats.
fn is_unprintable(c: char) -> bool {
    matches!(c as u32, 0x80..=0x9f | 0x2028 | 0x2029 | 0xfeff | 0xad)
}

#[cfg(test)]
mod tests {
    use super::go_quote;

    #[test]
    fn like_go() {
        assert_eq!(go_quote("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(
            go_quote("\" \\ / \u{8} \u{c} \n \r \t \0"),
            r#""\" \\ / \b \f \n \r \t \x00""#
        );
        assert_eq!(go_quote("♥☃한국어"), "\"♥☃한국어\"");
    }
}
