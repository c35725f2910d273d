//! BuildKit's build checks (frontend/dockerfile/linter/ruleset.go): the
//! rules that need only the Dockerfile's text, with BuildKit's rule names
//! and messages, so `# check=skip=…` and `# check=error=true` written for
//! `docker buildx build` mean the same here. The `# check=` directive is
//! read here too (BuildKit's `ParseLintOptions`).

use super::Warning;
use super::stages::Stages;
use crate::dockerfile::instruction::{Command, Instruction, Located};
use crate::dockerfile::{Dockerfile, Node, SourceError, Span};

/// What `# check=` asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckConfig {
    /// `skip=all`.
    pub skip_all: bool,
    /// `skip=Rule1,Rule2`.
    pub skip: Vec<String>,
    /// `error=true`: a finding of a BuildKit rule fails the build.
    pub error: bool,
}

impl CheckConfig {
    /// Whether findings of `rule` are dropped.
    pub fn skips(&self, rule: &str) -> bool {
        self.skip_all || self.skip.iter().any(|r| r == rule)
    }
}

/// The keys of `# check=` (as BuildKit's `ParseLintOptions`): the list the
/// README's compatibility table is tested against. `experimental` is
/// refused: no experimental check is implemented.
pub const CHECK_KEYS: &[&str] = &["skip", "error", "experimental"];

/// Reads `# check=skip=A,B;error=true;experimental=C` as BuildKit's
/// `ParseLintOptions` does (at most three `;` parts, `key=value` each).
pub fn parse_check(value: &str) -> Result<CheckConfig, String> {
    let mut c = CheckConfig::default();
    let value = value.trim();
    if value.is_empty() {
        return Ok(c);
    }
    for part in value.splitn(3, ';') {
        let Some((k, v)) = part.split_once('=') else {
            return Err(format!("invalid check option {part:?}"));
        };
        let list =
            |v: &str| -> Vec<String> { v.split(',').map(|r| r.trim().to_string()).collect() };
        if !CHECK_KEYS.contains(&k.trim()) {
            return Err(format!("invalid check option {:?}", k.trim()));
        }
        match k.trim() {
            "skip" if v.trim() == "all" => c.skip_all = true,
            "skip" => c.skip = list(v.trim()),
            "experimental" => {
                return Err(format!(
                    "check option {part:?}: no experimental BuildKit check is implemented"
                ));
            }
            "error" => {
                c.error = go_bool(v.trim()).ok_or_else(|| {
                    format!("invalid check option {part:?}: error= takes true or false")
                })?
            }
            other => return Err(format!("invalid check option {other:?}")),
        }
    }
    Ok(c)
}

/// Go's `strconv.ParseBool`.
fn go_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// The `# check=` directive of `df`, refused at its line when malformed.
pub fn config_of(df: &Dockerfile) -> Result<CheckConfig, SourceError> {
    let Some(value) = &df.directives.check else {
        return Ok(CheckConfig::default());
    };
    parse_check(value).map_err(|e| {
        let line = df
            .text
            .lines()
            .position(|l| l.trim_start().starts_with('#') && l.contains("check"))
            .map_or(1, |i| i + 1);
        SourceError::new(&df.file, Span { line, col: 1 }, e)
            .hint("e.g. # check=skip=JSONArgsRecommended,StageNameCasing;error=true")
            .with_line(&df.text)
    })
}

/// The names of the BuildKit rules this module implements.
pub const RULES: &[&str] = &[
    "StageNameCasing",
    "FromAsCasing",
    "ConsistentInstructionCasing",
    "MaintainerDeprecated",
    "JSONArgsRecommended",
    "MultipleInstructionsDisallowed",
    "LegacyKeyValueFormat",
    "ExposeProtoCasing",
];

/// `# check=error=true`: findings of BuildKit's rules fail the build, at
/// the first one's line, naming every rule found (BuildKit's
/// "lint violation found for rules: …"). mxbuild's own lints stay warnings.
pub fn fail_on(df: &Dockerfile, warnings: &[Warning]) -> Result<(), SourceError> {
    let found: Vec<&Warning> = warnings
        .iter()
        .filter(|w| RULES.contains(&w.code.as_str()))
        .collect();
    let Some(first) = found.first() else {
        return Ok(());
    };
    let mut rules: Vec<&str> = found.iter().map(|w| w.code.as_str()).collect();
    rules.sort_unstable();
    rules.dedup();
    let each: Vec<String> = found
        .iter()
        .map(|w| format!("{}:{}: {}: {}", df.file, w.line, w.code, w.message))
        .collect();
    Err(SourceError::new(
        &df.file,
        Span { line: first.line, col: 1 },
        format!("lint violation found for rules: {}", rules.join(", ")),
    )
    .hint(format!(
        "`# check=error=true` makes these fail the build; fix them or skip a rule with `# check=skip=Rule;error=true`:\n{}",
        each.join("\n")
    ))
    .with_line(&df.text))
}

fn warn(out: &mut Vec<Warning>, line: usize, rule: &str, message: String, hint: &str) {
    out.push(Warning {
        line,
        code: rule.to_string(),
        message,
        hint: hint.to_string(),
    });
}

/// Every finding of the implemented rules.
pub fn check(df: &Dockerfile, stages: &Stages) -> Vec<Warning> {
    let mut out = Vec::new();
    casing(&df.nodes, &mut out);
    for node in &df.nodes {
        node_rules(node, &mut out);
    }
    for stage in &stages.stages {
        stage_rules(&stage.body, &mut out);
    }
    out
}

/// The keyword as written (`Run`, `RUN`, `run`).
fn written_keyword(node: &Node) -> &str {
    node.original.split_whitespace().next().unwrap_or_default()
}

/// ConsistentInstructionCasing: each keyword all lower or all upper case,
/// as the majority of keywords (BuildKit counts FROMs and stage commands;
/// ARGs before the first FROM are not counted).
fn casing(nodes: &[Node], out: &mut Vec<Warning>) {
    let first_from = nodes
        .iter()
        .position(|n| n.keyword == "from")
        .unwrap_or(nodes.len());
    let counted = &nodes[first_from..];
    let (mut lower, mut upper) = (0, 0);
    for n in counted {
        let k = written_keyword(n);
        if k == k.to_lowercase() {
            lower += 1;
        } else if k == k.to_uppercase() {
            upper += 1;
        }
    }
    let majority_lower = lower > upper;
    for n in counted {
        let k = written_keyword(n);
        let want = if majority_lower && k != k.to_lowercase() {
            "lowercase"
        } else if !majority_lower && k != k.to_uppercase() {
            "uppercase"
        } else {
            continue;
        };
        warn(
            out,
            n.span.line,
            "ConsistentInstructionCasing",
            format!("Command '{k}' should match the case of the command majority ({want})"),
            "write every instruction keyword in the same case",
        );
    }
}

/// Rules about one instruction as written.
fn node_rules(node: &Node, out: &mut Vec<Warning>) {
    let line = node.span.line;
    match node.keyword.as_str() {
        "maintainer" => warn(
            out,
            line,
            "MaintainerDeprecated",
            "Maintainer instruction is deprecated in favor of using label".to_string(),
            "use LABEL org.opencontainers.image.authors=\"…\"",
        ),
        "from" if node.args.len() == 3 => {
            let (from, as_kw, name) = (written_keyword(node), &node.args[1], &node.args[2]);
            if *name != name.to_lowercase() {
                warn(
                    out,
                    line,
                    "StageNameCasing",
                    format!("Stage name '{name}' should be lowercase"),
                    "write the stage name in lower case",
                );
            }
            let from_lower = from == from.to_lowercase();
            let from_upper = from == from.to_uppercase();
            if (from_lower && *as_kw != as_kw.to_lowercase())
                || (from_upper && !from_lower && *as_kw != as_kw.to_uppercase())
            {
                warn(
                    out,
                    line,
                    "FromAsCasing",
                    format!("'{as_kw}' and '{from}' keywords' casing do not match"),
                    "write FROM and AS in the same case",
                );
            }
        }
        "env" | "label" => {
            let first = node.original.split_whitespace().nth(1).unwrap_or_default();
            if !first.is_empty() && !first.contains('=') {
                let name = node.keyword.to_uppercase();
                warn(
                    out,
                    line,
                    "LegacyKeyValueFormat",
                    format!(
                        "\"{name} key=value\" should be used instead of legacy \"{name} key value\" format"
                    ),
                    "write key=value",
                );
            }
        }
        "expose" => {
            for port in &node.args {
                if let Some((_, proto)) = port.split_once('/') {
                    if proto != proto.to_lowercase() {
                        warn(
                            out,
                            line,
                            "ExposeProtoCasing",
                            format!(
                                "Defined protocol '{port}' in EXPOSE instruction should be lowercase"
                            ),
                            "write tcp or udp in lower case",
                        );
                    }
                }
            }
        }
        _ => {}
    }
}

/// Rules about a stage's instructions in order.
fn stage_rules(body: &[Located], out: &mut Vec<Warning>) {
    let mut shell_set = false;
    let mut seen: [(Option<usize>, &str); 3] =
        [(None, "CMD"), (None, "ENTRYPOINT"), (None, "HEALTHCHECK")];
    for l in body {
        let (slot, shell_form) = match &l.instruction {
            Instruction::Shell(_) => {
                shell_set = true;
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
                prev,
                "MultipleInstructionsDisallowed",
                format!(
                    "Multiple {name} instructions should not be used in the same stage because only the last one will be used"
                ),
                &format!("remove all but the last {name}"),
            );
        }
        seen[slot].0 = Some(l.span.line);
        if shell_form && !shell_set {
            warn(
                out,
                l.span.line,
                "JSONArgsRecommended",
                format!(
                    "JSON arguments recommended for {name} to prevent unintended behavior related to OS signals"
                ),
                &format!("use the exec form: {name} [\"executable\", \"arg\"]"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn findings(text: &str) -> Vec<(usize, String)> {
        let df = crate::dockerfile::parse(text, "Dockerfile").unwrap();
        let instructions =
            crate::dockerfile::instruction::from_nodes(&df.nodes, &df.file, &df.text).unwrap();
        let stages = Stages::split(&df, instructions).unwrap();
        let mut w: Vec<(usize, String)> = check(&df, &stages)
            .into_iter()
            .map(|w| (w.line, w.code))
            .collect();
        w.sort();
        w
    }

    #[test]
    fn rules_fire_where_buildkit_fires_them() {
        let w = findings(
            "FROM debian AS Build\nfrom debian as x\nFROM debian as y\nMAINTAINER me\nENV A b\nLABEL a=b\nEXPOSE 80/TCP 81/udp\nCMD echo 1\nCMD [\"a\"]\nrun true\n",
        );
        let codes = |line: usize| -> Vec<&str> {
            w.iter()
                .filter(|(l, _)| *l == line)
                .map(|(_, c)| c.as_str())
                .collect()
        };
        assert_eq!(codes(1), ["StageNameCasing"]);
        assert_eq!(codes(2), ["ConsistentInstructionCasing"]);
        assert_eq!(codes(3), ["FromAsCasing"]);
        assert_eq!(codes(4), ["MaintainerDeprecated"]);
        assert_eq!(codes(5), ["LegacyKeyValueFormat"]);
        assert!(codes(6).is_empty());
        assert_eq!(codes(7), ["ExposeProtoCasing"]);
        assert_eq!(
            codes(8),
            ["JSONArgsRecommended", "MultipleInstructionsDisallowed"]
        );
        assert!(codes(9).is_empty());
        assert_eq!(codes(10), ["ConsistentInstructionCasing"]);
        // After SHELL, a shell-form CMD is what the author meant.
        assert!(findings("FROM a\nSHELL [\"/bin/bash\", \"-c\"]\nCMD echo\n").is_empty());
    }

    #[test]
    fn check_directive_as_buildkit_parses_it() {
        let c = parse_check("skip=JSONArgsRecommended, StageNameCasing;error=true").unwrap();
        assert_eq!(c.skip, ["JSONArgsRecommended", "StageNameCasing"]);
        assert!(c.error && !c.skip_all && c.skips("StageNameCasing") && !c.skips("FromAsCasing"));
        assert!(parse_check("skip=all").unwrap().skips("Anything"));
        assert!(parse_check("error=1").unwrap().error);
        assert!(parse_check("error=maybe").is_err());
        assert!(parse_check("skips=x").is_err());
        assert!(parse_check("skip").is_err());
        assert!(parse_check("experimental=all").is_err());
        assert_eq!(parse_check("  ").unwrap(), CheckConfig::default());
    }
}
