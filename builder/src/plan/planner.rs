//! The walk over the stages: a stage is planned for a target platform as an
//! instance, after the instances it reads (its parent stage, `--from`
//! stages), so instances come in dependency order. An instance is its base
//! (see `dispatch::from`) and its steps, each converted by the dispatch
//! function of its instruction family and keyed on its parent's key.
//! Instances whose final keys are equal are one instance serving several
//! targets.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use xx::Platform;

use super::build_checks;
use super::dispatch::from::Base;
use super::keys::{Field, Values};
use super::scope::{self, Scope};
use super::stages::Stages;
use super::{Instance, Op, Options, PlanError, Resolver, Step, platform_args};
use crate::dockerfile::instruction::{Instruction, Located};
use crate::dockerfile::{Dockerfile, SourceError, Span};

/// What one step is: display text, key material, the variables it read,
/// and what it does.
#[derive(Debug, Default)]
pub(super) struct Parts {
    pub text: String,
    pub fields: Vec<Field>,
    pub used: BTreeSet<String>,
    pub op: super::Op,
}

/// What a stage's steps change as they go: variables and the shell.
pub(super) struct StageState {
    pub scope: Scope,
    pub shell: Vec<String>,
}

/// Where a stage is being planned: the target platform, the platform it
/// runs as, and the recursion state of the walk (planned stages, the
/// stages being planned, for cycles).
pub(super) struct At<'w> {
    pub target: &'w Platform,
    pub run_as: &'w Platform,
    pub memo: &'w mut BTreeMap<usize, usize>,
    pub path: &'w mut Vec<usize>,
}

/// BuildKit's build arguments that select stages, and the build context,
/// for the SBOM scanner.
const SBOM_SCAN_STAGE: &str = "BUILDKIT_SBOM_SCAN_STAGE";
const SBOM_SCAN_CONTEXT: &str = "BUILDKIT_SBOM_SCAN_CONTEXT";

/// Whether a stage's `BUILDKIT_SBOM_SCAN_STAGE` value selects it: `true`,
/// or a comma-separated list that names it (BuildKit's rule).
fn scans_stage(value: Option<&str>, name: Option<&str>) -> bool {
    match value.map(str::trim) {
        None | Some("" | "false") => false,
        Some("true") => true,
        Some(list) => {
            name.is_some_and(|n| list.split(',').any(|s| s.trim().eq_ignore_ascii_case(n)))
        }
    }
}

pub(super) struct Planner<'a> {
    pub df: &'a Dockerfile,
    pub opts: &'a Options,
    pub stages: &'a Stages,
    pub resolver: &'a dyn Resolver,
    pub instances: Vec<Instance>,
    /// final key -> index in `instances`.
    by_key: BTreeMap<String, usize>,
    /// Build-check findings made while planning: UndefinedVar (where words
    /// are expanded) and CopyIgnoredFile (at COPY/ADD from the context).
    pub findings: RefCell<Vec<super::Warning>>,
}

impl<'a> Planner<'a> {
    pub fn new(
        df: &'a Dockerfile,
        opts: &'a Options,
        stages: &'a Stages,
        resolver: &'a dyn Resolver,
    ) -> Planner<'a> {
        Planner {
            df,
            opts,
            stages,
            resolver,
            instances: Vec::new(),
            by_key: BTreeMap::new(),
            findings: RefCell::new(Vec::new()),
        }
    }

    /// An error at `span` of the Dockerfile, with its line and a hint.
    pub fn err(&self, span: Span, msg: impl Into<String>, hint: &str) -> PlanError {
        SourceError::new(&self.df.file, span, msg)
            .hint(hint)
            .with_line(&self.df.text)
            .into()
    }

    /// The global scope for target `p`: declared global ARGs plus the automatic ones.
    pub fn global_scope(&self, p: &Platform) -> Result<Scope, PlanError> {
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

    pub fn expand(&self, scope: &Scope, word: &str, span: Span) -> Result<scope::Value, PlanError> {
        scope.expand(word, self.df.directives.escape).map_err(|e| {
            self.err(
                span,
                format!("cannot expand {word:?}: {e}"),
                "check the ${...} syntax and quoting",
            )
        })
    }

    /// Expands a word and records the variables it read.
    pub fn expand_used(
        &self,
        scope: &Scope,
        word: &str,
        span: Span,
        used: &mut BTreeSet<String>,
    ) -> Result<String, PlanError> {
        let v = self.expand(scope, word, span)?;
        self.note_undefined(scope, &v.used, span);
        used.extend(v.used);
        Ok(v.text)
    }

    /// Records the variables of an expanded word that nothing defines
    /// (BuildKit's UndefinedVar).
    fn note_undefined(&self, scope: &Scope, used: &BTreeSet<String>, span: Span) {
        let found = build_checks::undefined_var::undefined(scope, used, span);
        self.findings.borrow_mut().extend(found);
    }

    /// `ARG` values in a stage: the `--build-arg`, else the default, else
    /// the global ARG's value.
    pub fn declare_args(
        &self,
        scope: &mut Scope,
        list: &[(String, Option<String>)],
        global: &Scope,
        span: Span,
    ) -> Result<(), PlanError> {
        for (name, default) in list {
            let value = match (self.opts.build_args.get(name), default) {
                (Some(v), _) => Some(v.clone()),
                (None, Some(d)) => {
                    let v = self.expand(scope, d, span)?;
                    self.note_undefined(scope, &v.used, span);
                    Some(v.text)
                }
                (None, None) => global.args.get(name).cloned().flatten(),
            };
            scope.args.insert(name.clone(), value);
        }
        Ok(())
    }

    /// Plans stage `index` for target `p`; returns the instance index.
    pub fn instance(
        &mut self,
        index: usize,
        p: &Platform,
        memo: &mut BTreeMap<usize, usize>,
        path: &mut Vec<usize>,
    ) -> Result<usize, PlanError> {
        if let Some(&i) = memo.get(&index) {
            return Ok(i);
        }
        let stages = self.stages;
        let stage = &stages.stages[index];
        if path.contains(&index) {
            return Err(self.err(
                stage.from.span,
                format!("stage {} depends on itself", stage.label()),
                "remove the circular FROM / COPY --from",
            ));
        }
        path.push(index);
        let base = self.base(index, p, memo, path)?;
        let mut body = self.triggers(&base.triggers, &base.image, stage.from.span)?;
        body.extend(stage.body.iter().cloned());
        let mut at = At {
            target: p,
            run_as: &base.platform,
            memo,
            path,
        };
        let (steps, key, reads_target, scope) = self.steps(&body, &base, &mut at)?;
        path.pop();
        let global = self.global_scope(p)?;
        // The stage's own ARG, else the global one (BuildKit propagates it).
        let selects = |name: &str| {
            let v = match scope.args.get(name) {
                Some(v) => v.clone(),
                None => global.args.get(name).cloned().flatten(),
            };
            scans_stage(v.as_deref(), stage.name.as_deref())
        };
        let scan_stage = selects(SBOM_SCAN_STAGE);
        let scan_context = selects(SBOM_SCAN_CONTEXT);
        let idx = self.register(index, p, base, steps, key, reads_target);
        self.instances[idx].sbom_scan |= scan_stage;
        self.instances[idx].sbom_scan_context |= scan_context;
        memo.insert(index, idx);
        Ok(idx)
    }

    /// Plans the steps of an instance after its base: returns them, the
    /// last key, whether any read a TARGET* variable, and the variables
    /// after the last step.
    fn steps(
        &mut self,
        body: &[Located],
        base: &Base,
        at: &mut At,
    ) -> Result<(Vec<Step>, String, bool, Scope), PlanError> {
        let emulated = !platform_args::runs_natively(&self.opts.host, at.run_as);
        let qemu_cpu = emulated
            .then(|| self.opts.qemu_cpus.cpu(at.run_as))
            .flatten();
        let platform = at.run_as.to_string();
        let mut state = StageState {
            scope: base.scope.clone(),
            shell: base.shell.clone(),
        };
        let mut key = base.structural_key(&self.instances);
        let mut steps = Vec::new();
        let mut reads_target = false;
        for located in body {
            let mut parts = self.dispatch(located, &mut state, at)?;
            let is_run = matches!(parts.op, Op::Run { .. });
            if let (true, Some(cpu)) = (is_run, qemu_cpu) {
                parts.fields.push(Field::text("qemu-cpu", cpu));
            }
            if parts.used.iter().any(|u| u.starts_with("TARGET")) {
                reads_target = true;
            }
            // Planning keys leave contexts unhashed; `keys::assign` hashes them.
            let instances = &self.instances;
            let finals = |i: usize| {
                instances
                    .get(i)
                    .map(|x| x.final_key.clone())
                    .unwrap_or_default()
            };
            key = Values::new(None).step(&key, &platform, &parts.text, &parts.fields, &finals);
            let instruction = located
                .original
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_uppercase();
            steps.push(Step {
                line: located.span.line,
                instruction,
                text: parts.text,
                key: key.clone(),
                emulated: is_run && emulated,
                op: parts.op,
                fields: parts.fields,
            });
        }
        Ok((steps, key, reads_target, state.scope))
    }

    /// Adds the instance, or adds target `p` to the equal one already planned.
    fn register(
        &mut self,
        index: usize,
        p: &Platform,
        base: Base,
        steps: Vec<Step>,
        key: String,
        reads_target: bool,
    ) -> usize {
        if let Some(&existing) = self.by_key.get(&key) {
            let t = p.to_string();
            if !self.instances[existing].targets.contains(&t) {
                self.instances[existing].targets.push(t);
            }
            return existing;
        }
        let stage = &self.stages.stages[index];
        self.instances.push(Instance {
            stage: stage.label(),
            platform: base.platform.to_string(),
            targets: vec![p.to_string()],
            emulated: !platform_args::runs_natively(&self.opts.host, &base.platform),
            base: base.label,
            steps,
            final_key: key.clone(),
            stage_index: index,
            reads_target_args: reads_target,
            source: base.source,
            base_key: base.key,
            sbom_scan: false,
            sbom_scan_context: false,
        });
        self.by_key.insert(key, self.instances.len() - 1);
        self.instances.len() - 1
    }
}

#[cfg(test)]
mod tests {
    use crate::plan::Options;

    /// An emulated RUN's key names the CPU QEMU emulates (a configure
    /// script probing the CPU sees it); native steps and COPYs are unchanged.
    #[test]
    fn emulated_runs_key_the_qemu_cpu() {
        let text = "FROM debian:bookworm\nRUN uname -m\nCOPY a /a\n";
        let df = crate::dockerfile::parse(text, "Dockerfile").unwrap();
        let mut opts = Options::for_test(&["linux/amd64", "linux/arm/v6"]);
        let plan = crate::plan::plan(&df, &opts).unwrap();
        let fields = |plan: &crate::plan::Plan, platform: &str, step: usize| {
            let inst = plan
                .instances
                .iter()
                .find(|i| i.platform == platform)
                .unwrap();
            let f = &inst.steps[step].fields;
            f.iter()
                .filter(|f| f.name == "qemu-cpu")
                .map(|f| format!("{:?}", f.value))
                .collect::<Vec<_>>()
        };
        assert_eq!(fields(&plan, "linux/arm/v6", 0).len(), 1);
        assert!(fields(&plan, "linux/arm/v6", 0)[0].contains("arm1176"));
        assert!(fields(&plan, "linux/arm/v6", 1).is_empty(), "COPY");
        assert!(fields(&plan, "linux/amd64", 0).is_empty(), "native");
        let key_v6 = |plan: &crate::plan::Plan| {
            plan.instances
                .iter()
                .find(|i| i.platform == "linux/arm/v6")
                .unwrap()
                .steps[0]
                .key
                .clone()
        };
        let before = key_v6(&plan);
        opts.qemu_cpus =
            crate::exec::qemu_cpu::QemuCpus::from_platform_list(&["rpi-zero".to_string()]);
        let same = crate::plan::plan(&df, &opts).unwrap();
        assert_eq!(
            key_v6(&same),
            before,
            "rpi-zero's core is the arm/v6 default"
        );
    }

    /// `BUILDKIT_SBOM_SCAN_STAGE` as BuildKit reads it: a stage's own ARG,
    /// else the global one; `true`, or a list of stage names.
    #[test]
    fn sbom_scan_stage_selects_stages() {
        let scanned = |text: &str, args: &[(&str, &str)]| {
            let df = crate::dockerfile::parse(text, "Dockerfile").unwrap();
            let mut opts = Options::for_test(&["linux/amd64"]);
            for (k, v) in args {
                opts.build_args.insert(k.to_string(), v.to_string());
            }
            let plan = crate::plan::plan(&df, &opts).unwrap();
            let mut v: Vec<String> = plan
                .instances
                .iter()
                .filter(|i| i.sbom_scan)
                .map(|i| i.stage.clone())
                .collect();
            v.sort();
            v
        };
        let own = "FROM scratch AS a\nARG BUILDKIT_SBOM_SCAN_STAGE=true\nCOPY x /x\nFROM scratch AS b\nCOPY --from=a /x /y\n";
        assert_eq!(scanned(own, &[]), ["a"]);
        assert_eq!(
            scanned(own, &[("BUILDKIT_SBOM_SCAN_STAGE", "false")]),
            Vec::<String>::new()
        );
        let global = "ARG BUILDKIT_SBOM_SCAN_STAGE=a\nFROM scratch AS a\nCOPY x /x\nFROM scratch AS b\nCOPY --from=a /x /y\n";
        assert_eq!(scanned(global, &[]), ["a"]);
        assert_eq!(
            scanned(global, &[("BUILDKIT_SBOM_SCAN_STAGE", "true")]),
            ["a", "b"]
        );
        assert!(super::scans_stage(Some("x, A"), Some("a")));
        assert!(!super::scans_stage(Some("x"), None));
    }
}
