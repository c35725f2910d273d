//! `-o type=local,dest=DIR`: the final filesystem of each platform written
//! out as plain files (one subdirectory per platform, `linux_arm64`, when
//! split, as buildx does; merged into one tree with `platform-split=false`,
//! where a file two platforms both have is an error, as in BuildKit's
//! local exporter), and `-o type=tar,dest=FILE`: the same tree as a tar.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use xx::Platform;

use super::state::State;
use crate::image::extract;
use crate::store::blobs::Blobs;

/// Writes every platform's filesystem under `dest`. The files come from
/// untrusted images and build steps, and land on the host as root: device
/// nodes and FIFOs are not created, setuid/setgid bits and non-`user.*`
/// extended attributes are dropped. Returns one warning line saying what
/// was left out, if anything was.
pub fn export_local(
    blobs: &Blobs,
    images: &[(Platform, State)],
    dest: &Path,
    split: bool,
) -> Result<Option<String>, String> {
    if !split && images.len() > 1 {
        return export_merged(blobs, images, dest);
    }
    let mut total = extract::Stats::default();
    for (p, st) in images {
        let dir = if split {
            dest.join(p.to_string().replace('/', "_"))
        } else {
            dest.to_path_buf()
        };
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for l in &st.layers {
            let d = l.blob()?;
            blobs.verify(&d).map_err(|e| e.to_string())?;
            let f = std::fs::File::open(blobs.path(&d)).map_err(|e| format!("layer {d}: {e}"))?;
            let diff_id = l.diff_id.parse().map_err(|e| format!("layer {d}: {e}"))?;
            let s = extract::apply(f, &dir, extract::Mode::Export, Some(&diff_id))
                .map_err(|e| format!("{}: layer {d}: {e}", dir.display()))?
                .stats;
            total.skipped_special += s.skipped_special;
            total.stripped_setid += s.stripped_setid;
            total.dropped_xattrs += s.dropped_xattrs;
        }
    }
    Ok(skipped_warning(&total))
}

/// `platform-split=false` with several platforms: each platform written to
/// a staging directory inside `dest`, then moved into one tree; a
/// non-directory path two platforms both have stops the export.
fn export_merged(
    blobs: &Blobs,
    images: &[(Platform, State)],
    dest: &Path,
) -> Result<Option<String>, String> {
    std::fs::create_dir_all(dest).map_err(|e| format!("{}: {e}", dest.display()))?;
    let mut warning = None;
    let mut seen: BTreeMap<PathBuf, String> = BTreeMap::new();
    for (i, (p, st)) in images.iter().enumerate() {
        let stage = dest.join(format!(".mxbuild-merge-{i}"));
        let w = export_local(blobs, &[(p.clone(), st.clone())], &stage, false)?;
        warning = warning.or(w);
        let r = merge_tree(&stage, dest, Path::new(""), &p.to_string(), &mut seen);
        let _ = std::fs::remove_dir_all(&stage);
        r?;
    }
    Ok(warning)
}

/// Moves the entries of `from/rel` into `to/rel`, directories merged.
fn merge_tree(
    from: &Path,
    to: &Path,
    rel: &Path,
    platform: &str,
    seen: &mut BTreeMap<PathBuf, String>,
) -> Result<(), String> {
    let src = from.join(rel);
    let entries = std::fs::read_dir(&src).map_err(|e| format!("{}: {e}", src.display()))?;
    for e in entries {
        let e = e.map_err(|e| format!("{}: {e}", src.display()))?;
        let r = rel.join(e.file_name());
        let ft = e.file_type().map_err(|e| format!("{}: {e}", r.display()))?;
        let target = to.join(&r);
        if ft.is_dir() && !ft.is_symlink() {
            if !target.is_dir() {
                std::fs::create_dir_all(&target)
                    .map_err(|e| format!("{}: {e}", target.display()))?;
            }
            merge_tree(from, to, &r, platform, seen)?;
            continue;
        }
        if let Some(other) = seen.get(&r) {
            return Err(format!(
                "cannot overwrite /{} from {other} with {platform} when platform-split is disabled\nhint: drop platform-split=false (one directory per platform)",
                r.display()
            ));
        }
        seen.insert(r.clone(), platform.to_string());
        std::fs::rename(e.path(), &target).map_err(|e| format!("{}: {e}", target.display()))?;
    }
    Ok(())
}

/// `-o type=tar,dest=FILE`: the files of [`export_local`] (one directory per
/// platform when several are built, as BuildKit's tar exporter does) as
/// a tar archive, written under a temporary name and renamed into place.
pub fn export_tar(
    blobs: &Blobs,
    images: &[(Platform, State)],
    dest: &Path,
) -> Result<Option<String>, String> {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".to_string());
    let stage = dest.with_file_name(format!(".{name}.mxbuild-tree"));
    let tmp = dest.with_file_name(format!(".{name}.partial"));
    let _ = std::fs::remove_dir_all(&stage);
    let r = (|| {
        let w = export_local(blobs, images, &stage, images.len() > 1)?;
        let f = std::fs::File::create(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
        let mut b = tar::Builder::new(std::io::BufWriter::new(f));
        b.follow_symlinks(false);
        b.append_dir_all(".", &stage)
            .and_then(|()| b.into_inner())
            .and_then(|mut w| std::io::Write::flush(&mut w))
            .map_err(|e| format!("{}: {e}", dest.display()))?;
        std::fs::rename(&tmp, dest).map_err(|e| format!("{}: {e}", dest.display()))?;
        Ok(w)
    })();
    let _ = std::fs::remove_dir_all(&stage);
    let _ = std::fs::remove_file(&tmp);
    r
}

/// `warning: ...` naming what an export left out, or nothing.
fn skipped_warning(s: &extract::Stats) -> Option<String> {
    let mut parts = Vec::new();
    if s.skipped_special > 0 {
        parts.push(format!(
            "{} device node(s) or FIFO(s) not created",
            s.skipped_special
        ));
    }
    if s.stripped_setid > 0 {
        parts.push(format!(
            "setuid/setgid bits stripped from {} file(s)",
            s.stripped_setid
        ));
    }
    if s.dropped_xattrs > 0 {
        parts.push(format!(
            "{} extended attribute(s) other than user.* dropped",
            s.dropped_xattrs
        ));
    }
    (!parts.is_empty()).then(|| {
        format!(
            "warning: local export: {}; the image itself keeps them (use -o type=oci for an exact copy)",
            parts.join(", ")
        )
    })
}
