//! The build plan: for each requested platform, the stages reachable from the
//! target, each as an *instance* (stage x the platform it runs as) whose steps
//! carry cache keys. Equal keys mean equal work, so a `$BUILDPLATFORM` stage
//! that never reads TARGET* args yields one instance serving every target,
//! and the steps before a late `ARG TARGETPLATFORM` are shared too.
//!
//! A key is the hash of: the parent key, the instruction after expansion, the
//! platform it runs as, and what it reads (RUN: its environment and mounts;
//! COPY/ADD: the sources' content or the `--from` instance's key).

mod context;
mod duration;
pub mod entitlements;
mod image_ref;
mod keys;
mod lints;
pub mod op;
pub mod platform_args;
pub mod render;
mod scope;
pub mod stages;
pub mod url;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde::Serialize;
use xx::Platform;

use crate::dockerfile::instruction::{Command, Instruction, Located};
use crate::dockerfile::{self, Dockerfile, SourceError, Span};
use keys::Hasher;
pub use op::{Op, RunMount, Source};
use scope::Scope;
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
    /// The build context as the steps see it (a build passes the tree that
    /// `.dockerignore` filtered), for the content hashes of COPY/ADD sources
    /// and bind mounts. `None`: no context is hashed, named ones included.
    pub context: Option<PathBuf>,
    /// Named build contexts (`--build-context NAME=SOURCE`): name -> source.
    /// They take precedence over stage and image names in `--from`.
    pub named_contexts: BTreeMap<String, String>,
    /// Base images already resolved by the caller, keyed `reference@platform`
    /// (as written after expansion): their digest goes into the FROM key, so
    /// a moved tag invalidates the cache, and their ENV is what the stage's
    /// expansions see, as in BuildKit. Empty for `mxbuild plan`.
    pub images: BTreeMap<String, ImageInfo>,
    /// `ADD` URLs already downloaded by the caller: their content digest
    /// goes into the step key. Empty for `mxbuild plan`.
    pub urls: BTreeMap<String, UrlInfo>,
    /// `ADD` git sources already fetched by the caller: source -> commit.
    pub git: BTreeMap<String, String>,
    /// `--network`: the network of RUN steps that do not name one; `none`
    /// also overrides the ones that do.
    pub network: crate::exec::Network,
    /// `--allow`: what RUN steps may ask for beyond the sandbox.
    pub allow: entitlements::Entitlements,
}

/// What the planner needs to know of a base image.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageInfo {
    /// Manifest digest for the platform.
    pub digest: String,
    /// The image's ENV.
    pub env: Vec<(String, String)>,
    /// The image's `ONBUILD` triggers: they run first in a stage built on it.
    pub on_build: Vec<String>,
    /// The image's `SHELL`, when it set one: shell-form RUN/CMD/ENTRYPOINT use it.
    pub shell: Option<Vec<String>>,
}

/// A lint finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// Line of the instruction it is about.
    pub line: usize,
    /// Stable identifier.
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

/// Plans a parsed Dockerfile.
pub fn plan(df: &Dockerfile, opts: &Options) -> Result<Plan, SourceError> {
    let instructions = dockerfile::instruction::from_nodes(&df.nodes, &df.file, &df.text)?;
    let stages = Stages::split(df, instructions)?;
    let target = match &opts.target {
        Some(t) => stages.find(t).ok_or_else(|| {
            let names: Vec<String> = stages.stages.iter().map(Stage::label).collect();
            SourceError::new(
                &df.file,
                Span { line: 1, col: 1 },
                format!("target stage {t:?} not found"),
            )
            .hint(format!("stages are: {}", names.join(", ")))
        })?,
        None => stages
            .stages
            .last()
            .ok_or_else(|| SourceError::new(&df.file, Span::default(), "no stages"))?,
    };
    let mut planner = Planner {
        df,
        opts,
        stages: &stages,
        instances: Vec::new(),
        by_key: BTreeMap::new(),
        warnings: Vec::new(),
        context_hashes: BTreeMap::new(),
    };
    let mut finals = Vec::new();
    for p in &opts.platforms {
        let mut memo = BTreeMap::new();
        finals.push(planner.instance(target.index, p, &mut memo, &mut Vec::new())?);
    }
    let mut warnings = planner.warnings;
    warnings.extend(lints::check(df, &stages, &planner.instances, &opts.host));
    warnings.sort_by(|a, b| (a.line, &a.code).cmp(&(b.line, &b.code)));
    warnings.dedup();
    let summary = summarize(&planner.instances);
    Ok(Plan {
        host: opts.host.to_string(),
        platforms: opts.platforms.iter().map(|p| p.to_string()).collect(),
        instances: planner.instances,
        summary,
        warnings,
        finals,
    })
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

/// The image a named build context stands for: `docker-image://REF` is REF,
/// `oci-layout://DIR[:TAG]` stays as written (resolved from the layout);
/// `None` for a directory.
fn image_context(source: &str) -> Option<String> {
    if let Some(r) = source.strip_prefix("docker-image://") {
        return Some(r.to_string());
    }
    if source.starts_with("oci-layout://") {
        return Some(source.to_string());
    }
    None
}

/// What a stage passes to a stage built FROM it.
struct Inherited {
    env: Vec<(String, String)>,
    shell: Vec<String>,
}

/// The shell of shell-form instructions when nothing set one.
fn default_shell() -> Vec<String> {
    vec!["/bin/sh".to_string(), "-c".to_string()]
}

/// The argv of a RUN/CMD/ENTRYPOINT: exec form as is, shell form through SHELL.
fn wrap(c: &Command, shell: &[String]) -> Vec<String> {
    match c {
        Command::Exec(v) => v.clone(),
        Command::Shell(s) => {
            let mut v = shell.to_vec();
            v.push(s.clone());
            v
        }
    }
}

/// Expands variables in a COPY here-document the way BuildKit does
/// (quotes are kept: only `$NAME`, `${NAME}` and `${NAME<modifier>}` change;
/// an escaped `\$` stays a dollar sign).
fn expand_heredoc(scope: &Scope, content: &str, escape: char) -> String {
    let chars: Vec<char> = content.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == escape && chars.get(i + 1) == Some(&'$') {
            out.push('$');
            i += 2;
            continue;
        }
        if c == '$' {
            if chars.get(i + 1) == Some(&'{') {
                if let Some(end) = chars[i..].iter().position(|&c| c == '}') {
                    let word: String = chars[i..=i + end].iter().collect();
                    match scope.expand(&word, escape) {
                        Ok(v) => out.push_str(&v.text),
                        Err(_) => out.push_str(&word),
                    }
                    i += end + 1;
                    continue;
                }
            }
            let name: String = chars[i + 1..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
                .collect();
            if !name.is_empty() {
                out.push_str(&scope.get(&name).unwrap_or_default());
                i += 1 + name.chars().count();
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

/// One step's display text, extra key material, the variables it read, and what it does.
type StepParts = (String, Vec<(String, String)>, BTreeSet<String>, Op);

struct Planner<'a> {
    df: &'a Dockerfile,
    opts: &'a Options,
    stages: &'a Stages,
    instances: Vec<Instance>,
    /// final key -> index in `instances`.
    by_key: BTreeMap<String, usize>,
    warnings: Vec<Warning>,
    context_hashes: BTreeMap<String, String>,
}

impl Planner<'_> {
    fn err(&self, span: Span, msg: impl Into<String>, hint: &str) -> SourceError {
        SourceError::new(&self.df.file, span, msg)
            .hint(hint)
            .with_line(&self.df.text)
    }

    /// The global scope for target `p`: declared global ARGs plus the automatic ones.
    fn global_scope(&self, p: &Platform) -> Result<Scope, SourceError> {
        let mut scope = Scope::default();
        for (k, v) in platform_args::values(&self.opts.host, p) {
            scope.args.insert(k, Some(v));
        }
        for located in &self.stages.global_args {
            if let Instruction::Arg(list) = &located.instruction {
                for (name, default) in list {
                    let value = match (self.opts.build_args.get(name), default) {
                        (Some(v), _) => Some(v.clone()),
                        (None, Some(d)) => Some(self.expand(&scope, d, located.span)?.text),
                        (None, None) => scope.args.get(name).cloned().flatten(),
                    };
                    scope.args.insert(name.clone(), value);
                }
            }
        }
        Ok(scope)
    }

    fn expand(&self, scope: &Scope, word: &str, span: Span) -> Result<scope::Value, SourceError> {
        scope.expand(word, self.df.directives.escape).map_err(|e| {
            self.err(
                span,
                format!("cannot expand {word:?}: {e}"),
                "check the ${...} syntax and quoting",
            )
        })
    }

    /// Plans stage `index` for target `p`; returns the instance index.
    fn instance(
        &mut self,
        index: usize,
        p: &Platform,
        memo: &mut BTreeMap<usize, usize>,
        path: &mut Vec<usize>,
    ) -> Result<usize, SourceError> {
        if let Some(&i) = memo.get(&index) {
            return Ok(i);
        }
        let stage = &self.stages.stages[index];
        if path.contains(&index) {
            return Err(self.err(
                stage.from.span,
                format!("stage {} depends on itself", stage.label()),
                "remove the circular FROM / COPY --from",
            ));
        }
        path.push(index);
        let global = self.global_scope(p)?;
        let escape = self.df.directives.escape;
        let mut image = self.expand(&global, &stage.image, stage.from.span)?.text;
        // `--build-context NAME=docker-image://REF|oci-layout://DIR` replaces `FROM NAME`.
        let mut from_context = false;
        if let Some(src) = self.opts.named_contexts.get(&image) {
            match image_context(src) {
                Some(r) => {
                    image = r;
                    from_context = true;
                }
                None => {
                    return Err(self.err(
                        stage.from.span,
                        format!("FROM {image}: build context {image} is a directory, not an image"),
                        "use --build-context NAME=docker-image://REF or oci-layout://DIR for a base image",
                    ));
                }
            }
        }
        let parent_stage = self
            .stages
            .stages
            .iter()
            .find(|s| {
                !from_context
                    && s.index < index
                    && s.name.as_deref() == Some(&image.to_ascii_lowercase())
            })
            .map(|s| s.index);

        // ONBUILD triggers of the base (an image's config, or the parent
        // stage's ONBUILD instructions) run first, as if written after FROM.
        let mut triggers: Vec<String> = Vec::new();
        // SHELL is inherited like ENV: from the parent stage or the image.
        let mut shell = default_shell();
        let (platform, base, mut key, mut scope, source) = match parent_stage {
            Some(pi) => {
                triggers = self.stages.stages[pi]
                    .body
                    .iter()
                    .filter_map(|l| match &l.instruction {
                        Instruction::Onbuild(t) => Some(t.clone()),
                        _ => None,
                    })
                    .collect();
                let parent = self.instance(pi, p, memo, path)?;
                let inst = &self.instances[parent];
                let inherited = self.inherited_after(pi, p)?;
                shell = inherited.shell;
                let scope = Scope {
                    env: inherited.env,
                    ..Scope::default()
                };
                let platform: Platform = inst.platform.parse().unwrap_or_else(|_| p.clone());
                (
                    platform,
                    format!("stage:{}", inst.stage),
                    inst.final_key.clone(),
                    scope,
                    Source::Instance(parent),
                )
            }
            None => {
                let platform = match &stage.platform {
                    Some(raw) => {
                        let text = self.expand(&global, raw, stage.from.span)?.text;
                        text.parse::<Platform>().map_err(|e| {
                            self.err(
                                stage.from.span,
                                format!("FROM --platform: {e}"),
                                "e.g. --platform=$BUILDPLATFORM or --platform=linux/arm64",
                            )
                        })?
                    }
                    None => p.clone(),
                };
                if image.is_empty() {
                    return Err(self.err(
                        stage.from.span,
                        format!("FROM {} expands to an empty image name", stage.image),
                        "set the ARG it uses (e.g. --build-arg)",
                    ));
                }
                let mut h = Hasher::new("from");
                h.add("image", &image)
                    .add("platform", &platform.to_string());
                let mut scope = Scope::default();
                let source = if image.eq_ignore_ascii_case("scratch") {
                    Source::Scratch
                } else {
                    if !from_context {
                        self.check_image("FROM ", &image, stage.from.span)?;
                    }
                    if let Some(info) = self.opts.images.get(&format!("{image}@{platform}")) {
                        h.add("digest", &info.digest);
                        scope.env = info.env.clone();
                        triggers = info.on_build.clone();
                        if let Some(s) = &info.shell {
                            shell = s.clone();
                        }
                    }
                    Source::Image {
                        reference: image.clone(),
                        platform: platform.to_string(),
                    }
                };
                (platform, image.clone(), h.finish(), scope, source)
            }
        };

        let emulated = !platform_args::runs_natively(&self.opts.host, &platform);
        let mut steps = Vec::new();
        let mut reads_target = false;
        let mut body = self.triggers(&triggers, &image, stage.from.span)?;
        body.extend(stage.body.iter().cloned());
        for located in &body {
            let (text, extra, used, op) = self.step_parts(
                located,
                &mut scope,
                &mut shell,
                (p, &platform),
                memo,
                path,
                escape,
            )?;
            if used.iter().any(|u| u.starts_with("TARGET")) {
                reads_target = true;
            }
            let mut h = Hasher::new("step");
            h.add("parent", &key)
                .add("platform", &platform.to_string())
                .add("text", &text);
            for (k, v) in &extra {
                h.add(k, v);
            }
            key = h.finish();
            let instruction = located
                .original
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_uppercase();
            let is_run = instruction == "RUN";
            steps.push(Step {
                line: located.span.line,
                instruction,
                text,
                key: key.clone(),
                emulated: is_run && emulated,
                op,
            });
        }
        path.pop();

        let idx = match self.by_key.get(&key) {
            Some(&existing) => {
                let t = p.to_string();
                if !self.instances[existing].targets.contains(&t) {
                    self.instances[existing].targets.push(t);
                }
                existing
            }
            None => {
                self.instances.push(Instance {
                    stage: stage.label(),
                    platform: platform.to_string(),
                    targets: vec![p.to_string()],
                    emulated,
                    base,
                    steps,
                    final_key: key.clone(),
                    stage_index: index,
                    reads_target_args: reads_target,
                    source,
                });
                self.by_key.insert(key, self.instances.len() - 1);
                self.instances.len() - 1
            }
        };
        memo.insert(index, idx);
        Ok(idx)
    }

    /// The base's ONBUILD triggers as instructions placed at the FROM line.
    /// As in BuildKit, a trigger may not be FROM, ONBUILD or MAINTAINER.
    fn triggers(
        &self,
        triggers: &[String],
        base: &str,
        at: Span,
    ) -> Result<Vec<Located>, SourceError> {
        if triggers.is_empty() {
            return Ok(Vec::new());
        }
        let label = format!("ONBUILD triggers of {base}");
        let mut out = Vec::new();
        // One at a time: a trailing escape or a here-doc in one trigger must
        // not run on into the next.
        for text in triggers {
            let bad = |e: SourceError| {
                self.err(
                    at,
                    format!("{label}: {e}"),
                    "the base image's ONBUILD instructions must be valid Dockerfile instructions",
                )
            };
            let df = dockerfile::parse(text, &label).map_err(bad)?;
            for mut l in
                dockerfile::instruction::from_nodes(&df.nodes, &label, text).map_err(bad)?
            {
                if matches!(
                    l.instruction,
                    Instruction::From { .. } | Instruction::Onbuild(_) | Instruction::Maintainer(_)
                ) {
                    return Err(self.err(
                        at,
                        format!(
                            "{label}: {:?} is not allowed as an ONBUILD trigger",
                            l.original
                        ),
                        "FROM, ONBUILD and MAINTAINER cannot be triggers",
                    ));
                }
                l.span = at;
                out.push(l);
            }
        }
        Ok(out)
    }

    /// ENV and SHELL at the end of stage `index` (what a child stage inherits).
    fn inherited_after(&self, index: usize, p: &Platform) -> Result<Inherited, SourceError> {
        let mut shell = default_shell();
        let stage = &self.stages.stages[index];
        let global = self.global_scope(p)?;
        let image = self.expand(&global, &stage.image, stage.from.span)?.text;
        let mut scope = Scope::default();
        if let Some(parent) = self
            .stages
            .stages
            .iter()
            .find(|s| s.index < index && s.name.as_deref() == Some(&image.to_ascii_lowercase()))
        {
            let parent = self.inherited_after(parent.index, p)?;
            scope.env = parent.env;
            shell = parent.shell;
        } else {
            let platform = match &stage.platform {
                Some(raw) => self.expand(&global, raw, stage.from.span)?.text,
                None => p.to_string(),
            };
            let platform = platform
                .parse::<Platform>()
                .map(|p| p.to_string())
                .unwrap_or(platform);
            if let Some(info) = self.opts.images.get(&format!("{image}@{platform}")) {
                scope.env = info.env.clone();
                if let Some(s) = &info.shell {
                    shell = s.clone();
                }
            }
        }
        for located in &stage.body {
            match &located.instruction {
                Instruction::Shell(s) => shell = s.clone(),
                Instruction::Arg(list) => {
                    self.declare_args(&mut scope, list, &global, located.span)?
                }
                Instruction::Env(pairs) => {
                    for (k, v) in pairs {
                        let value = self.expand(&scope, v, located.span)?.text;
                        scope.set_env(k, value);
                    }
                }
                _ => {}
            }
        }
        Ok(Inherited {
            env: scope.env,
            shell,
        })
    }

    fn declare_args(
        &self,
        scope: &mut Scope,
        list: &[(String, Option<String>)],
        global: &Scope,
        span: Span,
    ) -> Result<(), SourceError> {
        for (name, default) in list {
            let value = match (self.opts.build_args.get(name), default) {
                (Some(v), _) => Some(v.clone()),
                (None, Some(d)) => Some(self.expand(scope, d, span)?.text),
                (None, None) => global.args.get(name).cloned().flatten(),
            };
            scope.args.insert(name.clone(), value);
        }
        Ok(())
    }

    /// The display text, extra key material and variables read by one step;
    /// updates the scope (ARG, ENV) and the shell (SHELL).
    #[allow(clippy::too_many_arguments)]
    fn step_parts(
        &mut self,
        located: &Located,
        scope: &mut Scope,
        shell: &mut Vec<String>,
        (p, run_as): (&Platform, &Platform),
        memo: &mut BTreeMap<usize, usize>,
        path: &mut Vec<usize>,
        escape: char,
    ) -> Result<StepParts, SourceError> {
        let span = located.span;
        let mut extra: Vec<(String, String)> = Vec::new();
        let mut used = BTreeSet::new();
        let mut op = Op::Nothing;
        let text = match &located.instruction {
            Instruction::Arg(list) => {
                let global = self.global_scope(p)?;
                self.declare_args(scope, list, &global, span)?;
                let shown: Vec<String> = list
                    .iter()
                    .map(|(n, _)| match scope.args.get(n).cloned().flatten() {
                        Some(v) => format!("{n}={v}"),
                        None => n.clone(),
                    })
                    .collect();
                for (n, _) in list {
                    used.insert(n.clone());
                }
                format!("ARG {}", shown.join(" "))
            }
            Instruction::Env(pairs) => {
                let mut shown = Vec::new();
                let mut pairs_out = Vec::new();
                for (k, v) in pairs {
                    let value = self.expand_used(scope, v, span, &mut used)?;
                    shown.push(format!("{k}={value}"));
                    scope.set_env(k, value.clone());
                    pairs_out.push((k.clone(), value));
                }
                op = Op::Env(pairs_out);
                format!("ENV {}", shown.join(" "))
            }
            Instruction::Label(pairs) => {
                let mut shown = Vec::new();
                let mut pairs_out = Vec::new();
                for (k, v) in pairs {
                    let key = self.expand_used(scope, k, span, &mut used)?;
                    let value = self.expand_used(scope, v, span, &mut used)?;
                    shown.push(format!("{key}={value}"));
                    pairs_out.push((key, value));
                }
                op = Op::Label(pairs_out);
                format!("LABEL {}", shown.join(" "))
            }
            Instruction::Run {
                command,
                mounts,
                network,
                security,
            } => {
                // The shell expands the command itself; its environment is the key.
                for (k, v) in scope.run_env() {
                    extra.push((format!("env:{k}"), v));
                }
                // A RUN reads every ARG/ENV name its text mentions.
                let cmd_text = match command {
                    Command::Shell(s) => s.clone(),
                    Command::Exec(v) => v.join(" "),
                };
                for (k, _) in scope.run_env() {
                    if cmd_text.contains(&k) {
                        used.insert(k);
                    }
                }
                let mut run_mounts = Vec::new();
                for m in mounts {
                    let mut desc = format!(
                        "{:?} target={:?} source={:?} id={:?} sharing={:?} mode={:?} uid={:?} gid={:?} ro={:?}",
                        m.kind,
                        m.target,
                        m.source,
                        m.id,
                        m.sharing,
                        m.mode,
                        m.uid,
                        m.gid,
                        m.readonly
                    );
                    let mut from_source = None;
                    if let Some(from) = &m.from {
                        let from = self.expand_used(scope, from, span, &mut used)?;
                        let (k, src) = self.source_of(
                            &from,
                            "RUN --mount=from=",
                            span,
                            (p, run_as),
                            memo,
                            path,
                        )?;
                        desc.push_str(&format!(" from={k}"));
                        from_source = Some(src);
                    } else if m.kind == crate::dockerfile::mount::MountKind::Bind {
                        // A bind of the main context: its content is part of the key.
                        let src = m.source.clone().unwrap_or_else(|| ".".to_string());
                        desc.push_str(&format!(
                            " context={}",
                            self.context_hash(std::slice::from_ref(&src))
                        ));
                    }
                    extra.push(("mount".to_string(), desc));
                    run_mounts.push(RunMount {
                        mount: m.clone(),
                        from: from_source,
                    });
                }
                let net = entitlements::run_network(self.opts.network, network.as_deref());
                if net == crate::exec::Network::Host && !self.opts.allow.network_host {
                    let asked = if network.as_deref() == Some("host") {
                        "RUN --network=host"
                    } else {
                        "RUN under --network host"
                    };
                    return Err(self.err(
                        span,
                        format!("{asked}: entitlement network.host is not allowed"),
                        "the step would share this machine's network, its 127.0.0.1 services included; if you trust this Dockerfile, add --allow network.host (else drop the host network: steps get a private network with outbound access by default)",
                    ));
                }
                let sec = if security.as_deref() == Some("insecure") {
                    crate::exec::Security::Insecure
                } else {
                    crate::exec::Security::Sandbox
                };
                if sec == crate::exec::Security::Insecure && !self.opts.allow.security_insecure {
                    return Err(self.err(
                        span,
                        "RUN --security=insecure: entitlement security.insecure is not allowed",
                        "the step would run privileged (all capabilities, all devices, no seccomp) and can take over this machine; if you trust this Dockerfile, add --allow security.insecure",
                    ));
                }
                extra.push(("network".to_string(), net.name().to_string()));
                extra.push(("security".to_string(), sec.name().to_string()));
                extra.push(("shell".to_string(), shell.join(" ")));
                for h in &located.heredocs {
                    extra.push(("heredoc".to_string(), format!("{}:{}", h.name, h.content)));
                }
                op = Op::Run {
                    argv: wrap(command, shell),
                    env: scope.run_env(),
                    mounts: run_mounts,
                    network: net,
                    security: sec,
                    heredocs: located.heredocs.clone(),
                };
                match command {
                    Command::Shell(s) => format!("RUN {s}"),
                    Command::Exec(v) => format!("RUN {v:?}"),
                }
            }
            Instruction::Copy {
                add,
                sources,
                dest,
                from,
                chown,
                chmod,
                link,
                parents,
                exclude,
                checksum,
                keep_git_dir,
                ..
            } => {
                let mut srcs = Vec::new();
                for s in sources {
                    srcs.push(self.expand_used(scope, s, span, &mut used)?);
                }
                let kw = if *add { "ADD" } else { "COPY" };
                let mut has_url = false;
                if *keep_git_dir {
                    return Err(self.err(
                        span,
                        "ADD --keep-git-dir is not supported yet",
                        "drop the flag (the files are copied without .git), or clone in a RUN step",
                    ));
                }
                for s in &srcs {
                    match url::kind(s, *add) {
                        url::SourceKind::Path => {}
                        url::SourceKind::Git => {
                            url::check_git(s).map_err(|e| {
                                self.err(
                                    span,
                                    format!("ADD {}: {e}", url::redact(s)),
                                    "use REMOTE#BRANCH_OR_TAG:SUBDIR",
                                )
                            })?;
                            let got = self.opts.git.get(s).map_or("unresolved", String::as_str);
                            extra.push(("git".to_string(), format!("{s} {got}")));
                        }
                        url::SourceKind::Http if !*add => {
                            return Err(self.err(
                                span,
                                format!("COPY cannot download a URL ({})", url::redact(s)),
                                "use ADD for files from http(s) URLs",
                            ));
                        }
                        url::SourceKind::Http => {
                            has_url = true;
                            let got = self
                                .opts
                                .urls
                                .get(s)
                                .map_or_else(|| "unresolved".to_string(), UrlInfo::key);
                            extra.push(("url".to_string(), format!("{s} {got}")));
                        }
                    }
                }
                if let Some(sum) = checksum {
                    let sum = self.expand_used(scope, sum, span, &mut used)?;
                    let hint = "give the file's digest as sha256:<64 hex digits> (sha256sum prints the hex part)";
                    if !has_url || srcs.len() != 1 {
                        return Err(self.err(
                            span,
                            "ADD --checksum needs exactly one source, an http(s) URL",
                            hint,
                        ));
                    }
                    let hex = sum.strip_prefix("sha256:").unwrap_or("");
                    if hex.len() != 64
                        || !hex
                            .bytes()
                            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
                    {
                        return Err(self.err(
                            span,
                            format!("ADD --checksum={sum} is not a sha256 digest"),
                            hint,
                        ));
                    }
                }
                let dest = self.expand_used(scope, dest, span, &mut used)?;
                let mut flags = Vec::new();
                for (name, v) in [("chown", chown), ("chmod", chmod), ("checksum", checksum)] {
                    if let Some(v) = v {
                        flags.push(format!(
                            "--{name}={}",
                            self.expand_used(scope, v, span, &mut used)?
                        ));
                    }
                }
                if *link {
                    flags.push("--link".to_string());
                }
                if *parents {
                    flags.push("--parents".to_string());
                }
                for e in exclude {
                    flags.push(format!(
                        "--exclude={}",
                        self.expand_used(scope, e, span, &mut used)?
                    ));
                }
                let mut copy_from = Source::MainContext;
                match from {
                    Some(f) => {
                        let f = self.expand_used(scope, f, span, &mut used)?;
                        flags.insert(0, format!("--from={f}"));
                        let (k, src) =
                            self.source_of(&f, "COPY --from=", span, (p, run_as), memo, path)?;
                        extra.push(("from".to_string(), k));
                        copy_from = src;
                    }
                    None => {
                        let heredoc_names: Vec<&str> =
                            located.heredocs.iter().map(|h| h.name.as_str()).collect();
                        let ctx_srcs: Vec<String> = srcs
                            .iter()
                            .filter(|s| {
                                !s.starts_with("<<")
                                    && !heredoc_names.iter().any(|n| s.contains(n))
                                    && url::kind(s, *add) == url::SourceKind::Path
                            })
                            .cloned()
                            .collect();
                        extra.push(("context".to_string(), self.context_hash(&ctx_srcs)));
                        for h in &located.heredocs {
                            extra
                                .push(("heredoc".to_string(), format!("{}:{}", h.name, h.content)));
                        }
                    }
                }
                let mut chown_v = None;
                let mut chmod_v = None;
                let mut checksum_v = None;
                for f in &flags {
                    if let Some(v) = f.strip_prefix("--checksum=") {
                        checksum_v = Some(v.to_string());
                    }
                    if let Some(v) = f.strip_prefix("--chown=") {
                        chown_v = Some(v.to_string());
                    }
                    if let Some(v) = f.strip_prefix("--chmod=") {
                        chmod_v = Some(v.to_string());
                    }
                }
                op = Op::Copy {
                    add: *add,
                    sources: srcs.clone(),
                    dest: dest.clone(),
                    from: copy_from,
                    chown: chown_v,
                    chmod: chmod_v,
                    checksum: checksum_v,
                    link: *link,
                    exclude: flags
                        .iter()
                        .filter_map(|f| f.strip_prefix("--exclude=").map(str::to_string))
                        .collect(),
                    heredocs: located
                        .heredocs
                        .iter()
                        .map(|h| {
                            let mut h = h.clone();
                            if h.expand {
                                h.content =
                                    expand_heredoc(scope, &h.content, self.df.directives.escape);
                            }
                            h
                        })
                        .collect(),
                };
                let flags = if flags.is_empty() {
                    String::new()
                } else {
                    format!("{} ", flags.join(" "))
                };
                format!("{kw} {flags}{} {dest}", srcs.join(" "))
            }
            Instruction::Workdir(w) => {
                let w = self.expand_used(scope, w, span, &mut used)?;
                op = Op::Workdir(w.clone());
                format!("WORKDIR {w}")
            }
            Instruction::User(u) => {
                let u = self.expand_used(scope, u, span, &mut used)?;
                op = Op::User(u.clone());
                format!("USER {u}")
            }
            Instruction::StopSignal(s) => {
                let s = self.expand_used(scope, s, span, &mut used)?;
                op = Op::StopSignal(s.clone());
                format!("STOPSIGNAL {s}")
            }
            Instruction::Expose(ports) => {
                let mut out = Vec::new();
                for port in ports {
                    out.extend(
                        scope
                            .expand_words(port, escape)
                            .map_err(|e| self.err(span, e.to_string(), "check the ${...} syntax"))?
                            .0,
                    );
                }
                op = Op::Expose(out.clone());
                format!("EXPOSE {}", out.join(" "))
            }
            Instruction::Volume(vols) => {
                let mut out = Vec::new();
                for v in vols {
                    out.push(self.expand_used(scope, v, span, &mut used)?);
                }
                op = Op::Volume(out.clone());
                format!("VOLUME {}", out.join(" "))
            }
            Instruction::Shell(s) => {
                *shell = s.clone();
                op = Op::Shell(s.clone());
                format!("SHELL {s:?}")
            }
            Instruction::Cmd(c) => {
                op = Op::Cmd(wrap(c, shell));
                located.original.trim().to_string()
            }
            Instruction::Entrypoint(c) => {
                op = Op::Entrypoint(wrap(c, shell));
                located.original.trim().to_string()
            }
            Instruction::Healthcheck(h) => {
                op = match h {
                    None => Op::Healthcheck {
                        test: vec!["NONE".to_string()],
                        durations: [0; 4],
                        retries: 0,
                    },
                    Some(h) => {
                        let test = match &h.command {
                            Command::Shell(s) => vec!["CMD-SHELL".to_string(), s.clone()],
                            Command::Exec(v) => {
                                let mut t = vec!["CMD".to_string()];
                                t.extend(v.iter().cloned());
                                t
                            }
                        };
                        let mut durations = [0u64; 4];
                        for (name, v) in &h.durations {
                            let slot = match name.as_str() {
                                "interval" => 0,
                                "timeout" => 1,
                                "start-period" => 2,
                                _ => 3,
                            };
                            durations[slot] = duration::parse_ns(v).map_err(|e| {
                                self.err(
                                    span,
                                    format!("HEALTHCHECK --{name}={v}: {e}"),
                                    "durations look like 30s, 1m30s or 500ms",
                                )
                            })?;
                        }
                        Op::Healthcheck {
                            test,
                            durations,
                            retries: h.retries.unwrap_or(0),
                        }
                    }
                };
                located.original.trim().to_string()
            }
            Instruction::Onbuild(t) => {
                op = Op::Onbuild(t.clone());
                located.original.trim().to_string()
            }
            Instruction::Maintainer(m) => {
                op = Op::Maintainer(m.clone());
                located.original.trim().to_string()
            }
            _ => located.original.trim().to_string(),
        };
        Ok((text, extra, used, op))
    }

    /// Expands a word and records the variables it read.
    fn expand_used(
        &self,
        scope: &Scope,
        word: &str,
        span: Span,
        used: &mut BTreeSet<String>,
    ) -> Result<String, SourceError> {
        let v = self.expand(scope, word, span)?;
        used.extend(v.used);
        Ok(v.text)
    }

    /// What a `--from` names, as key material and as a pointer: a named
    /// context, else a stage's result (planned for the same target), else an
    /// image reference, fetched for the platform the current stage runs as.
    fn source_of(
        &mut self,
        name: &str,
        what: &str,
        span: Span,
        (p, run_as): (&Platform, &Platform),
        memo: &mut BTreeMap<usize, usize>,
        path: &mut Vec<usize>,
    ) -> Result<(String, Source), SourceError> {
        if let Some(source) = self.opts.named_contexts.get(name).cloned() {
            if let Some(reference) = image_context(&source) {
                let platform = run_as.to_string();
                let digest = self
                    .opts
                    .images
                    .get(&format!("{reference}@{platform}"))
                    .map(|i| format!("@{}", i.digest))
                    .unwrap_or_default();
                return Ok((
                    format!("image:{reference}@{platform}{digest}"),
                    Source::Image {
                        reference,
                        platform,
                    },
                ));
            }
            let dir = source
                .strip_prefix("local://")
                .unwrap_or(&source)
                .to_string();
            // The content, not where it sits: a build passes a fresh filtered
            // tree of the directory every time.
            let hash = self.dir_hash(&dir);
            return Ok((format!("context:{name}#{hash}"), Source::Context(dir)));
        }
        match self.stages.find(name).map(|s| s.index) {
            Some(i) => {
                let inst = self.instance(i, p, memo, path)?;
                Ok((
                    self.instances[inst].final_key.clone(),
                    Source::Instance(inst),
                ))
            }
            None => {
                self.check_image(what, name, span)?;
                let platform = run_as.to_string();
                let digest = self
                    .opts
                    .images
                    .get(&format!("{name}@{platform}"))
                    .map(|i| format!("@{}", i.digest))
                    .unwrap_or_default();
                Ok((
                    format!("image:{name}@{run_as}{digest}"),
                    Source::Image {
                        reference: name.to_string(),
                        platform,
                    },
                ))
            }
        }
    }

    /// Refuses a name that is used as an image but is not an image
    /// reference (an OCI layout, a directory, a URL): see [`image_ref`].
    fn check_image(&self, what: &str, name: &str, span: Span) -> Result<(), SourceError> {
        image_ref::check(what, name).map_err(|(message, hint)| {
            SourceError::new(&self.df.file, span, message)
                .hint(hint)
                .with_line(&self.df.text)
        })
    }

    /// Content hash of a named context directory (so its changes invalidate
    /// the cache); not hashed when the main context is not (`context: None`).
    fn dir_hash(&mut self, dir: &str) -> String {
        let key = format!("dir:{dir}");
        if let Some(h) = self.context_hashes.get(&key) {
            return h.clone();
        }
        if self.opts.context.is_none() {
            return format!("unhashed:{key}");
        }
        let h = context::hash_sources(std::path::Path::new(dir), &[".".to_string()]);
        self.context_hashes.insert(key, h.clone());
        h
    }

    /// Content hash of COPY sources from the build context (cached per source list).
    fn context_hash(&mut self, sources: &[String]) -> String {
        let key = sources.join("\0");
        if let Some(h) = self.context_hashes.get(&key) {
            return h.clone();
        }
        let h = match &self.opts.context {
            Some(dir) => context::hash_sources(dir, sources),
            None => format!("unhashed:{key}"),
        };
        self.context_hashes.insert(key, h.clone());
        h
    }
}
