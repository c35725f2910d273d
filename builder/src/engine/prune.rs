//! The mark half of `mxbuild prune`: what the store must keep. Blobs are
//! reachable from an image name (through its manifests) or from a cached
//! build step (its layers); snapshots from a cached step. The sweep half is
//! [`crate::store::sweep`], which knows no manifests.

use std::collections::BTreeSet;

use super::cache::Cache;
use super::snapshot::Snapshots;
use crate::image::manifest;
use crate::store::Store;
use crate::store::digest::Digest;

/// What prune keeps.
#[derive(Debug, Clone, Default)]
pub struct Marked {
    /// Blobs still reachable.
    pub blobs: BTreeSet<Digest>,
    /// Snapshot names still used by cached steps.
    pub snapshots: BTreeSet<String>,
}

/// Marks everything reachable from image names and the step cache. An
/// image name whose blobs are incomplete is an error (its blobs cannot be
/// told apart from garbage), with the way to repair it.
pub fn mark(store: &Store) -> Result<Marked, String> {
    let mut out = Marked::default();
    for (name, d) in store.refs.list().map_err(|e| e.to_string())? {
        let all = manifest::closure(&store.blobs, &d)
            .map_err(|e| format!("image {name} is incomplete ({e}); hint: `mxbuild image rm {name}` then pull or build it again"))?;
        out.blobs.extend(all);
    }
    let cache = Cache::open(&store.root).map_err(|e| e.to_string())?;
    for (_, st) in cache.all() {
        for l in &st.layers {
            if let Ok(d) = l.blob() {
                out.blobs.insert(d);
            }
        }
        out.snapshots.extend(Snapshots::names(&st));
    }
    Ok(out)
}

/// Removes the snapshots `marked` does not keep; returns how many went.
pub fn sweep_snapshots(store: &Store, marked: &Marked) -> Result<usize, String> {
    let snapshots = Snapshots::open(&store.root).map_err(|e| e.to_string())?;
    snapshots
        .retain(&marked.snapshots)
        .map_err(|e| e.to_string())
}
