//! COPY and ADD, written straight into the step's snapshot (no container):
//! sources from the context (minus `.dockerignore`), a named context, a
//! stage or an image; Docker's rules for globs, directories (their contents
//! are copied) and destinations (a trailing `/`, or several sources, means a
//! directory; relative means under WORKDIR); `--chown`/`--chmod`; here-docs;
//! ADD of a local tar archive extracts it; ADD of a git source writes the
//! commit's files ([`super::git`]); ADD of an http(s) URL writes the
//! file [`super::fetch`] downloaded (mode 0600, the server's time, never
//! extracted). `--link` writes the files into an empty layer that does not
//! depend on what is below it.

use std::fs;
use std::path::{Path, PathBuf};

use super::snapshot::Scratch;
use super::state::State;
use super::{BuildError, Ctx};
use crate::dockerfile::ignore::IgnoreMatcher;
use crate::exec::users;
use crate::fsutil::{self, Pick};
use crate::image::compress::Compression;
use crate::image::extract;
use crate::plan::url::{self, SourceKind};
use crate::plan::{Instance, Op, Source, Step};

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

fn is_archive(path: &Path) -> bool {
    let Ok(mut f) = fs::File::open(path) else {
        return false;
    };
    let mut head = [0u8; 512];
    let n = std::io::Read::read(&mut f, &mut head).unwrap_or(0);
    match Compression::sniff(&head[..n]) {
        Compression::Gzip | Compression::Zstd => true,
        // An uncompressed tar has "ustar" at offset 257.
        Compression::None => n >= 262 && &head[257..262] == b"ustar",
    }
}

/// Where one COPY/ADD writes, and as whom.
struct Dest<'a> {
    /// The filesystem being written (the step's snapshot).
    root: &'a Path,
    /// The destination, absolute.
    abs: String,
    /// The destination as written (for messages).
    written: &'a str,
    /// Whether sources go into it as a directory.
    into_dir: bool,
    own: fsutil::Ownership,
}

impl Dest<'_> {
    /// Where a source named `name` lands.
    fn target(&self, name: &str) -> String {
        if self.into_dir {
            format!("{}/{name}", self.abs)
        } else {
            self.abs.clone()
        }
    }

    /// The destination directory (created with the owner) as a host path.
    fn dir(&self, fx: &dyn fsutil::FileOps) -> Result<PathBuf, String> {
        fsutil::mkdir_all(fx, self.root, &self.abs, self.own.uid, self.own.gid)
            .map_err(|e| format!("{}: {e}", self.written))
    }
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

/// The owner of what is copied: `--chown` resolved in the image being built
/// (for `--link`, in nothing: only numeric ids work), else root.
fn owner(root: &Path, chown: &Option<String>, link: bool) -> Result<(u32, u32), String> {
    match chown {
        None => Ok((0, 0)),
        Some(u) => {
            let lookup_root = if link {
                PathBuf::from("/nonexistent")
            } else {
                root.to_path_buf()
            };
            let ids = users::resolve(&lookup_root, u).map_err(|e| format!("--chown={u}: {e}"))?;
            Ok((ids.uid, ids.gid))
        }
    }
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
        Some(m) => Some(
            u32::from_str_radix(m, 8)
                .map_err(|_| format!("{at}: --chmod={m}: only octal modes are supported"))?,
        ),
        None => None,
    };
    let base = if *link { State::default() } else { st.clone() };
    let snap = ctx.prepare(&base, "copy")?;
    let root = snap.path();
    let (uid, gid) = owner(root, chown, *link).map_err(|e| format!("{at}: {e}"))?;
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
        || existing_dir;
    let d = Dest {
        root,
        abs,
        written: dest,
        into_dir,
        own: fsutil::Ownership { uid, gid, chmod },
    };
    if into_dir {
        d.dir(ctx.fx).map_err(|e| format!("{at}: {e}"))?;
    } else if let Some(parent) = Path::new(&fsutil::clean_abs(&d.abs)).parent() {
        fsutil::mkdir_all(ctx.fx, root, &parent.to_string_lossy(), 0, 0)
            .map_err(|e| format!("{at}: {dest}: {e}"))?;
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
        from,
        heredocs,
        ..
    } = &step.op
    else {
        return Err("internal: not a COPY".to_string());
    };
    let kw = if *add { "ADD" } else { "COPY" };
    match m {
        Matched::Url(u) => write_download(ctx, u, d.root, &d.target(&url::file_name(u)), d.own)
            .map_err(|e| format!("{at}: ADD {}: {e}", url::redact(u))),
        Matched::Git(src) => write_git(ctx, src, d).map_err(|e| format!("{at}: {e}")),
        Matched::Heredoc(name) => {
            let h = heredocs
                .iter()
                .find(|h| &h.name == name)
                .ok_or("internal: heredoc")?;
            let host = fsutil::resolve(d.root, &d.target(name)).map_err(|e| e.to_string())?;
            fs::write(&host, &h.content).map_err(|e| format!("{at}: {e}"))?;
            ctx.fx
                .lchown(&host, d.own.uid, d.own.gid)
                .map_err(|e| e.to_string())?;
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(
                &host,
                fs::Permissions::from_mode(d.own.chmod.unwrap_or(0o644)),
            )
            .map_err(|e| e.to_string())
        }
        Matched::Path(rel) => {
            let src = fsutil::resolve(src_root, rel).map_err(|e| e.to_string())?;
            let meta = fs::metadata(&src).map_err(|e| format!("{at}: {rel}: {e}"))?;
            if *add && matches!(from, Source::MainContext) && meta.is_file() && is_archive(&src) {
                let f = fs::File::open(&src).map_err(|e| e.to_string())?;
                extract::apply(f, &d.dir(ctx.fx)?, extract::Mode::Archive, None)
                    .map_err(|e| format!("{at}: ADD {rel}: {e}"))?;
                return Ok(());
            }
            copy_path(ctx, rel, &src, meta.is_dir(), d, excludes)
                .map_err(|e| format!("{at}: {kw} {e}"))
        }
    }
}

/// Copies a source path: a directory's contents (minus `--exclude`) into
/// the destination directory, a file to its target. As in BuildKit's
/// copier, the patterns see paths relative to the source being copied
/// (`COPY --exclude=*.md docs /d` leaves out `docs/a.md`), and an excluded
/// directory is still walked for what an exception (`!`) re-includes.
fn copy_path(
    ctx: &Ctx,
    rel: &str,
    src: &Path,
    is_dir: bool,
    d: &Dest,
    excludes: &IgnoreMatcher,
) -> Result<(), String> {
    if !is_dir {
        let name = Path::new(rel)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let host = fsutil::resolve(d.root, &d.target(&name)).map_err(|e| e.to_string())?;
        fsutil::copy_entry(ctx.fx, src, &host, d.own, "", &|_, _| Pick::Copy)
            .map_err(|e| format!("{rel}: {e}"))?;
        return Ok(());
    }
    let target = d.dir(ctx.fx)?;
    let pick = |child: &str, is_dir: bool| exclude_pick(excludes, child, is_dir);
    let entries = fs::read_dir(src).map_err(|e| e.to_string())?;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
        let go = match pick(&name, is_dir) {
            Pick::Copy => true,
            Pick::Skip => false,
            Pick::Look => fsutil::keeps_something(&e.path(), &name, &pick)
                .map_err(|err| format!("{rel}/{name}: {err}"))?,
        };
        if go {
            fsutil::copy_entry(ctx.fx, &e.path(), &target.join(&name), d.own, &name, &pick)
                .map_err(|e| format!("{rel}/{name}: {e}"))?;
        }
    }
    Ok(())
}

/// What `--exclude` makes of a path relative to the copied source: kept,
/// left out whole, or an excluded directory an exception may reach into.
fn exclude_pick(excludes: &IgnoreMatcher, path: &str, is_dir: bool) -> Pick {
    if !excludes.is_excluded(path) {
        Pick::Copy
    } else if is_dir && !excludes.can_skip_dir(path) {
        Pick::Look
    } else {
        Pick::Skip
    }
}

/// ADD of a git source: the commit's files into the destination directory.
fn write_git(ctx: &Ctx, src: &str, d: &Dest) -> Result<(), String> {
    let commit = ctx
        .git
        .get(src)
        .ok_or_else(|| format!("internal: {src} was not fetched before the build"))?;
    let scratch = Scratch::new(ctx.store, "git")?;
    let files = scratch.0.join("git");
    super::git::export(ctx.store, src, commit, &scratch.0, &files)
        .map_err(|e| format!("ADD {}: {e}", url::redact(src)))?;
    let target = d.dir(ctx.fx)?;
    let entries = fs::read_dir(&files).map_err(|e| format!("ADD: {e}"))?;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        fsutil::copy_entry(
            ctx.fx,
            &e.path(),
            &target.join(&name),
            d.own,
            &name,
            &|_, _| Pick::Copy,
        )
        .map_err(|e| format!("ADD {}: {name}: {e}", url::redact(src)))?;
    }
    Ok(())
}

/// Writes the blob downloaded for `url` to `target` in the image: a regular
/// file, mode 0600 unless `--chmod`, with the server's `Last-Modified` time
/// (else SOURCE_DATE_EPOCH, else now).
fn write_download(
    ctx: &Ctx,
    url: &str,
    merged: &Path,
    target: &str,
    own: fsutil::Ownership,
) -> Result<(), String> {
    let info = ctx
        .urls
        .get(url)
        .ok_or_else(|| "internal: the URL was not downloaded before the build".to_string())?;
    let digest: crate::store::digest::Digest = info.digest.parse()?;
    let blob = ctx.store.blobs.path(&digest);
    let host = fsutil::resolve(merged, target).map_err(|e| e.to_string())?;
    let own = fsutil::Ownership {
        chmod: Some(own.chmod.unwrap_or(0o600)),
        ..own
    };
    fsutil::copy_entry(ctx.fx, &blob, &host, own, "", &|_, _| Pick::Copy)
        .map_err(|e| e.to_string())?;
    let mtime = info.mtime.or(ctx.epoch).unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64)
    });
    ctx.fx.set_times(&host, mtime, 0).map_err(|e| e.to_string())
}
