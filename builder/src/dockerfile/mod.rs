//! The Dockerfile front end: text to instructions with source spans, BuildKit's
//! shell-word expansion, and `.dockerignore` matching. Nothing here knows about
//! platforms, images or execution.

pub mod error;
pub mod expand;
pub mod ignore;
pub mod instruction;
pub mod lines;
pub mod mount;
pub mod node;
pub mod quote;
pub mod words;

pub use error::{SourceError, Span};
pub use lines::{Directives, Heredoc};
pub use node::Node;

/// A parsed Dockerfile: its directives and instructions, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dockerfile {
    /// File name for messages (`Dockerfile`, `build/app.Dockerfile`).
    pub file: String,
    /// The full text (for error snippets).
    pub text: String,
    /// `# syntax`, `# escape`, `# check`.
    pub directives: Directives,
    /// The instructions.
    pub nodes: Vec<Node>,
}

/// Parses Dockerfile text. `file` names it in error messages.
pub fn parse(text: &str, file: &str) -> Result<Dockerfile, SourceError> {
    let (directives, logical) = lines::split(text, file)?;
    let mut nodes = Vec::with_capacity(logical.len());
    for line in &logical {
        nodes.push(node::parse_line(line, directives.escape, file, text)?);
    }
    if nodes.is_empty() {
        let last = text.lines().count().max(1);
        return Err(SourceError::new(
            file,
            Span { line: last, col: 1 },
            "the Dockerfile has no instructions",
        )
        .hint("a Dockerfile starts with FROM <image> (or FROM scratch)"));
    }
    Ok(Dockerfile {
        file: file.to_string(),
        text: text.to_string(),
        directives,
        nodes,
    })
}
