//! Instructions that change variables or the image config, not files:
//! ARG, ENV, LABEL, WORKDIR, USER, STOPSIGNAL, EXPOSE, VOLUME, HEALTHCHECK.
//! Their words are expanded here; their key is their expanded text.

use xx::Platform;

use super::super::planner::{Parts, Planner};
use super::super::scope::Scope;
use super::super::{Op, PlanError, duration};
use crate::dockerfile::Span;
use crate::dockerfile::instruction::{Command, Health, Instruction, Located};

impl Planner<'_> {
    /// `ARG`: declares the names (their values from `--build-arg`, the
    /// default or the global ARG); the step reads the names it declares.
    pub(super) fn arg(
        &self,
        list: &[(String, Option<String>)],
        scope: &mut Scope,
        target: &Platform,
        span: Span,
    ) -> Result<Parts, PlanError> {
        let global = self.global_scope(target)?;
        self.declare_args(scope, list, &global, span)?;
        let shown: Vec<String> = list
            .iter()
            .map(|(n, _)| match scope.args.get(n).cloned().flatten() {
                Some(v) => format!("{n}={v}"),
                None => n.clone(),
            })
            .collect();
        Ok(Parts {
            text: format!("ARG {}", shown.join(" ")),
            used: list.iter().map(|(n, _)| n.clone()).collect(),
            ..Parts::default()
        })
    }

    /// `ENV`: every value expanded against the variables as they were
    /// before the instruction, as BuildKit expands the whole command before
    /// dispatching it (`ENV A=1 B=$A` gives B the *old* A), then all set.
    pub(super) fn env(
        &self,
        pairs: &[(String, String)],
        scope: &mut Scope,
        span: Span,
    ) -> Result<Parts, PlanError> {
        let mut parts = Parts::default();
        let mut shown = Vec::new();
        let mut out = Vec::new();
        for (k, v) in pairs {
            let value = self.expand_used(scope, v, span, &mut parts.used)?;
            shown.push(format!("{k}={value}"));
            out.push((k.clone(), value));
        }
        for (k, value) in &out {
            scope.set_env(k, value.clone());
        }
        parts.text = format!("ENV {}", shown.join(" "));
        parts.op = Op::Env(out);
        Ok(parts)
    }

    /// `LABEL`: keys and values expanded.
    pub(super) fn label(
        &self,
        pairs: &[(String, String)],
        scope: &Scope,
        span: Span,
    ) -> Result<Parts, PlanError> {
        let mut parts = Parts::default();
        let mut shown = Vec::new();
        let mut out = Vec::new();
        for (k, v) in pairs {
            let key = self.expand_used(scope, k, span, &mut parts.used)?;
            let value = self.expand_used(scope, v, span, &mut parts.used)?;
            shown.push(format!("{key}={value}"));
            out.push((key, value));
        }
        parts.text = format!("LABEL {}", shown.join(" "));
        parts.op = Op::Label(out);
        Ok(parts)
    }

    /// `WORKDIR`, `USER`, `STOPSIGNAL`: one expanded word.
    pub(super) fn word(
        &self,
        instruction: &Instruction,
        scope: &Scope,
        span: Span,
    ) -> Result<Parts, PlanError> {
        let (name, word, op): (&str, &String, fn(String) -> Op) = match instruction {
            Instruction::Workdir(w) => ("WORKDIR", w, Op::Workdir),
            Instruction::User(u) => ("USER", u, Op::User),
            Instruction::StopSignal(s) => ("STOPSIGNAL", s, Op::StopSignal),
            _ => return Ok(Parts::default()),
        };
        let mut parts = Parts::default();
        let value = self.expand_used(scope, word, span, &mut parts.used)?;
        parts.text = format!("{name} {value}");
        parts.op = op(value);
        Ok(parts)
    }

    /// `EXPOSE`: each port expanded as words (one variable may hold several).
    pub(super) fn expose(
        &self,
        ports: &[String],
        scope: &Scope,
        span: Span,
    ) -> Result<Parts, PlanError> {
        let mut out = Vec::new();
        for port in ports {
            out.extend(
                scope
                    .expand_words(port, self.df.directives.escape)
                    .map_err(|e| self.err(span, e.to_string(), "check the ${...} syntax"))?
                    .0,
            );
        }
        Ok(Parts {
            text: format!("EXPOSE {}", out.join(" ")),
            op: Op::Expose(out),
            ..Parts::default()
        })
    }

    /// `VOLUME`: each path expanded.
    pub(super) fn volume(
        &self,
        vols: &[String],
        scope: &Scope,
        span: Span,
    ) -> Result<Parts, PlanError> {
        let mut parts = Parts::default();
        let mut out = Vec::new();
        for v in vols {
            out.push(self.expand_used(scope, v, span, &mut parts.used)?);
        }
        parts.text = format!("VOLUME {}", out.join(" "));
        parts.op = Op::Volume(out);
        Ok(parts)
    }

    /// `HEALTHCHECK`: the test argv as the image config has it, durations in ns.
    pub(super) fn healthcheck(
        &self,
        located: &Located,
        h: Option<&Health>,
    ) -> Result<Parts, PlanError> {
        let Some(h) = h else {
            let op = Op::Healthcheck {
                test: vec!["NONE".to_string()],
                durations: [0; 4],
                retries: 0,
            };
            return Ok(Parts::as_written(located, op));
        };
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
                    located.span,
                    format!("HEALTHCHECK --{name}={v}: {e}"),
                    "durations look like 30s, 1m30s or 500ms",
                )
            })?;
        }
        let op = Op::Healthcheck {
            test,
            durations,
            retries: h.retries.unwrap_or(0),
        };
        Ok(Parts::as_written(located, op))
    }
}
