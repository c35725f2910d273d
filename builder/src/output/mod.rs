//! Where images go after a build or from the store: OCI layouts and
//! docker-archives ([`export`]), registries ([`push`]). Above the engine
//! and below the command line, so `build -o`, `build --push`, `image
//! export` and `image push` share one implementation and the CLI only
//! parses and prints.

pub mod export;
pub mod push;
