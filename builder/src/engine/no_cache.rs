//! `--no-cache-filter STAGE`: which stage instances run their steps again
//! instead of taking them from the cache. BuildKit marks the named stages'
//! steps `IgnoreCache` (names compared case-insensitively; an unnamed stage
//! cannot be named). mxbuild also runs again every instance that reads one
//! of them (its base, `COPY --from`, `RUN --mount from=`): its keys name the
//! stage's key, not its content, so a cached result could hold what the
//! stage made before. BuildKit would compare content and maybe reuse it;
//! running again is never wrong, only slower.

use super::schedule::instance_deps;
use crate::plan::Plan;

/// For each instance of `plan`: whether its steps skip the cache. Names in
/// `filter` that match no stage are returned second, for a warning.
pub(crate) fn instances(plan: &Plan, filter: &[String]) -> (Vec<bool>, Vec<String>) {
    let named = |stage: &str| {
        // Unnamed stages are labelled by their index.
        !stage.bytes().all(|b| b.is_ascii_digit())
            && filter.iter().any(|f| f.eq_ignore_ascii_case(stage))
    };
    let mut skip: Vec<bool> = plan.instances.iter().map(|i| named(&i.stage)).collect();
    let deps: Vec<Vec<usize>> = plan.instances.iter().map(instance_deps).collect();
    // Propagate to readers until nothing changes (the graph is acyclic, so
    // this ends within one pass per instance).
    let mut changed = true;
    while changed {
        changed = false;
        for (i, d) in deps.iter().enumerate() {
            if !skip[i] && d.iter().any(|&j| skip.get(j).copied().unwrap_or(false)) {
                skip[i] = true;
                changed = true;
            }
        }
    }
    let unknown = filter
        .iter()
        .filter(|f| {
            !plan
                .instances
                .iter()
                .any(|i| f.eq_ignore_ascii_case(&i.stage))
        })
        .cloned()
        .collect();
    (skip, unknown)
}
