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

/// Classifies a source of ADD (`add`) or COPY as BuildKit's Dockerfile
/// frontend does: schemes are case-sensitive, and only ADD knows git (for
/// COPY, `git@x` is a file of that name).
pub fn kind(src: &str, add: bool) -> SourceKind {
    let http = src.starts_with("http://") || src.starts_with("https://");
    if add {
        let path = src.split(['#', '?']).next().unwrap_or("");
        if src.starts_with("git@")
            || src.starts_with("git://")
            || src.starts_with("ssh://")
            || (http && path.ends_with(".git"))
        {
            return SourceKind::Git;
        }
    }
    if http {
        SourceKind::Http
    } else {
        SourceKind::Path
    }
}

/// `url` with any `user:password@` replaced, for messages and progress.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority = rest.split('/').next().unwrap_or("");
    match authority.rfind('@') {
        Some(at) => format!("{scheme}://xxxxx{}", &rest[at..]),
        None => url.to_string(),
    }
}

/// Why a git source cannot be fetched safely, if so: the reference goes on
/// git's command line, so it may not look like an option.
pub fn check_git(src: &str) -> Result<(), String> {
    let r = git_ref(src);
    if let Some(reference) = &r.reference {
        if reference.starts_with('-')
            || reference.contains("..")
            || reference
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(format!("{reference:?} is not a valid git reference"));
        }
    }
    if let Some(sub) = &r.subdir {
        if sub.split('/').any(|seg| seg == "..") {
            return Err(format!("subdirectory {sub:?} leaves the repository"));
        }
    }
    Ok(())
}

/// `%XX` escapes decoded; an invalid escape is kept as written.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let hex = |c: u8| (c as char).to_digit(16);
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if let (Some(h), Some(l)) = (
                b.get(i + 1).copied().and_then(hex),
                b.get(i + 2).copied().and_then(hex),
            ) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The name a downloaded file gets: the last segment of the URL's path,
/// `__unnamed__` when there is none (BuildKit's names).
pub fn file_name(url: &str) -> String {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let without_query = after_scheme.split(['?', '#']).next().unwrap_or("");
    let path = without_query.split_once('/').map_or("", |(_, p)| p);
    let last = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    let name = percent_decode(last);
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\0']) {
        "__unnamed__".to_string()
    } else {
        name
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
        assert_eq!(kind("https://example.com/a.tar.gz", true), SourceKind::Http);
        assert_eq!(
            kind("https://example.com/a.tar.gz", false),
            SourceKind::Http
        );
        assert_eq!(kind("HTTP://example.com/a", true), SourceKind::Path);
        assert_eq!(
            kind("https://github.com/moby/buildkit.git#v0.12", true),
            SourceKind::Git
        );
        assert_eq!(
            kind("git@github.com:moby/buildkit.git", true),
            SourceKind::Git
        );
        assert_eq!(
            kind("git@github.com:moby/buildkit.git", false),
            SourceKind::Path
        );
        assert_eq!(kind("git://example.com/r", true), SourceKind::Git);
        assert_eq!(kind("src/http://x", true), SourceKind::Path);
        assert_eq!(kind("./a", true), SourceKind::Path);
    }

    #[test]
    fn redaction_and_git_checks() {
        assert_eq!(
            redact("https://me:tok@example.com/a@b"),
            "https://xxxxx@example.com/a@b"
        );
        assert_eq!(redact("https://example.com/a@b"), "https://example.com/a@b");
        assert_eq!(redact("git@github.com:x/y.git"), "git@github.com:x/y.git");
        assert!(check_git("https://h/r.git#v1:sub").is_ok());
        assert!(check_git("https://h/r.git#--upload-pack=touch /x").is_err());
        assert!(check_git("https://h/r.git#main:../../etc").is_err());
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
        assert_eq!(file_name("https://h/my%20file.txt"), "my file.txt");
        assert_eq!(file_name("https://h/a%2Fb"), "__unnamed__");
        assert_eq!(file_name("https://h/100%"), "100%");
    }
}
