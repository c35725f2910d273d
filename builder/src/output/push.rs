//! Pushing a stored index to a registry.

use oci_client::Reference;

use crate::registry::push::Pushed;
use crate::registry::{RegistryError, Session};
use crate::store::Store;
use crate::store::digest::Digest;

/// Pushes index `idx` with everything it names to `r`.
pub fn push_index(
    store: &Store,
    idx: &Digest,
    r: &Reference,
    insecure: bool,
) -> Result<Pushed, RegistryError> {
    Session::new(r, insecure)?.push(&store.blobs, &store.origins, idx, r)
}
