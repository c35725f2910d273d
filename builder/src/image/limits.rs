//! Size limits on image metadata, shared by the parser (`manifest`)
//! and the checks (`checks`) without either importing the other.

/// The largest manifest, index or config read: 4 MiB, as registries cap
/// manifests (same as the store's read cap).
pub const MAX_METADATA: u64 = crate::store::blobs::MAX_READ;

/// The most layers an image may have (Docker's `maxLayerDepth`).
pub const MAX_LAYERS: usize = 125;
