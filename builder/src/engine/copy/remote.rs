//! ADD of remote sources: a git source's files at their commit (with
//! `--keep-git-dir`, a `.git` too) and an http(s) download, both fetched
//! before the build ([`crate::engine::git`], [`crate::engine::fetch`]).

use std::fs;

use super::dest::Dest;
use super::unpack::unpack_archive;
use crate::engine::Ctx;
use crate::engine::snapshot::Scratch;
use crate::fsutil;
use crate::plan::url;

/// ADD of a git source: the commit's files into the destination directory.
pub(super) fn write_git(ctx: &Ctx, src: &str, d: &Dest, keep_git_dir: bool) -> Result<(), String> {
    let commit = ctx
        .git
        .get(src)
        .ok_or_else(|| format!("internal: {src} was not fetched before the build"))?;
    let scratch = Scratch::new(ctx.store, "git")?;
    let files = scratch.0.join("git");
    crate::engine::git::export(ctx.store, src, commit, &scratch.0, &files)
        .map_err(|e| format!("ADD {}: {e}", url::redact(src)))?;
    if keep_git_dir {
        crate::engine::git::keep_git_dir(ctx.store, src, commit, &files)
            .map_err(|e| format!("ADD --keep-git-dir {}: {e}", url::redact(src)))?;
    }
    let target = d.dir(ctx.fx)?;
    let entries = fs::read_dir(&files).map_err(|e| format!("ADD: {e}"))?;
    let mut copier = fsutil::Copier::new(ctx.fx, d.own_fixed(), &fsutil::pick_all);
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        copier
            .copy(&e.path(), &target.join(&name), &name)
            .map_err(|e| format!("ADD {}: {name}: {e}", url::redact(src)))?;
    }
    Ok(())
}

/// Writes the blob downloaded for `url` into the image: a regular file,
/// mode 0600 (then `--chmod`), with the server's `Last-Modified` time (else
/// SOURCE_DATE_EPOCH, else now); with `--unpack=true` an archive is
/// unpacked into the destination instead.
pub(super) fn write_download(ctx: &Ctx, url: &str, d: &Dest, unpack: bool) -> Result<(), String> {
    let info = ctx
        .urls
        .get(url)
        .ok_or_else(|| "internal: the URL was not downloaded before the build".to_string())?;
    let digest: crate::store::digest::Digest = info.digest.parse()?;
    let blob = ctx.store.blobs.path(&digest);
    if unpack && unpack_archive(ctx, &blob, d, &d.abs)? {
        return Ok(());
    }
    let host =
        fsutil::resolve(d.root, &d.target(&url::file_name(url))).map_err(|e| e.to_string())?;
    let mode = fsutil::Mode::Octal(d.chmod.map_or(0o600, |m| m.apply(0o600, false)));
    let own = fsutil::Ownership {
        chmod: Some(&mode),
        ..d.own_fixed()
    };
    fsutil::Copier::new(ctx.fx, own, &fsutil::pick_all)
        .copy(&blob, &host, "")
        .map_err(|e| e.to_string())?;
    let mtime = info.mtime.or(ctx.epoch).unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64)
    });
    ctx.fx.set_times(&host, mtime, 0).map_err(|e| e.to_string())
}
