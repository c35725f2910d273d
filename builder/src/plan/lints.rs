//! Warnings about Dockerfiles that build slower (or differently) than their
//! authors think: compiles under QEMU, shadowed platform args, a TARGET* ARG
//! that splits shared steps per platform, `--platform` on a stage, and
//! variables in `COPY --from`.

use xx::Platform;

use super::platform_args::AUTOMATIC;
use super::stages::Stages;
use super::{Instance, Warning};
use crate::dockerfile::Dockerfile;
use crate::dockerfile::instruction::{Instruction, Located};

/// Commands that compile (slow under emulation), as they start a command.
const COMPILES: &[&str] = &[
    "cargo build",
    "cargo install",
    "cargo b",
    "go build",
    "go install",
    "gcc",
    "g++",
    "cc",
    "clang",
    "clang++",
    "make",
    "cmake",
    "ninja",
    "npm ci",
    "npm install",
    "yarn install",
    "pip wheel",
    "pip install",
    "pip3 install",
    "rustc",
    "mvn",
    "gradle",
];
/// Commands that are expensive but usually platform-independent.
const EXPENSIVE: &[&str] = &[
    "apt-get install",
    "apk add",
    "go mod download",
    "cargo fetch",
    "npm ci",
    "npm install",
    "pip install",
    "dnf install",
    "yum install",
];

/// The first of `commands` that starts one of the shell commands in `text`
/// (split at `&&`, `||`, `;`, `|`, parentheses and newlines), so that
/// `apt-get install gcc` is not mistaken for running gcc.
fn mentions(text: &str, commands: &[&str]) -> Option<String> {
    let text = text.strip_prefix("RUN ").unwrap_or(text);
    for part in text.split(['&', '|', ';', '(', ')', '\n']) {
        let words: Vec<&str> = part.split_whitespace().collect();
        // Skip leading env assignments and sudo.
        let start = words
            .iter()
            .position(|w| !w.contains('=') && *w != "sudo")
            .unwrap_or(words.len());
        let words = &words[start..];
        for c in commands {
            let want: Vec<&str> = c.split_whitespace().collect();
            let got = words
                .iter()
                .take(want.len())
                .map(|w| w.rsplit('/').next().unwrap_or(w));
            if words.len() >= want.len() && got.eq(want.iter().copied()) {
                return Some(c.to_string());
            }
            // `apt-get -y install`, `apt-get update && apt-get install`: flags between the words.
            if want.len() == 2
                && words.first() == Some(&want[0])
                && words.iter().skip(1).find(|w| !w.starts_with('-')) == Some(&want[1])
            {
                return Some(c.to_string());
            }
        }
    }
    None
}

/// All lint findings.
pub fn check(
    df: &Dockerfile,
    stages: &Stages,
    instances: &[Instance],
    _host: &Platform,
) -> Vec<Warning> {
    let mut out = Vec::new();
    for inst in instances.iter().filter(|i| i.emulated) {
        for step in inst.steps.iter().filter(|s| s.instruction == "RUN") {
            if let Some(what) = mentions(&step.text, COMPILES) {
                out.push(Warning {
                    line: step.line,
                    col: 1,
                    code: "EmulatedCompile".to_string(),
                    message: format!("`{what}` in stage {} runs under QEMU for {}, ~10x slower than native", inst.stage, inst.platform),
                    hint: "move it to a --platform=$BUILDPLATFORM stage and cross-compile with xx (xx-cargo, xx-go, xx-clang)".to_string(),
                });
            }
        }
    }
    let all_args = stages
        .global_args
        .iter()
        .chain(stages.stages.iter().flat_map(|s| s.body.iter()));
    for located in all_args {
        if let Instruction::Arg(list) = &located.instruction {
            for (name, default) in list {
                if AUTOMATIC.contains(&name.as_str()) && default.is_some() {
                    out.push(Warning {
                        line: located.span.line,
                        col: located.span.col,
                        code: "ShadowedPlatformArg".to_string(),
                        message: format!("ARG {name} with a default replaces the value BuildKit sets for each platform"),
                        hint: format!("declare it without a value: ARG {name}"),
                    });
                }
            }
        }
    }
    for stage in &stages.stages {
        let on_build = stage
            .platform
            .as_deref()
            .is_some_and(|p| p.contains("BUILDPLATFORM"));
        if stages.stages.iter().any(|s| {
            s.index < stage.index && s.name.as_deref() == Some(&stage.image.to_ascii_lowercase())
        }) && stage.platform.is_some()
        {
            out.push(Warning {
                line: stage.from.span.line,
                col: stage.from.span.col,
                code: "PlatformOnStage".to_string(),
                message: format!(
                    "FROM --platform is ignored when FROM names a stage ({})",
                    stage.image
                ),
                hint: "set --platform on the FROM of that stage instead".to_string(),
            });
        }
        if on_build {
            early_target_arg(&stage.body, &mut out);
        }
        for located in &stage.body {
            if let Instruction::Copy { from: Some(f), .. } = &located.instruction {
                if f.contains('$') {
                    out.push(Warning {
                        line: located.span.line,
                        col: located.span.col,
                        code: "VariableInCopyFrom".to_string(),
                        message: format!("COPY --from={f} uses a variable: the stage it names is only known per build"),
                        hint: "name the stage directly, or pass a named build context (--build-context)".to_string(),
                    });
                }
            }
        }
    }
    let _ = df;
    out
}

/// In a `$BUILDPLATFORM` stage, an `ARG TARGET*` before expensive steps that
/// do not use it makes those steps run once per target instead of once.
fn early_target_arg(body: &[Located], out: &mut Vec<Warning>) {
    let Some(pos) = body.iter().position(|l| matches!(&l.instruction, Instruction::Arg(list) if list.iter().any(|(n, d)| n.starts_with("TARGET") && d.is_none()))) else {
        return;
    };
    for later in &body[pos + 1..] {
        if let Instruction::Run { .. } = &later.instruction {
            let text = &later.original;
            if text.contains("TARGET") || text.contains("xx-") {
                return;
            }
            if let Some(what) = mentions(text, EXPENSIVE) {
                out.push(Warning {
                    line: body[pos].span.line,
                    col: body[pos].span.col,
                    code: "EarlyTargetArg".to_string(),
                    message: format!(
                        "this TARGET* ARG makes the `{what}` step at line {} run once per target platform, though it does not use it",
                        later.span.line
                    ),
                    hint: "declare the ARG after the platform-independent steps, just before the first step that needs it".to_string(),
                });
                return;
            }
        }
    }
}
