//! `--mount=type=cache`: a directory in the store that outlives builds,
//! per `id=` (else per target path *and platform*, so arm64 and amd64
//! object files never meet by accident), shared, locked or private.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use sha2::{Digest as _, Sha256};

use super::{Hold, Mounts, parse_id, parse_octal};
use crate::dockerfile::mount::Mount;
use crate::engine::Ctx;
use crate::engine::run::stubs::Stubs;
use crate::exec::MountSpec;

/// Holds a cache mount's lock for the duration of the run.
pub(crate) struct CacheLock(#[allow(dead_code)] fs::File);

fn lock_file(dir: &Path, exclusive_try: bool) -> Result<Option<CacheLock>, String> {
    use std::os::unix::io::AsRawFd;
    let f = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.with_extension("lock"))
        .map_err(|e| e.to_string())?;
    let op = if exclusive_try {
        libc::LOCK_EX | libc::LOCK_NB
    } else {
        libc::LOCK_EX
    };
    // SAFETY: flock on a descriptor we own.
    let rc = unsafe { libc::flock(f.as_raw_fd(), op) };
    if rc != 0 {
        return if exclusive_try {
            Ok(None)
        } else {
            Err(std::io::Error::last_os_error().to_string())
        };
    }
    Ok(Some(CacheLock(f)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Prepares a cache mount at `target`.
pub(super) fn add(
    ctx: &Ctx,
    mounts: &mut Mounts,
    m: &Mount,
    target: String,
    rootfs: &Path,
    stubs: &mut Stubs,
) -> Result<(), String> {
    let id = match &m.id {
        Some(id) => id.clone(),
        None => format!("{target}@{}", mounts.platform),
    };
    let dir = ctx
        .store
        .root
        .join("cache-mounts")
        .join(hex(&Sha256::digest(id.as_bytes())));
    if !dir.is_dir() {
        fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        fs::set_permissions(
            &dir,
            fs::Permissions::from_mode(parse_octal(&m.mode, 0o755)?),
        )
        .map_err(|e| e.to_string())?;
        ctx.fx
            .lchown(&dir, parse_id(&m.uid)?, parse_id(&m.gid)?)
            .map_err(|e| e.to_string())?;
    }
    let source = match m.sharing.as_deref().unwrap_or("shared") {
        "locked" => {
            mounts.holds.extend(lock_file(&dir, false)?.map(Hold::Lock));
            dir
        }
        "private" => match lock_file(&dir, true)? {
            Some(l) => {
                mounts.holds.push(Hold::Lock(l));
                dir
            }
            // In use: this run gets a fresh private cache.
            None => {
                let d = mounts
                    .scratch
                    .join(format!("private-cache-{}", mounts.specs.len()));
                fs::create_dir_all(&d).map_err(|e| e.to_string())?;
                d
            }
        },
        _ => dir,
    };
    stubs.note(rootfs, &target);
    mounts.specs.push(MountSpec::Bind {
        source,
        destination: target,
        readonly: false,
    });
    Ok(())
}
