//! Planning a build: the Dockerfile is converted once, with images
//! resolved (and pulled) as the planner meets them; then the ADD URLs and
//! git sources the plan uses are fetched, the contexts it reads filtered,
//! and the step keys computed from all of it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use xx::Platform;

use super::progress::Progress;
use super::{BuildError, Options, check_emulation, contexts, fetch, git, resolve};
use crate::plan::Plan;
use crate::store::Store;

/// The Dockerfile, parsed, and its name as messages show it.
pub(crate) fn read_dockerfile(
    opts: &Options,
) -> Result<(crate::dockerfile::Dockerfile, String), String> {
    let text = std::fs::read_to_string(&opts.dockerfile).map_err(|e| {
        format!(
            "cannot read {}: {e}\nhint: pass the Dockerfile with -f",
            opts.dockerfile.display()
        )
    })?;
    let shown = opts
        .dockerfile_name
        .clone()
        .unwrap_or_else(|| opts.dockerfile.display().to_string());
    let df = crate::dockerfile::parse(&text, &shown).map_err(|e| e.to_string())?;
    Ok((df, shown))
}

/// The trees the final keys hash: the main context's, and each named
/// directory context's keyed by its directory as the plan names it.
pub fn key_inputs(
    contexts: &contexts::Contexts,
    named: &BTreeMap<String, String>,
) -> crate::plan::keys::Inputs {
    let trees = contexts.for_planner(named);
    let named = named
        .iter()
        .filter_map(|(name, source)| {
            let dir = contexts::local_dir(source)?;
            let tree = trees.get(name)?;
            Some((dir.to_string(), PathBuf::from(tree)))
        })
        .collect();
    crate::plan::keys::Inputs {
        main: Some(contexts.main().to_path_buf()),
        named,
        ..Default::default()
    }
}

/// Plans the build: the Dockerfile is converted once, its images resolved
/// as the planner meets them (pulled into the store when missing);
/// emulation is checked before any step runs; then the ADD URLs and git
/// sources the plan uses are fetched, the contexts it reads filtered, once,
/// and the keys computed from all of it. From here on steps and keys read only the
/// filtered trees (removed when the returned [`contexts::Contexts`] drops),
/// so no ignored file reaches a step, whatever symlink or mount leads to it.
pub(crate) fn plan_build(
    store: &Store,
    opts: &Options,
    progress: &Progress,
) -> Result<(Plan, String, Fetched, contexts::Contexts), BuildError> {
    let (df, file) = read_dockerfile(opts)?;
    let popts = plan_options(opts);
    let log = |s: &str| progress.line(s);
    let resolver = resolve::StoreResolver::new(store, opts.pull, &opts.named_contexts, &log)
        .refreshing(opts.pull_always);
    let mut plan = crate::plan::convert(&df, &popts, &resolver)?;
    let images = resolver.finish();
    // Before any step runs (ONBUILD triggers included) or anything is downloaded.
    check_emulation(&plan, &popts.host)?;
    // ADD URLs may use the base images' ENV, so they are known only now;
    // their content digests and commits go into the keys.
    let urls = fetch::fetch(store, &fetch::wanted(&plan, &file), &mut |s| {
        progress.line(s)
    })?;
    let agent = opts.ssh.get("default").map(PathBuf::as_path);
    let git = git::fetch(store, &git::wanted(&plan, &file), agent, &mut |s| {
        progress.line(s)
    })?;
    let contexts = contexts::Contexts::prepare(
        &opts.context,
        &opts.dockerfile,
        &opts.named_contexts,
        &contexts::reads(&plan, &opts.named_contexts),
        &store.root.join("work"),
    )?;
    let inputs = crate::plan::keys::Inputs {
        urls,
        git,
        ..key_inputs(&contexts, &opts.named_contexts)
    };
    crate::plan::keys::assign(&mut plan, &inputs);
    let fetched = Fetched {
        images,
        urls: inputs.urls,
        git: inputs.git,
    };
    Ok((plan, file, fetched, contexts))
}

/// The planner's options for a build.
fn plan_options(opts: &Options) -> crate::plan::Options {
    crate::plan::Options {
        platforms: opts.platforms.clone(),
        host: Platform::host(),
        target: opts.target.clone(),
        build_args: opts.build_args.clone(),
        context: None,
        named_contexts: opts.named_contexts.clone(),
        network: opts.network,
        allow: opts.allow,
        run_extras: opts.run_extras.clone(),
        qemu_cpus: opts.qemu_cpus.clone(),
        dockerignore: crate::dockerfile::ignore::load_for(&opts.context, &opts.dockerfile)
            .ok()
            .flatten(),
    }
}

/// `mxbuild build --check`: the build checks over every stage (or the
/// `--target` one), base images resolved (pulled when missing) so each
/// stage's environment is known, as BuildKit's lint does; nothing runs.
/// Returns the Dockerfile's text too, for showing each finding's line.
pub fn check(
    store: &Store,
    opts: &Options,
    progress: &Progress,
) -> Result<(crate::plan::Checked, crate::dockerfile::Dockerfile), BuildError> {
    let (df, _) = read_dockerfile(opts)?;
    let log = |s: &str| progress.line(s);
    let resolver = resolve::StoreResolver::new(store, opts.pull, &opts.named_contexts, &log)
        .refreshing(opts.pull_always);
    let checked = crate::plan::check(&df, &plan_options(opts), &resolver);
    Ok((checked, df))
}

/// What planning brought into the store for the build's steps.
pub(crate) struct Fetched {
    pub images: resolve::Resolved,
    pub urls: BTreeMap<String, crate::plan::UrlInfo>,
    pub git: BTreeMap<String, String>,
}
