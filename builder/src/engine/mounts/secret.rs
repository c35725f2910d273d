//! `--mount=type=secret`: a `--secret` given to the build, as a file the
//! runtime keeps in memory only (its private tmpfs) and/or as an
//! environment variable (`env=`); never in a layer or the cache key.

use std::path::Path;

use super::{Mounts, parse_id, parse_octal};
use crate::dockerfile::mount::Mount;
use crate::engine::Ctx;
use crate::engine::run::env::Env;
use crate::engine::run::stubs::Stubs;
use crate::exec::{MountSpec, SecretBytes};

/// Prepares a secret mount (`target` as given, made absolute).
pub(super) fn add(
    ctx: &Ctx,
    mounts: &mut Mounts,
    m: &Mount,
    target: String,
    rootfs: &Path,
    env: &mut Env,
    stubs: &mut Stubs,
) -> Result<(), String> {
    let id =
        m.id.clone()
            .or_else(|| {
                m.target.as_ref().and_then(|t| {
                    Path::new(t)
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                })
            })
            .unwrap_or_default();
    let Some(src) = ctx.opts.secrets.get(&id) else {
        if m.required {
            return Err(format!(
                "{}: secret {id:?} is required but was not given\nhint: mxbuild build --secret id={id},src=FILE",
                mounts.at
            ));
        }
        return Ok(());
    };
    let content = src.read().map_err(|e| format!("--secret id={id}: {e}"))?;
    if let Some(var) = &m.env {
        env.set(var, &String::from_utf8_lossy(&content));
        if m.target.is_none() {
            return Ok(());
        }
    }
    let dest = if m.target.is_some() {
        target
    } else {
        format!("/run/secrets/{id}")
    };
    stubs.note(rootfs, &dest);
    mounts.specs.push(MountSpec::Secret {
        content: SecretBytes(content),
        destination: dest,
        mode: parse_octal(&m.mode, 0o400)?,
        uid: parse_id(&m.uid)?,
        gid: parse_id(&m.gid)?,
    });
    Ok(())
}
