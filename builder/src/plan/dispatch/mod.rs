//! One step per instruction: the instruction is expanded in the stage's
//! scope and becomes its display text, key material and [`super::Op`], one
//! function per instruction family (as BuildKit's dispatch does): image
//! metadata and variables in [`meta`], `RUN` in [`run`], `COPY`/`ADD` in
//! [`copy`], and what bases and `--from` point at in [`from`].

mod copy;
pub(super) mod from;
mod meta;
mod run;

use super::PlanError;
use super::planner::{At, Parts, Planner, StageState};
use crate::dockerfile::instruction::{Command, Instruction, Located};

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

impl Parts {
    /// A step shown as written that does `op`.
    fn as_written(located: &Located, op: super::Op) -> Parts {
        Parts {
            text: located.original.trim().to_string(),
            op,
            ..Parts::default()
        }
    }
}

impl Planner<'_> {
    /// Converts one instruction of a stage; updates the stage's scope (ARG,
    /// ENV) and shell (SHELL).
    pub(super) fn dispatch(
        &mut self,
        located: &Located,
        state: &mut StageState,
        at: &mut At,
    ) -> Result<Parts, PlanError> {
        let span = located.span;
        let scope = &mut state.scope;
        match &located.instruction {
            Instruction::Arg(list) => self.arg(list, scope, at.target, span),
            Instruction::Env(pairs) => self.env(pairs, scope, span),
            Instruction::Label(pairs) => self.label(pairs, scope, span),
            Instruction::Run { .. } => self.run(located, state, at),
            Instruction::Copy { .. } => self.copy(located, scope, at),
            Instruction::Workdir(_) | Instruction::User(_) | Instruction::StopSignal(_) => {
                self.word(&located.instruction, scope, span)
            }
            Instruction::Expose(ports) => self.expose(ports, scope, span),
            Instruction::Volume(vols) => self.volume(vols, scope, span),
            Instruction::Shell(s) => {
                state.shell = s.clone();
                Ok(Parts {
                    text: format!("SHELL {s:?}"),
                    op: super::Op::Shell(s.clone()),
                    ..Parts::default()
                })
            }
            Instruction::Cmd(c) => Ok(Parts::as_written(
                located,
                super::Op::Cmd(wrap(c, &state.shell)),
            )),
            Instruction::Entrypoint(c) => Ok(Parts::as_written(
                located,
                super::Op::Entrypoint(wrap(c, &state.shell)),
            )),
            Instruction::Healthcheck(h) => self.healthcheck(located, h.as_ref()),
            Instruction::Onbuild(t) => {
                Ok(Parts::as_written(located, super::Op::Onbuild(t.clone())))
            }
            Instruction::Maintainer(m) => {
                Ok(Parts::as_written(located, super::Op::Maintainer(m.clone())))
            }
            _ => Ok(Parts::as_written(located, super::Op::Nothing)),
        }
    }
}
