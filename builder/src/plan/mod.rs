//! The build plan: for each requested platform, the stages reachable from the
//! target, each as an *instance* (stage x the platform it runs as) whose steps
//! carry cache keys. Equal keys mean equal work, so a `$BUILDPLATFORM` stage
//! that never reads TARGET* args yields one instance serving every target,
//! and the steps before a late `ARG TARGETPLATFORM` are shared too.
//!
//! A key is the hash of: the parent key, the instruction after expansion, the
//! platform it runs as, and what it reads (RUN: its environment and mounts;
//! COPY/ADD: the sources' content or the `--from` instance's key).

pub mod build_checks;
pub mod deps;
pub mod graph;
pub mod labels;
/// The `# check=` keys, for the README's compatibility table test.
pub use build_checks::config::CHECK_KEYS;
mod context;
mod dispatch;
mod duration;
pub mod entitlements;
mod error;
mod heredoc;
mod image_ref;
pub mod keys;
mod lints;
pub mod op;
mod planner;
pub mod platform_args;
pub mod render;
pub mod resolver;
mod scope;
pub mod stages;
pub mod url;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde::Serialize;
use xx::Platform;

use crate::dockerfile::{self, Dockerfile, SourceError, Span};
pub use error::PlanError;
pub use op::{Op, RunMount, Source};
use planner::Planner;
pub use resolver::{ImageInfo, Known, Resolver};
use stages::{Stage, Stages};
pub use url::UrlInfo;

/// What to plan.
#[derive(Debug, Clone)]
pub struct Options {
    /// Target platforms (at least one).
    pub platforms: Vec<Platform>,
    /// The machine building (BUILDPLATFORM).
    pub host: Platform,
    /// `--target` stage; default the last.
    pub target: Option<String>,
    /// `--build-arg` values.
    pub build_args: BTreeMap<String, String>,
    /// For [`plan`]: the build context whose content the keys hash (COPY/ADD
    /// sources, bind mounts; named directory contexts are hashed where they
    /// are). `None`: no context is hashed. A build leaves it `None` and
    /// hashes its filtered trees with [`keys::assign`] after [`convert`].
    pub context: Option<PathBuf>,
    /// Named build contexts (`--build-context NAME=SOURCE`): name -> source.
    /// They take precedence over stage and image names in `--from`.
    pub named_contexts: BTreeMap<String, String>,
    /// `--network`: the network of RUN steps that do not name one; `none`
    /// also overrides the ones that do.
    pub network: crate::exec::Network,
    /// `--allow`: what RUN steps may ask for beyond the sandbox.
    pub allow: entitlements::Entitlements,
    /// `--add-host`, `--ulimit`, `--shm-size`: part of every RUN's key.
    pub run_extras: crate::exec::run_extras::RunExtras,
    /// The CPU QEMU emulates per platform: part of every emulated RUN's key
    /// (a configure script probing the CPU sees it).
    pub qemu_cpus: crate::exec::qemu_cpu::QemuCpus,
    /// The main context's ignore patterns, for BuildKit's CopyIgnoredFile
    /// check (the engine filters the context with them itself).
    pub dockerignore: Option<crate::dockerfile::ignore::IgnoreMatcher>,
}

impl Options {
    /// Options for unit tests: the given target platforms on an amd64
    /// host, the default network, nothing else set.
    #[cfg(test)]
    pub(crate) fn for_test(platforms: &[&str]) -> Options {
        Options {
            platforms: platforms.iter().filter_map(|p| p.parse().ok()).collect(),
            host: "linux/amd64".parse().expect("a platform"),
            target: None,
            build_args: BTreeMap::new(),
            context: None,
            named_contexts: BTreeMap::new(),
            network: crate::exec::Network::Sandbox,
            allow: Default::default(),
            run_extras: Default::default(),
            qemu_cpus: Default::default(),
            dockerignore: None,
        }
    }
}

/// A lint finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// Line of the instruction it is about.
    pub line: usize,
    /// Column where that instruction starts (1-based).
    pub col: usize,
    /// Stable identifier: a BuildKit rule name or one of mxbuild's lints.
    pub code: String,
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub hint: String,
}

/// One step of an instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// Line of the instruction.
    pub line: usize,
    /// Instruction name (`RUN`).
    pub instruction: String,
    /// The instruction after expansion, for display.
    pub text: String,
    /// Cache key (`sha256:...`).
    pub key: String,
    /// Whether it executes under QEMU (RUN in an emulated instance).
    pub emulated: bool,
    /// What to execute.
    #[serde(skip)]
    pub op: Op,
    /// Its key material beyond parent, platform and text (see [`keys`]).
    #[serde(skip)]
    pub fields: Vec<keys::Field>,
}

/// A stage as it runs for one platform, possibly serving several targets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Instance {
    /// Stage name or index.
    pub stage: String,
    /// The platform it runs as.
    pub platform: String,
    /// Target platforms whose build needs it.
    pub targets: Vec<String>,
    /// Runs under QEMU.
    pub emulated: bool,
    /// Base: an image reference, `scratch`, or `stage:<name>`.
    pub base: String,
    /// Steps after FROM.
    pub steps: Vec<Step>,
    /// Key of its last step (its result).
    #[serde(skip)]
    pub final_key: String,
    /// Index of the stage in the Dockerfile.
    #[serde(skip)]
    pub stage_index: usize,
    /// Variables its steps read that are TARGET* args.
    #[serde(skip)]
    pub reads_target_args: bool,
    /// What it starts from.
    #[serde(skip)]
    pub source: Source,
    /// What its first step's key chains to.
    #[serde(skip)]
    pub base_key: keys::Base,
    /// Selected for the SBOM by `BUILDKIT_SBOM_SCAN_STAGE` (its final
    /// filesystem is scanned too when `--sbom` is on).
    #[serde(skip)]
    pub sbom_scan: bool,
    /// `BUILDKIT_SBOM_SCAN_CONTEXT` selects it (context scans are refused).
    #[serde(skip)]
    pub sbom_scan_context: bool,
}

/// Totals over unique keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Steps over all instances.
    pub steps_total: usize,
    /// Distinct step keys.
    pub steps_unique: usize,
    /// Distinct RUN steps that run natively.
    pub runs_native: usize,
    /// Distinct RUN steps that run under QEMU.
    pub runs_emulated: usize,
}

/// The plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// The build machine's platform.
    pub host: String,
    /// Requested platforms.
    pub platforms: Vec<String>,
    /// Stage instances, in dependency order.
    pub instances: Vec<Instance>,
    /// Totals.
    pub summary: Summary,
    /// Lint findings.
    pub warnings: Vec<Warning>,
    /// Per requested platform (same order), the instance that is its result.
    #[serde(skip)]
    pub finals: Vec<usize>,
}

/// Plans a parsed Dockerfile with what `known` holds (images, URLs, git
/// commits), hashing `opts.context` (when given) for the keys: [`convert`],
/// then [`keys::assign`].
pub fn plan_with(df: &Dockerfile, opts: &Options, known: &Known) -> Result<Plan, PlanError> {
    let mut plan = convert(df, opts, known)?;
    let inputs = keys::Inputs {
        main: opts.context.clone(),
        named: BTreeMap::new(),
        urls: known.urls.clone(),
        git: known.git.clone(),
    };
    keys::assign(&mut plan, &inputs);
    Ok(plan)
}

/// Plans a parsed Dockerfile knowing nothing of its images, URLs and git
/// sources (see [`plan_with`]).
pub fn plan(df: &Dockerfile, opts: &Options) -> Result<Plan, PlanError> {
    plan_with(df, opts, &Known::default())
}

/// Converts a parsed Dockerfile into its plan, once: every instance and
/// step, resolved through `resolver` as the instructions need it. The keys
/// leave the contents of build contexts unhashed; a build filters the
/// contexts the plan reads and then runs [`keys::assign`].
pub fn convert(
    df: &Dockerfile,
    opts: &Options,
    resolver: &dyn Resolver,
) -> Result<Plan, PlanError> {
    let checks = build_checks::config_of(df, &opts.build_args)?;
    let instructions = dockerfile::instruction::from_nodes(&df.nodes, &df.file, &df.text)?;
    let stages = Stages::split(df, instructions)?;
    let target = target_stage(df, &stages, opts.target.as_deref())?;
    let mut planner = Planner::new(df, opts, &stages, resolver);
    let mut finals = Vec::new();
    for p in &opts.platforms {
        let i = planner
            .instance(target.index, p, &mut BTreeMap::new(), &mut Vec::new())
            .map_err(|e| e.for_platform(p))?;
        finals.push(i);
    }
    let mut warnings = planner.findings.take();
    let instances = planner.instances;
    warnings.extend(lints::check(df, &stages, &instances, &opts.host));
    warnings.extend(build_checks::check_text(df));
    warnings.extend(build_checks::check_stages(
        df,
        &stages,
        &opts.build_args,
        &opts.host,
    ));
    let warnings = build_checks::filter(df, &checks, warnings);
    if checks.error {
        build_checks::fail_on(df, &warnings)?;
    }
    let summary = summarize(&instances);
    Ok(Plan {
        host: opts.host.to_string(),
        platforms: opts.platforms.iter().map(|p| p.to_string()).collect(),
        instances,
        summary,
        warnings,
        finals,
    })
}

/// The stage `--target` names, else the last.
fn target_stage<'s>(
    df: &Dockerfile,
    stages: &'s Stages,
    target: Option<&str>,
) -> Result<&'s Stage, SourceError> {
    match target {
        Some(t) => stages.find(t).ok_or_else(|| {
            let names: Vec<String> = stages.stages.iter().map(Stage::label).collect();
            SourceError::new(
                &df.file,
                Span { line: 1, col: 1 },
                format!("target stage {t:?} not found"),
            )
            .hint(format!("stages are: {}", names.join(", ")))
        }),
        None => stages
            .stages
            .last()
            .ok_or_else(|| SourceError::new(&df.file, Span::default(), "no stages")),
    }
}

/// What `--check` found: BuildKit's rules only (not mxbuild's own lints),
/// as `# check=` leaves them, and the error that stopped the check, if any
/// (BuildKit's lint subrequest reports both).
#[derive(Debug)]
pub struct Checked {
    /// The findings, in file order.
    pub warnings: Vec<Warning>,
    /// Why the Dockerfile cannot be built.
    pub error: Option<PlanError>,
}

/// Runs the build checks without building (`mxbuild build --check`): every
/// stage is planned for every platform (only the `--target` stage and what
/// it needs when one is given, as BuildKit's lint does), so the checks
/// that need each stage's environment see it.
pub fn check(df: &Dockerfile, opts: &Options, resolver: &dyn Resolver) -> Checked {
    let mut warnings = build_checks::check_text(df);
    let config = match build_checks::config_of(df, &opts.build_args) {
        Ok(c) => c,
        Err(e) => {
            return Checked {
                warnings: Vec::new(),
                error: Some(e.into()),
            };
        }
    };
    let error = check_planned(df, opts, resolver, &mut warnings).err();
    let warnings = build_checks::filter(df, &config, warnings)
        .into_iter()
        .filter(|w| build_checks::rules::is_buildkit(&w.code))
        .collect();
    Checked { warnings, error }
}

/// The stage and planner findings of [`check`], added to `out` as found.
fn check_planned(
    df: &Dockerfile,
    opts: &Options,
    resolver: &dyn Resolver,
    out: &mut Vec<Warning>,
) -> Result<(), PlanError> {
    let instructions = dockerfile::instruction::from_nodes(&df.nodes, &df.file, &df.text)?;
    let stages = Stages::split(df, instructions)?;
    out.extend(build_checks::check_stages(
        df,
        &stages,
        &opts.build_args,
        &opts.host,
    ));
    let wanted: Vec<usize> = match &opts.target {
        Some(t) => vec![target_stage(df, &stages, Some(t))?.index],
        None => (0..stages.stages.len()).collect(),
    };
    let mut planner = Planner::new(df, opts, &stages, resolver);
    let mut result = Ok(());
    'platforms: for p in &opts.platforms {
        let mut memo = BTreeMap::new();
        for &i in &wanted {
            if let Err(e) = planner.instance(i, p, &mut memo, &mut Vec::new()) {
                result = Err(e.for_platform(p));
                break 'platforms;
            }
        }
    }
    out.extend(planner.findings.take());
    result
}

fn summarize(instances: &[Instance]) -> Summary {
    let mut unique = BTreeSet::new();
    let mut native = BTreeSet::new();
    let mut emulated = BTreeSet::new();
    let mut total = 0;
    for i in instances {
        for s in &i.steps {
            total += 1;
            unique.insert(s.key.clone());
            if s.instruction == "RUN" {
                if s.emulated {
                    emulated.insert(s.key.clone());
                } else {
                    native.insert(s.key.clone());
                }
            }
        }
    }
    Summary {
        steps_total: total,
        steps_unique: unique.len(),
        runs_native: native.len(),
        runs_emulated: emulated.len(),
    }
}
