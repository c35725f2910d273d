//! `--mount=type=ssh`: the host agent's socket itself is bound in (builds
//! run as root, so the container's root can use it), at BuildKit's default
//! path, with `SSH_AUTH_SOCK` set for the first one.

use std::path::Path;

use super::Mounts;
use crate::dockerfile::mount::Mount;
use crate::engine::Ctx;
use crate::engine::run::env::Env;
use crate::engine::run::stubs::Stubs;
use crate::exec::MountSpec;
use crate::fsutil;

/// Prepares an ssh mount.
pub(super) fn add(
    ctx: &Ctx,
    mounts: &mut Mounts,
    m: &Mount,
    rootfs: &Path,
    env: &mut Env,
    stubs: &mut Stubs,
) -> Result<(), String> {
    let at = &mounts.at;
    let id = m.id.clone().unwrap_or_else(|| "default".to_string());
    let n = mounts.ssh;
    mounts.ssh += 1;
    // The host socket keeps its owner and mode; only BuildKit's defaults
    // (root, 0600) can be honoured.
    let uid_ok = m.uid.as_deref().is_none_or(|u| u == "0");
    let gid_ok = m.gid.as_deref().is_none_or(|g| g == "0");
    let mode_ok = m
        .mode
        .as_deref()
        .is_none_or(|x| x.trim_start_matches('0') == "600");
    if !(uid_ok && gid_ok && mode_ok) {
        return Err(format!(
            "{at}: --mount=type=ssh with uid, gid or mode other than root and 0600 is not supported yet (the agent socket is shared as it is)\nhint: run this step as root (USER root) and drop uid/gid/mode"
        ));
    }
    let Some(socket) = ctx.opts.ssh.get(&id) else {
        if m.required {
            return Err(format!(
                "{at}: ssh agent {id:?} is required but was not given\nhint: mxbuild build --ssh {id} (uses $SSH_AUTH_SOCK) or --ssh {id}=SOCKET"
            ));
        }
        return Ok(());
    };
    // An empty target means the default; a relative one is taken from the
    // root, as BuildKit passes it unchanged.
    let dest = match m.target.as_deref().filter(|t| !t.is_empty()) {
        Some(t) => fsutil::clean_abs(&format!("/{t}")),
        None => format!("/run/buildkit/ssh_agent.{n}"),
    };
    if dest == "/" {
        return Err(format!(
            "{at}: --mount=type=ssh,target=/ would cover the whole filesystem\nhint: drop target= (the default is /run/buildkit/ssh_agent.N)"
        ));
    }
    if n == 0 && !env.has("SSH_AUTH_SOCK") {
        env.set("SSH_AUTH_SOCK", &dest);
    }
    stubs.note(rootfs, &dest);
    mounts.specs.push(MountSpec::Bind {
        source: socket.clone(),
        destination: dest,
        readonly: false,
    });
    Ok(())
}
