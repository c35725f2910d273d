//! What a finished build used and made, per target platform, for the
//! attestations written after it: the base images (with the manifest
//! digests they resolved to), the steps of the instances that made the
//! platform's image, and the stages `BUILDKIT_SBOM_SCAN_STAGE` selects for
//! the SBOM, with their final states.

use std::collections::BTreeMap;

use super::ctx::Ctx;
use super::state::State;

/// One target platform's part of a build.
#[derive(Debug, Clone, Default)]
pub struct PlatformRecord {
    /// Images read (reference as written, the platform taken, manifest digest).
    pub images: Vec<(String, String, String)>,
    /// The steps of the instances that made it, as `[stage platform] TEXT`.
    pub steps: Vec<String>,
    /// Other stages to scan for the SBOM: name and final state.
    pub scans: Vec<(String, State)>,
    /// A stage of it asks for the build context to be scanned
    /// (`BUILDKIT_SBOM_SCAN_CONTEXT`): its name.
    pub scan_context: Option<String>,
}

/// The record of a build: one entry per target platform (in `Built::images`
/// order), and the URLs and git sources every platform shares.
#[derive(Debug, Clone, Default)]
pub struct Record {
    /// Per target platform.
    pub platforms: Vec<PlatformRecord>,
    /// `ADD` URL -> `sha256:` of its content.
    pub urls: BTreeMap<String, String>,
    /// git source -> commit.
    pub git: BTreeMap<String, String>,
}

/// A stage as progress labels name it: its `AS` name, else `stage-N`.
fn stage_name(label: &str) -> String {
    if !label.is_empty() && label.bytes().all(|b| b.is_ascii_digit()) {
        format!("stage-{label}")
    } else {
        label.to_string()
    }
}

/// The record of the build `ctx` just ran.
pub(super) fn of(ctx: &Ctx) -> Result<Record, String> {
    let plan = ctx.plan;
    let mut platforms = Vec::new();
    for (p, &fi) in ctx.opts.platforms.iter().zip(&plan.finals) {
        let target = p.to_string();
        let serving: Vec<usize> = (0..plan.instances.len())
            .filter(|&i| plan.instances[i].targets.contains(&target))
            .collect();
        let run_as: Vec<&str> = serving
            .iter()
            .map(|&i| plan.instances[i].platform.as_str())
            .collect();
        let images = ctx
            .resolved
            .infos
            .iter()
            .filter_map(|(key, info)| {
                let (reference, platform) = key.rsplit_once('@')?;
                run_as.contains(&platform).then(|| {
                    (
                        reference.to_string(),
                        platform.to_string(),
                        info.digest.clone(),
                    )
                })
            })
            .collect();
        let mut steps = Vec::new();
        let mut scans = Vec::new();
        let mut scan_context = None;
        for &i in &serving {
            let inst = &plan.instances[i];
            let stage = stage_name(&inst.stage);
            steps.push(format!("[{stage} {}] FROM {}", inst.platform, inst.base));
            steps.extend(
                inst.steps
                    .iter()
                    .map(|s| format!("[{stage} {}] {}", inst.platform, s.text)),
            );
            if inst.sbom_scan && i != fi {
                scans.push((stage.clone(), ctx.state_of_instance(i)?));
            }
            if inst.sbom_scan_context {
                scan_context = Some(stage.clone());
            }
        }
        platforms.push(PlatformRecord {
            images,
            steps,
            scans,
            scan_context,
        });
    }
    Ok(Record {
        platforms,
        urls: ctx
            .urls
            .iter()
            .map(|(u, info)| (u.clone(), info.digest.clone()))
            .collect(),
        git: ctx.git.clone(),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn unnamed_stages_are_stage_n() {
        assert_eq!(super::stage_name("0"), "stage-0");
        assert_eq!(super::stage_name("build"), "build");
        assert_eq!(super::stage_name("a1"), "a1");
    }
}
