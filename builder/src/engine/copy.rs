//! COPY and ADD, written straight into the step's overlay (no container):
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

use super::Ctx;
use super::state::State;
use crate::exec::users;
use crate::fsutil;
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

/// Runs one COPY/ADD step.
pub(crate) fn copy_step(
    ctx: &Ctx,
    _inst: &Instance,
    step: &Step,
    mut st: State,
) -> Result<State, String> {
    let Op::Copy {
        add,
        sources,
        dest,
        from,
        chown,
        chmod,
        link,
        exclude,
        heredocs,
        ..
    } = &step.op
    else {
        return Err("internal: not a COPY".to_string());
    };
    let at = ctx.at(step);
    let kw = if *add { "ADD" } else { "COPY" };
    let scratch = super::run::Scratch(ctx.store.scratch("copy").map_err(|e| e.to_string())?);

    // Where sources are read.
    let mut _view = None;
    // Contexts are read from their filtered trees: the main one from the
    // build's, a named directory context from the one the planner was given.
    let src_root: PathBuf = match from {
        Source::MainContext | Source::Context(_) => ctx.context_root(from, &at)?,
        other => {
            let s = ctx.state_of(other)?;
            let (p, o) = ctx.view(&s, &scratch.0)?;
            _view = o;
            p
        }
    };
    let excludes = crate::dockerfile::ignore::IgnoreMatcher::from_patterns(
        &exclude.iter().map(String::as_str).collect::<Vec<_>>(),
    )
    .map_err(|e| format!("{at}: --exclude: {e}"))?;
    let ignored = |p: &str| !exclude.is_empty() && excludes.is_excluded(p);

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
        let m = expand_source(&src_root, s, &ignored)?;
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
            return Err(format!("error: {at}: {kw} failed: {s:?}: {why}"));
        }
        matched.extend(m.into_iter().map(Matched::Path));
    }

    let cwd = st
        .config
        .working_dir
        .clone()
        .unwrap_or_else(|| "/".to_string());
    let dest_abs = if dest.starts_with('/') {
        dest.clone()
    } else {
        format!("{cwd}/{dest}")
    };
    let dest_is_dir_syntax =
        dest.ends_with('/') || dest.ends_with("/.") || dest == "." || matched.len() > 1 || wildcard;

    let base = if *link { State::default() } else { st.clone() };
    let user_spec = chown.clone();
    let chmod_bits = match chmod {
        Some(m) => Some(
            u32::from_str_radix(m, 8)
                .map_err(|_| format!("{at}: --chmod={m}: only octal modes are supported"))?,
        ),
        None => None,
    };
    let upper = super::run::with_overlay(ctx, &base, |merged| {
        let (uid, gid) = match &user_spec {
            None => (0, 0),
            // Names resolve in the image being built (for --link, in what is below).
            Some(u) => {
                let lookup_root = if *link {
                    PathBuf::from("/nonexistent")
                } else {
                    merged.to_path_buf()
                };
                let ids = users::resolve(&lookup_root, u)
                    .map_err(|e| format!("{at}: --chown={u}: {e}"))?;
                (ids.uid, ids.gid)
            }
        };
        let own = fsutil::Ownership {
            uid,
            gid,
            chmod: chmod_bits,
        };
        let existing_dir = fsutil::resolve(merged, &dest_abs)
            .ok()
            .and_then(|p| fs::metadata(p).ok())
            .is_some_and(|m| m.is_dir());
        let into_dir = dest_is_dir_syntax || existing_dir;
        if into_dir {
            fsutil::mkdir_all(merged, &dest_abs, uid, gid)
                .map_err(|e| format!("{at}: {dest}: {e}"))?;
        } else if let Some(parent) = Path::new(&fsutil::clean_abs(&dest_abs)).parent() {
            fsutil::mkdir_all(merged, &parent.to_string_lossy(), 0, 0)
                .map_err(|e| format!("{at}: {dest}: {e}"))?;
        }
        for m in &matched {
            let rel = match m {
                Matched::Path(rel) => rel,
                Matched::Url(u) => {
                    let name = url::file_name(u);
                    let target = if into_dir {
                        format!("{dest_abs}/{name}")
                    } else {
                        dest_abs.clone()
                    };
                    write_download(ctx, u, merged, &target, uid, gid, chmod_bits)
                        .map_err(|e| format!("{at}: ADD {}: {e}", url::redact(u)))?;
                    continue;
                }
                Matched::Git(src) => {
                    let commit = ctx.git.get(src).ok_or_else(|| {
                        format!("{at}: internal: {src} was not fetched before the build")
                    })?;
                    let files = scratch.0.join("git");
                    let _ = fs::remove_dir_all(&files);
                    super::git::export(ctx.store, src, commit, &scratch.0, &files)
                        .map_err(|e| format!("{at}: ADD {}: {e}", url::redact(src)))?;
                    let target = fsutil::mkdir_all(merged, &dest_abs, uid, gid)
                        .map_err(|e| format!("{at}: {dest}: {e}"))?;
                    let entries = fs::read_dir(&files).map_err(|e| format!("{at}: ADD: {e}"))?;
                    for e in entries.flatten() {
                        let name = e.file_name().to_string_lossy().into_owned();
                        fsutil::copy_entry(&e.path(), &target.join(&name), own, &name, &|_, _| {
                            false
                        })
                        .map_err(|e| format!("{at}: ADD {}: {name}: {e}", url::redact(src)))?;
                    }
                    continue;
                }
                Matched::Heredoc(name) => name,
            };
            if let Matched::Heredoc(_) = m {
                let h = heredocs
                    .iter()
                    .find(|h| &h.name == rel)
                    .ok_or("internal: heredoc")?;
                let target = if into_dir {
                    format!("{dest_abs}/{rel}")
                } else {
                    dest_abs.clone()
                };
                let host = fsutil::resolve(merged, &target).map_err(|e| e.to_string())?;
                fs::write(&host, &h.content).map_err(|e| format!("{at}: {e}"))?;
                std::os::unix::fs::lchown(&host, Some(uid), Some(gid))
                    .map_err(|e| e.to_string())?;
                use std::os::unix::fs::PermissionsExt;
                fs::set_permissions(
                    &host,
                    fs::Permissions::from_mode(chmod_bits.unwrap_or(0o644)),
                )
                .map_err(|e| e.to_string())?;
                continue;
            }
            let src = fsutil::resolve(&src_root, rel).map_err(|e| e.to_string())?;
            let meta = fs::metadata(&src).map_err(|e| format!("{at}: {rel}: {e}"))?;
            if *add && matches!(from, Source::MainContext) && meta.is_file() && is_archive(&src) {
                let target =
                    fsutil::mkdir_all(merged, &dest_abs, uid, gid).map_err(|e| e.to_string())?;
                let f = fs::File::open(&src).map_err(|e| e.to_string())?;
                extract::apply(f, &target, extract::Mode::Archive, None)
                    .map_err(|e| format!("{at}: ADD {rel}: {e}"))?;
                continue;
            }
            if meta.is_dir() {
                let target =
                    fsutil::mkdir_all(merged, &dest_abs, uid, gid).map_err(|e| e.to_string())?;
                let skip = |child: &str, _is_dir: bool| {
                    let full = if rel.is_empty() {
                        child.to_string()
                    } else {
                        format!("{rel}/{child}")
                    };
                    ignored(&full)
                };
                for e in fs::read_dir(&src).map_err(|e| e.to_string())?.flatten() {
                    let name = e.file_name().to_string_lossy().into_owned();
                    if skip(&name, false) {
                        continue;
                    }
                    fsutil::copy_entry(&e.path(), &target.join(&name), own, &name, &skip)
                        .map_err(|e| format!("{at}: {kw} {rel}/{name}: {e}"))?;
                }
            } else {
                let name = Path::new(rel)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let target = if into_dir {
                    format!("{dest_abs}/{name}")
                } else {
                    dest_abs.clone()
                };
                let host = fsutil::resolve(merged, &target).map_err(|e| e.to_string())?;
                fsutil::copy_entry(&src, &host, own, "", &|_, _| false)
                    .map_err(|e| format!("{at}: {kw} {rel}: {e}"))?;
            }
        }
        Ok(())
    })?;
    drop(_view);
    drop(scratch);
    ctx.commit_upper(&mut st, &upper, format!("{} # buildkit", step.text), true)
        .map_err(|e| format!("{at}: {e}"))?;
    Ok(st)
}

/// Writes the blob downloaded for `url` to `target` in the image: a regular
/// file, mode 0600 unless `--chmod`, with the server's `Last-Modified` time
/// (else SOURCE_DATE_EPOCH, else now).
fn write_download(
    ctx: &Ctx,
    url: &str,
    merged: &Path,
    target: &str,
    uid: u32,
    gid: u32,
    chmod: Option<u32>,
) -> Result<(), String> {
    let info = ctx
        .urls
        .get(url)
        .ok_or_else(|| "internal: the URL was not downloaded before the build".to_string())?;
    let digest: crate::store::digest::Digest = info.digest.parse()?;
    let blob = ctx.store.blobs.path(&digest);
    let host = fsutil::resolve(merged, target).map_err(|e| e.to_string())?;
    let own = fsutil::Ownership {
        uid,
        gid,
        chmod: Some(chmod.unwrap_or(0o600)),
    };
    fsutil::copy_entry(&blob, &host, own, "", &|_, _| false).map_err(|e| e.to_string())?;
    let mtime = info.mtime.or(ctx.epoch).unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64)
    });
    fsutil::set_times(&host, mtime, 0).map_err(|e| e.to_string())
}
