//! Splitting an instruction's text into words at whitespace outside quotes,
//! keeping quotes and escapes in the words (BuildKit's `parseWords`): ARG,
//! ENV and LABEL arguments and instruction flags are split this way, and are
//! only unquoted later, by the shell-word expansion.

/// The raw words of `text`. The escape character protects the next
/// character from splitting and from opening/closing quotes.
pub fn split_words(text: &str, escape: char) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c.is_whitespace() && quote.is_none() {
            if in_word {
                words.push(std::mem::take(&mut word));
                in_word = false;
            }
            continue;
        }
        in_word = true;
        if c == escape {
            word.push(c);
            if let Some(next) = chars.next() {
                word.push(next);
            }
            continue;
        }
        match quote {
            None if c == '"' || c == '\'' => quote = Some(c),
            Some(q) if c == q => quote = None,
            _ => {}
        }
        word.push(c);
    }
    if in_word {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::split_words;

    #[test]
    fn quotes_and_escapes_stay() {
        assert_eq!(
            split_words(r#"abc="123 456" def"#, '\\'),
            [r#"abc="123 456""#, "def"]
        );
        assert_eq!(split_words(r"a=b\ c d", '\\'), [r"a=b\ c", "d"]);
        assert_eq!(split_words("  x \t y  ", '\\'), ["x", "y"]);
        assert_eq!(split_words("a=b` c", '`'), ["a=b` c"]);
        assert_eq!(split_words(r#"n='a\'b''"#, '\\'), [r#"n='a\'b''"#]);
        assert!(split_words("", '\\').is_empty());
    }
}
