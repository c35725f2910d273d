//! Rules about one instruction as written: MaintainerDeprecated
//! (instructions/parse.go), LegacyKeyValueFormat (convert.go `dispatchEnv`,
//! `dispatchLabel`), ExposeProtoCasing and ExposeInvalidFormat
//! (convert_expose.go `parsePort`), DuplicateStageName and
//! ReservedStageName (validations.go `validateStageNames`).

use std::collections::BTreeSet;

use super::casing::written_keyword;
use super::warn;
use crate::dockerfile::Node;
use crate::plan::Warning;

/// Stage names BuildKit reserves.
const RESERVED: &[&str] = &["context", "scratch"];

/// The rules of one node.
pub(super) fn node_rules(node: &Node, out: &mut Vec<Warning>) {
    match node.keyword.as_str() {
        "maintainer" => warn(
            out,
            node.span,
            "MaintainerDeprecated",
            "Maintainer instruction is deprecated in favor of using label".to_string(),
            "use LABEL org.opencontainers.image.authors=\"…\"",
        ),
        "env" | "label" => legacy_key_value(node, out),
        "expose" => {
            for port in &node.args {
                expose(node, port, out);
            }
        }
        _ => {}
    }
}

/// `ENV key value`: one pair without `=`.
fn legacy_key_value(node: &Node, out: &mut Vec<Warning>) {
    let first = node.original.split_whitespace().nth(1).unwrap_or_default();
    if first.is_empty() || first.contains('=') {
        return;
    }
    // BuildKit names the command as written (c.Name()).
    let name = written_keyword(node);
    warn(
        out,
        node.span,
        "LegacyKeyValueFormat",
        format!(
            "\"{name} key=value\" should be used instead of legacy \"{name} key value\" format"
        ),
        "write key=value",
    );
}

/// One EXPOSE port: `[ip:][host:]container[/proto]`, split at `:` as
/// BuildKit's `splitParts` does.
fn expose(node: &Node, port: &str, out: &mut Vec<Warning>) {
    let parts: Vec<&str> = port.split(':').collect();
    let container = parts.last().copied().unwrap_or_default();
    if let Some((_, proto)) = container.split_once('/') {
        if proto != proto.to_lowercase() {
            warn(
                out,
                node.span,
                "ExposeProtoCasing",
                format!("Defined protocol '{port}' in EXPOSE instruction should be lowercase"),
                "write tcp, udp or sctp in lower case",
            );
        }
    }
    if parts.len() > 1 {
        warn(
            out,
            node.span,
            "ExposeInvalidFormat",
            format!(
                "EXPOSE instruction should not define an IP address or host-port mapping, found '{port}'"
            ),
            "EXPOSE takes the container's port only (EXPOSE 80/tcp); map ports when running it",
        );
    }
}

/// DuplicateStageName and ReservedStageName, on every `FROM … AS name`
/// (names compared as written, as BuildKit does).
pub(super) fn stage_names(nodes: &[Node], out: &mut Vec<Warning>) {
    let mut seen = BTreeSet::new();
    for node in nodes.iter().filter(|n| n.keyword == "from") {
        let [_, as_kw, name] = node.args.as_slice() else {
            continue;
        };
        if !as_kw.eq_ignore_ascii_case("as") {
            continue;
        }
        if RESERVED.contains(&name.as_str()) {
            warn(
                out,
                node.span,
                "ReservedStageName",
                format!("Stage name should not use the same name as reserved stage {name:?}"),
                "rename the stage",
            );
        }
        if !seen.insert(name.clone()) {
            warn(
                out,
                node.span,
                "DuplicateStageName",
                format!("Duplicate stage name {name:?}, stage names should be unique"),
                "give each stage its own AS name",
            );
        }
    }
}
