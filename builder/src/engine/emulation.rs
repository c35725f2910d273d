//! The emulation check: before any step runs or anything is downloaded
//! (base images are resolved by then: their ONBUILD triggers can add RUN
//! steps), every instance
//! that runs steps for a foreign platform needs a usable binfmt_misc
//! handler on this host, or the build stops with how to install one.

use xx::Platform;

use super::BuildError;
use crate::exec::binfmt;
use crate::plan::{Op, Plan};

/// Fails before any step runs if an emulated instance has RUN steps and the
/// host has no usable handler for its platform.
pub fn check_emulation(plan: &Plan, host: &Platform) -> Result<(), BuildError> {
    let mut problems = Vec::new();
    for inst in &plan.instances {
        if !inst.emulated || !inst.steps.iter().any(|s| matches!(s.op, Op::Run { .. })) {
            continue;
        }
        let Ok(p) = inst.platform.parse::<Platform>() else {
            continue;
        };
        match binfmt::support(host, &p) {
            binfmt::Support::Native | binfmt::Support::Emulated { .. } => {}
            binfmt::Support::Unusable(why) => {
                problems.push(format!("{p}: {why}; {}", binfmt::fix_hint(&p)))
            }
            binfmt::Support::Missing => problems.push(format!(
                "{p}: this host cannot run {p} binaries (no binfmt_misc handler); {}",
                binfmt::fix_hint(&p)
            )),
        }
    }
    problems.sort();
    problems.dedup();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(BuildError::Emulation { problems })
    }
}
