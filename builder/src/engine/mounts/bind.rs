//! `--mount=type=bind`: a path of the context (its filtered tree: ignored
//! files are not there), a named context, a stage or an image. Read-only
//! unless `rw`; an `rw` bind is writable but, as in BuildKit, its writes
//! are thrown away: the source is a snapshot shared by later builds or a
//! tree of hard links to the user's files, so the step gets a copy-on-write
//! snapshot of it (a single file is copied instead).

use std::fs;
use std::path::{Path, PathBuf};

use super::{Hold, Mounts};
use crate::engine::Ctx;
use crate::engine::run::stubs::Stubs;
use crate::engine::snapshot::{Scratch, Snapshot};
use crate::exec::MountSpec;
use crate::fsutil;
use crate::plan::{RunMount, Source};

/// Prepares a bind mount at `target`.
pub(super) fn add<'a>(
    ctx: &'a Ctx,
    mounts: &mut Mounts<'a>,
    rm: &RunMount,
    target: String,
    rootfs: &Path,
    stubs: &mut Stubs,
) -> Result<(), String> {
    let m = &rm.mount;
    let at = mounts.at.clone();
    let src_rel = fsutil::source_rel(m.source.as_deref().unwrap_or("."))
        .map_err(|e| format!("{at}: --mount=type=bind: {e}"))?;
    // A context is bound from its filtered tree: ignored files are not there.
    let base = match &rm.from {
        None => ctx.context_root(&Source::MainContext, &at)?,
        Some(src @ (Source::MainContext | Source::Context(_))) => ctx.context_root(src, &at)?,
        Some(src) => {
            let view = ctx.view(&ctx.state_of(src)?, "bind")?;
            let p = view.path().to_path_buf();
            mounts.holds.push(Hold::View(view));
            p
        }
    };
    let source = fsutil::resolve(&base, &src_rel).map_err(|e| e.to_string())?;
    if fs::symlink_metadata(&source).is_err() {
        let hint = if ctx.trees.contains(&base) {
            " (or excluded by .dockerignore)"
        } else {
            ""
        };
        return Err(format!(
            "{at}: --mount=type=bind source {:?}: not found{hint}",
            m.source.as_deref().unwrap_or("."),
        ));
    }
    stubs.note(rootfs, &target);
    let rw = m.readonly == Some(false);
    let source = if rw {
        throwaway(ctx, mounts, &source).map_err(|e| format!("{at}: --mount=type=bind,rw: {e}"))?
    } else {
        source
    };
    mounts.specs.push(MountSpec::Bind {
        source,
        destination: target,
        readonly: !rw,
    });
    Ok(())
}

/// A writable stand-in for `source` whose writes go nowhere that lasts.
fn throwaway<'a>(ctx: &'a Ctx, mounts: &mut Mounts<'a>, source: &Path) -> Result<PathBuf, String> {
    let scratch = Scratch(
        mounts
            .scratch
            .join(format!("rw-bind-{}", mounts.specs.len())),
    );
    fs::create_dir_all(&scratch.0).map_err(|e| e.to_string())?;
    let meta = fs::metadata(source).map_err(|e| format!("{}: {e}", source.display()))?;
    if meta.is_file() {
        let copy = scratch.0.join("file");
        fs::copy(source, &copy).map_err(|e| format!("{}: {e}", source.display()))?;
        // The copy lives in the step's scratch directory, removed with it.
        std::mem::forget(scratch);
        return Ok(copy);
    }
    if !meta.is_dir() {
        return Err(format!(
            "{}: a writable bind mount of a special file is not supported; hint: drop rw",
            source.display()
        ));
    }
    let snap = Snapshot::prepare(ctx.fx, scratch, vec![source.to_path_buf()])
        .map_err(|e| format!("a writable view of {}: {e}", source.display()))?;
    let p = snap.path().to_path_buf();
    mounts.holds.push(Hold::View(snap));
    Ok(p)
}
