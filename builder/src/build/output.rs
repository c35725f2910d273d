//! `-o type=local,dest=DIR`: the final filesystem of each platform written
//! out as plain files (one subdirectory per platform, `linux_arm64`, when
//! several are built, as buildx does).

use std::path::Path;

use xx::Platform;

use super::state::State;
use crate::image::compress::Compression;
use crate::image::extract;
use crate::store::blobs::Blobs;

/// Writes every platform's filesystem under `dest`.
pub fn export_local(
    blobs: &Blobs,
    images: &[(Platform, State)],
    dest: &Path,
) -> Result<(), String> {
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
            let r = Compression::open_decompressed(&blobs.path(&d)).map_err(|e| e.to_string())?;
            extract::apply(r, &dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
    }
    Ok(())
}
