//! Rules about FROM lines and the global ARGs they read (convert.go
//! `buildDispatchStates`, validations.go): UndefinedArgInFrom,
//! InvalidDefaultArgInFrom, RedundantTargetPlatform and
//! FromPlatformFlagConstDisallowed.

use std::collections::{BTreeMap, BTreeSet};

use xx::Platform;

use super::{suggest, warn};
use crate::dockerfile::expand::expand_word;
use crate::dockerfile::instruction::Instruction;
use crate::plan::Warning;
use crate::plan::platform_args;
use crate::plan::stages::{Stage, Stages};

/// Names BuildKit defines for FROM lines beyond the platform ARGs mxbuild
/// sets (platform.go `defaultArgs`).
const MORE_DEFAULTS: &[&str] = &["BUILDOSVERSION", "TARGETOSVERSION", "TARGETSTAGE"];

/// A word expanded in the global scope: its result, the names it read
/// that had a value, and those that did not.
struct Match {
    result: String,
    matched: BTreeSet<String>,
    unmatched: BTreeSet<String>,
}

fn process(word: &str, env: &BTreeMap<String, String>, escape: char) -> Option<Match> {
    let lookup = |k: &str| env.get(k).cloned();
    let e = expand_word(word, &lookup, escape).ok()?;
    let (matched, unmatched) = e.used.into_iter().partition(|k| env.contains_key(k));
    Some(Match {
        result: e.value,
        matched,
        unmatched,
    })
}

/// The global variables FROM lines see: the platform defaults, then each
/// global ARG (its `--build-arg` when `build_args` has one, else its default).
fn global_env(
    stages: &Stages,
    build_args: &BTreeMap<String, String>,
    host: &Platform,
    escape: char,
) -> BTreeMap<String, String> {
    let mut env = platform_args::values(host, host);
    env.insert("TARGETSTAGE".into(), "default".into());
    for l in &stages.global_args {
        let Instruction::Arg(list) = &l.instruction else {
            continue;
        };
        for (k, default) in list {
            let v = match (build_args.get(k), default) {
                (Some(v), _) => Some(v.clone()),
                (None, Some(d)) => process(d, &env, escape).map(|m| m.result),
                (None, None) => None,
            };
            if let Some(v) = v {
                env.insert(k.clone(), v);
            }
        }
    }
    env
}

/// Every FROM rule, over all stages.
pub(super) fn from_rules(
    stages: &Stages,
    build_args: &BTreeMap<String, String>,
    host: &Platform,
    escape: char,
    out: &mut Vec<Warning>,
) {
    invalid_default(stages, host, escape, out);
    let env = global_env(stages, build_args, host, escape);
    let mut declared: BTreeSet<String> = env.keys().cloned().collect();
    declared.extend(MORE_DEFAULTS.iter().map(|s| s.to_string()));
    for l in &stages.global_args {
        if let Instruction::Arg(list) = &l.instruction {
            declared.extend(list.iter().map(|(k, _)| k.clone()));
        }
    }
    for stage in &stages.stages {
        if let Some(m) = process(&stage.image, &env, escape) {
            undeclared(stage, &m, &declared, out);
        }
        let Some(raw) = &stage.platform else { continue };
        let Some(m) = process(raw, &env, escape) else {
            continue;
        };
        undeclared(stage, &m, &declared, out);
        redundant_target(stage, raw, &m, &env, out);
        const_platform(stage, &m, out);
    }
}

/// UndefinedArgInFrom: a FROM reads a variable no global ARG declares.
fn undeclared(stage: &Stage, m: &Match, declared: &BTreeSet<String>, out: &mut Vec<Warning>) {
    for arg in m.unmatched.iter().filter(|a| !declared.contains(*a)) {
        let mut msg = format!("FROM argument '{arg}' is not declared");
        if let Some(s) = suggest::search(arg, declared.iter().map(String::as_str)) {
            msg.push_str(&format!(" (did you mean {s}?)"));
        }
        warn(
            out,
            stage.from.span,
            "UndefinedArgInFrom",
            msg,
            &format!("declare it before the first FROM: ARG {arg}"),
        );
    }
}

/// InvalidDefaultArgInFrom: with no `--build-arg`, a FROM's image name
/// is empty or not an image reference.
fn invalid_default(stages: &Stages, host: &Platform, escape: char, out: &mut Vec<Warning>) {
    let env = global_env(stages, &BTreeMap::new(), host, escape);
    for stage in &stages.stages {
        // BuildKit abandons the check at the first expansion error.
        let Some(m) = process(&stage.image, &env, escape) else {
            return;
        };
        if m.result.parse::<oci_client::Reference>().is_err() {
            warn(
                out,
                stage.from.span,
                "InvalidDefaultArgInFrom",
                format!(
                    "Default value for ARG {} results in empty or invalid base image name",
                    stage.image
                ),
                "give the global ARG a default that makes a valid image name",
            );
        }
    }
}

/// RedundantTargetPlatform: `--platform=$TARGETPLATFORM` alone.
fn redundant_target(
    stage: &Stage,
    raw: &str,
    m: &Match,
    env: &BTreeMap<String, String>,
    out: &mut Vec<Warning>,
) {
    let only_target =
        m.unmatched.is_empty() && m.matched.len() == 1 && m.matched.contains("TARGETPLATFORM");
    if only_target && env.get("TARGETPLATFORM") == Some(&m.result) {
        warn(
            out,
            stage.from.span,
            "RedundantTargetPlatform",
            format!(
                "Setting platform to predefined {raw} in FROM is redundant as this is the default behavior"
            ),
            "drop --platform from this FROM",
        );
    }
}

/// FromPlatformFlagConstDisallowed: a constant `--platform` whose OS or
/// architecture the stage name does not mention.
fn const_platform(stage: &Stage, m: &Match, out: &mut Vec<Warning>) {
    if !m.matched.is_empty() || !m.unmatched.is_empty() {
        return;
    }
    let Ok(p) = m.result.parse::<Platform>() else {
        return;
    };
    let name = stage.name.as_deref().unwrap_or_default();
    if name.contains(&p.os) || name.contains(&p.arch) {
        return;
    }
    warn(
        out,
        stage.from.span,
        "FromPlatformFlagConstDisallowed",
        format!(
            "FROM --platform flag should not use constant value {:?}",
            m.result
        ),
        "use --platform=$BUILDPLATFORM (or $TARGETPLATFORM), or name the stage after the platform",
    );
}
