//! `-o type=local,dest=DIR`: the final filesystem of each platform written
//! out as plain files (one subdirectory per platform, `linux_arm64`, when
//! several are built, as buildx does).

use std::path::Path;

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
) -> Result<Option<String>, String> {
    let mut total = extract::Stats::default();
    for (p, st) in images {
        let dir = if images.len() > 1 {
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
