//! Editing a stored image index one platform at a time: `image import
//! --platform P` and a build for P replace P's manifest and keep the others,
//! so a multi-platform image can be assembled from separate steps.

use std::io::Cursor;

use oci_spec::image::{Descriptor, ImageIndex};
use xx::Platform;

use super::error::ImageError;
use super::oci::write_index;
use crate::store::blobs::Blobs;
use crate::store::digest::Digest;

fn platform_of(d: &Descriptor) -> Option<Platform> {
    let p = d.platform().as_ref()?;
    let os = p.os().to_string();
    if os == "unknown" {
        return None;
    }
    Some(Platform::new(
        &os,
        &p.architecture().to_string(),
        p.variant().as_deref(),
    ))
}

/// Stores a new index: the entries of `old` (if any) minus those for the
/// platforms of `new`, then `new`. Attestation entries that described a
/// replaced manifest are dropped with it. Returns the new index digest.
pub fn replace_platforms(
    blobs: &Blobs,
    old: Option<&Digest>,
    new: Vec<Descriptor>,
) -> Result<(Digest, u64), ImageError> {
    let replaced: Vec<Platform> = new.iter().filter_map(platform_of).collect();
    let mut kept: Vec<Descriptor> = Vec::new();
    if let Some(old) = old {
        let idx = ImageIndex::from_reader(Cursor::new(blobs.read(old)?))
            .map_err(|e| ImageError::Spec(format!("stored index {old}: {e}")))?;
        let mut dropped: Vec<String> = Vec::new();
        for m in idx.manifests() {
            match platform_of(m) {
                Some(p) if replaced.contains(&p) => dropped.push(m.digest().to_string()),
                _ => kept.push(m.clone()),
            }
        }
        kept.retain(|m| {
            let about = m
                .annotations()
                .as_ref()
                .and_then(|a| a.get("vnd.docker.reference.digest"));
            !about.is_some_and(|d| dropped.contains(d))
        });
    }
    kept.extend(new);
    write_index(blobs, kept)
}
