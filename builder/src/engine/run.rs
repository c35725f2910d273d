//! RUN: an overlay of the state's snapshots with a fresh upperdir, the
//! process run by the OCI runtime with the step's environment, user,
//! working directory and `--mount`s, then the upperdir becomes the layer.
//! Mount points the runtime had to create (`/etc/resolv.conf` in an image
//! without one, a cache mount target) are removed from the upperdir again,
//! so they never leak into the image.

use std::collections::VecDeque;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use sha2::{Digest as _, Sha256};

use super::Ctx;
use super::state::State;
use crate::dockerfile::mount::MountKind;
use crate::exec::mounts::Overlay;
use crate::exec::{MountSpec, RunSpec, SecretBytes, users};
use crate::fsutil;
use crate::plan::{Instance, Op, Step};

/// A directory under `<root>/work/`, removed on drop (and by prune if the
/// process dies first).
#[derive(Debug)]
pub struct Scratch(pub PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Mounts `st`'s filesystem with a fresh upperdir, runs `f` on the merged
/// view, unmounts, and returns the scratch directory and the upperdir.
pub(crate) fn with_overlay_scratch(
    ctx: &Ctx,
    st: &State,
    f: impl FnOnce(&Path) -> Result<(), String>,
) -> Result<(Scratch, PathBuf), String> {
    let scratch = Scratch(ctx.store.scratch("step").map_err(|e| e.to_string())?);
    let lowers = ctx.snapshots.lowers(&ctx.store.blobs, st)?;
    let (upper, work, merged, empty) = dirs(&scratch.0)?;
    let o = Overlay::mount(&lowers, &upper, &work, &empty, &merged).map_err(|e| e.to_string())?;
    let r = f(&merged);
    o.unmount().map_err(|e| e.to_string())?;
    r?;
    Ok((scratch, upper))
}

/// Like [`with_overlay_scratch`], for callers that commit right away.
pub(crate) fn with_overlay(
    ctx: &Ctx,
    st: &State,
    f: impl FnOnce(&Path) -> Result<(), String>,
) -> Result<PathBuf, String> {
    let (scratch, upper) = with_overlay_scratch(ctx, st, f)?;
    // Move the upperdir out of the scratch directory so it survives its removal.
    let kept = ctx.store.root.join("work").join(format!(
        "upper-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    fs::rename(&upper, &kept).map_err(|e| e.to_string())?;
    drop(scratch);
    Ok(kept)
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

fn dirs(base: &Path) -> Result<(PathBuf, PathBuf, PathBuf, PathBuf), String> {
    let v: Vec<PathBuf> = ["upper", "work", "merged", "empty"]
        .iter()
        .map(|d| base.join(d))
        .collect();
    for d in &v {
        fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
    }
    // The upperdir's root becomes the image's `/` metadata: keep it 0755.
    fs::set_permissions(&v[0], fs::Permissions::from_mode(0o755)).map_err(|e| e.to_string())?;
    Ok((v[0].clone(), v[1].clone(), v[2].clone(), v[3].clone()))
}

/// The first ancestor of `p` (in-container) that does not exist in `root`.
fn first_missing(root: &Path, p: &str) -> Option<String> {
    let clean = fsutil::clean_abs(p);
    let mut sofar = String::new();
    for part in clean.split('/').filter(|s| !s.is_empty()) {
        sofar.push('/');
        sofar.push_str(part);
        let host = fsutil::resolve(root, &sofar).ok()?;
        if fs::symlink_metadata(&host).is_err() {
            return Some(sofar);
        }
    }
    None
}

/// True if `p` holds only what a runtime creates for mount points: empty
/// files and directories of them.
fn only_stubs(p: &Path) -> bool {
    match fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => fs::read_dir(p)
            .map(|d| d.flatten().all(|e| only_stubs(&e.path())))
            .unwrap_or(false),
        Ok(m) => m.is_file() && m.len() == 0,
        Err(_) => true,
    }
}

/// Owner and mode of a directory: what a copy-up keeps (only times change).
type DirMeta = (u32, u32, u32);

fn dir_meta(p: &Path) -> Option<DirMeta> {
    use std::os::unix::fs::MetadataExt;
    let m = fs::symlink_metadata(p).ok()?;
    m.is_dir().then(|| (m.mode(), m.uid(), m.gid()))
}

/// The existing directories above each mount stub, with their metadata
/// before the step ran, deepest first.
fn stub_parents(root: &Path, stubs: &[String]) -> Vec<(String, DirMeta)> {
    let mut out: Vec<(String, DirMeta)> = Vec::new();
    for s in stubs {
        let mut dir = Path::new(s).parent();
        while let Some(d) = dir {
            let text = d.to_string_lossy().into_owned();
            if text == "/" || text.is_empty() {
                break;
            }
            if let Some(meta) = fsutil::resolve(root, &text).ok().and_then(|h| dir_meta(&h)) {
                if !out.iter().any(|(p, _)| *p == text) {
                    out.push((text, meta));
                }
            }
            dir = d.parent();
        }
    }
    out.sort_by_key(|(p, _)| std::cmp::Reverse(p.matches('/').count()));
    out
}

/// After the stubs are gone: removes the copies of their parent directories
/// that the runtime's stub creation left in the upperdir, when they are
/// empty and their owner and mode are unchanged (so the step itself did not
/// touch them). Otherwise every RUN in an image without `/etc/hosts` would
/// add a layer holding only `etc/`.
fn drop_stub_parents(upper: &Path, parents: &[(String, DirMeta)]) {
    for (dir, meta) in parents {
        let p = upper.join(dir.trim_start_matches('/'));
        let empty = fs::read_dir(&p).is_ok_and(|mut d| d.next().is_none());
        if empty && dir_meta(&p) == Some(*meta) && !crate::image::layer::is_opaque(&p) {
            let _ = fs::remove_dir(&p);
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Holds a cache mount's lock for the duration of the run.
struct CacheLock(#[allow(dead_code)] fs::File);

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

fn parse_octal(s: &Option<String>, default: u32) -> Result<u32, String> {
    match s {
        None => Ok(default),
        Some(v) => u32::from_str_radix(v, 8).map_err(|_| format!("mode={v} is not an octal mode")),
    }
}

fn parse_id(s: &Option<String>) -> Result<u32, String> {
    match s {
        None => Ok(0),
        Some(v) => v
            .parse()
            .map_err(|_| format!("uid/gid {v:?} is not a number")),
    }
}

/// Runs one RUN step.
pub(crate) fn run_step(
    ctx: &Ctx,
    inst: &Instance,
    step: &Step,
    mut st: State,
    prefix: &str,
) -> Result<State, String> {
    let Op::Run {
        argv,
        env,
        mounts,
        network,
        security,
        heredocs,
    } = &step.op
    else {
        return Err("internal: not a RUN".to_string());
    };
    let at = ctx.at(step);
    let platform = &inst.platform;
    let scratch = Scratch(ctx.store.scratch("run").map_err(|e| e.to_string())?);
    let lowers = ctx.snapshots.lowers(&ctx.store.blobs, &st)?;
    let (upper, work, merged, empty) = dirs(&scratch.0)?;
    let overlay = Overlay::mount(&lowers, &upper, &work, &empty, &merged)
        .map_err(|e| format!("{at}: {e}"))?;

    let cwd = st
        .config
        .working_dir
        .clone()
        .unwrap_or_else(|| "/".to_string());
    let user = st.config.user.clone().unwrap_or_else(|| "0".to_string());
    let ids = users::resolve(&merged, &user).map_err(|e| format!("{at}: USER {user}: {e}"))?;
    if first_missing(&merged, &cwd).is_some() {
        fsutil::mkdir_all(&merged, &cwd, ids.uid, ids.gid)
            .map_err(|e| format!("{at}: WORKDIR {cwd}: {e}"))?;
    }

    let mut envv: Vec<String> = Vec::new();
    let set = |k: &str, v: &str, envv: &mut Vec<String>| {
        envv.retain(|e| e.split_once('=').map(|(ek, _)| ek) != Some(k));
        envv.push(format!("{k}={v}"));
    };
    for kv in &st.config.env {
        if let Some((k, v)) = kv.split_once('=') {
            set(k, v, &mut envv);
        }
    }
    for (k, v) in env {
        set(k, v, &mut envv);
    }
    if !envv.iter().any(|e| e.starts_with("PATH=")) {
        envv.push(crate::image::import::DEFAULT_PATH.to_string());
    }
    if !envv.iter().any(|e| e.starts_with("HOME=")) {
        envv.push(format!(
            "HOME={}",
            ids.home.clone().unwrap_or_else(|| "/root".to_string())
        ));
    }

    // Mount points the runtime may create, to remove from the layer afterwards.
    let mut stubs: Vec<String> = Vec::new();
    for d in ["/etc/resolv.conf", "/etc/hosts"] {
        stubs.extend(first_missing(&merged, d));
    }
    let mut specs: Vec<MountSpec> = Vec::new();
    let mut _locks = Vec::new();
    let mut _views = Vec::new();
    let mut ssh_mounts = 0;
    for rm in mounts {
        let m = &rm.mount;
        let target = m.target.clone().unwrap_or_default();
        let target_abs = if target.starts_with('/') {
            target.clone()
        } else {
            fsutil::clean_abs(&format!("{cwd}/{target}"))
        };
        match m.kind {
            MountKind::Cache => {
                // Without an id, the cache is per target path *and platform*:
                // arm64 and amd64 object files never meet by accident.
                let id = match &m.id {
                    Some(id) => id.clone(),
                    None => format!("{target_abs}@{platform}"),
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
                    std::os::unix::fs::lchown(
                        &dir,
                        Some(parse_id(&m.uid)?),
                        Some(parse_id(&m.gid)?),
                    )
                    .map_err(|e| e.to_string())?;
                }
                let source = match m.sharing.as_deref().unwrap_or("shared") {
                    "locked" => {
                        _locks.push(lock_file(&dir, false)?);
                        dir
                    }
                    "private" => match lock_file(&dir, true)? {
                        Some(l) => {
                            _locks.push(Some(l));
                            dir
                        }
                        // In use: this run gets a fresh private cache.
                        None => {
                            let d = scratch.0.join(format!("private-cache-{}", specs.len()));
                            fs::create_dir_all(&d).map_err(|e| e.to_string())?;
                            d
                        }
                    },
                    _ => dir,
                };
                stubs.extend(first_missing(&merged, &target_abs));
                specs.push(MountSpec::Bind {
                    source,
                    destination: target_abs,
                    readonly: false,
                });
            }
            MountKind::Tmpfs => {
                stubs.extend(first_missing(&merged, &target_abs));
                specs.push(MountSpec::Tmpfs {
                    destination: target_abs,
                    size: m.size.as_deref().and_then(|s| s.parse().ok()).unwrap_or(0),
                });
            }
            MountKind::Secret => {
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
                            "{at}: secret {id:?} is required but was not given\nhint: mxbuild build --secret id={id},src=FILE"
                        ));
                    }
                    continue;
                };
                let content = fs::read(src)
                    .map_err(|e| format!("--secret id={id}: {}: {e}", src.display()))?;
                if let Some(var) = &m.env {
                    set(var, &String::from_utf8_lossy(&content), &mut envv);
                    if m.target.is_none() {
                        continue;
                    }
                }
                let dest = if m.target.is_some() {
                    target_abs
                } else {
                    format!("/run/secrets/{id}")
                };
                stubs.extend(first_missing(&merged, &dest));
                // The runtime keeps it in memory only (its private tmpfs).
                specs.push(MountSpec::Secret {
                    content: SecretBytes(content),
                    destination: dest,
                    mode: parse_octal(&m.mode, 0o400)?,
                    uid: parse_id(&m.uid)?,
                    gid: parse_id(&m.gid)?,
                });
            }
            MountKind::Bind => {
                let src_rel = fsutil::source_rel(m.source.as_deref().unwrap_or("."))
                    .map_err(|e| format!("{at}: --mount=type=bind: {e}"))?;
                // A context is bound from its filtered tree: ignored files are not there.
                let base = match &rm.from {
                    None => ctx.context_root(&crate::plan::Source::MainContext, &at)?,
                    Some(
                        src @ (crate::plan::Source::MainContext | crate::plan::Source::Context(_)),
                    ) => ctx.context_root(src, &at)?,
                    Some(src) => {
                        let s = ctx.state_of(src)?;
                        let (p, o) = ctx.view(&s, &scratch.0)?;
                        _views.push(o);
                        p
                    }
                };
                let source = fsutil::resolve(&base, &src_rel).map_err(|e| e.to_string())?;
                let context = ctx.trees.contains(&base);
                if fs::symlink_metadata(&source).is_err() {
                    return Err(format!(
                        "{at}: --mount=type=bind source {:?}: not found{}",
                        m.source.as_deref().unwrap_or("."),
                        if context {
                            " (or excluded by .dockerignore)"
                        } else {
                            ""
                        }
                    ));
                }
                stubs.extend(first_missing(&merged, &target_abs));
                let rw = m.readonly == Some(false);
                // rw binds are writable, but (as in BuildKit) the writes are
                // thrown away: never into a snapshot, an image or your files.
                let source = if rw {
                    let (p, o) = super::rw_bind::throwaway(&source, &scratch.0, specs.len())
                        .map_err(|e| format!("{at}: --mount=type=bind,rw: {e}"))?;
                    _views.push(o);
                    p
                } else {
                    source
                };
                specs.push(MountSpec::Bind {
                    source,
                    destination: target_abs,
                    readonly: !rw,
                });
            }
            MountKind::Ssh => {
                // The host agent's socket itself is bound in (builds run as
                // root, so the container's root can use it); BuildKit's
                // default path, and SSH_AUTH_SOCK for the first one.
                let id = m.id.clone().unwrap_or_else(|| "default".to_string());
                let n = ssh_mounts;
                ssh_mounts += 1;
                // The host socket keeps its owner and mode; only BuildKit's
                // defaults (root, 0600) can be honoured.
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
                    continue;
                };
                // An empty target means the default; a relative one is taken
                // from the root, as BuildKit passes it unchanged.
                let dest = match m.target.as_deref().filter(|t| !t.is_empty()) {
                    Some(t) => fsutil::clean_abs(&format!("/{t}")),
                    None => format!("/run/buildkit/ssh_agent.{n}"),
                };
                if dest == "/" {
                    return Err(format!(
                        "{at}: --mount=type=ssh,target=/ would cover the whole filesystem\nhint: drop target= (the default is /run/buildkit/ssh_agent.N)"
                    ));
                }
                if n == 0 && !envv.iter().any(|e| e.starts_with("SSH_AUTH_SOCK=")) {
                    set("SSH_AUTH_SOCK", &dest, &mut envv);
                }
                stubs.extend(first_missing(&merged, &dest));
                specs.push(MountSpec::Bind {
                    source: socket.clone(),
                    destination: dest,
                    readonly: false,
                });
            }
        }
    }

    // RUN <<EOF: the heredoc is the script; `cmd <<EOF` keeps the heredoc for the shell.
    let mut args = argv.clone();
    if let (Some(last), false) = (args.last().cloned(), heredocs.is_empty()) {
        let trimmed = last.trim();
        let only = heredocs.len() == 1
            && trimmed.starts_with("<<")
            && trimmed
                .trim_start_matches("<<")
                .trim_start_matches('-')
                .trim_matches(|c| c == '"' || c == '\'')
                == heredocs[0].name;
        if only {
            let n = args.len();
            args[n - 1] = heredocs[0].content.clone();
        } else {
            let mut full = last.clone();
            for h in heredocs {
                full.push('\n');
                full.push_str(&h.content);
                full.push_str(&h.name);
            }
            let n = args.len();
            args[n - 1] = full;
        }
    }

    let parents = stub_parents(&merged, &stubs);
    let spec = RunSpec {
        id: format!(
            "mxbuild-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ),
        rootfs: merged.clone(),
        bundle: scratch.0.join("bundle"),
        args: args.clone(),
        env: envv,
        cwd: cwd.clone(),
        uid: ids.uid,
        gid: ids.gid,
        additional_gids: ids.additional.clone(),
        hostname: "buildkitsandbox".to_string(),
        mounts: specs,
        network: *network,
        security: *security,
    };
    let mut tail: VecDeque<String> = VecDeque::new();
    let mut partial = Vec::new();
    let code = ctx.runtime.run(&spec, &mut |chunk| {
        partial.extend_from_slice(chunk);
        while let Some(pos) = partial.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = partial.drain(..=pos).collect();
            let text = String::from_utf8_lossy(&line[..line.len() - 1]).into_owned();
            ctx.progress.output(prefix, &text);
            tail.push_back(text);
            if tail.len() > 20 {
                tail.pop_front();
            }
        }
    });
    if !partial.is_empty() {
        let text = String::from_utf8_lossy(&partial).into_owned();
        ctx.progress.output(prefix, &text);
        tail.push_back(text);
    }
    drop(_views);
    overlay.unmount().map_err(|e| e.to_string())?;
    let code = code.map_err(|e| format!("{at}: RUN for {platform}: {e}"))?;
    if code != 0 {
        let shown = tail
            .iter()
            .map(|l| format!("    | {l}"))
            .collect::<Vec<_>>()
            .join("\n");
        return Err(format!(
            "error: {at}: RUN failed for {platform} (exit code {code})\n  command: {}\n  last output:\n{}",
            args.join(" "),
            if shown.is_empty() {
                "    (none)".to_string()
            } else {
                shown
            }
        ));
    }
    for s in stubs {
        let p = upper.join(s.trim_start_matches('/'));
        if only_stubs(&p) {
            let _ = if p.is_dir() {
                fs::remove_dir_all(&p)
            } else {
                fs::remove_file(&p)
            };
        }
    }
    drop_stub_parents(&upper, &parents);
    // BuildKit records every RUN as a layer, even one that changed nothing.
    ctx.commit_upper(&mut st, &upper, format!("{} # buildkit", step.text), true)
        .map_err(|e| format!("{at}: {e}"))?;
    drop(scratch);
    Ok(st)
}
