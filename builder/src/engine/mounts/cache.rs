//! `--mount=type=cache`: a directory in the store that outlives builds,
//! per `id=` (else per target path *and platform*, so arm64 and amd64
//! object files never meet by accident), shared, locked or private.
//!
//! With `from=` the cache starts as a copy of that stage's or image's
//! `source=` path (default: its root), and, as in BuildKit (a cache is
//! keyed by id *and* the seed's snapshot), each seed has a cache of its
//! own: a rebuilt stage with other content seeds a fresh one. mxbuild keeps
//! only the `source` subtree, so the key names it too. `ro` mounts it
//! read-only.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use sha2::{Digest as _, Sha256};

use super::{Hold, Mounts, parse_id, parse_octal};
use crate::dockerfile::mount::Mount;
use crate::engine::Ctx;
use crate::engine::run::stubs::Stubs;
use crate::engine::state::State;
use crate::exec::MountSpec;
use crate::plan::Source;

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

/// Prepares a cache mount at `target`, seeded from `from` when given.
pub(super) fn add(
    ctx: &Ctx,
    mounts: &mut Mounts,
    m: &Mount,
    from: Option<&Source>,
    target: String,
    rootfs: &Path,
    stubs: &mut Stubs,
) -> Result<(), String> {
    let mut id = match &m.id {
        Some(id) => id.clone(),
        None => format!("{target}@{}", mounts.platform),
    };
    let seed = match from {
        Some(src) => Some(Seed::of(ctx, m, src).map_err(|e| format!("{}: {e}", mounts.at))?),
        None => None,
    };
    if let Some(s) = &seed {
        id = format!("{id}:{}", s.key);
    }
    let dir = ctx
        .store
        .root
        .join("cache-mounts")
        .join(hex(&Sha256::digest(id.as_bytes())));
    if !dir.is_dir() {
        create(ctx, m, &dir, seed.as_ref()).map_err(|e| format!("{}: {e}", mounts.at))?;
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
        readonly: m.readonly == Some(true),
    });
    Ok(())
}

/// What a cache is seeded from: a state and the path in it.
struct Seed {
    state: State,
    /// `source=`, relative to the state's root (empty: the root).
    path: String,
    /// Part of the cache's identity: the state's layers and the path.
    key: String,
    /// `uid`/`gid`/`mode` without `source=`: BuildKit then mounts a fresh
    /// directory made on the state, so nothing of it is copied.
    empty: bool,
}

impl Seed {
    fn of(ctx: &Ctx, m: &Mount, src: &Source) -> Result<Seed, String> {
        if matches!(src, Source::MainContext | Source::Context(_)) {
            return Err("--mount=type=cache,from= a build context is not supported yet\nhint: seed the cache from a stage (FROM scratch AS seed / COPY ... ) instead".to_string());
        }
        let state = ctx.state_of(src)?;
        let path = crate::fsutil::source_rel(m.source.as_deref().unwrap_or("/"))?;
        let empty = m.source.is_none() && (m.uid.is_some() || m.gid.is_some() || m.mode.is_some());
        let mut h = Sha256::new();
        for l in &state.layers {
            h.update(l.diff_id.as_bytes());
            h.update(b"\n");
        }
        h.update(format!("source={path} empty={empty}").as_bytes());
        Ok(Seed {
            state,
            path,
            key: hex(&h.finalize()),
            empty,
        })
    }
}

/// Makes the cache directory `dir`: empty with `mode`/`uid`/`gid`, or a
/// copy of the seed's path (owners, modes, links kept). It is filled under
/// another name and renamed into place, so a build killed halfway or
/// another build at the same time never sees a half-made cache.
fn create(ctx: &Ctx, m: &Mount, dir: &Path, seed: Option<&Seed>) -> Result<(), String> {
    let parent = dir.parent().ok_or("internal: cache directory")?;
    fs::create_dir_all(parent).map_err(|e| e.to_string())?;
    // Unique per call: two instances of one build may make the same cache
    // at the same time (each then keeps whichever rename wins).
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.with_extension(format!("new-{}-{n}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    let filled = match seed.filter(|s| !s.empty) {
        Some(s) => {
            let view = ctx.view(&s.state, "cache-seed")?;
            let from = crate::fsutil::resolve(view.path(), &s.path).map_err(|e| e.to_string())?;
            if !fs::metadata(&from).is_ok_and(|md| md.is_dir()) {
                return Err(format!(
                    "--mount=type=cache,source={}: not a directory in from=",
                    m.source.as_deref().unwrap_or("/")
                ));
            }
            let own = crate::fsutil::Ownership {
                owner: None,
                chmod: None,
            };
            crate::fsutil::Copier::new(ctx.fx, own, &crate::fsutil::pick_all)
                .copy(&from, &tmp, "")
                .map_err(|e| format!("seeding the cache: {e}"))?;
            true
        }
        None => false,
    };
    if !filled {
        fs::create_dir(&tmp).map_err(|e| e.to_string())?;
        fs::set_permissions(
            &tmp,
            fs::Permissions::from_mode(parse_octal(&m.mode, 0o755)?),
        )
        .map_err(|e| e.to_string())?;
        ctx.fx
            .lchown(&tmp, parse_id(&m.uid)?, parse_id(&m.gid)?)
            .map_err(|e| e.to_string())?;
    }
    if rename_noreplace(&tmp, dir).is_err() {
        // Another build made it first: use theirs.
        let _ = fs::remove_dir_all(&tmp);
        if !dir.is_dir() {
            return Err(format!("cannot make the cache directory {}", dir.display()));
        }
    }
    Ok(())
}

/// `rename(from, to)` that fails instead of replacing an existing `to`
/// (even an empty directory, which plain rename would replace).
fn rename_noreplace(from: &Path, to: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let a = std::ffi::CString::new(from.as_os_str().as_bytes()).map_err(std::io::Error::other)?;
    let b = std::ffi::CString::new(to.as_os_str().as_bytes()).map_err(std::io::Error::other)?;
    // SAFETY: two valid NUL-terminated paths.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}
