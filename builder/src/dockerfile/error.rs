//! Errors that point into a Dockerfile: `Dockerfile:12:5: message`, the source
//! line and a caret, then a hint of what to do. Every front-end error uses it.

use std::fmt;

/// A position in a source file, 1-based like editors show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Span {
    /// Line number (1-based).
    pub line: usize,
    /// Column (1-based, in characters).
    pub col: usize,
}

/// An error at a place in a Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceError {
    /// File name as the user gave it (`Dockerfile`, `build/app.Dockerfile`).
    pub file: String,
    /// Where the problem is.
    pub span: Span,
    /// What is wrong.
    pub message: String,
    /// What to do about it, if we know.
    pub hint: Option<String>,
    /// The source line, for the caret display.
    pub source_line: Option<String>,
}

impl SourceError {
    /// An error at `span` in `file`; attach the line with [`SourceError::with_line`].
    pub fn new(file: &str, span: Span, message: impl Into<String>) -> SourceError {
        SourceError {
            file: file.to_string(),
            span,
            message: message.into(),
            hint: None,
            source_line: None,
        }
    }

    /// Adds a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> SourceError {
        self.hint = Some(hint.into());
        self
    }

    /// Adds the source line the span points into.
    pub fn with_line(mut self, text: &str) -> SourceError {
        self.source_line = text
            .lines()
            .nth(self.span.line.saturating_sub(1))
            .map(str::to_string);
        self
    }
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.span.line, self.span.col, self.message
        )?;
        if let Some(line) = &self.source_line {
            let num = self.span.line.to_string();
            let pad = " ".repeat(num.len());
            let caret_pad: String = line
                .chars()
                .take(self.span.col.saturating_sub(1))
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            write!(f, "\n {num} | {line}\n {pad} | {caret_pad}^")?;
        }
        if let Some(h) = &self.hint {
            write!(f, "\nhint: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SourceError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_with_caret_and_hint() {
        let text = "FROM scratch\nFORM ubuntu\n";
        let e = SourceError::new(
            "Dockerfile",
            Span { line: 2, col: 1 },
            "unknown instruction: FORM",
        )
        .hint("did you mean FROM?")
        .with_line(text);
        assert_eq!(
            e.to_string(),
            "Dockerfile:2:1: unknown instruction: FORM\n 2 | FORM ubuntu\n   | ^\nhint: did you mean FROM?"
        );
    }
}
