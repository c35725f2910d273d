//! `docker save` format (what `docker load` and `skopeo ... docker-archive:`
//! read): one platform only, layers stored uncompressed so their digests are
//! the config's diff_ids, and a `manifest.json` naming config, tags and
//! layers. Paths follow Docker 25+ (`blobs/sha256/<hex>`), which older Docker
//! versions load too because they only follow `manifest.json`.

use std::fs;
use std::io::{self, Read, Write};
use std::path::Path;

use xx::Platform;

use super::compress::Compression;
use super::error::ImageError;
use super::hashing::HashingReader;
use super::manifest::{self, Node};
use crate::store::blobs::Blobs;
use crate::store::digest::Digest;

/// The tag as Docker prints it: `debian:bookworm`, not `docker.io/library/debian:bookworm`.
pub fn familiar(name: &str) -> &str {
    name.strip_prefix("docker.io/library/")
        .or_else(|| name.strip_prefix("docker.io/"))
        .unwrap_or(name)
}

/// Writes `platform`'s image of `index` to `dest` as a docker-archive tagged `tag`.
pub fn export(
    blobs: &Blobs,
    index: &Digest,
    platform: &Platform,
    tag: &str,
    dest: &Path,
) -> Result<(), ImageError> {
    let desc = manifest::for_platform(blobs, index, platform)?;
    let Node::Manifest { config, layers } = manifest::load(blobs, &desc.digest)? else {
        return Err(ImageError::NotAManifest {
            digest: desc.digest,
        });
    };
    let config_bytes = blobs.read(&config.digest)?;
    let cfg = super::config::read(&config_bytes)
        .map_err(|e| ImageError::Spec(format!("image config {}: {e}", config.digest)))?;
    let diff_ids: Vec<Digest> = cfg.diff_ids().map_err(|(_, e)| ImageError::from(e))?;
    if diff_ids.len() != layers.len() {
        return Err(ImageError::Spec(format!(
            "image config {} lists {} diff_ids for {} layers",
            config.digest,
            diff_ids.len(),
            layers.len()
        )));
    }
    let layer_paths: Vec<String> = diff_ids
        .iter()
        .map(|d| format!("blobs/sha256/{}", d.hex()))
        .collect();
    let manifest_json = serde_json::json!([{
        "Config": format!("blobs/sha256/{}", config.digest.hex()),
        "RepoTags": [familiar(tag)],
        "Layers": layer_paths,
    }])
    .to_string();

    let tmp = dest.with_extension("partial");
    {
        let mut b = tar::Builder::new(io::BufWriter::new(fs::File::create(&tmp)?));
        let add = |b: &mut tar::Builder<_>, name: &str, len: u64, data: &mut dyn Read| {
            let mut h = tar::Header::new_ustar();
            h.set_path(name)?;
            h.set_size(len);
            h.set_mode(0o644);
            h.set_mtime(0);
            h.set_cksum();
            b.append(&h, data)
        };
        for dir in ["blobs/", "blobs/sha256/"] {
            let mut h = tar::Header::new_ustar();
            h.set_path(dir)?;
            h.set_entry_type(tar::EntryType::Directory);
            h.set_size(0);
            h.set_mode(0o755);
            h.set_mtime(0);
            h.set_cksum();
            b.append(&h, io::empty())?;
        }
        add(
            &mut b,
            &format!("blobs/sha256/{}", config.digest.hex()),
            config_bytes.len() as u64,
            &mut config_bytes.as_slice(),
        )?;
        let mut written: Vec<&Digest> = Vec::new();
        for (layer, diff_id) in layers.iter().zip(&diff_ids) {
            if written.contains(&diff_id) {
                continue;
            }
            blobs.verify(&layer.digest)?;
            let path = blobs.path(&layer.digest);
            // Uncompressed size first (a tar header needs it), then the stream;
            // the second pass is hashed so a mismatching diff_id is caught.
            let len = io::copy(&mut Compression::open_decompressed(&path)?, &mut io::sink())?;
            let mut hashing = HashingReader::new(Compression::open_decompressed(&path)?);
            add(
                &mut b,
                &format!("blobs/sha256/{}", diff_id.hex()),
                len,
                &mut hashing,
            )?;
            let (actual, _) = hashing.finish()?;
            if &actual != diff_id {
                let _ = fs::remove_file(&tmp);
                return Err(ImageError::Spec(format!(
                    "layer {} uncompresses to {actual}, but the config says {diff_id}",
                    layer.digest
                )));
            }
            written.push(diff_id);
        }
        add(
            &mut b,
            "manifest.json",
            manifest_json.len() as u64,
            &mut manifest_json.as_bytes(),
        )?;
        b.into_inner()?.flush()?;
    }
    fs::rename(&tmp, dest)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::familiar;

    #[test]
    fn familiar_names() {
        assert_eq!(
            familiar("docker.io/library/debian:bookworm"),
            "debian:bookworm"
        );
        assert_eq!(familiar("docker.io/me/app:1"), "me/app:1");
        assert_eq!(familiar("127.0.0.1:5000/a:b"), "127.0.0.1:5000/a:b");
    }
}
