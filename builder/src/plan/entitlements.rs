//! Entitlements (`--allow`), as buildx names them: the person running the
//! build grants a Dockerfile more than the sandbox. `network.host` lets RUN
//! steps share this machine's network (its 127.0.0.1 services too);
//! `security.insecure` lets `RUN --security=insecure` steps run privileged.
//! Without them such steps are refused when the build is planned, before
//! anything is pulled or run, at the instruction that asks.

use crate::exec::Network;

/// What `--allow` granted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Entitlements {
    /// `network.host`.
    pub network_host: bool,
    /// `security.insecure`.
    pub security_insecure: bool,
}

impl Entitlements {
    /// Parses `--allow` values: repeatable, each comma-separated.
    pub fn parse(items: &[String]) -> Result<Entitlements, String> {
        let mut e = Entitlements::default();
        for item in items {
            for name in item.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                match name {
                    "network.host" => e.network_host = true,
                    "security.insecure" => e.security_insecure = true,
                    n if n == "device" || n.starts_with("device=") => {
                        return Err(format!(
                            "--allow {n}: devices are not supported by mxbuild\nhint: RUN --security=insecure with --allow security.insecure sees every device"
                        ));
                    }
                    "buildx.local.delete" => {
                        return Err(
                            "--allow buildx.local.delete: mxbuild never deletes files in a type=local destination, so there is nothing to allow\nhint: drop it".to_string(),
                        );
                    }
                    other => {
                        return Err(format!(
                            "--allow: unknown entitlement {other}\nhint: use network.host or security.insecure"
                        ));
                    }
                }
            }
        }
        Ok(e)
    }
}

/// Parses the `--network` of `mxbuild build`/`plan` (BuildKit's names).
pub fn parse_network(v: &str) -> Result<Network, String> {
    match v {
        "default" => Ok(Network::Sandbox),
        "none" => Ok(Network::None),
        "host" => Ok(Network::Host),
        other => Err(format!(
            "--network {other:?} is not supported\nhint: use default, none or host"
        )),
    }
}

/// The network a RUN gets: its own `--network` when it names one, else the
/// build's; the build's `none` always wins, so `--network none` is a
/// guarantee whatever the Dockerfile says.
pub fn run_network(build: Network, run: Option<&str>) -> Network {
    match (build, run) {
        (Network::None, _) => Network::None,
        (_, Some("none")) => Network::None,
        (_, Some("host")) => Network::Host,
        (b, _) => b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_is_repeatable_and_comma_separated() {
        let e = Entitlements::parse(&["network.host".into()]).unwrap();
        assert!(e.network_host && !e.security_insecure);
        let e =
            Entitlements::parse(&["network.host,security.insecure".into(), String::new()]).unwrap();
        assert!(e.network_host && e.security_insecure);
        let e = Entitlements::parse(&["security.insecure".into(), "network.host".into()]).unwrap();
        assert!(e.network_host && e.security_insecure);
        let bad = Entitlements::parse(&["network.hots".into()]).unwrap_err();
        assert!(bad.contains("unknown entitlement network.hots") && bad.contains("hint:"));
        assert!(
            Entitlements::parse(&["device=/dev/kvm".into()])
                .unwrap_err()
                .contains("not supported")
        );
    }

    #[test]
    fn build_none_beats_the_run_and_the_run_beats_the_default() {
        use Network::*;
        assert_eq!(run_network(None, Some("host")), None);
        assert_eq!(run_network(None, Some("default")), None);
        assert_eq!(run_network(Sandbox, Some("host")), Host);
        assert_eq!(run_network(Sandbox, Some("none")), None);
        assert_eq!(run_network(Sandbox, Option::None), Sandbox);
        assert_eq!(run_network(Host, Some("none")), None);
        assert_eq!(run_network(Host, Some("default")), Host);
        assert_eq!(run_network(Host, Option::None), Host);
        assert_eq!(parse_network("default"), Ok(Sandbox));
        assert!(parse_network("bridge").unwrap_err().contains("hint"));
    }
}
