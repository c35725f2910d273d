//! One test per attack in SECURITY.md: hostile contexts, images, layers,
//! registries and RUN steps, each through the real `mxbuild` binary.

mod context;
mod images;
mod layers;
mod registry;
mod sandbox;
