//! `mxbuild build`: flags as `docker buildx build`, then the build, then
//! the outputs (store tags, OCI/docker/local exports, push, metadata file).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use xx::Platform;

use super::output::{self, Output};
use super::{build_context, build_flags, build_load, build_summary};
use crate::engine::{self, progress::Progress};
use crate::exec::effects::Host;
use crate::exec::qemu_cpu::QemuCpus;
use crate::exec::run_extras::{self, RunExtras};
use crate::exec::runc::Runc;
use crate::image::recompress::LayerPolicy;
use crate::plan::entitlements;
use crate::registry::reference;
use crate::store::lock::Mode;
use crate::store::{Store, default_root};

/// `mxbuild build` flags.
#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// Dockerfile (default: CONTEXT/Dockerfile; `-`: stdin; with a URL
    /// context, a path inside it).
    #[arg(short = 'f', long = "file")]
    file: Option<PathBuf>,
    /// Name (and tag) for the result in the local store (repeatable).
    #[arg(short = 't', long = "tag")]
    tags: Vec<String>,
    /// Target platforms, comma-separated (default: this host's).
    #[arg(long)]
    platform: Vec<String>,
    /// Build-time variable NAME=VALUE (repeatable).
    #[arg(long = "build-arg", value_name = "NAME=VALUE")]
    build_args: Vec<String>,
    /// Stage to build (default: the last).
    #[arg(long)]
    target: Option<String>,
    /// Named build context NAME=DIR|docker-image://REF (repeatable).
    #[arg(long = "build-context", value_name = "NAME=SOURCE")]
    build_contexts: Vec<String>,
    /// Output (repeatable): type=oci|docker,dest=PATH, type=local,dest=DIR
    /// [,platform-split=BOOL], type=tar,dest=FILE, type=image|registry
    /// [,name=REF][,push=BOOL][,push-by-digest=BOOL][,name-canonical=BOOL];
    /// image outputs take compression=gzip|zstd|uncompressed,
    /// compression-level=N, force-compression=BOOL.
    #[arg(short = 'o', long = "output")]
    outputs: Vec<String>,
    /// Image config label KEY=VALUE (repeatable; over the Dockerfile's).
    #[arg(long = "label", value_name = "KEY=VALUE")]
    labels: Vec<String>,
    /// Annotation [TYPE[PLATFORM]:]KEY=VALUE, TYPE index, manifest,
    /// manifest-descriptor (repeatable; default: manifests).
    #[arg(long = "annotation", value_name = "ANNOTATION")]
    annotations: Vec<String>,
    /// Write the image (index) digest to FILE.
    #[arg(long = "iidfile", value_name = "FILE")]
    iidfile: Option<PathBuf>,
    /// SLSA v1 provenance attached to each platform's manifest as an OCI
    /// referrer: true (mode=min), false, or mode=min|max[,builder-id=URI].
    #[arg(long, value_name = "VALUE", num_args = 0..=1, default_missing_value = "true")]
    provenance: Option<String>,
    /// SPDX 2.3 SBOM attached to each platform's manifest as an OCI
    /// referrer: true or false.
    #[arg(long, value_name = "VALUE", num_args = 0..=1, default_missing_value = "true")]
    sbom: Option<String>,
    /// Attestation type=provenance|sbom[,KEY=VALUE…] (repeatable).
    #[arg(long, value_name = "SPEC")]
    attest: Vec<String>,
    /// Fetch every base image from its registry again, even if stored.
    #[arg(long)]
    pull: bool,
    /// Extra /etc/hosts line HOST:IP of RUN steps (repeatable).
    #[arg(long = "add-host", value_name = "HOST:IP")]
    add_host: Vec<String>,
    /// Resource limit NAME=SOFT[:HARD] of RUN steps, e.g. nofile=1024:2048
    /// (repeatable; others are inherited).
    #[arg(long, value_name = "ULIMIT")]
    ulimit: Vec<String>,
    /// Size of /dev/shm in RUN steps, e.g. 128m (default 64 MiB).
    #[arg(long = "shm-size", value_name = "BYTES")]
    shm_size: Option<String>,
    /// Stage whose steps are built again, not taken from the cache
    /// (repeatable, comma-separated; stages built from it are too).
    #[arg(long = "no-cache-filter", value_name = "STAGE", value_delimiter = ',')]
    no_cache_filter: Vec<String>,
    /// Push the result to the registry named by each -t (same as -o type=registry).
    #[arg(long)]
    push: bool,
    /// Load the result into docker (its daemon running) or podman: one
    /// platform, the host's unless --platform names one.
    #[arg(long)]
    load: bool,
    /// Import cached steps: type=registry,ref=REF (or a bare REF), or
    /// type=local,src=DIR (repeatable).
    #[arg(long = "cache-from")]
    cache_from: Vec<String>,
    /// Export this build's cached steps: type=registry,ref=REF or
    /// type=local,dest=DIR [,mode=min|max][,ignore-error=BOOL].
    #[arg(long = "cache-to")]
    cache_to: Option<String>,
    /// Do not reuse cached steps.
    #[arg(long = "no-cache")]
    no_cache: bool,
    /// Secret for RUN --mount=type=secret: id=ID,src=FILE or id=ID,env=VAR (repeatable).
    #[arg(long)]
    secret: Vec<String>,
    /// SSH agent for RUN --mount=type=ssh: default|ID[=SOCKET] (repeatable;
    /// without a socket, $SSH_AUTH_SOCK).
    #[arg(long)]
    ssh: Vec<String>,
    /// Network of RUN steps: default (a private network with outbound
    /// access, no host loopback), none (loopback only, also for steps that
    /// ask for another), host (needs --allow network.host).
    #[arg(long, default_value = "default", value_parser = ["default", "none", "host"])]
    network: String,
    /// Grant an entitlement: network.host, security.insecure (repeatable,
    /// comma-separated).
    #[arg(long, value_name = "ENTITLEMENT")]
    allow: Vec<String>,
    /// Stage instances run at the same time (default: the number of CPUs).
    #[arg(long)]
    jobs: Option<usize>,
    /// Progress output: auto, plain (every RUN output line), tty (step
    /// lines), none (nothing), quiet (nothing, then the image digest).
    #[arg(long, default_value = "auto", value_parser = ["auto", "plain", "tty", "rawjson", "none", "quiet"])]
    progress: String,
    /// Write a Markdown summary (platforms, digests, time native and under
    /// QEMU, verification) to FILE; also appended to $GITHUB_STEP_SUMMARY
    /// when that is set.
    #[arg(long = "summary-file", value_name = "FILE")]
    summary_file: Option<PathBuf>,
    /// Write the index and per-platform digests as JSON to FILE.
    #[arg(long = "metadata-file")]
    metadata_file: Option<PathBuf>,
    /// Check every ELF file of each platform's result: off, warn, or strict (fail
    /// the build). Default: strict with --push or type=registry, else warn.
    #[arg(long, value_parser = ["off", "warn", "strict"])]
    verify: Option<String>,
    /// Run this shell command in every platform's final image (QEMU where needed) and show its output.
    #[arg(long = "smoke-test", value_name = "CMD")]
    smoke_test: Option<String>,
    /// Use plain http for --push to this registry.
    #[arg(long)]
    insecure: bool,
    /// Method: build (the default) or check (run the build checks only,
    /// build nothing; `check,ignorestatus=true` exits 0 on findings).
    #[arg(long, default_value = "build", value_name = "METHOD")]
    call: String,
    /// Shorthand for --call=check.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    check: Option<String>,
    /// Build context: a directory, `-` (a tar archive or a Dockerfile on
    /// stdin), a git URL (`https://host/repo.git#ref:subdir`) or the https
    /// URL of a tar archive.
    context: String,
}

fn kv_list(items: &[String], flag: &str) -> Result<BTreeMap<String, String>, String> {
    let mut m = BTreeMap::new();
    for a in items {
        match a.split_once('=') {
            Some((k, v)) => {
                m.insert(k.to_string(), v.to_string());
            }
            None if flag == "--build-arg" => {
                // `--build-arg NAME` takes the value from the environment, as docker does.
                if let Ok(v) = std::env::var(a) {
                    m.insert(a.clone(), v);
                }
            }
            None => return Err(format!("{flag} {a:?} is not NAME=VALUE")),
        }
    }
    Ok(m)
}

pub use super::build_cache::{CACHE_FROM_KEYS, CACHE_TO_KEYS};

/// Every long flag of `mxbuild build` (without `--`), from clap's own
/// definition: the list the README's compatibility table is tested against.
pub fn flag_names() -> Vec<String> {
    use clap::Args;
    BuildArgs::augment_args(clap::Command::new("build"))
        .get_arguments()
        .filter_map(|a| a.get_long().map(str::to_string))
        .collect()
}

/// `--ssh default`, `--ssh ID=SOCKET`: each id to an SSH agent socket.
/// Key files (which buildx loads into an agent of its own) are refused with
/// the way to do it with the system's ssh-agent.
fn ssh_agents(items: &[String]) -> Result<BTreeMap<String, PathBuf>, String> {
    use std::os::unix::fs::FileTypeExt;
    let mut m = BTreeMap::new();
    for s in items {
        let (id, path) = match s.split_once('=') {
            Some((id, p)) => (id.to_string(), PathBuf::from(p)),
            None => {
                let sock = std::env::var_os("SSH_AUTH_SOCK").ok_or_else(|| {
                    format!(
                        "--ssh {s}: SSH_AUTH_SOCK is not set\nhint: start an agent (eval $(ssh-agent); ssh-add) or pass --ssh {s}=SOCKET"
                    )
                })?;
                (s.clone(), PathBuf::from(sock))
            }
        };
        if id.is_empty() || id.contains(',') {
            return Err(format!("--ssh {s:?}: expected default or ID[=SOCKET]"));
        }
        match std::fs::metadata(&path) {
            Ok(md) if md.file_type().is_socket() => {}
            Ok(_) => {
                return Err(format!(
                    "--ssh {s}: {} is not an agent socket (key files are not supported)\nhint: load the key into an agent (eval $(ssh-agent); ssh-add {}) and pass --ssh {id}",
                    path.display(),
                    path.display()
                ));
            }
            Err(e) => return Err(format!("--ssh {s}: {}: {e}", path.display())),
        }
        // runc needs an absolute source.
        let path = path
            .canonicalize()
            .map_err(|e| format!("--ssh {s}: {}: {e}", path.display()))?;
        m.insert(id, path);
    }
    Ok(m)
}

/// The name image archives get when no `-t` names the result.
const DEFAULT_NAME: &str = "docker.io/library/mxbuild-output:latest";

/// Runs `mxbuild build`.
pub fn run(args: &BuildArgs) -> ExitCode {
    let result = match super::build_check::call_func(&args.call, args.check.as_deref()) {
        Ok(Some(call)) => run_check(args, &call),
        Ok(None) => run_inner(args).map(|()| ExitCode::SUCCESS),
        Err(e) => Err(e),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            super::fail(&e);
            ExitCode::FAILURE
        }
    }
}

/// `--check`: the build checks only, nothing built.
fn run_check(args: &BuildArgs, call: &super::build_check::CallFunc) -> Result<ExitCode, String> {
    let platforms = platforms_of(args)?;
    let (store, _source, opts) = open_inputs(args, &platforms)?;
    super::build_check::run(&store, &opts, call)
}

/// `--platform` (default: this host's).
fn platforms_of(args: &BuildArgs) -> Result<Vec<Platform>, String> {
    if args.platform.is_empty() {
        return Ok(vec![Platform::host()]);
    }
    Platform::parse_list(&args.platform.join(",")).map_err(|e| format!("--platform: {e}"))
}

/// The store, the context and Dockerfile (fetched or unpacked when they
/// are not a directory: kept while the returned source lives) and the
/// engine's options.
fn open_inputs(
    args: &BuildArgs,
    platforms: &[Platform],
) -> Result<(Store, build_context::Source, engine::Options), String> {
    let root = default_root();
    let store = Store::open(&root, Mode::Shared)
        .map_err(|e| format!("cannot open the store at {}: {e}", root.display()))?;
    let ssh = ssh_agents(&args.ssh)?;
    let source = build_context::resolve(
        &store,
        &args.context,
        args.file.as_deref(),
        ssh.get("default").map(PathBuf::as_path),
        &mut |s| eprintln!("{s}"),
    )?;
    let opts = engine_options(args, platforms, &source, ssh)?;
    Ok((store, source, opts))
}

fn run_inner(args: &BuildArgs) -> Result<(), String> {
    let platforms = platforms_of(args)?;
    let tags: Vec<String> = args
        .tags
        .iter()
        .map(|t| reference::normalize(t).map_err(|e| format!("-t: {e}")))
        .collect::<Result<_, _>>()?;
    let attest = build_flags::attestations(
        args.provenance.as_deref(),
        args.sbom.as_deref(),
        &args.attest,
    )?;
    let outputs = outputs_of(args)?;
    check_attestation_outputs(&attest, &outputs, args.load)?;
    let started = crate::image::time::created_now();
    let loader = args
        .load
        .then(|| build_load::Loader::find(&platforms))
        .transpose()?;
    // Mounts made from here on vanish with this process, even on SIGKILL.
    crate::exec::mounts::enter_private_namespace().map_err(|e| {
        format!("{e}\nhint: mxbuild build needs root (or CAP_SYS_ADMIN) for overlay mounts")
    })?;
    let (store, _source, mut opts) = open_inputs(args, &platforms)?;
    let root = default_root();
    opts.layers = layer_policy(&outputs)?;
    let unknown = opts.annotations.unknown_platforms(&platforms);
    if let Some(p) = unknown.first() {
        return Err(format!(
            "--annotation names platform {p}, which this build does not make; hint: one of the --platform values"
        ));
    }
    for o in &outputs {
        if let Output::Docker { .. } = o {
            if platforms.len() > 1 {
                return Err("-o type=docker holds one platform; hint: build with one --platform, or use type=oci".to_string());
            }
        }
    }
    // Secrets and network namespaces of steps live on a tmpfs only this
    // process's mount namespace sees.
    let runtime = Runc::find(&root.join("runc"))?.with_sandbox(&root.join("sandbox"))?;
    let reaped = runtime.reap_stale();
    if reaped > 0 {
        eprintln!("cleaned up {reaped} container(s) left by an interrupted build");
    }
    let progress = progress_of(&args.progress);
    let t0 = std::time::Instant::now();
    let built =
        engine::build(&store, &Host::new(&runtime), &opts, &progress).map_err(|e| e.to_string())?;
    progress.finish();
    let summary = build_summary::Summary {
        built: &built,
        elapsed: t0.elapsed(),
        tally: progress.tally(),
    };
    for l in summary.lines() {
        progress.line(&l);
    }
    let pushing = outputs
        .iter()
        .any(|o| matches!(o, Output::Image { push: true, .. }));
    let mode = args.verify.clone().unwrap_or_else(|| {
        if pushing {
            "strict".to_string()
        } else {
            "warn".to_string()
        }
    });
    let verification = if mode != "off" {
        Some(verify_results(&store, &built, &opts, mode == "strict")?)
    } else {
        None
    };
    build_summary::write_markdown(
        &summary.markdown(verification.as_deref()),
        args.summary_file.as_deref(),
    )?;
    if let Some(cmd) = &args.smoke_test {
        smoke_tests(
            &store,
            &runtime,
            &built,
            cmd,
            &QemuCpus::from_platform_list(&args.platform),
        )?;
    }
    let referrers = attach(
        &store, &built, &opts, &attest, args, &tags, started, &progress,
    )?;
    for t in &tags {
        store.refs.set(t, &built.index).map_err(|e| e.to_string())?;
        progress.line(&format!("tagged {t}"));
    }
    let sent = super::build_push::Sent {
        built: &built,
        referrers: &referrers,
    };
    write_outputs(&store, &sent, &outputs, &tags, &platforms, args.insecure)?;
    if let (Some(l), Some(p)) = (&loader, platforms.first()) {
        l.load(&store, &built.index, p, &tags, DEFAULT_NAME)?;
        progress.line(&format!("loaded into {}", l.name()));
    }
    if let Some(f) = &args.metadata_file {
        write_metadata(&store, &summary, &image_names(&outputs, &tags), f)?;
    }
    if args.progress == "quiet" {
        println!("{}", built.index);
    }
    if let Some(f) = &args.iidfile {
        // buildx writes the image digest: the index's, as mxbuild always makes one.
        std::fs::write(f, built.index.to_string())
            .map_err(|e| format!("--iidfile {}: {e}", f.display()))?;
    }
    Ok(())
}

/// `--add-host`, `--ulimit`, `--shm-size` as buildx reads them.
fn run_extras(args: &BuildArgs) -> Result<RunExtras, String> {
    let shm_size = match &args.shm_size {
        Some(s) => crate::dockerfile::mount::ram_in_bytes(s)
            .map_err(|e| format!("--shm-size {s:?}: {e}; hint: a size such as 128m or 1g"))?,
        None => 0,
    };
    Ok(RunExtras {
        hosts: args
            .add_host
            .iter()
            .map(|h| run_extras::parse_host(h))
            .collect::<Result<_, _>>()?,
        ulimits: args
            .ulimit
            .iter()
            .map(|u| run_extras::parse_ulimit(u))
            .collect::<Result<_, _>>()?,
        shm_size,
    })
}

/// The progress output `--progress` asks for: plain (and auto in CI logs),
/// one line per event with every RUN output line; tty (auto on a
/// terminal), the live view; rawjson, BuildKit's JSON events; none and
/// quiet (as buildx), no progress at all (quiet prints the image digest
/// at the end).
fn progress_of(mode: &str) -> Progress {
    // SAFETY: isatty has no preconditions.
    let terminal = unsafe { libc::isatty(2) } == 1
        && std::env::var("TERM").is_ok_and(|t| !t.is_empty() && t != "dumb");
    match mode {
        "none" | "quiet" => Progress::quiet(),
        "plain" => Progress::stderr(true),
        "rawjson" => Progress::new(Box::new(engine::progress::rawjson::RawJson::new(Box::new(
            std::io::stderr(),
        )))),
        "tty" | "auto" if terminal => Progress::new(Box::new(engine::progress::tty::Tty::start())),
        // tty without a terminal (as buildx falls back for auto): plain
        // step lines without RUN output.
        "tty" => Progress::stderr(false),
        _ => Progress::stderr(true),
    }
}

/// The `-o` outputs, with `--push` applied as buildx does: it sets
/// `push=true` on every image output, or adds `type=image,push=true`.
fn outputs_of(args: &BuildArgs) -> Result<Vec<Output>, String> {
    let mut outputs: Vec<Output> = args
        .outputs
        .iter()
        .map(|o| output::parse(o))
        .collect::<Result<_, _>>()?;
    if args.push {
        let mut used = false;
        for o in &mut outputs {
            if let Output::Image { push, .. } = o {
                *push = true;
                used = true;
            }
        }
        if !used {
            outputs.push(Output::Image {
                name: None,
                push: true,
                by_digest: false,
                canonical: false,
                insecure: args.insecure,
                layers: LayerPolicy::default(),
            });
        }
    }
    Ok(outputs)
}

/// The one layer policy of the image outputs: the engine writes one index,
/// so image outputs asking for different compressions are refused.
fn layer_policy(outputs: &[Output]) -> Result<LayerPolicy, String> {
    let mut policies = outputs.iter().filter_map(|o| match o {
        Output::Oci { layers, .. }
        | Output::Docker { layers, .. }
        | Output::Image { layers, .. } => Some(*layers),
        _ => None,
    });
    let Some(first) = policies.next() else {
        return Ok(LayerPolicy::default());
    };
    if policies.any(|p| p != first) {
        return Err("--output: image outputs with different compression options in one build are not supported\nhint: give every -o the same compression=, compression-level= and force-compression=, or build twice (the second build is cached)".to_string());
    }
    first.validate().map_err(|e| format!("--output {e}"))?;
    Ok(first)
}

/// The engine's options from the flags.
fn engine_options(
    args: &BuildArgs,
    platforms: &[Platform],
    source: &build_context::Source,
    ssh: BTreeMap<String, PathBuf>,
) -> Result<engine::Options, String> {
    Ok(engine::Options {
        dockerfile: source.dockerfile.clone(),
        dockerfile_name: source.name.clone(),
        context: source.context.clone(),
        platforms: platforms.to_vec(),
        target: args.target.clone(),
        build_args: kv_list(&args.build_args, "--build-arg")?,
        named_contexts: kv_list(&args.build_contexts, "--build-context")?,
        no_cache: args.no_cache,
        pull: true,
        pull_always: args.pull,
        labels: kv_list(&args.labels, "--label")?,
        annotations: build_flags::annotations(&args.annotations)?,
        layers: Default::default(),
        jobs: args.jobs.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
        }),
        secrets: build_flags::secrets(&args.secret)?,
        ssh,
        cache_from: args
            .cache_from
            .iter()
            .map(|c| super::build_cache::cache_from(c, args.insecure))
            .collect::<Result<_, _>>()?,
        cache_to: args
            .cache_to
            .as_deref()
            .map(|c| super::build_cache::cache_to(c, args.insecure))
            .transpose()?,
        network: entitlements::parse_network(&args.network)?,
        allow: entitlements::Entitlements::parse(&args.allow)?,
        run_extras: run_extras(args)?,
        qemu_cpus: QemuCpus::from_platform_list(&args.platform),
        no_cache_filter: args
            .no_cache_filter
            .iter()
            .filter(|s| !s.is_empty())
            .cloned()
            .collect(),
    })
}

/// `--verify`: checks every platform's ELF files, prints the table, and
/// fails (when `strict`) or warns about binaries that will not run.
fn verify_results(
    store: &Store,
    built: &engine::Built,
    opts: &engine::Options,
    strict: bool,
) -> Result<String, String> {
    let mut reports = Vec::new();
    // A filesystem checked before (a no-op rebuild) is not checked again.
    let kept = crate::verify::cached::Verified::open(&store.root).map_err(|e| e.to_string())?;
    for (p, _, st) in &built.images {
        let platform = p.to_string();
        let key = crate::verify::cached::Key {
            platform: &platform,
            diff_ids: st.layers.iter().map(|l| l.diff_id.as_str()).collect(),
            base_layers: st.base_layers,
        };
        if let Some(r) = kept.get(&key) {
            reports.push(r);
            continue;
        }
        let added = crate::verify::elf_files_in(&engine::added_layer_dirs(store, st)?);
        let r = engine::with_view(store, &Host::without_runtime(), st, |root| {
            crate::verify::verify_root(root, p, &added)
        })?;
        kept.put(&key, &r);
        reports.push(r);
    }
    let table = crate::verify::table::render(&reports);
    println!("{table}");
    let bad: Vec<&str> = reports
        .iter()
        .filter(|r| !r.ok())
        .map(|r| r.platform.as_str())
        .collect();
    if bad.is_empty() {
        return Ok(table);
    }
    let first = reports
        .iter()
        .flat_map(|r| r.failures.iter())
        .next()
        .map(|f| f.failure_line())
        .unwrap_or_default();
    let msg = format!(
        "{}: binaries that will not run on {} (first: {first})",
        opts.dockerfile.display(),
        bad.join(", ")
    );
    if strict {
        return Err(format!(
            "verification failed: {msg}\nhint: build them for $TARGETPLATFORM (xx-cargo, xx-clang, xx-go) instead of copying the build platform's output; --verify=warn to continue anyway"
        ));
    }
    eprintln!("warning: verification: {msg}");
    Ok(table)
}

/// `--smoke-test`: runs `cmd` in every platform's image and prints its output.
fn smoke_tests(
    store: &Store,
    runtime: &Runc,
    built: &engine::Built,
    cmd: &str,
    cpus: &QemuCpus,
) -> Result<(), String> {
    let mut failed = Vec::new();
    let host = Platform::host();
    for (p, _, st) in &built.images {
        let emulated = !xx::platform::runs_natively(&host, p);
        let cpu = emulated.then(|| cpus.cpu(p)).flatten();
        let (code, out) = engine::smoke_test(store, &Host::new(runtime), st, cmd, emulated, cpu)?;
        let how = cpu.map(|c| format!(" (QEMU CPU {c})")).unwrap_or_default();
        let meaning = crate::exec::qemu_cpu::signal_name(code)
            .map(|s| format!(": {s}"))
            .unwrap_or_default();
        println!("== {p}{how}: `{cmd}` exited {code}{meaning}");
        print!("{out}");
        if !out.ends_with('\n') && !out.is_empty() {
            println!();
        }
        if code != 0 {
            failed.push(p.to_string());
        }
    }
    if !failed.is_empty() {
        return Err(format!("smoke test failed on {}", failed.join(", ")));
    }
    Ok(())
}

/// `--sbom`/`--provenance`: the attestations of every platform, as
/// referrers in the store.
#[allow(clippy::too_many_arguments)]
fn attach(
    store: &Store,
    built: &engine::Built,
    opts: &engine::Options,
    attest: &crate::attest::Request,
    args: &BuildArgs,
    tags: &[String],
    started: String,
    progress: &Progress,
) -> Result<Vec<crate::attest::referrer::Referrer>, String> {
    let facts = crate::attest::BuildFacts {
        names: tags,
        context_uri: remote_context(&args.context),
        started,
        invocation_id: built.index.hex()[..25].to_string(),
    };
    let referrers = crate::attest::attach(store, built, opts, attest, &facts)?;
    for r in &referrers {
        progress.line(&format!(
            "attached {} to {} ({}) as referrer {}",
            r.artifact_type, r.platform, r.subject, r.digest
        ));
    }
    Ok(referrers)
}

/// The context argument when it names a remote source (provenance's
/// `configSource.uri`).
fn remote_context(context: &str) -> Option<String> {
    let remote = context.starts_with("https://")
        || context.starts_with("http://")
        || context.starts_with("git@")
        || context.starts_with("git://")
        || context.starts_with("ssh://");
    remote.then(|| context.to_string())
}

/// Attestations are attached to images as OCI referrers: only an OCI
/// layout (`-o type=oci`) and a registry push carry them. Other outputs
/// asked for with them are refused rather than left without them.
fn check_attestation_outputs(
    req: &crate::attest::Request,
    outputs: &[Output],
    load: bool,
) -> Result<(), String> {
    if !req.any() {
        return Ok(());
    }
    let hint = "hint: attestations travel as OCI referrers: use -o type=oci,dest=… or --push, or drop --sbom/--provenance for this output";
    if load {
        return Err(format!(
            "--load cannot carry attestations (docker and podman image stores drop referrers)\n{hint}"
        ));
    }
    for o in outputs {
        let kind = match o {
            Output::Docker { .. } => "type=docker",
            Output::Local { .. } => "type=local",
            Output::Tar { .. } => "type=tar",
            _ => continue,
        };
        return Err(format!("-o {kind} cannot carry attestations\n{hint}"));
    }
    let carried = outputs
        .iter()
        .any(|o| matches!(o, Output::Oci { .. } | Output::Image { push: true, .. }));
    if !carried {
        return Err(format!(
            "--sbom/--provenance/--attest: no output of this build carries attestations (the local store keeps images, not their referrers)\n{hint}"
        ));
    }
    Ok(())
}

/// `-o` and `--push`: each output written from the built index.
fn write_outputs(
    store: &Store,
    sent: &super::build_push::Sent,
    outputs: &[Output],
    tags: &[String],
    platforms: &[Platform],
    insecure: bool,
) -> Result<(), String> {
    let built = sent.built;
    let name = tags
        .first()
        .cloned()
        .unwrap_or_else(|| DEFAULT_NAME.to_string());
    let extra: Vec<_> = sent
        .referrers
        .iter()
        .map(|r| (r.digest.clone(), r.layout_descriptor()))
        .collect();
    for o in outputs {
        match o {
            Output::Oci { .. } | Output::Docker { .. } => {
                let p = (platforms.len() == 1).then(|| &platforms[0]);
                super::image::export_index(store, &built.index, &name, o, p, &extra)?;
            }
            Output::Local { dest, split } => {
                let split = split.unwrap_or(platforms.len() > 1);
                if let Some(w) =
                    engine::output::export_local(&store.blobs, &files_of(built), dest, split)?
                {
                    eprintln!("{w}");
                }
            }
            Output::Tar { dest } => {
                if let Some(w) = engine::output::export_tar(&store.blobs, &files_of(built), dest)? {
                    eprintln!("{w}");
                }
            }
            Output::Image { .. } => {
                super::build_push::image_output(store, sent, o, tags, insecure)?
            }
        }
    }
    Ok(())
}

/// Each platform's final state, for the file outputs.
fn files_of(built: &engine::Built) -> Vec<(Platform, engine::state::State)> {
    built
        .images
        .iter()
        .map(|(p, _, s)| (p.clone(), s.clone()))
        .collect()
}

/// The names the result was given: an image output's `name=`, else the
/// `-t` names (what buildx writes as `image.name`).
fn image_names(outputs: &[Output], tags: &[String]) -> Vec<String> {
    let named: Vec<String> = outputs
        .iter()
        .filter_map(|o| match o {
            Output::Image { name: Some(n), .. } => Some(n.clone()),
            _ => None,
        })
        .collect();
    if named.is_empty() {
        tags.to_vec()
    } else {
        named
    }
}

/// `--metadata-file`: the keys buildx writes (`containerimage.digest`,
/// `containerimage.descriptor`, `image.name`), each platform's manifest
/// digest, and where the time went: every step shown (`mxbuild.steps`:
/// start and duration in seconds from the build's start) and the critical
/// path (`mxbuild.critical-path`).
fn write_metadata(
    store: &Store,
    summary: &build_summary::Summary<'_>,
    names: &[String],
    f: &Path,
) -> Result<(), String> {
    let built = summary.built;
    let secs = |d: std::time::Duration| (d.as_secs_f64() * 1000.0).round() / 1000.0;
    let steps: Vec<serde_json::Value> = summary
        .tally
        .steps
        .iter()
        .map(|t| {
            serde_json::json!({
                "label": t.label, "text": t.text, "platform": t.platform,
                "emulated": t.emulated, "cached": t.cached,
                "start": secs(t.start), "duration": secs(t.took),
            })
        })
        .collect();
    let critical: Vec<serde_json::Value> = built
        .critical
        .links
        .iter()
        .map(|l| {
            serde_json::json!({
                "instance": l.label, "duration": secs(l.took),
                "slowest": l.slowest.as_ref().map(|(s, d)| serde_json::json!({"step": s, "duration": secs(*d)})),
            })
        })
        .collect();
    let per: Vec<serde_json::Value> = built
        .images
        .iter()
        .map(|(p, d, _)| serde_json::json!({"platform": p.to_string(), "digest": d}))
        .collect();
    let size = store
        .blobs
        .verify(&built.index)
        .map_err(|e| e.to_string())?;
    let meta = serde_json::json!({
        "containerimage.digest": built.index.to_string(),
        "containerimage.descriptor": {
            "mediaType": crate::image::manifest::media::OCI_INDEX,
            "digest": built.index.to_string(),
            "size": size,
        },
        "image.name": names.join(","),
        "mxbuild.platforms": per,
        "mxbuild.steps": steps,
        "mxbuild.critical-path": critical,
    });
    std::fs::write(f, serde_json::to_string_pretty(&meta).unwrap_or_default())
        .map_err(|e| format!("--metadata-file {}: {e}", f.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_names_come_from_clap() {
        let names = flag_names();
        for f in ["file", "tag", "output", "cache-to", "smoke-test"] {
            assert!(names.iter().any(|n| n == f), "{f} in {names:?}");
        }
    }
}
