//! Steps that only change the image config (ENV, LABEL, USER, EXPOSE,
//! VOLUME, STOPSIGNAL, SHELL, CMD, ENTRYPOINT, HEALTHCHECK, ONBUILD), with
//! docker's rules: a relative WORKDIR is relative to the previous one,
//! EXPOSE defaults to tcp, ENTRYPOINT clears a CMD inherited from the base.

use crate::fsutil::clean_abs;
use crate::image::config::{Healthcheck, RunConfig};
use crate::plan::Op;

/// Applies a metadata-only op; returns false if `op` is not one.
/// `cmd_set_here` tracks whether CMD was set in this stage (for ENTRYPOINT).
pub fn apply(c: &mut RunConfig, op: &Op, cmd_set_here: &mut bool) -> bool {
    match op {
        Op::Env(pairs) => pairs.iter().for_each(|(k, v)| c.env_set(k, v)),
        Op::Label(pairs) => {
            for (k, v) in pairs {
                c.labels.retain(|(lk, _)| lk != k);
                c.labels.push((k.clone(), v.clone()));
            }
        }
        Op::User(u) => c.user = Some(u.clone()),
        Op::Expose(ports) => {
            for p in ports {
                let p = if p.contains('/') {
                    p.to_ascii_lowercase()
                } else {
                    format!("{p}/tcp")
                };
                if !c.exposed_ports.contains(&p) {
                    c.exposed_ports.push(p);
                }
            }
        }
        Op::Volume(v) => {
            for x in v {
                if !c.volumes.contains(x) {
                    c.volumes.push(x.clone());
                }
            }
        }
        Op::StopSignal(s) => c.stop_signal = Some(s.clone()),
        Op::Shell(s) => c.shell = Some(s.clone()),
        Op::Cmd(argv) => {
            c.cmd = Some(argv.clone());
            *cmd_set_here = true;
        }
        Op::Entrypoint(argv) => {
            c.entrypoint = Some(argv.clone());
            if !*cmd_set_here {
                c.cmd = None;
            }
        }
        Op::Healthcheck {
            test,
            durations,
            retries,
        } => {
            c.healthcheck = Some(Healthcheck {
                test: test.clone(),
                interval: durations[0],
                timeout: durations[1],
                start_period: durations[2],
                start_interval: durations[3],
                retries: *retries,
            });
        }
        Op::Onbuild(t) => c.on_build.push(t.clone()),
        Op::Maintainer(_) | Op::Nothing => {}
        Op::Run { .. } | Op::Copy { .. } | Op::Workdir(_) => return false,
    }
    true
}

/// The new working directory after `WORKDIR w`.
pub fn workdir(c: &RunConfig, w: &str) -> String {
    if w.starts_with('/') {
        clean_abs(w)
    } else {
        clean_abs(&format!("{}/{w}", c.working_dir.as_deref().unwrap_or("/")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_rules() {
        let mut c = RunConfig {
            cmd: Some(vec!["bash".into()]),
            ..RunConfig::default()
        };
        let mut here = false;
        apply(
            &mut c,
            &Op::Expose(vec!["80".into(), "53/UDP".into(), "80/tcp".into()]),
            &mut here,
        );
        assert_eq!(c.exposed_ports, ["80/tcp", "53/udp"]);
        apply(&mut c, &Op::Entrypoint(vec!["/e".into()]), &mut here);
        assert_eq!(c.cmd, None, "ENTRYPOINT clears an inherited CMD");
        apply(&mut c, &Op::Cmd(vec!["x".into()]), &mut here);
        apply(&mut c, &Op::Entrypoint(vec!["/f".into()]), &mut here);
        assert_eq!(
            c.cmd,
            Some(vec!["x".into()]),
            "but not one set in this stage"
        );
        apply(&mut c, &Op::Env(vec![("A".into(), "1".into())]), &mut here);
        apply(&mut c, &Op::Env(vec![("A".into(), "2".into())]), &mut here);
        assert_eq!(c.env, ["A=2"]);
        c.working_dir = Some("/a".into());
        assert_eq!(workdir(&c, "b/../c"), "/a/c");
        assert_eq!(workdir(&c, "/x/"), "/x");
    }
}
