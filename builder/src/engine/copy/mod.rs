//! COPY and ADD, written straight into the step's snapshot (no container):
//! sources from the context (minus `.dockerignore`), a named context, a
//! stage or an image; Docker's rules for globs, directories (their contents
//! are copied) and destinations (a trailing `/`, or several sources, means a
//! directory; relative means under WORKDIR); `--chown`/`--chmod` (octal or
//! symbolic); here-docs; `--parents` ([`parents`]).
//!
//! Owners as in BuildKit: `--chown` for everything, else 0:0 for the build
//! contexts, here-docs, URLs and git sources, and each entry's own owner
//! for a stage or image (`COPY --from`). Directories created on the way to
//! the destination get the `--chown` owner (else root). Hard links within
//! one source stay hard links.
//!
//! ADD of a local tar archive (plain, gzip, bzip2, xz, zstd;
//! [`crate::image::archive`]) unpacks it unless `--unpack=false`; an http(s)
//! URL is written as the file [`super::fetch`] downloaded (mode 0600, the
//! server's time), unpacked only with `--unpack=true`; a git source writes
//! the commit's files ([`super::git`]). `--link` writes the files into an
//! empty layer that does not depend on what is below it.

use std::fs;
use std::path::{Path, PathBuf};

mod dest;
mod parents;
mod paths;
mod remote;
mod unpack;

pub(crate) use dest::Dest;

use super::state::State;
use super::{BuildError, Ctx};
use crate::dockerfile::ignore::IgnoreMatcher;
use crate::exec::users;
use crate::fsutil;
use crate::plan::url::{self, SourceKind};
use crate::plan::{Instance, Op, Source, Step};
use paths::copy_path;
use remote::{write_download, write_git};
use unpack::unpack_archive;

/// One thing a COPY/ADD source resolved to.
enum Matched {
    /// A path under the source root.
    Path(String),
    /// A here-document, by name.
    Heredoc(String),
    /// A downloaded URL.
    Url(String),
    /// A fetched git source.
    Git(String),
    /// A `--parents` source, as written ([`parents`]).
    Parents(String),
}

/// Source paths (relative to the source root) matching one COPY source,
/// minus what `--exclude` leaves out. A context source root is already
/// filtered by its ignore file (see [`super::contexts`]), so a path that
/// only a symlink to an ignored file leads to resolves to nothing here.
fn expand_source(
    root: &Path,
    src: &str,
    excluded: &dyn Fn(&str) -> bool,
) -> Result<Vec<String>, String> {
    let rel = fsutil::source_rel(src)?;
    if !fsutil::has_glob(&rel) {
        let p = fsutil::resolve(root, &rel).map_err(|e| e.to_string())?;
        if fs::symlink_metadata(&p).is_err() || (!rel.is_empty() && excluded(&rel)) {
            return Ok(Vec::new());
        }
        return Ok(vec![rel]);
    }
    Ok(fsutil::expand_glob(root, &rel)
        .into_iter()
        .filter(|p| !excluded(p))
        .collect())
}

/// What the sources of a COPY/ADD resolve to, in order; `true` if any was a
/// wildcard (a wildcard means the destination is a directory).
fn match_sources(
    ctx: &Ctx,
    step: &Step,
    src_root: &Path,
    ignored: &dyn Fn(&str) -> bool,
) -> Result<(Vec<Matched>, bool), String> {
    let Op::Copy {
        add,
        sources,
        from,
        heredocs,
        parents,
        ..
    } = &step.op
    else {
        return Err("internal: not a COPY".to_string());
    };
    let kw = if *add { "ADD" } else { "COPY" };
    let heredoc_names: Vec<&str> = heredocs.iter().map(|h| h.name.as_str()).collect();
    let mut matched: Vec<Matched> = Vec::new();
    let mut wildcard = false;
    for s in sources {
        if let Some(h) = s.strip_prefix("<<").map(|h| {
            h.trim_start_matches('-')
                .trim_matches(|c| c == '"' || c == '\'')
        }) {
            if heredoc_names.contains(&h) {
                matched.push(Matched::Heredoc(h.to_string()));
                continue;
            }
        }
        match url::kind(s, *add) {
            SourceKind::Http if *add => {
                matched.push(Matched::Url(s.clone()));
                continue;
            }
            SourceKind::Git if *add => {
                matched.push(Matched::Git(s.clone()));
                continue;
            }
            _ => {}
        }
        if *parents {
            matched.push(Matched::Parents(s.clone()));
            continue;
        }
        wildcard |= fsutil::has_glob(s);
        let m = expand_source(src_root, s, ignored)?;
        if m.is_empty() {
            let why = match from {
                Source::MainContext => {
                    "not found in the build context (or excluded by .dockerignore)"
                }
                Source::Context(_) => {
                    "not found in the named build context (or excluded by its .dockerignore)"
                }
                _ => "not found",
            };
            return Err(format!("{}: {kw} failed: {s:?}: {why}", ctx.at(step)));
        }
        matched.extend(m.into_iter().map(Matched::Path));
    }
    Ok((matched, wildcard))
}

/// `--chown` resolved in the image being built (for `--link`, in nothing:
/// only numeric ids work), as BuildKit's `readUser` does: a number (or
/// `root`) alone is both uid and gid; a name alone takes its passwd group;
/// a group after `:` is a number, `root` or a name from /etc/group.
fn chown_ids(root: &Path, spec: &str, link: bool) -> Result<(u32, u32), String> {
    let lookup_root = if link {
        PathBuf::from("/nonexistent")
    } else {
        root.to_path_buf()
    };
    let id = |s: &str| {
        if s == "root" {
            Some(0)
        } else {
            s.parse::<u32>().ok()
        }
    };
    let (user, group) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let bad = |e: String| format!("--chown={spec}: {e}");
    let (uid, mut gid) = match id(user) {
        Some(n) => (n, n),
        None => {
            let ids = users::resolve(&lookup_root, user).map_err(bad)?;
            (ids.uid, ids.gid)
        }
    };
    if let Some(g) = group {
        gid = match id(g) {
            Some(n) => n,
            None => {
                users::resolve(&lookup_root, &format!("0:{g}"))
                    .map_err(bad)?
                    .gid
            }
        };
    }
    Ok((uid, gid))
}

/// Runs one COPY/ADD step.
pub(crate) fn copy_step(
    ctx: &Ctx,
    _inst: &Instance,
    step: &Step,
    mut st: State,
) -> Result<State, BuildError> {
    let Op::Copy {
        dest,
        from,
        chown,
        chmod,
        link,
        exclude,
        parents,
        ..
    } = &step.op
    else {
        return Err("internal: not a COPY".into());
    };
    let at = ctx.at(step);
    // Contexts are read from their filtered trees: the main one from the
    // build's, a named directory context from the one the planner was given.
    let view = match from {
        Source::MainContext | Source::Context(_) => None,
        other => Some(ctx.view(&ctx.state_of(other)?, "copy-from")?),
    };
    let src_root: PathBuf = match &view {
        Some(v) => v.path().to_path_buf(),
        None => ctx.context_root(from, &at)?,
    };
    let excludes =
        IgnoreMatcher::from_patterns(&exclude.iter().map(String::as_str).collect::<Vec<_>>())
            .map_err(|e| format!("{at}: --exclude: {e}"))?;
    let ignored = |p: &str| !exclude.is_empty() && excludes.is_excluded(p);
    let (matched, wildcard) = match_sources(ctx, step, &src_root, &ignored)?;
    let chmod = match chmod {
        Some(m) => Some(fsutil::Mode::parse(m).map_err(|e| format!("{at}: {e}"))?),
        None => None,
    };
    let base = if *link { State::default() } else { st.clone() };
    let snap = ctx.prepare(&base, "copy")?;
    let root = snap.path();
    let chown = match chown {
        Some(c) => Some(chown_ids(root, c, *link).map_err(|e| format!("{at}: {e}"))?),
        None => None,
    };
    let cwd = st.config.working_dir.as_deref().unwrap_or("/");
    let abs = if dest.starts_with('/') {
        dest.clone()
    } else {
        format!("{cwd}/{dest}")
    };
    let existing_dir = fsutil::resolve(root, &abs)
        .ok()
        .and_then(|p| fs::metadata(p).ok())
        .is_some_and(|m| m.is_dir());
    let into_dir = dest.ends_with('/')
        || dest.ends_with("/.")
        || dest == "."
        || matched.len() > 1
        || wildcard
        || existing_dir
        || *parents;
    let d = Dest {
        root,
        abs,
        written: dest,
        into_dir,
        chown,
        keep_owner: !matches!(from, Source::MainContext | Source::Context(_)),
        chmod: chmod.as_ref(),
    };
    if into_dir {
        d.dir(ctx.fx).map_err(|e| format!("{at}: {e}"))?;
    } else if let Some(parent) = Path::new(&fsutil::clean_abs(&d.abs)).parent() {
        d.mkdir(ctx.fx, &parent.to_string_lossy())
            .map_err(|e| format!("{at}: {e}"))?;
    }
    for m in &matched {
        write_one(ctx, step, m, &src_root, &d, &excludes)?;
    }
    drop(view);
    let diff = snap.commit()?;
    ctx.commit_upper(&mut st, diff, format!("{} # buildkit", step.text), true)
        .map_err(|e| format!("{at}: {e}"))?;
    Ok(st)
}

/// Writes one matched source to the destination.
fn write_one(
    ctx: &Ctx,
    step: &Step,
    m: &Matched,
    src_root: &Path,
    d: &Dest,
    excludes: &IgnoreMatcher,
) -> Result<(), String> {
    let at = ctx.at(step);
    let Op::Copy {
        add,
        heredocs,
        unpack,
        keep_git_dir,
        ..
    } = &step.op
    else {
        return Err("internal: not a COPY".to_string());
    };
    let kw = if *add { "ADD" } else { "COPY" };
    match m {
        Matched::Url(u) => write_download(ctx, u, d, unpack.unwrap_or(false))
            .map_err(|e| format!("{at}: ADD {}: {e}", url::redact(u))),
        Matched::Git(src) => {
            write_git(ctx, src, d, *keep_git_dir).map_err(|e| format!("{at}: {e}"))
        }
        Matched::Heredoc(name) => {
            let h = heredocs
                .iter()
                .find(|h| &h.name == name)
                .ok_or("internal: heredoc")?;
            let host = fsutil::resolve(d.root, &d.target(name)).map_err(|e| e.to_string())?;
            fs::write(&host, &h.content).map_err(|e| format!("{at}: {e}"))?;
            let (uid, gid) = d.own_fixed().created_owner();
            ctx.fx.lchown(&host, uid, gid).map_err(|e| e.to_string())?;
            use std::os::unix::fs::PermissionsExt;
            let mode = d.chmod.map_or(0o644, |m| m.apply(0o644, false));
            fs::set_permissions(&host, fs::Permissions::from_mode(mode)).map_err(|e| e.to_string())
        }
        Matched::Parents(src) => {
            parents::copy(ctx.fx, src_root, src, d, &|p| excludes.is_excluded(p))
                .map_err(|e| format!("{at}: {kw} --parents {src}: {e}"))
        }
        Matched::Path(rel) => {
            let src = fsutil::resolve(src_root, rel).map_err(|e| e.to_string())?;
            let meta = fs::metadata(&src).map_err(|e| format!("{at}: {rel}: {e}"))?;
            if *add && unpack.unwrap_or(true) && meta.is_file() {
                let dir = d.abs.clone();
                if unpack_archive(ctx, &src, d, &dir)
                    .map_err(|e| format!("{at}: ADD {rel}: {e}"))?
                {
                    return Ok(());
                }
            }
            copy_path(ctx, rel, &src, meta.is_dir(), d, excludes)
                .map_err(|e| format!("{at}: {kw} {e}"))
        }
    }
}
