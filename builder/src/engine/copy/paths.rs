//! COPY of a path source: a directory's contents or a file, with
//! `--exclude` patterns (and their `!` exceptions) relative to the source.

use std::fs;
use std::path::Path;

use super::dest::Dest;
use crate::dockerfile::ignore::IgnoreMatcher;
use crate::engine::Ctx;
use crate::fsutil::{self, Pick};

/// Copies a source path: a directory's contents (minus `--exclude`) into
/// the destination directory, a file to its target. As in BuildKit's
/// copier, the patterns see paths relative to the source being copied
/// (`COPY --exclude=*.md docs /d` leaves out `docs/a.md`), and an excluded
/// directory is still walked for what an exception (`!`) re-includes.
pub(super) fn copy_path(
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
        fsutil::Copier::new(ctx.fx, d.own_paths(), &fsutil::pick_all)
            .copy(src, &host, "")
            .map_err(|e| format!("{rel}: {e}"))?;
        return Ok(());
    }
    let target = d.dir(ctx.fx)?;
    let pick = |child: &str, is_dir: bool| exclude_pick(excludes, child, is_dir);
    let mut copier = fsutil::Copier::new(ctx.fx, d.own_paths(), &pick);
    for e in fs::read_dir(src).map_err(|e| e.to_string())?.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
        let go = copier
            .wants(&e.path(), &name, is_dir)
            .map_err(|err| format!("{rel}/{name}: {err}"))?;
        if go {
            copier
                .copy(&e.path(), &target.join(&name), &name)
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
