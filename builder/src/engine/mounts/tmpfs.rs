//! `--mount=type=tmpfs`: an empty tmpfs at the target for the step's run,
//! `size=` in bytes as parsed by `dockerfile::mount` (0 or absent: the
//! kernel's default).

use std::path::Path;

use super::Mounts;
use crate::dockerfile::mount::Mount;
use crate::engine::run::stubs::Stubs;
use crate::exec::MountSpec;

/// Prepares a tmpfs mount at `target`.
pub(super) fn add(
    mounts: &mut Mounts,
    m: &Mount,
    target: String,
    rootfs: &Path,
    stubs: &mut Stubs,
) -> Result<(), String> {
    stubs.note(rootfs, &target);
    mounts.specs.push(MountSpec::Tmpfs {
        destination: target,
        size: m.size.unwrap_or(0),
    });
    Ok(())
}
