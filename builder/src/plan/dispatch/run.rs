//! `RUN`: the argv (shell form through the stage's SHELL), its environment,
//! mounts with their `from=` resolved, and the network and privileges it
//! gets, refused here when the build did not allow them. The shell expands
//! the command itself, so the key holds the environment, not an expansion.

use super::super::keys::{Field, Piece};
use super::super::planner::{At, Parts, Planner, StageState};
use super::super::{Op, PlanError, RunMount, entitlements};
use super::wrap;
use crate::dockerfile::Span;
use crate::dockerfile::instruction::{Command, Instruction, Located};
use crate::dockerfile::mount::{Mount, MountKind};
use crate::exec::{Network, Security};

impl Planner<'_> {
    /// `RUN [--mount=…] [--network=…] [--security=…] command`.
    pub(super) fn run(
        &mut self,
        located: &Located,
        state: &StageState,
        at: &mut At,
    ) -> Result<Parts, PlanError> {
        let Instruction::Run {
            command,
            mounts,
            network,
            security,
        } = &located.instruction
        else {
            return Ok(Parts::as_written(located, Op::Nothing));
        };
        let span = located.span;
        let scope = &state.scope;
        let mut parts = Parts::default();
        for (k, v) in scope.run_env() {
            parts.fields.push(Field::text(format!("env:{k}"), v));
        }
        // A RUN reads every ARG/ENV name its text mentions.
        let cmd_text = match command {
            Command::Shell(s) => s.clone(),
            Command::Exec(v) => v.join(" "),
        };
        for (k, _) in scope.run_env() {
            if cmd_text.contains(&k) {
                parts.used.insert(k);
            }
        }
        let mut run_mounts = Vec::new();
        for m in mounts {
            let (field, mount) = self.mount(m, scope, span, &mut parts, at)?;
            parts.fields.push(field);
            run_mounts.push(mount);
        }
        let (net, sec) = self.rights(network.as_deref(), security.as_deref(), span)?;
        parts.fields.push(Field::text("network", net.name()));
        parts.fields.push(Field::text("security", sec.name()));
        for (name, value) in self.opts.run_extras.key_fields() {
            parts.fields.push(Field::text(name, value));
        }
        parts
            .fields
            .push(Field::text("shell", state.shell.join(" ")));
        for h in &located.heredocs {
            parts
                .fields
                .push(Field::text("heredoc", format!("{}:{}", h.name, h.content)));
        }
        parts.op = Op::Run {
            argv: wrap(command, &state.shell),
            env: scope.run_env(),
            mounts: run_mounts,
            network: net,
            security: sec,
            heredocs: located.heredocs.clone(),
        };
        parts.text = match command {
            Command::Shell(s) => format!("RUN {s}"),
            Command::Exec(v) => format!("RUN {v:?}"),
        };
        Ok(parts)
    }

    /// One `--mount`: its key field (the mount as written, plus what
    /// `from=` points at, or the content of a bind of the main context).
    fn mount(
        &mut self,
        m: &Mount,
        scope: &super::super::scope::Scope,
        span: Span,
        parts: &mut Parts,
        at: &mut At,
    ) -> Result<(Field, RunMount), PlanError> {
        // As BuildKit's parseMount, every value is expanded with the
        // stage's variables (`id=cache-$TARGETARCH`, `target=$GOPATH/pkg`).
        let expanded = self.expand_mount(m, scope, span, parts)?;
        let m = &expanded;
        // Every field of the mount (size, env and required included): each
        // changes what the step sees.
        let desc = format!("{m:?}");
        let mut value = vec![Piece::Text(desc)];
        let mut from_source = None;
        if let Some(from) = &m.from {
            let (k, src) = self.source_of(from, "RUN --mount=from=", span, at)?;
            value.push(Piece::Text(" from=".to_string()));
            value.extend(k);
            from_source = Some(src);
        } else if m.kind == MountKind::Bind {
            // A bind of the main context: its content is part of the key.
            let src = m.source.clone().unwrap_or_else(|| ".".to_string());
            value.push(Piece::Text(" context=".to_string()));
            value.push(Piece::Context(vec![src]));
        }
        let field = Field {
            name: "mount".to_string(),
            value,
        };
        let mount = RunMount {
            mount: m.clone(),
            from: from_source,
        };
        Ok((field, mount))
    }

    /// `m` with its values expanded (`type`, `ro`/`rw`, `required` and
    /// `size` are read when the instruction is parsed).
    fn expand_mount(
        &mut self,
        m: &Mount,
        scope: &super::super::scope::Scope,
        span: Span,
        parts: &mut Parts,
    ) -> Result<Mount, PlanError> {
        let mut out = m.clone();
        for field in [
            &mut out.target,
            &mut out.source,
            &mut out.from,
            &mut out.id,
            &mut out.sharing,
            &mut out.mode,
            &mut out.uid,
            &mut out.gid,
            &mut out.env,
        ] {
            if let Some(v) = field.as_mut() {
                if v.contains('$') {
                    *v = self.expand_used(scope, v, span, &mut parts.used)?;
                }
            }
        }
        Ok(out)
    }

    /// The network and privileges of a RUN, refused unless `--allow`ed.
    fn rights(
        &self,
        network: Option<&str>,
        security: Option<&str>,
        span: Span,
    ) -> Result<(Network, Security), PlanError> {
        let net = entitlements::run_network(self.opts.network, network);
        if net == Network::Host && !self.opts.allow.network_host {
            let asked = if network == Some("host") {
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
        let sec = if security == Some("insecure") {
            Security::Insecure
        } else {
            Security::Sandbox
        };
        if sec == Security::Insecure && !self.opts.allow.security_insecure {
            return Err(self.err(
                span,
                "RUN --security=insecure: entitlement security.insecure is not allowed",
                "the step would run privileged (all capabilities, all devices, no seccomp) and can take over this machine; if you trust this Dockerfile, add --allow security.insecure",
            ));
        }
        Ok((net, sec))
    }
}
