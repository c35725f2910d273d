//! The casing rules: ConsistentInstructionCasing (validations.go
//! `validateCommandCasing`), StageNameCasing and FromAsCasing
//! (instructions/parse.go, on each FROM).

use super::warn;
use crate::dockerfile::Node;
use crate::plan::Warning;

/// The keyword as written (`Run`, `RUN`, `run`).
pub(super) fn written_keyword(node: &Node) -> &str {
    node.original.split_whitespace().next().unwrap_or_default()
}

/// ConsistentInstructionCasing: each keyword all lower or all upper case,
/// as the majority of keywords (BuildKit counts FROMs and stage commands;
/// ARGs before the first FROM are not counted).
pub(super) fn consistent(nodes: &[Node], out: &mut Vec<Warning>) {
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
            n.span,
            "ConsistentInstructionCasing",
            format!("Command '{k}' should match the case of the command majority ({want})"),
            "write every instruction keyword in the same case",
        );
    }
}

/// StageNameCasing and FromAsCasing on `FROM image AS name`.
pub(super) fn from_as(node: &Node, out: &mut Vec<Warning>) {
    if node.keyword != "from" || node.args.len() != 3 {
        return;
    }
    let (from, as_kw, name) = (written_keyword(node), &node.args[1], &node.args[2]);
    if *name != name.to_lowercase() {
        warn(
            out,
            node.span,
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
            node.span,
            "FromAsCasing",
            format!("'{as_kw}' and '{from}' keywords' casing do not match"),
            "write FROM and AS in the same case",
        );
    }
}
