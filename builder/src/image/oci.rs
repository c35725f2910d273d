//! OCI images from stored layers: the image config, one manifest per
//! platform, the image index over them, and export as an OCI image layout
//! (directory or tar) as `docker buildx build -o type=oci` writes it: the
//! top `index.json` names the image index, tagged with a ref name.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::Path;
use std::str::FromStr;

use oci_spec::image::{
    Arch, Descriptor, DescriptorBuilder, Digest as OciDigest, ImageIndexBuilder,
    ImageManifestBuilder, MediaType, Os, PlatformBuilder,
};
use xx::Platform;

use super::annotations::add_to_json;
use super::error::{ImageError, spec};
use super::layer::Layer;
use crate::store::blobs::Blobs;
use crate::store::digest::Digest;

pub use super::config::{Healthcheck, History, RunConfig};

fn oci_digest(d: &Digest) -> Result<OciDigest, ImageError> {
    OciDigest::from_str(&d.to_string()).map_err(spec)
}

fn oci_platform(p: &Platform) -> Result<oci_spec::image::Platform, ImageError> {
    let mut b = PlatformBuilder::default()
        .os(Os::from(p.os.as_str()))
        .architecture(Arch::from(p.arch.as_str()));
    if let Some(v) = &p.variant {
        b = b.variant(v.clone());
    }
    b.build().map_err(spec)
}

/// Stores the config and manifest of a one-platform image; returns the
/// manifest's descriptor with its platform (for the index). `history` may be
/// empty (one plain entry per layer).
pub fn write_image(
    blobs: &Blobs,
    platform: &Platform,
    layers: &[Layer],
    run: &RunConfig,
    history: &[History],
    created: Option<&str>,
) -> Result<Descriptor, ImageError> {
    write_image_annotated(
        blobs,
        platform,
        layers,
        run,
        history,
        created,
        &Extras::default(),
    )
}

/// What a build adds to an image beyond its layers, runtime config and
/// history.
#[derive(Debug, Clone, Default)]
pub struct Extras {
    /// Annotations of the manifest (`--annotation manifest:...`).
    pub annotations: BTreeMap<String, String>,
    /// Top-level config fields (the inline build cache): every reader of
    /// an image config ignores fields it does not know.
    pub config_fields: serde_json::Map<String, serde_json::Value>,
}

/// [`write_image`] with the build's [`Extras`].
pub fn write_image_annotated(
    blobs: &Blobs,
    platform: &Platform,
    layers: &[Layer],
    run: &RunConfig,
    history: &[History],
    created: Option<&str>,
    extras: &Extras,
) -> Result<Descriptor, ImageError> {
    let diff_ids: Vec<Digest> = layers.iter().map(|l| l.diff_id.clone()).collect();
    let mut config_json = super::config::config_json(platform, &diff_ids, run, history, created)?;
    if !extras.config_fields.is_empty() {
        let mut v: serde_json::Value = serde_json::from_str(&config_json).map_err(spec)?;
        if let Some(obj) = v.as_object_mut() {
            obj.extend(extras.config_fields.clone());
        }
        config_json = serde_json::to_string(&v).map_err(spec)?;
    }
    let (config_digest, config_size) = blobs.put(config_json.as_bytes())?;

    let layer_descs = layers
        .iter()
        .map(|l| {
            Ok(Descriptor::new(
                MediaType::from(l.media_type),
                l.size,
                oci_digest(&l.digest)?,
            ))
        })
        .collect::<Result<Vec<_>, ImageError>>()?;
    let manifest = ImageManifestBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageManifest)
        .config(Descriptor::new(
            MediaType::ImageConfig,
            config_size,
            oci_digest(&config_digest)?,
        ))
        .layers(layer_descs)
        .build()
        .map_err(spec)?
        .to_string()
        .map_err(spec)?;
    let manifest = add_to_json(manifest, &extras.annotations).map_err(spec)?;
    let (digest, size) = blobs.put(manifest.as_bytes())?;
    DescriptorBuilder::default()
        .media_type(MediaType::ImageManifest)
        .size(size)
        .digest(oci_digest(&digest)?)
        .platform(oci_platform(platform)?)
        .build()
        .map_err(spec)
}

/// Stores an image index over per-platform manifests; returns its descriptor.
pub fn write_index(blobs: &Blobs, manifests: Vec<Descriptor>) -> Result<(Digest, u64), ImageError> {
    let n = manifests.len();
    write_index_annotated(
        blobs,
        manifests,
        &BTreeMap::new(),
        &vec![BTreeMap::new(); n],
    )
}

/// [`write_index`] with `annotations` on the index and `per_manifest[i]`
/// on the descriptor of manifest `i`.
pub fn write_index_annotated(
    blobs: &Blobs,
    manifests: Vec<Descriptor>,
    annotations: &BTreeMap<String, String>,
    per_manifest: &[BTreeMap<String, String>],
) -> Result<(Digest, u64), ImageError> {
    let index = ImageIndexBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageIndex)
        .manifests(manifests)
        .build()
        .map_err(spec)?
        .to_string()
        .map_err(spec)?;
    let mut index = add_to_json(index, annotations).map_err(spec)?;
    if per_manifest.iter().any(|m| !m.is_empty()) {
        let mut v: serde_json::Value = serde_json::from_str(&index).map_err(spec)?;
        if let Some(list) = v.get_mut("manifests").and_then(|m| m.as_array_mut()) {
            for (d, ann) in list.iter_mut().zip(per_manifest) {
                *d = serde_json::from_str(&add_to_json(d.to_string(), ann).map_err(spec)?)
                    .map_err(spec)?;
            }
        }
        index = serde_json::to_string(&v).map_err(spec)?;
    }
    Ok(blobs.put(index.as_bytes())?)
}

/// Every blob an index needs: itself, its manifests, their configs and layers.
pub fn closure(blobs: &Blobs, index: &Digest) -> Result<Vec<Digest>, ImageError> {
    super::manifest::closure(blobs, index)
}

/// The closure of `index` and of the `extra` manifests.
fn closure_with(
    blobs: &Blobs,
    index: &Digest,
    extra: &[(Digest, serde_json::Value)],
) -> Result<Vec<Digest>, ImageError> {
    let mut all = closure(blobs, index)?;
    for (d, _) in extra {
        all.extend(closure(blobs, d)?);
    }
    all.sort();
    all.dedup();
    Ok(all)
}

/// The top `index.json` of a layout: one entry, the image index, tagged `tag`.
fn layout_index(
    blobs: &Blobs,
    index: &Digest,
    size: u64,
    tag: &str,
    extra: &[(Digest, serde_json::Value)],
) -> Result<String, ImageError> {
    // A pulled image keeps the registry's bytes, which may be a Docker list.
    let bytes = blobs.read(index)?;
    serde_json::from_slice::<serde_json::Value>(&bytes).map_err(spec)?;
    let media = super::manifest::media_type(&bytes)
        .unwrap_or_else(|| super::manifest::media::OCI_INDEX.to_string());
    let desc = DescriptorBuilder::default()
        .media_type(MediaType::from(media.as_str()))
        .size(size)
        .digest(oci_digest(index)?)
        .annotations(
            [(
                "org.opencontainers.image.ref.name".to_string(),
                tag.to_string(),
            )]
            .into_iter()
            .collect::<std::collections::HashMap<_, _>>(),
        )
        .build()
        .map_err(spec)?;
    let top = ImageIndexBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageIndex)
        .manifests(vec![desc])
        .build()
        .map_err(spec)?
        .to_string()
        .map_err(spec)?;
    if extra.is_empty() {
        return Ok(top);
    }
    // Referrers (attestations) are listed beside the image, without a
    // ref.name, as OCI image-layout 1.1 allows.
    let mut v: serde_json::Value = serde_json::from_str(&top).map_err(spec)?;
    if let Some(list) = v["manifests"].as_array_mut() {
        list.extend(extra.iter().map(|(_, d)| d.clone()));
    }
    serde_json::to_string(&v).map_err(spec)
}

const OCI_LAYOUT: &str = "{\"imageLayoutVersion\":\"1.0.0\"}";

/// Writes an OCI image layout directory for the index at `dest`, with the
/// `extra` manifests (referrers: digest and their descriptor) beside it.
pub fn export_dir(
    blobs: &Blobs,
    index: &Digest,
    tag: &str,
    dest: &Path,
    extra: &[(Digest, serde_json::Value)],
) -> Result<(), ImageError> {
    let size = blobs.verify(index)?;
    fs::create_dir_all(dest.join("blobs/sha256"))?;
    for d in closure_with(blobs, index, extra)? {
        blobs.verify(&d)?;
        fs::copy(blobs.path(&d), dest.join("blobs/sha256").join(d.hex()))?;
    }
    fs::write(dest.join("oci-layout"), OCI_LAYOUT)?;
    fs::write(
        dest.join("index.json"),
        layout_index(blobs, index, size, tag, extra)?,
    )?;
    Ok(())
}

/// Writes the same layout as a tar archive (`oci-archive:`), deterministic.
pub fn export_tar(
    blobs: &Blobs,
    index: &Digest,
    tag: &str,
    dest: &Path,
    extra: &[(Digest, serde_json::Value)],
) -> Result<(), ImageError> {
    let size = blobs.verify(index)?;
    let tmp = dest.with_extension("partial");
    {
        let f = fs::File::create(&tmp)?;
        let mut b = tar::Builder::new(io::BufWriter::new(f));
        let mut add = |name: &str, data: &mut dyn io::Read, len: u64| -> io::Result<()> {
            let mut h = tar::Header::new_ustar();
            h.set_path(name)?;
            h.set_size(len);
            h.set_mode(0o644);
            h.set_mtime(0);
            h.set_cksum();
            b.append(&h, data)
        };
        add(
            "oci-layout",
            &mut OCI_LAYOUT.as_bytes(),
            OCI_LAYOUT.len() as u64,
        )?;
        let idx = layout_index(blobs, index, size, tag, extra)?;
        add("index.json", &mut idx.as_bytes(), idx.len() as u64)?;
        for d in closure_with(blobs, index, extra)? {
            let len = blobs.verify(&d)?;
            let mut f = fs::File::open(blobs.path(&d))?;
            add(&format!("blobs/sha256/{}", d.hex()), &mut f, len)?;
        }
        let mut w = b.into_inner()?;
        w.flush()?;
    }
    fs::rename(tmp, dest)?;
    Ok(())
}
