//! CopyIgnoredFile: a COPY/ADD from the build context names a path its
//! `.dockerignore` leaves out (BuildKit's `validateCopySourcePath`). As in
//! BuildKit, nothing is checked when the ignore file has exceptions (`!`):
//! whether an excluded directory's file is re-included cannot be told from
//! the patterns alone. The context root (`.`) counts only when a pattern
//! leaves out everything (`*`, `**`, `**/*`).

use super::warn;
use crate::dockerfile::Span;
use crate::dockerfile::ignore::IgnoreMatcher;
use crate::plan::Warning;

/// The findings for the context sources `srcs` of one COPY (`add`: ADD).
pub fn check(matcher: &IgnoreMatcher, srcs: &[String], add: bool, span: Span) -> Vec<Warning> {
    let mut out = Vec::new();
    if matcher.has_exceptions() {
        return out;
    }
    let cmd = if add { "Add" } else { "Copy" };
    for src in srcs {
        let clean = clean(src);
        let root = clean == "." || clean == "/";
        let ignored = if root {
            matcher
                .patterns()
                .iter()
                .any(|p| matches!(p.as_str(), "*" | "**" | "**/*"))
        } else {
            matcher.is_excluded(&clean)
        };
        if ignored {
            warn(
                &mut out,
                span,
                "CopyIgnoredFile",
                format!("Attempting to {cmd} file {clean:?} that is excluded by .dockerignore"),
                "remove the pattern from .dockerignore, or do not copy the path",
            );
        }
    }
    out
}

/// Go's `filepath.Clean` for `/`-separated paths.
fn clean(p: &str) -> String {
    let abs = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !abs {
                    parts.push("..");
                }
            }
            c => parts.push(c),
        }
    }
    let joined = parts.join("/");
    match (abs, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span() -> Span {
        Span { line: 3, col: 1 }
    }

    #[test]
    fn names_ignored_sources_as_buildkit() {
        let m = IgnoreMatcher::parse("secret.txt\nbuild/\n").unwrap();
        let w = check(
            &m,
            &["./secret.txt".into(), "build/out".into(), "src".into()],
            false,
            span(),
        );
        assert_eq!(w.len(), 2);
        assert_eq!(
            w[0].message,
            "Attempting to Copy file \"secret.txt\" that is excluded by .dockerignore"
        );
        assert_eq!(w[1].code, "CopyIgnoredFile");
        assert!(check(&m, &[".".into()], true, span()).is_empty());
        let all = IgnoreMatcher::parse("*\n").unwrap();
        let w = check(&all, &[".".into()], true, span());
        assert_eq!(
            w[0].message,
            "Attempting to Add file \".\" that is excluded by .dockerignore"
        );
        // Exceptions: nothing is checked, as in BuildKit.
        let ex = IgnoreMatcher::parse("secret.txt\n!keep\n").unwrap();
        assert!(check(&ex, &["secret.txt".into()], false, span()).is_empty());
    }

    #[test]
    fn cleans_like_go() {
        assert_eq!(clean("./a//b/"), "a/b");
        assert_eq!(clean("/"), "/");
        assert_eq!(clean("./"), ".");
        assert_eq!(clean("a/../.."), "..");
    }
}
