//! ADD of a tar archive (plain, gzip, bzip2, xz, zstd): unpacked into the
//! destination, as BuildKit does for local archives and `--unpack=true`.

use std::fs;
use std::path::Path;

use super::dest::Dest;
use crate::engine::Ctx;
use crate::engine::snapshot::Scratch;
use crate::fsutil;
use crate::image::{archive, extract};

/// Unpacks `src` into the in-container directory `dir` if it is an
/// archive BuildKit unpacks; `false` if it is not one. Entries keep the
/// archive's owners unless `--chown`; `--chmod` does not apply (as in
/// BuildKit). The archive is unpacked into scratch space first, so its
/// names are checked by [`extract`] and `--chown` touches only its files.
pub(super) fn unpack_archive(ctx: &Ctx, src: &Path, d: &Dest, dir: &str) -> Result<bool, String> {
    let Some(reader) = archive::open(src).map_err(|e| e.to_string())? else {
        return Ok(false);
    };
    let scratch = Scratch::new(ctx.store, "unpack")?;
    let tmp = scratch.0.join("tree");
    fs::create_dir_all(&tmp).map_err(|e| e.to_string())?;
    extract::apply(reader, &tmp, extract::Mode::Archive, None).map_err(|e| e.to_string())?;
    let target = d.mkdir(ctx.fx, dir)?;
    let own = fsutil::Ownership {
        owner: d.chown,
        chmod: None,
    };
    let mut copier = fsutil::Copier::new(ctx.fx, own, &fsutil::pick_all);
    for e in fs::read_dir(&tmp).map_err(|e| e.to_string())?.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        copier
            .copy(&e.path(), &target.join(&name), &name)
            .map_err(|e| format!("{name}: {e}"))?;
    }
    Ok(true)
}
