//! `RUN --mount=type=bind,rw`: BuildKit lets the step write to the mount and
//! throws the writes away when the step ends. The source itself must never
//! change: it is a stage's or an image's snapshot in the store (shared by
//! every later build that hits the cache) or a filtered context tree (hard
//! links to the user's files). So the step gets a copy-on-write view: an
//! overlay whose only lower layer is the source and whose upper layer lives
//! in the step's scratch directory (a single file is copied there instead).

use std::fs;
use std::path::{Path, PathBuf};

use crate::exec::mounts::Overlay;

/// A writable stand-in for `source` under `scratch` (`n` keeps several
/// apart); the overlay, when one was needed, must stay mounted until the
/// step has run.
pub(crate) fn throwaway(
    source: &Path,
    scratch: &Path,
    n: usize,
) -> Result<(PathBuf, Option<Overlay>), String> {
    let base = scratch.join(format!("rw-bind-{n}"));
    let meta = fs::metadata(source).map_err(|e| format!("{}: {e}", source.display()))?;
    if meta.is_file() {
        fs::create_dir_all(&base).map_err(|e| e.to_string())?;
        let copy = base.join("file");
        fs::copy(source, &copy).map_err(|e| format!("{}: {e}", source.display()))?;
        return Ok((copy, None));
    }
    if !meta.is_dir() {
        return Err(format!(
            "{}: a writable bind mount of a special file is not supported; hint: drop rw",
            source.display()
        ));
    }
    let dirs: Vec<PathBuf> = ["upper", "work", "merged", "empty"]
        .iter()
        .map(|d| base.join(d))
        .collect();
    for d in &dirs {
        fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
    }
    let o = Overlay::mount(
        &[source.to_path_buf()],
        &dirs[0],
        &dirs[1],
        &dirs[3],
        &dirs[2],
    )
    .map_err(|e| format!("a writable view of {}: {e}", source.display()))?;
    Ok((dirs[2].clone(), Some(o)))
}
