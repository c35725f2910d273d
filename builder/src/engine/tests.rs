//! Unit tests of the engine through the recording fake of the host effects
//! ([`crate::exec::fake`]): real planning, a real store in a temp
//! directory, real layers; no mounts, no runtime, no root needed for the
//! logic under test (RUN environment and mounts, stub removal, COPY owners,
//! the step cache, failures).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;

use xx::Platform;

use super::layers::Snapshots;
use super::progress::Progress;
use super::state::State;
use super::{Ctx, Options, dedup, instance, resolve};
use crate::exec::fake::{Call, Recording};
use crate::exec::{MountSpec, Network, RunSpec};
use crate::plan::Plan;
use crate::store::Store;
use crate::store::steps::StepCache;

/// A store, a context and a plan of one Dockerfile, for the host platform.
struct Harness {
    root: PathBuf,
    store: Store,
    opts: Options,
    plan: Plan,
    context: PathBuf,
    progress: Progress,
    resolved: resolve::Resolved,
}

impl Drop for Harness {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.root);
    }
}

fn harness(name: &str, dockerfile: &str, files: &[(&str, &str)]) -> Harness {
    let root = std::env::temp_dir().join(format!("mxbuild-engine-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&root);
    let context = root.join("context");
    fs::create_dir_all(&context).unwrap();
    for (path, text) in files {
        fs::write(context.join(path), text).unwrap();
    }
    fs::write(context.join("Dockerfile"), dockerfile).unwrap();
    let store = Store::open(&root.join("store"), crate::store::lock::Mode::Shared).unwrap();
    let opts = Options {
        dockerfile: context.join("Dockerfile"),
        dockerfile_name: None,
        context: context.clone(),
        platforms: vec![Platform::host()],
        target: None,
        build_args: BTreeMap::new(),
        named_contexts: BTreeMap::new(),
        no_cache: false,
        pull: false,
        pull_always: false,
        labels: BTreeMap::new(),
        annotations: Default::default(),
        layers: Default::default(),
        jobs: 1,
        secrets: BTreeMap::new(),
        ssh: BTreeMap::new(),
        network: Network::Sandbox,
        allow: Default::default(),
        cache_from: Vec::new(),
        cache_to: None,
        run_extras: Default::default(),
        qemu_cpus: Default::default(),
        no_cache_filter: Vec::new(),
    };
    let df = crate::dockerfile::parse(dockerfile, "Dockerfile").unwrap();
    let plan = crate::plan::plan(
        &df,
        &crate::plan::Options {
            platforms: opts.platforms.clone(),
            host: Platform::host(),
            target: None,
            build_args: BTreeMap::new(),
            context: Some(context.clone()),
            named_contexts: BTreeMap::new(),
            network: Network::Sandbox,
            allow: Default::default(),
            run_extras: Default::default(),
            qemu_cpus: Default::default(),
            dockerignore: None,
        },
    )
    .unwrap();
    Harness {
        root,
        store,
        opts,
        plan,
        context,
        progress: Progress::to(Box::new(std::io::sink())),
        resolved: resolve::Resolved::default(),
    }
}

impl Harness {
    fn ctx<'a>(&'a self, fx: &'a Recording) -> Ctx<'a> {
        Ctx {
            store: &self.store,
            fx,
            opts: &self.opts,
            plan: &self.plan,
            file: "Dockerfile".to_string(),
            resolved: &self.resolved,
            snapshots: Snapshots::open(&self.store.root).unwrap(),
            cache: StepCache::open(&self.store.root).unwrap(),
            progress: &self.progress,
            context: self.context.clone(),
            trees: vec![self.context.clone()],
            epoch: Some(0),
            urls: BTreeMap::new(),
            git: BTreeMap::new(),
            finals: Mutex::new(vec![None; self.plan.instances.len()]),
            spans: Mutex::new(vec![None; self.plan.instances.len()]),
            inflight: dedup::InFlight::default(),
            abort: AtomicBool::new(false),
            counts: Mutex::new(Default::default()),
            labels: crate::plan::labels::Labels::of(&self.plan),
            no_cache: vec![false; self.plan.instances.len()],
            // No worker: queued layers are dropped (images make them).
            ahead: super::ahead::Ahead::new().0,
        }
    }

    /// The unpacked directory of the state's top layer.
    fn top_layer(&self, st: &State) -> PathBuf {
        let snaps = Snapshots::open(&self.store.root).unwrap();
        let l = st.layers.last().expect("a layer");
        snaps.path(&snaps.ensure_layer(&self.store.blobs, l).unwrap())
    }
}

/// What runc does before the process starts: creates the mount points and
/// the files it binds in (empty), so stub removal has something to remove.
fn like_runc(spec: &RunSpec) {
    let root = &spec.rootfs;
    fs::create_dir_all(root.join("etc")).unwrap();
    fs::write(root.join("etc/resolv.conf"), "").unwrap();
    fs::write(root.join("etc/hosts"), "").unwrap();
    for m in &spec.mounts {
        let dest = match m {
            MountSpec::Bind { destination, .. }
            | MountSpec::Tmpfs { destination, .. }
            | MountSpec::Secret { destination, .. } => destination,
        };
        fs::create_dir_all(root.join(dest.trim_start_matches('/'))).unwrap();
    }
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn run_step_passes_env_and_mounts_and_keeps_only_the_commands_files() {
    let h = harness(
        "run",
        "FROM scratch\nENV A=1\nRUN --mount=type=cache,target=/c --mount=type=tmpfs,target=t echo hi > /out\n",
        &[],
    );
    let fx = Recording::new(|spec| {
        like_runc(spec);
        fs::write(spec.rootfs.join("out"), "hi\n").unwrap();
        (0, "hi\n".to_string())
    });
    let ctx = h.ctx(&fx);
    let st = instance::run_instance(&ctx, 0).unwrap();
    let runs = fx.runs();
    assert_eq!(runs.len(), 1);
    let spec = &runs[0];
    assert!(spec.env.contains(&"A=1".to_string()), "{:?}", spec.env);
    assert!(spec.env.iter().any(|e| e.starts_with("PATH=")));
    assert!(spec.env.contains(&"HOME=/root".to_string()));
    assert_eq!(spec.hostname, "buildkitsandbox");
    assert_eq!(spec.cwd, "/");
    match &spec.mounts[..] {
        [
            MountSpec::Bind {
                source,
                destination,
                readonly: false,
            },
            MountSpec::Tmpfs {
                destination: tmpfs, ..
            },
        ] => {
            assert!(source.starts_with(h.store.root.join("cache-mounts")));
            assert_eq!(destination, "/c");
            assert_eq!(tmpfs, "/t", "relative targets are under WORKDIR");
        }
        other => panic!("unexpected mounts {other:?}"),
    }
    // The layer holds what the command wrote, not the runtime's stubs.
    assert_eq!(st.layers.len(), 1);
    assert_eq!(names(&h.top_layer(&st)), ["out"]);
    assert!(fx.still_mounted().is_empty(), "every mount undone");
    assert_eq!(
        ctx.counts.lock().unwrap().ran,
        1,
        "the RUN ran (ENV is metadata: no line, no count)"
    );
    assert_eq!(ctx.counts.lock().unwrap().cached, 0);
}

#[test]
fn a_failed_run_names_the_step_platform_code_and_output() {
    let h = harness("fail", "FROM scratch\nRUN false\n", &[]);
    let fx = Recording::new(|_| (2, "first\nboom".to_string()));
    let ctx = h.ctx(&fx);
    let err = instance::run_instance(&ctx, 0).unwrap_err();
    assert!(
        matches!(&err, super::BuildError::RunFailed { code: 2, at, .. } if at == "Dockerfile:2"),
        "{err:?}"
    );
    let e = err.to_string();
    assert!(e.contains("Dockerfile:2: RUN failed for"), "{e}");
    assert!(e.contains("exit code 2"), "{e}");
    assert!(e.contains("| first\n    | boom"), "{e}");
    assert!(fx.still_mounted().is_empty());
    assert!(
        StepCache::open(&h.store.root)
            .unwrap()
            .all::<State>()
            .is_empty(),
        "a failed step is not cached"
    );
}

#[test]
fn copy_writes_the_file_with_the_chown_owner_and_parents() {
    let h = harness(
        "copy",
        "FROM scratch\nCOPY --chown=1234:5678 a.txt /dst/\n",
        &[("a.txt", "A")],
    );
    let fx = Recording::default();
    let ctx = h.ctx(&fx);
    let st = instance::run_instance(&ctx, 0).unwrap();
    let top = h.top_layer(&st);
    assert_eq!(fs::read_to_string(top.join("dst/a.txt")).unwrap(), "A");
    let calls = fx.calls();
    let chowned = |p: &str| {
        calls
            .iter()
            .any(|c| matches!(c, Call::Lchown(path, 1234, 5678) if path.ends_with(p)))
    };
    assert!(chowned("dst/a.txt"), "{calls:?}");
    assert!(chowned("dst"), "the destination directory gets the owner");
    assert!(fx.runs().is_empty(), "COPY runs no process");
    assert_eq!(
        st.history.last().unwrap().created_by,
        "COPY --chown=1234:5678 a.txt /dst/ # buildkit"
    );
}

#[test]
fn a_second_run_reuses_every_step_and_no_cache_runs_them_again() {
    let df = "FROM scratch\nWORKDIR /w\nRUN touch f\nCMD [\"x\"]\n";
    let h = harness("cache", df, &[]);
    let fx = Recording::new(|spec| {
        fs::write(spec.rootfs.join("w/f"), "").unwrap();
        (0, String::new())
    });
    let first = instance::run_instance(&h.ctx(&fx), 0).unwrap();
    assert_eq!(fx.runs().len(), 1);
    let again = Recording::default();
    let ctx = h.ctx(&again);
    let second = instance::run_instance(&ctx, 0).unwrap();
    assert_eq!(first, second);
    assert!(again.calls().is_empty(), "cache hits touch nothing");
    assert_eq!(ctx.counts.lock().unwrap().ran, 0);
    let mut h = h;
    h.opts.no_cache = true;
    let fresh = Recording::new(|spec| {
        fs::write(spec.rootfs.join("w/f"), "").unwrap();
        (0, String::new())
    });
    let ctx = h.ctx(&fresh);
    instance::run_instance(&ctx, 0).unwrap();
    assert_eq!(fresh.runs().len(), 1, "--no-cache runs the step again");
    assert_eq!(fresh.runs()[0].cwd, "/w");
}

#[test]
fn the_critical_path_follows_the_input_that_ended_last() {
    // c starts from a and copies from b: a's 200 ms RUN is what c waited
    // on, not b's quick one.
    let df = "FROM scratch AS a\nRUN slow\nFROM scratch AS b\nRUN quick\nFROM a AS c\nCOPY --from=b /q /q\nRUN last\n";
    let mut h = harness("critical", df, &[]);
    h.opts.jobs = 2;
    let fx = Recording::new(|spec| {
        let cmd = spec.args.last().cloned().unwrap_or_default();
        if cmd.contains("slow") {
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        if cmd.contains("quick") {
            fs::write(spec.rootfs.join("q"), "").unwrap();
        }
        (0, String::new())
    });
    let ctx = h.ctx(&fx);
    super::schedule::schedule(&ctx).unwrap();
    let spans = ctx.spans.lock().unwrap().clone();
    let path = super::critical::trace(&h.plan, &ctx.labels, &spans, &h.progress.tally().steps);
    // `[a amd64]`: the stage and the platform it ran as.
    let stages: Vec<&str> = path
        .links
        .iter()
        .filter_map(|l| l.label.strip_prefix('[')?.split(' ').next())
        .collect();
    assert_eq!(stages, ["a", "c"], "{path:#?}");
    assert!(
        path.links
            .iter()
            .all(|l| l.label.ends_with(']') && !l.label.contains('/'))
    );
    let (slowest, took) = path.links[0].slowest.clone().unwrap();
    assert!(slowest.ends_with("RUN slow"), "{slowest}");
    assert!(took >= std::time::Duration::from_millis(200));
    assert!(path.total() >= took);
    // Every step shown is in the tally, with its time.
    let steps = h.progress.tally().steps;
    assert!(steps.iter().any(|t| t.text == "RUN quick" && !t.cached));
}
