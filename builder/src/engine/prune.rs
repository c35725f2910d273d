//! `mxbuild prune`. The mark half is here: what the store must keep. Blobs
//! are reachable from an image name (through its manifests) or from a
//! cached build step (its layers, and the blobs made for layers that are
//! only snapshots in its record); snapshots from a cached step. The sweep
//! half is `store::sweep`, which knows no manifests. The caller holds the
//! store's exclusive lock.

use std::collections::BTreeSet;

use super::layers::Snapshots;
use super::state::State;
use crate::image::manifest;
use crate::store::Store;
use crate::store::digest::Digest;
use crate::store::layer_blobs::LayerBlobs;
use crate::store::steps::StepCache;
use crate::store::sweep::{Swept, sweep};

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
    let cache = StepCache::open(&store.root).map_err(|e| e.to_string())?;
    for (_, st) in cache.all::<State>() {
        for l in &st.layers {
            if let Ok(d) = l.blob() {
                out.blobs.insert(d);
            }
        }
        out.snapshots.extend(Snapshots::names(&st));
    }
    // A blob made from a kept snapshot is kept with it (the next export
    // reuses it instead of compressing again).
    let made = LayerBlobs::open(&store.root).map_err(|e| e.to_string())?;
    for (diff_id, m) in made.all() {
        if out
            .snapshots
            .contains(&Snapshots::diff_name(&diff_id.to_string()))
        {
            out.blobs.insert(m.digest);
        }
    }
    Ok(out)
}

/// Removes the snapshots `marked` does not keep; returns how many went.
fn sweep_snapshots(store: &Store, marked: &Marked) -> Result<usize, String> {
    let snapshots = Snapshots::open(&store.root).map_err(|e| e.to_string())?;
    snapshots
        .retain(&marked.snapshots)
        .map_err(|e| e.to_string())
}

/// What a prune removed and kept.
#[derive(Debug, Clone, Default)]
pub struct Pruned {
    /// Blobs, temp files and work directories removed.
    pub swept: Swept,
    /// Snapshots removed.
    pub snapshots: usize,
    /// Blobs kept.
    pub kept: usize,
}

/// Stops containers left by killed builds, drops (with `all`) the step
/// cache, cache mounts, git checkouts, downloads and kept verification
/// reports, then removes every blob and snapshot nothing reaches, and
/// leftovers of killed runs.
pub fn prune(store: &Store, all: bool) -> Result<Pruned, String> {
    // Containers of killed builds may still run; stop them before their files go.
    if let Ok(rt) = crate::exec::runc::Runc::find(&store.root.join("runc")) {
        rt.reap_stale();
    }
    crate::exec::runc::sweep_sandboxes(&store.root.join("sandbox"));
    if all {
        for d in
            ["cache", "cache-mounts", "git", "downloads", "verified"].map(|d| store.root.join(d))
        {
            if d.exists() {
                std::fs::remove_dir_all(&d).map_err(|e| format!("{}: {e}", d.display()))?;
            }
        }
    }
    let marked = mark(store)?;
    let snapshots = sweep_snapshots(store, &marked)?;
    let keep = &marked.blobs;
    let swept = sweep(&store.root, &store.blobs, keep).map_err(|e| e.to_string())?;
    store.refs.clean_tmp().map_err(|e| e.to_string())?;
    store
        .origins
        .retain(&|d| keep.contains(d))
        .map_err(|e| e.to_string())?;
    LayerBlobs::open(&store.root)
        .and_then(|made| made.retain(&|d| keep.contains(d)))
        .map_err(|e| e.to_string())?;
    Ok(Pruned {
        swept,
        snapshots,
        kept: keep.len(),
    })
}
