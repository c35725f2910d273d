//! `COPY --parents`: each source keeps its path under the destination, as
//! BuildKit does (dockerfile2llb `convert_copy.go`): the source is split at
//! its first `/./` into a base (without one, the source root) and a
//! pattern; the base's contents are copied into the destination, keeping
//! only what the pattern (with `.dockerignore` semantics: `*`, `**`, and a
//! matched directory brings everything beneath it) matches, and creating the
//! directories on the way with the metadata of their source directories.
//! `COPY --parents a/*/f /p/` gives `/p/a/x/f`; `COPY --parents ./a/./b/c /p/`
//! gives `/p/b/c`. A base may hold wildcards (each match is a base); a
//! source without wildcards must exist, one with wildcards may match nothing.

use std::fs;
use std::path::Path;

use super::dest::Dest;
use crate::dockerfile::ignore::IgnoreMatcher;
use crate::fsutil::{self, Copier, FileOps, Pick};

/// What one `--parents` source copies: which paths its pattern takes.
struct Walk<'a> {
    /// `None`: everything under the base (an empty pattern, `a/./`).
    pattern: Option<IgnoreMatcher>,
    /// `--exclude`, relative to the base.
    ignored: &'a dyn Fn(&str) -> bool,
    d: &'a Dest<'a>,
    /// Whether anything was copied.
    found: bool,
}

/// Copies one `--parents` source from `src_root` into the destination directory.
pub(super) fn copy(
    fx: &dyn FileOps,
    src_root: &Path,
    src: &str,
    d: &Dest,
    ignored: &dyn Fn(&str) -> bool,
) -> Result<(), String> {
    let (base, pattern) = src.split_once("/./").unwrap_or(("/", src));
    let base_rel = fsutil::source_rel(base)?;
    let pattern_rel = fsutil::source_rel(pattern)?;
    let required = !fsutil::has_glob(base) && !fsutil::has_glob(pattern);
    let bases = if fsutil::has_glob(&base_rel) {
        fsutil::expand_glob(src_root, &base_rel)
    } else {
        vec![base_rel]
    };
    let matcher = if pattern_rel.is_empty() {
        None
    } else {
        Some(IgnoreMatcher::from_patterns(&[&pattern_rel]).map_err(|e| e.to_string())?)
    };
    d.dir(fx)?;
    let mut copier = Copier::new(fx, d.own_paths(), &fsutil::pick_all);
    let skip = |p: &str, _: bool| if ignored(p) { Pick::Skip } else { Pick::Copy };
    let mut subtree = Copier::new(fx, d.own_paths(), &skip);
    let mut walk = Walk {
        pattern: matcher,
        ignored,
        d,
        found: false,
    };
    for b in bases {
        let host = fsutil::resolve(src_root, &b).map_err(|e| e.to_string())?;
        if fs::metadata(&host).is_ok_and(|m| m.is_dir()) {
            walk.dir(&mut copier, &mut subtree, &host, "")?;
        }
    }
    if required && !walk.found {
        return Err("not found".to_string());
    }
    Ok(())
}

impl Walk<'_> {
    /// Copies what the pattern takes from source directory `host` (at
    /// `rel` under the base).
    fn dir(
        &mut self,
        meta: &mut Copier,
        subtree: &mut Copier,
        host: &Path,
        rel: &str,
    ) -> Result<(), String> {
        let mut names: Vec<_> = fs::read_dir(host)
            .map_err(|e| format!("{rel}: {e}"))?
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for name in names {
            let child_rel = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            if (self.ignored)(&child_rel) {
                continue;
            }
            let child = host.join(&name);
            let taken = self
                .pattern
                .as_ref()
                .is_none_or(|m| m.is_excluded(&child_rel));
            if taken {
                let parent = self.parents(meta, host, rel)?;
                subtree
                    .copy(&child, &parent.join(&name), &child_rel)
                    .map_err(|e| format!("{child_rel}: {e}"))?;
                self.found = true;
            } else if fs::symlink_metadata(&child).is_ok_and(|m| m.is_dir()) {
                self.dir(meta, subtree, &child, &child_rel)?;
            }
        }
        Ok(())
    }

    /// The host path of the destination directory for source directory
    /// `rel`, creating it and its missing parents with the metadata of the
    /// source directories (`host` is the source of `rel`).
    fn parents(&self, meta: &Copier, host: &Path, rel: &str) -> Result<std::path::PathBuf, String> {
        let parts: Vec<&str> = rel.split('/').filter(|p| !p.is_empty()).collect();
        let mut src = host.to_path_buf();
        for _ in &parts {
            src.pop();
        }
        let mut abs = self.d.abs.clone();
        let mut dest = fsutil::resolve(self.d.root, &abs).map_err(|e| e.to_string())?;
        for p in parts {
            src.push(p);
            abs = format!("{abs}/{p}");
            dest = fsutil::resolve(self.d.root, &abs).map_err(|e| e.to_string())?;
            match fs::symlink_metadata(&dest) {
                Ok(m) if m.is_dir() => {}
                Ok(_) => return Err(format!("{abs} exists and is not a directory")),
                Err(_) => {
                    let m = fs::metadata(&src).map_err(|e| format!("{rel}: {e}"))?;
                    fs::create_dir(&dest).map_err(|e| format!("{abs}: {e}"))?;
                    meta.set_meta(&m, &dest)
                        .map_err(|e| format!("{abs}: {e}"))?;
                }
            }
        }
        Ok(dest)
    }
}
