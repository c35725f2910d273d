//! Rules about a stage's instructions in order (convert.go's dispatch
//! functions): MultipleInstructionsDisallowed, JSONArgsRecommended,
//! WorkdirRelativePath and SecretsUsedInArgOrEnv.

use super::warn;
use crate::dockerfile::instruction::{Command, Instruction, Located};
use crate::plan::Warning;
use crate::plan::stages::{Stage, Stages};

/// What a stage inherits from the stage it is built on (BuildKit copies
/// the image config, so SHELL, and `workdirSet`).
#[derive(Debug, Clone, Copy, Default)]
struct Inherited {
    shell: bool,
    workdir: bool,
}

/// The rules over every stage.
pub(super) fn stages(stages: &Stages, out: &mut Vec<Warning>) {
    let mut after: Vec<Inherited> = Vec::new();
    for stage in &stages.stages {
        let parent = base_stage(stages, stage)
            .and_then(|i| after.get(i).copied())
            .unwrap_or_default();
        after.push(stage_rules(&stage.body, parent, out));
    }
}

/// The earlier stage `stage` is built on, if its FROM names one.
fn base_stage(stages: &Stages, stage: &Stage) -> Option<usize> {
    let image = stage.image.to_ascii_lowercase();
    stages.stages[..stage.index]
        .iter()
        .rev()
        .find(|s| s.name.as_deref() == Some(image.as_str()))
        .map(|s| s.index)
}

fn stage_rules(body: &[Located], mut state: Inherited, out: &mut Vec<Warning>) -> Inherited {
    let mut seen: [(Option<&Located>, &str); 3] =
        [(None, "CMD"), (None, "ENTRYPOINT"), (None, "HEALTHCHECK")];
    for l in body {
        let (slot, shell_form) = match &l.instruction {
            Instruction::Shell(_) => {
                state.shell = true;
                continue;
            }
            Instruction::Workdir(path) => {
                workdir(l, path, &mut state, out);
                continue;
            }
            Instruction::Arg(list) => {
                for (k, _) in list {
                    secret(l, "ARG", k, out);
                }
                continue;
            }
            Instruction::Env(list) => {
                for (k, _) in list {
                    secret(l, "ENV", k, out);
                }
                continue;
            }
            Instruction::Cmd(c) => (0, matches!(c, Command::Shell(_))),
            Instruction::Entrypoint(c) => (1, matches!(c, Command::Shell(_))),
            Instruction::Healthcheck(_) => (2, false),
            _ => continue,
        };
        let name = seen[slot].1;
        // BuildKit reports the earlier one: it is the one that is ignored.
        if let Some(prev) = seen[slot].0 {
            warn(
                out,
                prev.span,
                "MultipleInstructionsDisallowed",
                format!(
                    "Multiple {name} instructions should not be used in the same stage because only the last one will be used"
                ),
                &format!("remove all but the last {name}"),
            );
        }
        seen[slot].0 = Some(l);
        if shell_form && !state.shell {
            warn(
                out,
                l.span,
                "JSONArgsRecommended",
                format!(
                    "JSON arguments recommended for {name} to prevent unintended behavior related to OS signals"
                ),
                &format!("use the exec form: {name} [\"executable\", \"arg\"]"),
            );
        }
    }
    state
}

/// WorkdirRelativePath: the first WORKDIR of a stage chain is relative.
fn workdir(l: &Located, path: &str, state: &mut Inherited, out: &mut Vec<Warning>) {
    if !state.workdir && !path.starts_with('/') && !path.starts_with('$') {
        warn(
            out,
            l.span,
            "WorkdirRelativePath",
            format!(
                "Relative workdir {path:?} can have unexpected results if the base image changes"
            ),
            "start the path with / (WORKDIR /app)",
        );
    }
    state.workdir = true;
}

/// Whether `key` looks like it holds a secret (validations.go
/// `getSecretsRegex`: a `_`-separated word of it is a secret word, none is
/// an allowed one; case-insensitive).
pub(super) fn is_secret_name(key: &str) -> bool {
    const DENY: &[&str] = &[
        "apikey",
        "auth",
        "credential",
        "credentials",
        "key",
        "password",
        "pword",
        "passwd",
        "secret",
        "token",
    ];
    const ALLOW: &[&str] = &["public", "file", "version"];
    let words: Vec<String> = key.split('_').map(str::to_ascii_lowercase).collect();
    let has = |list: &[&str]| words.iter().any(|w| list.contains(&w.as_str()));
    has(DENY) && !has(ALLOW)
}

fn secret(l: &Located, instruction: &str, key: &str, out: &mut Vec<Warning>) {
    if is_secret_name(key) {
        warn(
            out,
            l.span,
            "SecretsUsedInArgOrEnv",
            format!(
                "Do not use ARG or ENV instructions for sensitive data ({instruction} {key:?})"
            ),
            "pass secrets with RUN --mount=type=secret and --secret id=…",
        );
    }
}
