//! The critical path of a finished build: the chain of stage instances
//! that the end of the build waited on. Starting from the final instance
//! that ended last, each step back goes to the input (base stage, `COPY
//! --from`, `RUN --mount from=`) that ended last, because the scheduler
//! starts an instance only once all its inputs are done. Each link gets
//! its wall time and its slowest step, so the summary says where to look
//! first (`critical path: [build amd64->arm64] 300.1s (slowest: RUN cargo
//! build 290.0s) -> [stage-1 arm64] 8.2s`).

use std::time::{Duration, Instant};

use super::progress::StepTime;
use crate::plan::Plan;
use crate::plan::labels::Labels;

/// One instance on the critical path.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    /// `[build amd64->arm64]`: the step labels' prefix without the count.
    pub label: String,
    /// Its wall time, start to end.
    pub took: Duration,
    /// Its slowest step that ran: label, text and time.
    pub slowest: Option<(String, Duration)>,
}

/// The chain of instances the build's end waited on, first to last.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CriticalPath {
    /// The instances, in the order they ran.
    pub links: Vec<Link>,
}

impl CriticalPath {
    /// The time of all links.
    pub fn total(&self) -> Duration {
        self.links.iter().map(|l| l.took).sum()
    }
}

/// `[build amd64->arm64 3/8]` -> `[build amd64->arm64]`, from the
/// instance's last labelled step: its first steps may be shared with other
/// targets' instances, and their labels name every target.
fn instance_label(labels: &Labels, plan: &Plan, i: usize) -> String {
    let steps = plan.instances.get(i).map_or(0, |inst| inst.steps.len());
    let first = (0..steps).rev().find_map(|j| labels.step(i, j));
    match first {
        Some(l) => match l.rsplit_once(' ') {
            Some((head, count)) if count.ends_with(']') && count.contains('/') => {
                format!("{head}]")
            }
            _ => l.to_string(),
        },
        None => format!("[{}]", plan.instances.get(i).map_or("", |x| &x.stage)),
    }
}

/// The critical path from each instance's start and end (`spans`, `None`
/// for those that did not run) and the steps' times.
pub fn trace(
    plan: &Plan,
    labels: &Labels,
    spans: &[Option<(Instant, Instant)>],
    steps: &[StepTime],
) -> CriticalPath {
    let end = |i: usize| spans.get(i).copied().flatten().map(|(_, e)| e);
    let Some(mut cur) = plan
        .finals
        .iter()
        .copied()
        .filter(|&i| end(i).is_some())
        .max_by_key(|&i| end(i))
    else {
        return CriticalPath::default();
    };
    let mut chain = vec![cur];
    while let Some(prev) = plan.instances[cur]
        .deps()
        .into_iter()
        .map(|(d, _)| d)
        .filter(|&d| end(d).is_some() && !chain.contains(&d))
        .max_by_key(|&d| end(d))
    {
        chain.push(prev);
        cur = prev;
    }
    chain.reverse();
    let links = chain
        .into_iter()
        .map(|i| {
            let took = spans[i].map_or(Duration::ZERO, |(s, e)| e.saturating_duration_since(s));
            let inst = &plan.instances[i];
            let slowest = steps
                .iter()
                .filter(|t| !t.cached && inst.steps.iter().any(|s| s.key == t.id))
                .max_by_key(|t| t.took)
                .map(|t| (format!("{} {}", t.label, t.text), t.took));
            Link {
                label: instance_label(labels, plan, i),
                took,
                slowest,
            }
        })
        .collect();
    CriticalPath { links }
}
