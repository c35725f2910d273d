//! `mxbuild image import`: a root filesystem (a directory, or a tar in any
//! compression) becomes a one-layer image for one platform. A tar is first
//! applied to a scratch directory with the same hostile-input checks as any
//! layer, then written out as a normal deterministic layer, so an imported
//! image is byte-for-byte what a build of the same tree would give.

use std::fs;
use std::path::Path;

use oci_spec::image::Descriptor;
use xx::Platform;

use super::config::RunConfig;
use super::error::ImageError;
use super::extract::Mode;
use super::layer::{self, LayerOptions};
use super::oci::write_image;
use crate::store::blobs::Blobs;

/// The PATH Debian's and most official images set; a bare rootfs has no
/// config, and RUN without PATH finds nothing.
pub const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Imports `src` (a directory, a tar file, or `-` for a tar on stdin) as `platform`; `scratch` is an empty directory the caller
/// owns (inside the store, so the copy stays on one filesystem). Returns the
/// manifest descriptor for the index.
pub fn import(
    blobs: &Blobs,
    src: &Path,
    platform: &Platform,
    scratch: &Path,
    opts: LayerOptions,
) -> Result<Descriptor, ImageError> {
    if src == Path::new("-") {
        let stdin = std::io::stdin().lock();
        super::extract::apply(stdin, scratch, Mode::Archive, None)
            .map_err(|e| ImageError::Spec(format!("stdin: {e}")))?;
        let layer = layer::from_dir(scratch, blobs, opts)?;
        return finish(blobs, platform, layer);
    }
    let meta = fs::metadata(src).map_err(|e| {
        ImageError::Spec(format!(
            "cannot read {}: {e}; hint: give a rootfs directory or a .tar/.tar.gz/.tar.zst file",
            src.display()
        ))
    })?;
    let layer = if meta.is_dir() {
        layer::from_dir(src, blobs, opts)?
    } else {
        let f = fs::File::open(src)?;
        super::extract::apply(f, scratch, Mode::Archive, None)
            .map_err(|e| ImageError::Spec(format!("{}: {e}", src.display())))?;
        layer::from_dir(scratch, blobs, opts)?
    };
    finish(blobs, platform, layer)
}

fn finish(
    blobs: &Blobs,
    platform: &Platform,
    layer: super::layer::Layer,
) -> Result<Descriptor, ImageError> {
    let run = RunConfig {
        env: vec![DEFAULT_PATH.to_string()],
        ..RunConfig::default()
    };
    let created = super::time::created_now();
    write_image(blobs, platform, &[layer], &run, &[], Some(&created))
}
