//! COPY/ADD sources that are URLs. `ADD https://…` downloads a file, as in
//! BuildKit: it is named after the last segment of the URL's path, written
//! with mode 0600 and the server's `Last-Modified` time, and never
//! extracted. The content is fetched before planning (the caller passes
//! what it got in [`super::Options::urls`]), so the step's cache key holds
//! the content digest and a changed download invalidates the step.
//! `ADD <git URL>` (`https://host/repo.git#ref:subdir`, `git@host:repo`)
//! copies the repository's files at `ref` (default: the remote's HEAD);
//! the resolved commit goes into the key, see [`GitRef`].

use serde::Serialize;

/// What a COPY/ADD source string names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// A path in the context, a stage or a named context.
    Path,
    /// An `http://` or `https://` file.
    Http,
    /// A git repository (`git@host:…`, `git://…`, `https://….git`).
    Git,
}

/// Classifies a source as BuildKit's Dockerfile frontend does.
pub fn kind(src: &str) -> SourceKind {
    let lower = src.to_ascii_lowercase();
    if lower.starts_with("git@") || lower.starts_with("git://") || lower.starts_with("ssh://") {
        return SourceKind::Git;
    }
    if lower.starts_with("http://") || lower.starts_with("https://") {
        let path = lower.split(['#', '?']).next().unwrap_or("");
        if path.ends_with(".git") {
            return SourceKind::Git;
        }
        return SourceKind::Http;
    }
    SourceKind::Path
}

/// The name a downloaded file gets: the last segment of the URL's path,
/// `__unnamed__` when there is none (BuildKit's names).
pub fn file_name(url: &str) -> String {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let without_query = after_scheme.split(['?', '#']).next().unwrap_or("");
    let path = without_query.split_once('/').map_or("", |(_, p)| p);
    match path.trim_end_matches('/').rsplit('/').next() {
        Some(last) if !last.is_empty() && last != "." && last != ".." => last.to_string(),
        _ => "__unnamed__".to_string(),
    }
}

/// A git source split as BuildKit reads it: `REMOTE#REF:SUBDIR`, both parts
/// of the fragment optional.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitRef {
    /// What `git fetch` is given.
    pub remote: String,
    /// Branch, tag or commit; `None` for the remote's HEAD.
    pub reference: Option<String>,
    /// A directory of the repository to copy instead of all of it.
    pub subdir: Option<String>,
}

/// Splits a git source.
pub fn git_ref(src: &str) -> GitRef {
    let (remote, fragment) = src.split_once('#').unwrap_or((src, ""));
    let (reference, subdir) = fragment.split_once(':').unwrap_or((fragment, ""));
    let some = |s: &str| {
        let s = s.trim_matches('/');
        (!s.is_empty()).then(|| s.to_string())
    };
    GitRef {
        remote: remote.to_string(),
        reference: some(reference),
        subdir: some(subdir),
    }
}

/// A downloaded URL, as the planner keys it and COPY writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UrlInfo {
    /// `sha256:…` of the content (a blob in the store).
    pub digest: String,
    /// The server's `Last-Modified`, as seconds since the epoch.
    pub mtime: Option<i64>,
}

impl UrlInfo {
    /// Key material: what makes the resulting file differ.
    pub fn key(&self) -> String {
        match self.mtime {
            Some(t) => format!("{} mtime={t}", self.digest),
            None => self.digest.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(kind("https://example.com/a.tar.gz"), SourceKind::Http);
        assert_eq!(kind("HTTP://example.com/a"), SourceKind::Http);
        assert_eq!(
            kind("https://github.com/moby/buildkit.git#v0.12"),
            SourceKind::Git
        );
        assert_eq!(kind("git@github.com:moby/buildkit.git"), SourceKind::Git);
        assert_eq!(kind("git://example.com/r"), SourceKind::Git);
        assert_eq!(kind("src/http://x"), SourceKind::Path);
        assert_eq!(kind("./a"), SourceKind::Path);
    }

    #[test]
    fn git_refs() {
        assert_eq!(
            git_ref("https://h/r.git#v1.2:docs/api/"),
            GitRef {
                remote: "https://h/r.git".into(),
                reference: Some("v1.2".into()),
                subdir: Some("docs/api".into()),
            }
        );
        let plain = git_ref("git@github.com:moby/buildkit.git");
        assert_eq!(plain.remote, "git@github.com:moby/buildkit.git");
        assert_eq!((plain.reference, plain.subdir), (None, None));
        let sub_only = git_ref("https://h/r.git#:sub");
        assert_eq!(
            (sub_only.reference, sub_only.subdir),
            (None, Some("sub".into()))
        );
    }

    #[test]
    fn names() {
        assert_eq!(
            file_name("https://example.com/dir/tool-1.2.tar.gz"),
            "tool-1.2.tar.gz"
        );
        assert_eq!(file_name("https://example.com/dir/file?x=1#f"), "file");
        assert_eq!(file_name("https://example.com/dir/"), "dir");
        assert_eq!(file_name("https://example.com"), "__unnamed__");
        assert_eq!(file_name("https://example.com/"), "__unnamed__");
        assert_eq!(file_name("http://127.0.0.1:8080/.."), "__unnamed__");
    }
}
