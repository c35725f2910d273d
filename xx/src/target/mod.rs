//! THE platform table: one row per CPU architecture (and ARM variant), holding
//! every name the tools around a cross build use for it — `uname -m`, Debian /
//! Alpine / RHEL package architectures, C, Rust and zig triples, Go env, QEMU
//! binary, ELF expectations and dynamic loaders.
//!
//! Every mapping in the project comes from here: [`TABLE`] holds the rows (a
//! newcomer adding an architecture adds one, and the tests tell what is
//! missing) and [`ArchSpec`] says what a row holds. The other files only
//! combine a row with the OS, distro and libc and hold no names of their own:
//! finding a row (`lookup`), resolving it for a distro (`resolve`, [`Target`]),
//! its triples (`triples`) and Go environment (`go`).

mod go;
mod lookup;
mod resolve;
mod spec;
mod table;
mod triples;

pub use crate::arm::{ArmArch, FloatRule};
pub use go::go_env;
pub use lookup::{for_platform, lookup, parse_c_triple};
pub use resolve::{Target, TripleParts, UnsupportedTarget, default_macos_version_min};
pub use spec::{
    ArchSpec, CTripleNames, DarwinNames, ElfSpec, Endian, LibraryPaths, PackageArchs,
    RustTripleNames, Tier, WindowsNames, ZigTripleNames, em, is_wasi_os, wasi,
};
pub use table::TABLE;
