//! The labels progress lines put before each step, computed from the plan
//! before anything runs, so that they say what happens:
//! `[build amd64->arm64 3/8]` is step 3 of 8 of stage `build`, run as
//! amd64 for the arm64 target. The `->` part appears only when the
//! instance serves other targets than the platform it runs as; a step key
//! that several instances reach (the steps of a `$BUILDPLATFORM` stage
//! before its `ARG TARGETPLATFORM`) runs once, so its label names every
//! target it serves. Steps are numbered as BuildKit numbers them: the FROM
//! line is 1, then only RUN, COPY/ADD and WORKDIR count (ENV, ARG, LABEL
//! and the like make no step of their own there).

use std::collections::BTreeMap;

use super::{Op, Plan};

/// The label prefix of each step, by instance then step; `None` for
/// steps that BuildKit does not number (metadata only).
#[derive(Debug, Clone, Default)]
pub struct Labels {
    steps: Vec<Vec<Option<String>>>,
}

impl Labels {
    /// Labels for every step of `plan`.
    pub fn of(plan: &Plan) -> Labels {
        let all_linux = plan.platforms.iter().all(|p| p.starts_with("linux/"))
            && plan.host.starts_with("linux/");
        let short = |p: &str| -> String {
            if all_linux {
                p.strip_prefix("linux/").unwrap_or(p).to_string()
            } else {
                p.to_string()
            }
        };
        // Every target each step key serves, over all instances.
        let mut serves: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for inst in &plan.instances {
            for s in &inst.steps {
                let t = serves.entry(s.key.as_str()).or_default();
                for target in &inst.targets {
                    if !t.contains(target) {
                        t.push(target.clone());
                    }
                }
            }
        }
        let steps = plan
            .instances
            .iter()
            .map(|inst| {
                let stage = stage_name(&inst.stage);
                let total = 1 + inst.steps.iter().filter(|s| numbered(&s.op)).count();
                let mut n = 1;
                inst.steps
                    .iter()
                    .map(|s| {
                        if !numbered(&s.op) {
                            return None;
                        }
                        n += 1;
                        let mut targets = serves.get(s.key.as_str()).cloned().unwrap_or_default();
                        targets.sort();
                        let arrow = if targets.len() == 1 && targets[0] == inst.platform {
                            String::new()
                        } else {
                            let list: Vec<String> = targets.iter().map(|t| short(t)).collect();
                            format!("->{}", list.join(","))
                        };
                        Some(format!(
                            "[{stage} {}{arrow} {n}/{total}]",
                            short(&inst.platform)
                        ))
                    })
                    .collect()
            })
            .collect();
        Labels { steps }
    }

    /// The label of step `step` of instance `instance`, if it is numbered.
    pub fn step(&self, instance: usize, step: usize) -> Option<&str> {
        self.steps.get(instance)?.get(step)?.as_deref()
    }
}

/// Whether BuildKit gives the step a number and a progress line.
pub fn numbered(op: &Op) -> bool {
    matches!(op, Op::Run { .. } | Op::Copy { .. } | Op::Workdir(_))
}

/// A stage's name as labels show it: BuildKit calls an unnamed stage
/// `stage-N`.
pub(crate) fn stage_name(label: &str) -> String {
    if !label.is_empty() && label.bytes().all(|b| b.is_ascii_digit()) {
        format!("stage-{label}")
    } else {
        label.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Options;

    fn plan(text: &str) -> Plan {
        let df = crate::dockerfile::parse(text, "Dockerfile").unwrap();
        let opts = Options::for_test(&["linux/amd64", "linux/arm64"]);
        crate::plan::plan(&df, &opts).unwrap()
    }

    /// Every label of the plan, in instance and step order.
    fn all(p: &Plan) -> Vec<String> {
        let l = Labels::of(p);
        let mut out = Vec::new();
        for (i, inst) in p.instances.iter().enumerate() {
            for k in 0..inst.steps.len() {
                if let Some(s) = l.step(i, k) {
                    out.push(format!("{s} {}", inst.steps[k].instruction));
                }
            }
        }
        out
    }

    #[test]
    fn labels_say_stage_platform_targets_and_buildkit_numbers() {
        let p = plan(
            "FROM --platform=$BUILDPLATFORM debian:bookworm AS build\n\
             RUN echo shared\n\
             ENV X=1\n\
             ARG TARGETARCH\n\
             RUN echo $TARGETARCH\n\
             FROM debian:bookworm\n\
             COPY --from=build /x /x\n\
             RUN true\n",
        );
        let labels = all(&p);
        // The step before ARG TARGETARCH runs once for both targets.
        let shared: Vec<&String> = labels.iter().filter(|l| l.ends_with("2/3] RUN")).collect();
        assert!(
            shared
                .iter()
                .all(|l| l.starts_with("[build amd64->amd64,arm64 2/3]")),
            "{labels:?}"
        );
        assert!(
            labels.contains(&"[build amd64 3/3] RUN".to_string()),
            "{labels:?}"
        );
        assert!(
            labels.contains(&"[build amd64->arm64 3/3] RUN".to_string()),
            "{labels:?}"
        );
        assert!(
            labels.contains(&"[stage-1 arm64 2/3] COPY".to_string()),
            "{labels:?}"
        );
        assert!(
            labels.contains(&"[stage-1 amd64 3/3] RUN".to_string()),
            "{labels:?}"
        );
        // ENV and ARG get no number and no line.
        assert!(
            !labels
                .iter()
                .any(|l| l.contains("ENV") || l.contains("ARG"))
        );
    }
}
