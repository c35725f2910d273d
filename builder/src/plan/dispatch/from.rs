//! What things start from: a stage's base (`FROM` an earlier stage, an
//! image, a named context standing for an image, or scratch) with what it
//! passes on (ENV, SHELL, ONBUILD triggers), and what a `--from` names
//! (a named context, a stage, an image).

use std::collections::BTreeMap;

use xx::Platform;

use super::super::keys::{self, Hasher, Piece};
use super::super::planner::{At, Planner};
use super::super::scope::Scope;
use super::super::{ImageInfo, Instance, PlanError, Source, image_ref};
use crate::dockerfile::instruction::{Instruction, Located};
use crate::dockerfile::{self, SourceError, Span};

/// A planned stage base.
pub(in super::super) struct Base {
    /// The platform the stage runs as.
    pub platform: Platform,
    /// `stage:<name>`, `scratch` or the image reference (for display).
    pub label: String,
    /// The image as written after expansion (for trigger messages).
    pub image: String,
    /// What the first step's key chains to.
    pub key: keys::Base,
    /// ENV the stage starts with.
    pub scope: Scope,
    /// SHELL the stage starts with.
    pub shell: Vec<String>,
    /// ONBUILD triggers of the base, run first.
    pub triggers: Vec<String>,
    /// What it starts from.
    pub source: Source,
}

impl Base {
    /// The key the first step chains to, while planning.
    pub fn structural_key(&self, instances: &[Instance]) -> String {
        match &self.key {
            keys::Base::Key(k) => k.clone(),
            keys::Base::Instance(i) => instances
                .get(*i)
                .map(|x| x.final_key.clone())
                .unwrap_or_default(),
            keys::Base::None => String::new(),
        }
    }
}

/// What a stage passes to a stage built FROM it.
struct Inherited {
    env: Vec<(String, String)>,
    shell: Vec<String>,
}

/// The shell of shell-form instructions when nothing set one.
pub(in super::super) fn default_shell() -> Vec<String> {
    vec!["/bin/sh".to_string(), "-c".to_string()]
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

/// The `PATH` BuildKit gives a non-Windows stage whose base image sets
/// none (`system.DefaultPathEnv` in BuildKit's util/system/path.go).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

impl Planner<'_> {
    /// The base of stage `index` planned for target `p`: a parent stage
    /// (planned first), or an image (resolved), or scratch.
    pub(in super::super) fn base(
        &mut self,
        index: usize,
        p: &Platform,
        memo: &mut BTreeMap<usize, usize>,
        path: &mut Vec<usize>,
    ) -> Result<Base, PlanError> {
        let stages = self.stages;
        let stage = &stages.stages[index];
        let global = self.global_scope(p)?;
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
        let parent_stage = stages
            .stages
            .iter()
            .find(|s| {
                !from_context
                    && s.index < index
                    && s.name.as_deref() == Some(&image.to_ascii_lowercase())
            })
            .map(|s| s.index);
        match parent_stage {
            Some(pi) => self.stage_base(pi, image, p, memo, path),
            None => self.image_base(index, image, from_context, &global, p),
        }
    }

    /// A base that is the earlier stage `pi`: its ONBUILD instructions are
    /// the triggers, its ENV and SHELL carry over.
    fn stage_base(
        &mut self,
        pi: usize,
        image: String,
        p: &Platform,
        memo: &mut BTreeMap<usize, usize>,
        path: &mut Vec<usize>,
    ) -> Result<Base, PlanError> {
        let stages = self.stages;
        let triggers = stages.stages[pi]
            .body
            .iter()
            .filter_map(|l| match &l.instruction {
                Instruction::Onbuild(t) => Some(t.clone()),
                _ => None,
            })
            .collect();
        let parent = self.instance(pi, p, memo, path)?;
        let inherited = self.inherited_after(pi, p)?;
        let inst = &self.instances[parent];
        Ok(Base {
            platform: inst.platform.parse().unwrap_or_else(|_| p.clone()),
            label: format!("stage:{}", inst.stage),
            image,
            key: keys::Base::Instance(parent),
            scope: Scope {
                env: inherited.env,
                ..Scope::default()
            },
            shell: inherited.shell,
            triggers,
            source: Source::Instance(parent),
        })
    }

    /// A base that is an image (or scratch): the platform from `--platform`
    /// or the target; digest, ENV, SHELL and triggers from the resolver.
    fn image_base(
        &self,
        index: usize,
        image: String,
        from_context: bool,
        global: &Scope,
        p: &Platform,
    ) -> Result<Base, PlanError> {
        let stage = &self.stages.stages[index];
        let platform = match &stage.platform {
            Some(raw) => {
                let text = self.expand(global, raw, stage.from.span)?.text;
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
        let mut base = Base {
            platform,
            label: image.clone(),
            image: image.clone(),
            key: keys::Base::None,
            scope: Scope::default(),
            shell: default_shell(),
            triggers: Vec::new(),
            source: Source::Scratch,
        };
        if !image.eq_ignore_ascii_case("scratch") {
            if !from_context {
                self.check_image("FROM ", &image, stage.from.span)?;
            }
            if let Some(info) = self.image_info(&image, &base.platform)? {
                h.add("digest", &info.digest);
                base.scope.env = info.env;
                base.triggers = info.on_build;
                if let Some(s) = info.shell {
                    base.shell = s;
                }
            }
            base.source = Source::Image {
                reference: image,
                platform: base.platform.to_string(),
            };
        }
        // BuildKit sets PATH for every stage whose base has none (scratch
        // included), before any instruction: `ENV P=$PATH:/x` and RUN see it.
        if !base.scope.env.iter().any(|(k, _)| k == "PATH") {
            base.scope
                .env
                .push(("PATH".to_string(), DEFAULT_PATH.to_string()));
        }
        h.add("default-path", DEFAULT_PATH);
        base.key = keys::Base::Key(h.finish());
        Ok(base)
    }

    /// What the resolver knows of an image.
    fn image_info(&self, image: &str, p: &Platform) -> Result<Option<ImageInfo>, PlanError> {
        self.resolver.image(image, p).map_err(PlanError::Resolver)
    }

    /// The base's ONBUILD triggers as instructions placed at the FROM line.
    /// As in BuildKit, a trigger may not be FROM, ONBUILD or MAINTAINER.
    pub(in super::super) fn triggers(
        &self,
        triggers: &[String],
        base: &str,
        at: Span,
    ) -> Result<Vec<Located>, PlanError> {
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
    fn inherited_after(&self, index: usize, p: &Platform) -> Result<Inherited, PlanError> {
        let stage = &self.stages.stages[index];
        let global = self.global_scope(p)?;
        let image = self.expand(&global, &stage.image, stage.from.span)?.text;
        // As in `base`: a named context of that name wins over a stage.
        let parent = self.stages.stages.iter().find(|s| {
            !self.opts.named_contexts.contains_key(&image)
                && s.index < index
                && s.name.as_deref() == Some(&image.to_ascii_lowercase())
        });
        let mut scope = Scope::default();
        let mut shell;
        if let Some(parent) = parent {
            let parent = self.inherited_after(parent.index, p)?;
            (scope.env, shell) = (parent.env, parent.shell);
        } else {
            let start = self.image_start(index, image, &global, p)?;
            (scope.env, shell) = (start.env, start.shell);
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

    /// The ENV and SHELL stage `index` starts with when its base is not a
    /// stage: as [`Self::image_base`] gives them (a named context standing
    /// for an image is that image, scratch resolves nothing, PATH defaults).
    fn image_start(
        &self,
        index: usize,
        mut image: String,
        global: &Scope,
        p: &Platform,
    ) -> Result<Inherited, PlanError> {
        let stage = &self.stages.stages[index];
        let (mut env, mut shell) = (Vec::new(), default_shell());
        if let Some(src) = self.opts.named_contexts.get(&image) {
            // A directory here was refused when the stage was planned.
            image = image_context(src).unwrap_or_default();
        }
        let platform = match &stage.platform {
            Some(raw) => self.expand(global, raw, stage.from.span)?.text,
            None => p.to_string(),
        };
        // An unparsable platform was refused when the stage was planned.
        let resolvable = !image.is_empty() && !image.eq_ignore_ascii_case("scratch");
        if let (true, Ok(platform)) = (resolvable, platform.parse::<Platform>()) {
            if let Some(info) = self.image_info(&image, &platform)? {
                env = info.env;
                if let Some(s) = info.shell {
                    shell = s;
                }
            }
        }
        if !env.iter().any(|(k, _)| k == "PATH") {
            env.push(("PATH".to_string(), DEFAULT_PATH.to_string()));
        }
        Ok(Inherited { env, shell })
    }

    /// What a `--from` names, as key material and as a pointer: a named
    /// context, else a stage's result (planned for the same target), else an
    /// image reference, fetched for the platform the current stage runs as.
    pub(in super::super) fn source_of(
        &mut self,
        name: &str,
        what: &str,
        span: Span,
        at: &mut At,
    ) -> Result<(Vec<Piece>, Source), PlanError> {
        if let Some(source) = self.opts.named_contexts.get(name).cloned() {
            if let Some(reference) = image_context(&source) {
                return self.image_source(reference, at.run_as);
            }
            let dir = source
                .strip_prefix("local://")
                .unwrap_or(&source)
                .to_string();
            // The content, not where it sits: a build hashes a fresh filtered
            // tree of the directory (see `keys::assign`).
            let key = vec![
                Piece::Text(format!("context:{name}#")),
                Piece::Dir(dir.clone()),
            ];
            return Ok((key, Source::Context(dir)));
        }
        match self.stages.find(name).map(|s| s.index) {
            Some(i) => {
                let inst = self.instance(i, at.target, at.memo, at.path)?;
                Ok((vec![Piece::Instance(inst)], Source::Instance(inst)))
            }
            None => {
                self.check_image(what, name, span)?;
                self.image_source(name.to_string(), at.run_as)
            }
        }
    }

    /// An image read by `--from`: keyed by reference, platform and digest.
    fn image_source(
        &self,
        reference: String,
        run_as: &Platform,
    ) -> Result<(Vec<Piece>, Source), PlanError> {
        let platform = run_as.to_string();
        let digest = self
            .image_info(&reference, run_as)?
            .map(|i| format!("@{}", i.digest))
            .unwrap_or_default();
        Ok((
            vec![Piece::Text(format!("image:{reference}@{platform}{digest}"))],
            Source::Image {
                reference,
                platform,
            },
        ))
    }

    /// Refuses a name that is used as an image but is not an image
    /// reference (an OCI layout, a directory, a URL): see [`image_ref`].
    pub(in super::super) fn check_image(
        &self,
        what: &str,
        name: &str,
        span: Span,
    ) -> Result<(), PlanError> {
        image_ref::check(what, name).map_err(|(message, hint)| {
            SourceError::new(&self.df.file, span, message)
                .hint(hint)
                .with_line(&self.df.text)
                .into()
        })
    }
}
