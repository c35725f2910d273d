//! `--cache-to type=registry,ref=REF` pushes the cache manifest under REF;
//! `--cache-from type=registry,ref=REF` reads it back, or, when REF is an
//! image built with `--cache-to type=inline`, the records in its configs
//! (one per platform of an index), as BuildKit reads either from one ref.
//! Everything read is checked against its digest before the store keeps it.

use oci_client::Reference;

use super::super::layers::Snapshots;
use super::{CACHE_CONFIG, inline, put_records, records_manifest};
use crate::image::manifest::{self, Desc, Node};
use crate::image::recompress::LayerPolicy;
use crate::registry::Session;
use crate::store::Store;
use crate::store::steps::StepCache;
use xx::Platform;

/// The records of `keys` and their layers, pushed under `reference`;
/// returns the number of records.
pub fn export(
    store: &Store,
    (cache, snapshots): (&StepCache, &Snapshots),
    keys: &[String],
    reference: &str,
    insecure: bool,
    layers: &LayerPolicy,
) -> Result<usize, String> {
    let (mbytes, n) = records_manifest(&store.blobs, (cache, snapshots), keys, layers)?;
    let r = crate::registry::reference::parse(reference)?;
    let session = Session::new(&r, insecure).map_err(|e| e.to_string())?;
    session
        .push_stored_manifest(&store.blobs, &store.origins, &r, &mbytes)
        .map_err(|e| e.to_string())?;
    Ok(n)
}

/// The records under `reference` (a cache manifest, or an image or index
/// with inline caches, of which only `platforms` are read) into `cache`;
/// `None` when the registry has no such reference.
pub fn import(
    store: &Store,
    cache: &StepCache,
    reference: &str,
    insecure: bool,
    platforms: &[Platform],
) -> Result<Option<usize>, String> {
    let r = crate::registry::reference::parse(reference)?;
    let session = Session::new(&r, insecure).map_err(|e| e.to_string())?;
    let Some(bytes) = session.optional_manifest(&r).map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    let from = Source {
        session: &session,
        r: &r,
        store,
        cache,
    };
    match manifest::parse(&bytes).map_err(|e| e.to_string())? {
        Node::Manifest { config, layers } if config.media_type == CACHE_CONFIG => {
            let cbytes = from.config(&config)?;
            session
                .fetch_blobs(&store.blobs, &r, &layers)
                .map_err(|e| e.to_string())?;
            put_records(&store.blobs, cache, &cbytes["records"]).map(Some)
        }
        Node::Manifest { config, layers } => from.inline(&config, &layers).map(Some),
        Node::Index(children) => {
            let mut n = 0;
            let wanted = children.iter().filter(|c| {
                !c.attestation && c.platform.as_ref().is_some_and(|p| platforms.contains(p))
            });
            for child in wanted {
                let bytes = session
                    .manifest_by_digest(&r, &child.digest)
                    .map_err(|e| e.to_string())?;
                if let Node::Manifest { config, layers } =
                    manifest::parse(&bytes).map_err(|e| e.to_string())?
                {
                    n += from.inline(&config, &layers)?;
                }
            }
            Ok(Some(n))
        }
    }
}

/// One registry reference being read.
struct Source<'a> {
    session: &'a Session,
    r: &'a Reference,
    store: &'a Store,
    cache: &'a StepCache,
}

impl Source<'_> {
    /// A config blob (checked against its digest), as JSON.
    fn config(&self, d: &Desc) -> Result<serde_json::Value, String> {
        let bytes = self
            .session
            .small_blob(self.r, d)
            .map_err(|e| e.to_string())?;
        serde_json::from_slice(&bytes).map_err(|e| format!("config {}: {e}", d.digest))
    }

    /// The inline cache of one image: its records, and those of its layers
    /// they use, fetched.
    fn inline(&self, config: &Desc, layers: &[Desc]) -> Result<usize, String> {
        let cfg = self.config(config)?;
        let records = inline::records_in(&cfg).ok_or_else(|| {
            format!(
                "{} is an image without an inline cache (build it with --cache-to type=inline)",
                self.r.whole()
            )
        })?;
        let used = inline::layers_used(records);
        let needed: Vec<Desc> = layers
            .iter()
            .filter(|l| used.contains(&l.digest))
            .cloned()
            .collect();
        self.session
            .fetch_blobs(&self.store.blobs, self.r, &needed)
            .map_err(|e| e.to_string())?;
        put_records(&self.store.blobs, self.cache, records)
    }
}
