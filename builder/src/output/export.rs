//! Writing a stored index out as an OCI layout (directory, or archive for a
//! `.tar` destination) or as a one-platform docker-archive.

use std::path::Path;

use xx::Platform;

use crate::image::{ImageError, docker_archive, manifest, oci};
use crate::registry::reference;
use crate::store::Store;
use crate::store::digest::Digest;

/// An OCI layout of index `idx`, tagged with `name`'s tag (`latest` when it
/// has none), with the `extra` referrer manifests (attestations) listed
/// beside it.
pub fn oci_layout(
    store: &Store,
    idx: &Digest,
    name: &str,
    dest: &Path,
    extra: &[(Digest, serde_json::Value)],
) -> Result<(), ImageError> {
    let tag = reference::parse(name)
        .ok()
        .and_then(|r| r.tag().map(str::to_string))
        .unwrap_or_else(|| "latest".to_string());
    if dest.extension().is_some_and(|e| e == "tar") {
        oci::export_tar(&store.blobs, idx, &tag, dest, extra)
    } else {
        oci::export_dir(&store.blobs, idx, &tag, dest, extra)
    }
}

/// A docker-archive of `platform`'s image of `idx`, or of its only
/// platform; several platforms and none chosen is an error naming them.
pub fn docker(
    store: &Store,
    idx: &Digest,
    name: &str,
    platform: Option<&Platform>,
    dest: &Path,
) -> Result<(), String> {
    let plats = manifest::platforms(&store.blobs, idx).map_err(|e| e.to_string())?;
    let p = match platform {
        Some(p) => p.clone(),
        None if plats.len() == 1 => plats[0].0.clone(),
        None => {
            return Err(format!(
                "type=docker holds one platform and {name} has {}; hint: add --platform (one of: {})",
                plats.len(),
                plats
                    .iter()
                    .map(|(p, _)| p.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    };
    docker_archive::export(&store.blobs, idx, &p, name, dest).map_err(|e| e.to_string())
}
