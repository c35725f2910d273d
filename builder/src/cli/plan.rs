//! `mxbuild plan`: parse, plan and print, without running anything.

use std::process::ExitCode;

/// `mxbuild plan` flags (a subset of `docker buildx build`'s).
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// Dockerfile (default: CONTEXT/Dockerfile).
    #[arg(short = 'f', long = "file")]
    pub file: Option<std::path::PathBuf>,
    /// Target platforms, comma-separated (e.g. linux/amd64,linux/arm64 or rpi-zero,rpi4).
    #[arg(long)]
    pub platform: Option<String>,
    /// Stage to build (default: the last).
    #[arg(long)]
    pub target: Option<String>,
    /// Build-time variable, NAME=VALUE (repeatable).
    #[arg(long = "build-arg", value_name = "NAME=VALUE")]
    pub build_args: Vec<String>,
    /// Named build context, NAME=SOURCE (repeatable); `--from=NAME` then means it.
    #[arg(long = "build-context", value_name = "NAME=SOURCE")]
    pub build_contexts: Vec<String>,
    /// Network of RUN steps, as for `mxbuild build` (default, none, host).
    #[arg(long, default_value = "default", value_parser = ["default", "none", "host"])]
    pub network: String,
    /// Entitlements granted, as for `mxbuild build` (network.host, security.insecure).
    #[arg(long, value_name = "ENTITLEMENT")]
    pub allow: Vec<String>,
    /// Output format: text, json, or a picture of the stage graph as
    /// Graphviz dot or a Mermaid flowchart.
    #[arg(long, default_value = "text", value_parser = ["text", "json", "dot", "mermaid"])]
    pub format: String,
    /// Build context directory.
    pub context: std::path::PathBuf,
}

pub fn plan(args: &PlanArgs) -> ExitCode {
    match plan_text(args) {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            super::fail(&e);
            ExitCode::FAILURE
        }
    }
}

fn plan_text(args: &PlanArgs) -> Result<String, String> {
    let file = args
        .file
        .clone()
        .unwrap_or_else(|| args.context.join("Dockerfile"));
    let text = std::fs::read_to_string(&file)
        .map_err(|e| format!("cannot read {}: {e}\nhint: pass the Dockerfile with -f, or run in the context directory", file.display()))?;
    let shown = file.display().to_string();
    let df = crate::dockerfile::parse(&text, &shown).map_err(|e| e.to_string())?;
    let host = xx::Platform::host();
    let platforms = match &args.platform {
        Some(list) => xx::Platform::parse_list(list).map_err(|e| format!("--platform: {e}"))?,
        None => vec![host.clone()],
    };
    let mut build_args = std::collections::BTreeMap::new();
    for a in &args.build_args {
        let (k, v) = match a.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            // `--build-arg NAME` takes the value from the environment, as docker does.
            None => match std::env::var(a) {
                Ok(v) => (a.clone(), v),
                Err(_) => continue,
            },
        };
        build_args.insert(k, v);
    }
    let named_contexts: std::collections::BTreeMap<String, String> = args
        .build_contexts
        .iter()
        .map(|c| match c.split_once('=') {
            Some((k, v)) => Ok((k.to_string(), v.to_string())),
            None => Err(format!("--build-context {c:?} is not NAME=SOURCE\nhint: e.g. --build-context xx=docker-image://tonistiigi/xx")),
        })
        .collect::<Result<_, _>>()?;
    let opts = crate::plan::Options {
        platforms,
        host,
        target: args.target.clone(),
        build_args,
        context: None,
        named_contexts: named_contexts.clone(),
        network: crate::plan::entitlements::parse_network(&args.network)
            .map_err(|e| e.to_string())?,
        allow: crate::plan::entitlements::Entitlements::parse(&args.allow)
            .map_err(|e| e.to_string())?,
        run_extras: Default::default(),
        qemu_cpus: crate::exec::qemu_cpu::QemuCpus::from_platform_list(
            &args.platform.iter().cloned().collect::<Vec<_>>(),
        ),
        dockerignore: None,
    };
    // The store, when there is one and no prune holds it: its images give
    // the plan what a build sees, and its work directory holds the filtered
    // contexts (on the store's filesystem, like a build's).
    let root = crate::store::default_root();
    let store = if root.join("refs").is_dir() {
        crate::store::Store::open(&root, crate::store::lock::Mode::TryShared).ok()
    } else {
        None
    };
    let private = match &store {
        Some(_) => None,
        None => Some(PrivateDir::new()?),
    };
    let work = match (&store, &private) {
        (Some(s), _) => s.root.join("work"),
        (None, Some(p)) => p.0.clone(),
        (None, None) => return Err("internal: no work directory".to_string()),
    };
    // Converted once: base images already in the local store (never pulled
    // here) give the plan what a build sees (digests, ENV, ONBUILD triggers).
    let resolver = crate::engine::resolve::LocalResolver {
        store: store.as_ref(),
    };
    let mut plan = crate::plan::convert(&df, &opts, &resolver).map_err(|e| e.to_string())?;
    // The keys hash what a build would read: the contexts the steps use,
    // filtered by their ignore files as `mxbuild build` does (removed on return).
    let reads = crate::engine::contexts::reads(&plan, &named_contexts);
    let contexts = crate::engine::contexts::Contexts::prepare(
        &args.context,
        &file,
        &named_contexts,
        &reads,
        &work,
    )?;
    crate::plan::keys::assign(
        &mut plan,
        &crate::engine::key_inputs(&contexts, &named_contexts),
    );
    drop(contexts);
    Ok(match args.format.as_str() {
        "json" => crate::plan::render::json(&plan) + "\n",
        "dot" => crate::plan::graph::dot(&plan),
        "mermaid" => crate::plan::graph::mermaid(&plan),
        _ => crate::plan::render::text(&plan, &shown),
    })
}

/// A fresh directory only this user can enter, under the temp directory,
/// for the filtered contexts when there is no store to hold them; removed
/// on drop. `mkdir` of a new name never follows a planted symlink.
struct PrivateDir(std::path::PathBuf);

impl PrivateDir {
    fn new() -> Result<PrivateDir, String> {
        use std::os::unix::fs::DirBuilderExt;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir =
            std::env::temp_dir().join(format!("mxbuild-plan-{}-{nanos:09}", std::process::id()));
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(PrivateDir(dir))
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
