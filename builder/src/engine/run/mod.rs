//! RUN: a writable snapshot of the state, the process run by the OCI
//! runtime with the step's environment ([`env`]), user, working directory
//! and `--mount`s ([`super::mounts`]), then the snapshot's diff becomes
//! the layer. Mount points the runtime had to create are removed from the
//! diff again ([`stubs`]), so they never leak into the image.

pub(crate) mod env;
pub(crate) mod stubs;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::mounts::Mounts;
use super::progress::StepInfo;
use super::state::State;
use super::{BuildError, Ctx};
use crate::dockerfile::lines::Heredoc;
use crate::exec::{RunSpec, qemu_cpu, users};
use crate::fsutil;
use crate::plan::{Instance, Op, Step};
use env::Env;
use stubs::Stubs;

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// Where BuildKit mounts the script of a shebang here-document.
const PIPES: &str = "/dev/pipes";

/// The here-document that is the whole command (`RUN <<EOF`), if so.
fn sole_heredoc<'h>(argv: &[String], heredocs: &'h [Heredoc]) -> Option<&'h Heredoc> {
    let trimmed = argv.last()?.trim();
    let only = heredocs.len() == 1
        && trimmed.starts_with("<<")
        && trimmed
            .trim_start_matches("<<")
            .trim_start_matches('-')
            .trim_matches(|c| c == '"' || c == '\'')
            == heredocs[0].name;
    only.then(|| &heredocs[0])
}

/// A `RUN <<EOF` whose document starts with `#!`: as BuildKit does
/// (dockerfile2llb dispatchRun), it becomes an executable file (0755) at
/// `/dev/pipes/<name>` that the shell runs by its path, so its own
/// interpreter reads it. `RUN python3 <<EOF` is not one (the shell feeds
/// python3 the document).
fn shebang_script<'h>(argv: &[String], heredocs: &'h [Heredoc]) -> Option<&'h Heredoc> {
    sole_heredoc(argv, heredocs).filter(|h| h.content.starts_with("#!"))
}

/// The argv to run: `RUN <<EOF` alone makes the heredoc the script (or,
/// with a shebang, its file under [`PIPES`]); `cmd <<EOF` keeps the
/// heredocs for the shell to read.
fn with_heredocs(argv: &[String], heredocs: &[Heredoc]) -> Vec<String> {
    let mut args = argv.to_vec();
    let sole = sole_heredoc(argv, heredocs);
    let Some(last) = args.last_mut() else {
        return args;
    };
    match sole {
        Some(h) if h.content.starts_with("#!") => *last = format!("{PIPES}/{}", h.name),
        Some(h) => *last = h.content.clone(),
        None => {
            for h in heredocs {
                last.push('\n');
                last.push_str(&h.content);
                last.push_str(&h.name);
            }
        }
    }
    args
}

/// Writes a shebang here-document as an executable file in the step's
/// scratch directory and mounts that directory read-only at [`PIPES`].
fn mount_script(
    h: &Heredoc,
    prepared: &mut Mounts,
    root: &std::path::Path,
    stubs: &mut Stubs,
) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    if h.name.is_empty() || h.name.contains('/') || h.name == "." || h.name == ".." {
        return Err(format!(
            "here-document name {:?} cannot be a file name\nhint: use a plain word such as EOF",
            h.name
        ));
    }
    let dir = prepared.scratch.join("heredoc-pipes");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let file = dir.join(&h.name);
    std::fs::write(&file, h.content.as_bytes()).map_err(|e| e.to_string())?;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| e.to_string())?;
    stubs.note(root, PIPES);
    prepared.specs.push(crate::exec::MountSpec::Bind {
        source: dir,
        destination: PIPES.to_string(),
        readonly: true,
    });
    Ok(())
}

/// Runs `spec`, showing its output as `step`'s; returns the exit code
/// and the last 20 lines (for the error message).
fn run_logged(
    ctx: &Ctx,
    spec: &RunSpec,
    step: &StepInfo<'_>,
) -> (Result<i32, String>, Vec<String>) {
    let mut tail: VecDeque<String> = VecDeque::new();
    let mut partial = Vec::new();
    let show = |text: String, tail: &mut VecDeque<String>| {
        ctx.progress.output(step, &text);
        tail.push_back(text);
        if tail.len() > 20 {
            tail.pop_front();
        }
    };
    let code = ctx.fx.run(spec, &mut |chunk| {
        partial.extend_from_slice(chunk);
        while let Some(pos) = partial.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = partial.drain(..=pos).collect();
            show(
                String::from_utf8_lossy(&line[..line.len() - 1]).into_owned(),
                &mut tail,
            );
        }
    });
    if !partial.is_empty() {
        show(String::from_utf8_lossy(&partial).into_owned(), &mut tail);
    }
    (code.map_err(|e| e.to_string()), tail.into())
}

/// Runs one RUN step.
pub(crate) fn run_step(
    ctx: &Ctx,
    inst: &Instance,
    step: &Step,
    mut st: State,
    info: &StepInfo<'_>,
) -> Result<State, BuildError> {
    let Op::Run {
        argv,
        env,
        mounts,
        network,
        security,
        heredocs,
    } = &step.op
    else {
        return Err("internal: not a RUN".into());
    };
    let at = ctx.at(step);
    let platform = &inst.platform;
    let snap = ctx.prepare(&st, "run").map_err(|e| format!("{at}: {e}"))?;
    let root = snap.path().to_path_buf();
    let cwd = st.config.working_dir.as_deref().unwrap_or("/").to_string();
    let user = st.config.user.as_deref().unwrap_or("0");
    let ids = users::resolve(&root, user).map_err(|e| format!("{at}: USER {user}: {e}"))?;
    if stubs::first_missing(&root, &cwd).is_some() {
        fsutil::mkdir_all(ctx.fx, &root, &cwd, ids.uid, ids.gid)
            .map_err(|e| format!("{at}: WORKDIR {cwd}: {e}"))?;
    }
    let mut envv = Env::new(&st.config.env, env);
    let mut stubs = Stubs::default();
    for d in ["/etc/resolv.conf", "/etc/hosts"] {
        stubs.note(&root, d);
    }
    let mut prepared = Mounts::new(
        at.clone(),
        platform.clone(),
        cwd.clone(),
        snap.scratch().0.clone(),
    );
    for rm in mounts {
        prepared.add(ctx, rm, &root, &mut envv, &mut stubs)?;
    }
    if let Some(h) = shebang_script(argv, heredocs) {
        mount_script(h, &mut prepared, &root, &mut stubs).map_err(|e| format!("{at}: {e}"))?;
    }
    stubs.seal(&root);
    let args = with_heredocs(argv, heredocs);
    let mut env = envv.with_defaults(ids.home.as_deref());
    let qemu = inst
        .emulated
        .then(|| platform.parse::<xx::Platform>().ok())
        .flatten()
        .and_then(|p| qemu_cpu::env_entry(&ctx.opts.qemu_cpus, &p, &env));
    let emulated_cpu = qemu
        .as_deref()
        .and_then(|e| e.strip_prefix("QEMU_CPU="))
        .map(str::to_string);
    env.extend(qemu);
    let spec = RunSpec {
        id: format!(
            "mxbuild-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ),
        rootfs: root,
        bundle: snap.scratch().0.join("bundle"),
        args: args.clone(),
        env,
        cwd,
        uid: ids.uid,
        gid: ids.gid,
        additional_gids: ids.additional.clone(),
        hostname: "buildkitsandbox".to_string(),
        mounts: std::mem::take(&mut prepared.specs),
        network: *network,
        security: *security,
        extras: ctx.opts.run_extras.clone(),
        init: inst.emulated.then(qemu_cpu::init_program).flatten(),
    };
    let (code, tail) = run_logged(ctx, &spec, info);
    drop(prepared);
    let diff = snap.commit()?;
    let code = code.map_err(|e| format!("{at}: RUN for {platform}: {e}"))?;
    if code != 0 {
        return Err(BuildError::RunFailed {
            at,
            platform: platform.clone(),
            emulated_cpu,
            code,
            command: args.join(" "),
            output: tail,
        });
    }
    stubs.remove_from(diff.path());
    // BuildKit records every RUN as a layer, even one that changed nothing.
    ctx.commit_upper(&mut st, diff, format!("{} # buildkit", step.text), true)
        .map_err(|e| format!("{at}: {e}"))?;
    Ok(st)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(name: &str, content: &str) -> Heredoc {
        Heredoc {
            name: name.to_string(),
            content: content.to_string(),
            expand: true,
            chomp: false,
            fd: None,
        }
    }

    #[test]
    fn shebang_documents_run_as_files_others_through_the_shell() {
        let sh = |cmd: &str| vec!["/bin/sh".to_string(), "-c".to_string(), cmd.to_string()];
        let py = [doc("EOT", "#!/usr/bin/env python3\nprint(1)\n")];
        assert_eq!(with_heredocs(&sh("<<EOT"), &py), sh("/dev/pipes/EOT"));
        assert!(shebang_script(&sh("<<EOT"), &py).is_some());
        // `python3 <<EOT`: the shell feeds the document to python3.
        assert!(shebang_script(&sh("python3 <<EOT"), &py).is_none());
        assert_eq!(
            with_heredocs(&sh("python3 <<EOT"), &py),
            sh("python3 <<EOT\n#!/usr/bin/env python3\nprint(1)\nEOT")
        );
        let plain = [doc("EOF", "echo hi\n")];
        assert_eq!(with_heredocs(&sh("<<EOF"), &plain), sh("echo hi\n"));
        assert!(shebang_script(&sh("<<EOF"), &plain).is_none());
    }
}
