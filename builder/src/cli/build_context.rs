//! Where `mxbuild build` takes its context and Dockerfile from, as buildx:
//! a directory; `-` (stdin: a tar archive, plain or compressed, is the
//! context; anything else is the Dockerfile, with an empty context); a git
//! URL (`https://host/repo.git#ref:subdir`, `git@host:repo`, `ssh://`,
//! `git://`), fetched with the same code as `ADD <git URL>`; an http(s)
//! URL of a tar archive (or of a Dockerfile); and `-f -` (the Dockerfile
//! from stdin). What is not a directory is unpacked into a scratch
//! directory of the store, removed when the build ends.
//!
//! A tar context is untrusted: it is unpacked with the same checks as an
//! image layer (no name escapes the directory, no device nodes).

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::engine::snapshot::Scratch;
use crate::engine::{fetch, git};
use crate::image::{archive, extract};
use crate::plan::url::{self, SourceKind};
use crate::store::Store;

/// The context directory and Dockerfile of a build; `_scratch` holds
/// what was unpacked or downloaded, removed on drop.
#[derive(Debug)]
pub struct Source {
    /// The context directory.
    pub context: PathBuf,
    /// The Dockerfile.
    pub dockerfile: PathBuf,
    /// How messages name a Dockerfile that is not the user's file:
    /// `Dockerfile` from stdin, `URL#…:path` in a remote context.
    pub name: Option<String>,
    _scratch: Option<Scratch>,
}

/// What the context argument names.
#[derive(Debug, PartialEq, Eq)]
enum Kind {
    Dir,
    Stdin,
    Git,
    Http,
}

fn kind(arg: &str) -> Kind {
    if arg == "-" {
        return Kind::Stdin;
    }
    match url::kind(arg, true) {
        SourceKind::Git => Kind::Git,
        SourceKind::Http => Kind::Http,
        SourceKind::Path => Kind::Dir,
    }
}

/// Resolves the context argument and `-f` into directories and files.
/// `agent` is the `--ssh default` socket, for `git@` remotes.
pub fn resolve(
    store: &Store,
    arg: &str,
    file: Option<&Path>,
    agent: Option<&Path>,
    progress: &mut dyn FnMut(&str),
) -> Result<Source, String> {
    let stdin_file = file.is_some_and(|f| f == Path::new("-"));
    let k = kind(arg);
    if k == Kind::Dir && !stdin_file {
        return local(arg, file);
    }
    if k == Kind::Stdin && stdin_file {
        return Err("-f - and a context of - both read stdin\nhint: pass the context as a directory or URL, or the Dockerfile as a file".to_string());
    }
    let scratch = Scratch::new(store, "context")?;
    let ctx_dir = scratch.0.join("context");
    std::fs::create_dir_all(&ctx_dir).map_err(|e| format!("{}: {e}", ctx_dir.display()))?;
    // A Dockerfile that came as the "context" (stdin or URL not an archive).
    let mut loose_dockerfile = None;
    let context = match k {
        Kind::Dir => dir_arg(arg)?,
        Kind::Stdin => {
            let got = scratch.0.join("stdin");
            save_stdin(&got)?;
            if !unpack_if_archive(&got, &ctx_dir).map_err(|e| format!("context from stdin: {e}"))? {
                loose_dockerfile = Some(got);
            }
            ctx_dir
        }
        Kind::Git => {
            url::check_git(arg).map_err(|e| format!("context {}: {e}", url::redact(arg)))?;
            let wanted = [git::Wanted {
                source: arg.to_string(),
                at: "build context".to_string(),
            }];
            let commits = git::fetch(store, &wanted, agent, progress)?;
            let commit = commits
                .get(arg)
                .ok_or("internal: the git context was not fetched")?;
            let tree = scratch.0.join("git");
            git::export(store, arg, commit, &scratch.0, &tree)
                .map_err(|e| format!("context {}: {e}", url::redact(arg)))?;
            tree
        }
        Kind::Http => {
            let wanted = [fetch::Wanted {
                url: arg.to_string(),
                checks: vec![(None, "build context".to_string())],
            }];
            let got = fetch::fetch(store, &wanted, progress)?;
            let info = got
                .get(arg)
                .ok_or("internal: the context was not downloaded")?;
            let digest: crate::store::digest::Digest = info.digest.parse()?;
            let blob = store.blobs.path(&digest);
            if !unpack_if_archive(&blob, &ctx_dir)
                .map_err(|e| format!("context {}: {e}", url::redact(arg)))?
            {
                loose_dockerfile = Some(blob);
            }
            ctx_dir
        }
    };
    let mut name = Some("Dockerfile".to_string());
    let dockerfile = if stdin_file {
        let f = scratch.0.join("Dockerfile.stdin");
        save_stdin(&f)?;
        f
    } else if let Some(f) = loose_dockerfile {
        if file.is_some() {
            return Err(format!(
                "the context {} is a Dockerfile, not an archive, so -f cannot name a file in it\nhint: drop -f",
                if arg == "-" {
                    "from stdin".to_string()
                } else {
                    url::redact(arg)
                }
            ));
        }
        f
    } else {
        // As buildx: with a remote context, -f names a file inside it.
        let rel = file.unwrap_or(Path::new("Dockerfile"));
        let inside = crate::fsutil::resolve(&context, &rel.to_string_lossy())
            .map_err(|e| format!("-f {}: {e}", rel.display()))?;
        if !inside.is_file() {
            return Err(format!(
                "{} has no {}\nhint: -f names the Dockerfile's path inside a remote context",
                if arg == "-" {
                    "the context from stdin".to_string()
                } else {
                    url::redact(arg)
                },
                rel.display()
            ));
        }
        name = Some(rel.display().to_string());
        inside
    };
    Ok(Source {
        context,
        dockerfile,
        name,
        _scratch: Some(scratch),
    })
}

/// A local directory context and its Dockerfile (`-f`, else `CONTEXT/Dockerfile`).
fn local(arg: &str, file: Option<&Path>) -> Result<Source, String> {
    let context = dir_arg(arg)?;
    Ok(Source {
        dockerfile: file
            .map(Path::to_path_buf)
            .unwrap_or_else(|| Path::new(arg).join("Dockerfile")),
        context,
        name: None,
        _scratch: None,
    })
}

/// The context directory, absolute.
fn dir_arg(arg: &str) -> Result<PathBuf, String> {
    let context = Path::new(arg).canonicalize().map_err(|e| {
        format!("build context {arg}: {e}\nhint: the last argument is the context: a directory (e.g. `.`), `-` for stdin, or a git or https URL")
    })?;
    if !context.is_dir() {
        return Err(format!("build context {arg} is not a directory"));
    }
    Ok(context)
}

/// Copies stdin into `to`.
fn save_stdin(to: &Path) -> Result<(), String> {
    let mut f = std::fs::File::create(to).map_err(|e| format!("{}: {e}", to.display()))?;
    let mut input = std::io::stdin().lock();
    std::io::copy(&mut input, &mut f).map_err(|e| format!("reading stdin: {e}"))?;
    Ok(())
}

/// Unpacks `file` into `dir` if it is a tar archive (plain, gzip, bzip2,
/// xz or zstd, as BuildKit's context detection); false if it is not one.
fn unpack_if_archive(file: &Path, dir: &Path) -> Result<bool, String> {
    let Some(reader) = archive::open(file).map_err(|e| e.to_string())? else {
        return Ok(false);
    };
    let reader: Box<dyn Read + Send> = reader;
    extract::apply(reader, dir, extract::Mode::Archive, None).map_err(|e| e.to_string())?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_kinds() {
        assert_eq!(kind("-"), Kind::Stdin);
        assert_eq!(kind("."), Kind::Dir);
        assert_eq!(kind("https://example.com/r.git#main:sub"), Kind::Git);
        assert_eq!(kind("git@example.com:r"), Kind::Git);
        assert_eq!(kind("https://example.com/ctx.tar.gz"), Kind::Http);
    }
}
