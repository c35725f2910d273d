//! What each stage instance reads from the others: its base stage, the
//! stages of its `COPY --from`, and those of its `RUN --mount from=`. The
//! scheduler starts an instance once they are done; `mxbuild plan --format
//! dot|mermaid` draws them as edges.

use super::{Instance, Op, Source};

/// How an instance reads another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    /// `FROM <stage>`.
    Base,
    /// `COPY --from=<stage>`.
    CopyFrom,
    /// `RUN --mount=from=<stage>`.
    MountFrom,
}

impl Instance {
    /// The instances this one reads, in step order, each with how (an
    /// instance may appear more than once).
    pub fn deps(&self) -> Vec<(usize, Edge)> {
        let mut d = Vec::new();
        if let Source::Instance(i) = self.source {
            d.push((i, Edge::Base));
        }
        for s in &self.steps {
            match &s.op {
                Op::Copy {
                    from: Source::Instance(i),
                    ..
                } => d.push((*i, Edge::CopyFrom)),
                Op::Run { mounts, .. } => {
                    for m in mounts {
                        if let Some(Source::Instance(i)) = m.from {
                            d.push((i, Edge::MountFrom));
                        }
                    }
                }
                _ => {}
            }
        }
        d
    }
}
