//! Looking at built states after a build: the filesystem of a state for
//! verification, the directories of the layers a build added, and
//! `--smoke-test`, a command run in a throwaway container of the image.

use std::path::{Path, PathBuf};

use super::layers::Snapshots;
use super::snapshot::{Scratch, Snapshot};
use super::state::State;
use crate::exec::effects::Effects;
use crate::exec::{Network, RunSpec, Security};
use crate::store::Store;

/// Runs `f` on a read-only view of `st`'s filesystem. The caller is in a
/// private mount namespace (as `mxbuild build` and `mxbuild verify` are).
pub fn with_view<T>(
    store: &Store,
    fx: &dyn Effects,
    st: &State,
    f: impl FnOnce(&Path) -> T,
) -> Result<T, String> {
    let snapshots = Snapshots::open(&store.root).map_err(|e| e.to_string())?;
    let lowers = snapshots.lowers(&store.blobs, st)?;
    let mut view = Snapshot::view(fx, Scratch::new(store, "view")?, lowers)?;
    let r = f(view.path());
    view.unmount()?;
    Ok(r)
}

/// The unpacked directories of the layers a build added on top of its base image.
pub fn added_layer_dirs(store: &Store, st: &State) -> Result<Vec<PathBuf>, String> {
    let snapshots = Snapshots::open(&store.root).map_err(|e| e.to_string())?;
    let n = st.base_layers.min(st.layers.len());
    st.layers[n..]
        .iter()
        .map(|l| {
            snapshots
                .ensure_layer(&store.blobs, l)
                .map(|name| snapshots.path(&name))
        })
        .collect()
}

/// Runs `cmd` (through `/bin/sh -c` where the image has a shell) in a
/// throwaway container of `st`, as `--smoke-test` does: the image's ENV,
/// USER and WORKDIR apply, and QEMU runs it where the platform is foreign.
/// `emulated`: the platform is foreign (the command gets an init, see
/// `qemu_cpu::init_program`); `qemu_cpu` is the CPU QEMU emulates for it
/// (`QEMU_CPU`). Returns the exit code and output.
pub fn smoke_test(
    store: &Store,
    fx: &dyn Effects,
    st: &State,
    cmd: &str,
    emulated: bool,
    qemu_cpu: Option<&str>,
) -> Result<(i32, String), String> {
    let snapshots = Snapshots::open(&store.root).map_err(|e| e.to_string())?;
    let lowers = snapshots.lowers(&store.blobs, st)?;
    let mut snap = Snapshot::prepare(fx, Scratch::new(store, "smoke")?, lowers)?;
    let mut spec = smoke_spec(st, snap.path(), &snap.scratch().0, cmd)?;
    if let Some(cpu) = qemu_cpu {
        if !spec.env.iter().any(|e| e.starts_with("QEMU_CPU=")) {
            spec.env.push(format!("QEMU_CPU={cpu}"));
        }
    }
    if emulated {
        spec.init = crate::exec::qemu_cpu::init_program();
    }
    let mut out = Vec::new();
    let code = fx.run(&spec, &mut |c| out.extend_from_slice(c));
    snap.unmount()?;
    Ok((
        code.map_err(|e| e.to_string())?,
        String::from_utf8_lossy(&out).into_owned(),
    ))
}

/// The process a smoke test runs in `rootfs`.
fn smoke_spec(st: &State, rootfs: &Path, scratch: &Path, cmd: &str) -> Result<RunSpec, String> {
    let user = st.config.user.clone().unwrap_or_else(|| "0".to_string());
    let ids = crate::exec::users::resolve(rootfs, &user)?;
    let mut env = st.config.env.clone();
    if !env.iter().any(|e| e.starts_with("PATH=")) {
        env.push(crate::image::import::DEFAULT_PATH.to_string());
    }
    // Through the image's shell when it has one, else run the words directly
    // (a `FROM scratch` image has no /bin/sh).
    let has_sh = crate::fsutil::resolve(rootfs, "/bin/sh")
        .map(|p| p.exists())
        .unwrap_or(false);
    let args = if has_sh {
        vec!["/bin/sh".to_string(), "-c".to_string(), cmd.to_string()]
    } else {
        cmd.split_whitespace().map(str::to_string).collect()
    };
    Ok(RunSpec {
        id: format!(
            "mxbuild-{}-{}",
            std::process::id(),
            scratch
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        ),
        rootfs: rootfs.to_path_buf(),
        bundle: scratch.join("bundle"),
        args,
        env,
        cwd: st
            .config
            .working_dir
            .clone()
            .unwrap_or_else(|| "/".to_string()),
        uid: ids.uid,
        gid: ids.gid,
        additional_gids: ids.additional,
        hostname: "smoke-test".to_string(),
        mounts: Vec::new(),
        network: Network::None,
        // The image under test is untrusted too: Docker's sandbox, seccomp included.
        security: Security::Sandbox,
        init: None,
        extras: Default::default(),
    })
}
