//! `mxbuild plan --format dot|mermaid`: the plan as a picture. One box per
//! stage instance (stage, the platform it runs as and the targets it
//! serves, its steps and how many of them another instance shares), green
//! when it runs natively, red under QEMU; base images as grey cylinders;
//! edges for `FROM <stage>` (solid), `COPY --from` (dashed) and
//! `RUN --mount from=` (dotted); one output node per requested platform.

use std::collections::BTreeMap;

use super::deps::Edge;
use super::{Plan, Source};

/// One box's text lines and whether it runs under QEMU.
struct Node {
    lines: Vec<String>,
    emulated: bool,
}

/// What both formats draw.
struct Graph {
    nodes: Vec<Node>,
    /// Base images: (reference@platform, instance reading it).
    images: Vec<(String, usize)>,
    edges: Vec<(usize, usize, Edge)>,
    /// (platform, final instance).
    outputs: Vec<(String, usize)>,
}

fn graph(plan: &Plan) -> Graph {
    let mut uses: BTreeMap<&str, usize> = BTreeMap::new();
    for inst in &plan.instances {
        for s in &inst.steps {
            *uses.entry(s.key.as_str()).or_default() += 1;
        }
    }
    let nodes = plan
        .instances
        .iter()
        .map(|inst| {
            let shared = inst
                .steps
                .iter()
                .filter(|s| uses.get(s.key.as_str()).copied().unwrap_or(0) > 1)
                .count();
            let mut lines = vec![
                super::labels::stage_name(&inst.stage),
                format!("{} -> {}", inst.platform, inst.targets.join(", ")),
                format!("{} steps", inst.steps.len()),
            ];
            if shared > 0 {
                lines[2] = format!("{} steps, {shared} shared", inst.steps.len());
            }
            lines.push(if inst.emulated { "QEMU" } else { "native" }.to_string());
            Node {
                lines,
                emulated: inst.emulated,
            }
        })
        .collect();
    let mut images = Vec::new();
    let mut edges = Vec::new();
    for (i, inst) in plan.instances.iter().enumerate() {
        if let Source::Image {
            reference,
            platform,
        } = &inst.source
        {
            images.push((format!("{reference}@{platform}"), i));
        }
        let mut seen = Vec::new();
        for (from, kind) in inst.deps() {
            if !seen.contains(&(from, kind)) {
                seen.push((from, kind));
                edges.push((from, i, kind));
            }
        }
    }
    let outputs = plan
        .platforms
        .iter()
        .cloned()
        .zip(plan.finals.iter().copied())
        .collect();
    Graph {
        nodes,
        images,
        edges,
        outputs,
    }
}

/// Graphviz DOT (render with `dot -Tsvg`).
pub fn dot(plan: &Plan) -> String {
    let g = graph(plan);
    let q = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let mut out = String::from(
        "digraph plan {\n  rankdir=LR;\n  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10];\n",
    );
    let mut image_ids: BTreeMap<&str, usize> = BTreeMap::new();
    for (name, _) in &g.images {
        let n = image_ids.len();
        if let std::collections::btree_map::Entry::Vacant(e) = image_ids.entry(name.as_str()) {
            e.insert(n);
            out.push_str(&format!(
                "  img{n} [label=\"{}\", shape=cylinder, fillcolor=\"#e0e0e0\"];\n",
                q(name)
            ));
        }
    }
    for (i, n) in g.nodes.iter().enumerate() {
        let label = n.lines.iter().map(|l| q(l)).collect::<Vec<_>>().join("\\n");
        let color = if n.emulated { "#f8d7da" } else { "#d4edda" };
        out.push_str(&format!(
            "  i{i} [label=\"{label}\", fillcolor=\"{color}\"];\n"
        ));
    }
    for (name, i) in &g.images {
        let n = image_ids.get(name.as_str()).copied().unwrap_or(0);
        out.push_str(&format!("  img{n} -> i{i};\n"));
    }
    for (from, to, kind) in &g.edges {
        let style = match kind {
            Edge::Base => "label=\"FROM\"",
            Edge::CopyFrom => "style=dashed, label=\"COPY --from\"",
            Edge::MountFrom => "style=dotted, label=\"--mount from\"",
        };
        out.push_str(&format!("  i{from} -> i{to} [{style}];\n"));
    }
    for (k, (platform, i)) in g.outputs.iter().enumerate() {
        out.push_str(&format!(
            "  out{k} [label=\"{}\", shape=note, fillcolor=\"#ffffff\"];\n  i{i} -> out{k};\n",
            q(platform)
        ));
    }
    out.push_str("}\n");
    out
}

/// A Mermaid flowchart (GitHub renders it in Markdown).
pub fn mermaid(plan: &Plan) -> String {
    let g = graph(plan);
    let q = |s: &str| s.replace('"', "#quot;");
    let mut out = String::from("flowchart LR\n");
    let mut image_ids: BTreeMap<&str, usize> = BTreeMap::new();
    for (name, _) in &g.images {
        let n = image_ids.len();
        if let std::collections::btree_map::Entry::Vacant(e) = image_ids.entry(name.as_str()) {
            e.insert(n);
            out.push_str(&format!("  img{n}[(\"{}\")]:::image\n", q(name)));
        }
    }
    for (i, n) in g.nodes.iter().enumerate() {
        let label = n
            .lines
            .iter()
            .map(|l| q(l))
            .collect::<Vec<_>>()
            .join("<br/>");
        let class = if n.emulated { "qemu" } else { "native" };
        out.push_str(&format!("  i{i}[\"{label}\"]:::{class}\n"));
    }
    for (name, i) in &g.images {
        let n = image_ids.get(name.as_str()).copied().unwrap_or(0);
        out.push_str(&format!("  img{n} --> i{i}\n"));
    }
    for (from, to, kind) in &g.edges {
        let arrow = match kind {
            Edge::Base => "-- FROM -->".to_string(),
            Edge::CopyFrom => "-. \"COPY --from\" .->".to_string(),
            Edge::MountFrom => "-. \"--mount from\" .->".to_string(),
        };
        out.push_str(&format!("  i{from} {arrow} i{to}\n"));
    }
    for (k, (platform, i)) in g.outputs.iter().enumerate() {
        out.push_str(&format!(
            "  out{k}[/\"{}\"/]\n  i{i} --> out{k}\n",
            q(platform)
        ));
    }
    out.push_str(
        "  classDef native fill:#d4edda,stroke:#2e7d32\n  classDef qemu fill:#f8d7da,stroke:#c62828\n  classDef image fill:#e0e0e0,stroke:#616161\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Options;

    fn plan() -> Plan {
        let df = crate::dockerfile::parse(
            "FROM --platform=$BUILDPLATFORM debian:bookworm AS build\n\
             RUN echo shared\n\
             ARG TARGETARCH\n\
             RUN echo $TARGETARCH > /a\n\
             FROM debian:bookworm\n\
             COPY --from=build /a /a\n\
             RUN --mount=from=build,target=/m true\n",
            "Dockerfile",
        )
        .unwrap();
        let opts = Options::for_test(&["linux/amd64", "linux/arm64"]);
        crate::plan::plan(&df, &opts).unwrap()
    }

    #[test]
    fn dot_has_instances_images_edges_and_outputs() {
        let p = plan();
        let d = dot(&p);
        assert!(d.starts_with("digraph plan {"), "{d}");
        assert!(d.contains("shape=cylinder"), "{d}");
        assert!(d.contains("style=dashed, label=\"COPY --from\""), "{d}");
        assert!(d.contains("style=dotted"), "{d}");
        assert!(
            d.contains("fillcolor=\"#f8d7da\""),
            "an emulated instance: {d}"
        );
        assert!(d.contains("shared"), "shared steps are counted: {d}");
        assert!(d.contains("[label=\"linux/arm64\", shape=note"), "{d}");
        assert_eq!(d.matches("[label=\"build\\n").count(), 2, "{d}");
    }

    #[test]
    fn mermaid_is_a_flowchart_with_classes() {
        let m = mermaid(&plan());
        assert!(m.starts_with("flowchart LR\n"), "{m}");
        assert!(m.contains(":::qemu") && m.contains(":::native"), "{m}");
        assert!(m.contains("-. \"COPY --from\" .->"), "{m}");
        assert!(m.contains("classDef qemu"), "{m}");
    }
}
