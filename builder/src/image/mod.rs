//! Image formats: layer tars (create and apply), and later the OCI layout,
//! image config, index and docker-archive. Knows nothing of Dockerfiles.

pub mod compress;
pub mod extract;
pub mod layer;
pub mod oci;
