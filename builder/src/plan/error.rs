//! What planning fails with. A Dockerfile problem keeps the front end's
//! rendering (`file:line:col: message`, the line with a caret, the hint) and
//! adds the platform it was planned for, when one was; a resolver failure
//! (an image not in the store, a download that failed) arrives as the
//! finished message the store side wrote. Either way the text printed is
//! exactly what it was before errors were typed, so `cli` renders it as is.

use crate::dockerfile::{SourceError, Span};

/// A failed plan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// Something in the Dockerfile (or a base image's ONBUILD trigger).
    #[error("{error}")]
    Dockerfile {
        /// File, position, message, hint and source line (boxed: errors
        /// travel through every planning call's `Result`).
        error: Box<SourceError>,
        /// The target platform being planned, when the error belongs to one.
        platform: Option<String>,
    },
    /// The [`super::Resolver`] could not give what a step needs; the
    /// message is complete (location and hint included).
    #[error("{0}")]
    Resolver(String),
}

impl PlanError {
    /// Where in which file, for a Dockerfile error.
    pub fn location(&self) -> Option<(&str, Span)> {
        match self {
            PlanError::Dockerfile { error, .. } => Some((&error.file, error.span)),
            PlanError::Resolver(_) => None,
        }
    }

    /// What to do about it, when the error says.
    pub fn hint(&self) -> Option<&str> {
        match self {
            PlanError::Dockerfile { error, .. } => error.hint.as_deref(),
            PlanError::Resolver(_) => None,
        }
    }

    /// The target platform the error happened for, when known.
    pub fn platform(&self) -> Option<&str> {
        match self {
            PlanError::Dockerfile { platform, .. } => platform.as_deref(),
            PlanError::Resolver(_) => None,
        }
    }

    /// The same error, tied to target platform `p` unless it already is.
    pub(crate) fn for_platform(self, p: &xx::Platform) -> PlanError {
        match self {
            PlanError::Dockerfile {
                error,
                platform: None,
            } => PlanError::Dockerfile {
                error,
                platform: Some(p.to_string()),
            },
            other => other,
        }
    }
}

impl From<SourceError> for PlanError {
    fn from(error: SourceError) -> Self {
        PlanError::Dockerfile {
            error: Box::new(error),
            platform: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_the_source_error_it_wraps() {
        let e = SourceError::new("Dockerfile", Span { line: 2, col: 1 }, "bad")
            .hint("fix it")
            .with_line("FROM x\nRUN y\n");
        let shown = e.to_string();
        let p = PlanError::from(e).for_platform(&"linux/arm64".parse().unwrap());
        assert_eq!(p.to_string(), shown);
        assert_eq!(p.platform(), Some("linux/arm64"));
        assert_eq!(p.hint(), Some("fix it"));
        assert_eq!(
            p.location().map(|(f, s)| (f, s.line)),
            Some(("Dockerfile", 2))
        );
        assert_eq!(
            PlanError::Resolver("x\nhint: y".into()).to_string(),
            "x\nhint: y"
        );
    }
}
