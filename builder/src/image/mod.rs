//! Image formats: layer tars (create and apply), manifests and indexes, the
//! OCI layout, docker-archive, and import of a root filesystem. Knows nothing
//! of Dockerfiles or registries.

pub mod annotations;
pub mod archive;
pub mod checks;
pub mod compress;
pub mod config;
pub mod docker_archive;
pub mod error;
pub mod extract;
pub mod hashing;
pub mod import;
pub mod index;
pub mod ingest;
pub mod layer;
pub mod layout;
pub mod limits;
pub mod manifest;
pub mod oci;
pub mod pgzip;
pub mod recompress;
pub mod time;

pub use error::ImageError;
