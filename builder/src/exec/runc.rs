//! The OCI runtime backend: a bundle (`config.json` made with oci-spec's
//! runtime types, plus `hosts` and `resolv.conf`) and `runc run`. runc is
//! the default because it works on this kind of host (cgroup v1/hybrid),
//! where crun does not; `MXBUILD_RUNTIME=crun` picks another binary with the
//! same command line.
//!
//! Containers get ids `mxbuild-<pid>-<n>`; [`Runc::reap_stale`] kills and
//! deletes containers whose mxbuild process is gone (a build killed with
//! SIGKILL), so nothing keeps running or holding mounts.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;

use oci_spec::runtime::{
    Capability, LinuxCapabilities, LinuxDeviceCgroup, LinuxNamespaceType, Mount, PosixRlimit, Spec,
};

/// Docker's default capability set: what build steps (package managers,
/// `chown`, `useradd`) expect root to be able to do.
const CAPS: &[Capability] = &[
    Capability::Chown,
    Capability::DacOverride,
    Capability::Fsetid,
    Capability::Fowner,
    Capability::Mknod,
    Capability::NetRaw,
    Capability::Setgid,
    Capability::Setuid,
    Capability::Setfcap,
    Capability::Setpcap,
    Capability::NetBindService,
    Capability::SysChroot,
    Capability::Kill,
    Capability::AuditWrite,
];

use super::{ExecError, MountSpec, Network, RunSpec, Runtime};

/// runc (or a compatible runtime) with a private state directory.
#[derive(Debug, Clone)]
pub struct Runc {
    binary: PathBuf,
    state: PathBuf,
}

impl Runc {
    /// Finds the runtime binary (`$MXBUILD_RUNTIME`, else `runc`) and keeps
    /// its state under `state`.
    pub fn find(state: &Path) -> Result<Runc, String> {
        let name = std::env::var("MXBUILD_RUNTIME").unwrap_or_else(|_| "runc".to_string());
        let binary = which::which(&name).map_err(|_| {
            format!("the OCI runtime {name:?} is not installed; hint: apt-get install runc (scripts/setup.sh does)")
        })?;
        std::fs::create_dir_all(state).map_err(|e| format!("{}: {e}", state.display()))?;
        Ok(Runc {
            binary,
            state: state.to_path_buf(),
        })
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new(&self.binary);
        c.arg("--root").arg(&self.state);
        c
    }

    /// Kills and deletes containers left by mxbuild processes that no longer exist.
    pub fn reap_stale(&self) -> usize {
        let Ok(out) = self.cmd().args(["list", "-q"]).output() else {
            return 0;
        };
        let mut n = 0;
        for id in String::from_utf8_lossy(&out.stdout).lines() {
            let pid = id
                .strip_prefix("mxbuild-")
                .and_then(|r| r.split('-').next())
                .and_then(|p| p.parse::<i32>().ok());
            let alive = pid.is_some_and(|p| Path::new(&format!("/proc/{p}")).exists());
            if !alive {
                let _ = self.cmd().args(["kill", "--all", id, "KILL"]).output();
                let _ = self.cmd().args(["delete", "--force", id]).output();
                n += 1;
            }
        }
        n
    }
}

fn bind(dest: &str, source: &Path, readonly: bool) -> Result<Mount, ExecError> {
    let mut opts = vec!["rbind".to_string(), "rprivate".to_string()];
    if readonly {
        opts.push("ro".to_string());
    }
    let mut m = Mount::default();
    m.set_destination(PathBuf::from(dest))
        .set_typ(Some("bind".to_string()))
        .set_source(Some(source.to_path_buf()))
        .set_options(Some(opts));
    Ok(m)
}

/// The runtime config for `spec`.
pub fn config(spec: &RunSpec) -> Result<Spec, ExecError> {
    let mut s = Spec::default();
    s.set_hostname(Some(spec.hostname.clone()));
    if let Some(root) = s.root_mut() {
        root.set_path(spec.rootfs.clone()).set_readonly(Some(false));
    }
    if let Some(p) = s.process_mut() {
        p.set_args(Some(spec.args.clone()))
            .set_env(Some(spec.env.clone()))
            .set_cwd(PathBuf::from(&spec.cwd))
            .set_no_new_privileges(Some(false))
            // Inherit mxbuild's limits: hard limits here cannot be raised, and
            // builds (cargo, make -j) need more than the spec's default 1024.
            .set_rlimits(Some(Vec::<PosixRlimit>::new()));
        let caps: oci_spec::runtime::Capabilities = CAPS.iter().copied().collect();
        let mut lc = LinuxCapabilities::default();
        lc.set_bounding(Some(caps.clone()))
            .set_effective(Some(caps.clone()))
            .set_permitted(Some(caps))
            .set_inheritable(None)
            .set_ambient(None);
        p.set_capabilities(Some(lc));
        let u = p.user_mut();
        u.set_uid(spec.uid).set_gid(spec.gid).set_additional_gids(
            if spec.additional_gids.is_empty() {
                None
            } else {
                Some(spec.additional_gids.clone())
            },
        );
    }
    let mut mounts: Vec<Mount> = s
        .mounts()
        .clone()
        .unwrap_or_default()
        .into_iter()
        // cgroup v1 hosts: a read-only cgroup mount gains nothing for a build step.
        .filter(|m| m.destination() != Path::new("/sys/fs/cgroup"))
        .collect();
    mounts.push(bind(
        "/etc/resolv.conf",
        &spec.bundle.join("resolv.conf"),
        true,
    )?);
    mounts.push(bind("/etc/hosts", &spec.bundle.join("hosts"), true)?);
    for m in &spec.mounts {
        mounts.push(match m {
            MountSpec::Bind {
                source,
                destination,
                readonly,
            } => bind(destination, source, *readonly)?,
            MountSpec::Tmpfs { destination, size } => {
                let mut t = Mount::default();
                let mut opts = vec![
                    "nosuid".to_string(),
                    "nodev".to_string(),
                    "mode=1777".to_string(),
                ];
                if *size > 0 {
                    opts.push(format!("size={size}"));
                }
                t.set_destination(PathBuf::from(destination))
                    .set_typ(Some("tmpfs".to_string()))
                    .set_source(Some(PathBuf::from("tmpfs")))
                    .set_options(Some(opts));
                t
            }
        });
    }
    s.set_mounts(Some(mounts));
    if let Some(linux) = s.linux_mut() {
        if let Some(ns) = linux.namespaces_mut() {
            ns.retain(|n| {
                n.typ() != LinuxNamespaceType::Cgroup
                    && (spec.network == Network::None || n.typ() != LinuxNamespaceType::Network)
            });
        }
        let mut deny = LinuxDeviceCgroup::default();
        deny.set_allow(false).set_access(Some("rwm".to_string()));
        if let Some(r) = linux.resources_mut() {
            r.set_devices(Some(vec![deny]));
        }
    }
    Ok(s)
}

fn hosts(hostname: &str) -> String {
    format!(
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t{hostname}\n"
    )
}

impl Runtime for Runc {
    fn run(&self, spec: &RunSpec, log: &mut dyn FnMut(&[u8])) -> Result<i32, ExecError> {
        std::fs::create_dir_all(&spec.bundle)?;
        let resolv = std::fs::read("/etc/resolv.conf")
            .unwrap_or_else(|_| b"nameserver 127.0.0.1\n".to_vec());
        std::fs::write(spec.bundle.join("resolv.conf"), resolv)?;
        std::fs::write(spec.bundle.join("hosts"), hosts(&spec.hostname))?;
        config(spec)?
            .save(spec.bundle.join("config.json"))
            .map_err(|e| ExecError(format!("writing config.json: {e}")))?;
        let mut cmd = self.cmd();
        cmd.args(["run", "--bundle"])
            .arg(&spec.bundle)
            .arg(&spec.id)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .map_err(|e| ExecError(format!("cannot start {}: {e}", self.binary.display())))?;
        let (tx, rx) = mpsc::channel::<Vec<u8>>();
        let mut readers = Vec::new();
        for mut r in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let tx = tx.clone();
            readers.push(std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                while let Ok(n) = r.read(&mut buf) {
                    if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                        break;
                    }
                }
            }));
        }
        drop(tx);
        for chunk in rx {
            log(&chunk);
        }
        for r in readers {
            let _ = r.join();
        }
        let status = child.wait()?;
        let _ = self.cmd().args(["delete", "--force", &spec.id]).output();
        use std::os::unix::process::ExitStatusExt;
        Ok(status
            .code()
            .unwrap_or_else(|| 128 + status.signal().unwrap_or(0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_has_user_env_mounts_and_namespaces() {
        let spec = RunSpec {
            id: "mxbuild-1-0".into(),
            rootfs: "/r".into(),
            bundle: "/b".into(),
            args: vec!["/bin/sh".into(), "-c".into(), "true".into()],
            env: vec!["A=1".into()],
            cwd: "/w".into(),
            uid: 1000,
            gid: 100,
            additional_gids: vec![44],
            hostname: "h".into(),
            mounts: vec![MountSpec::Tmpfs {
                destination: "/tmp".into(),
                size: 0,
            }],
            network: Network::Host,
        };
        let v = serde_json::to_value(config(&spec).unwrap()).unwrap();
        assert_eq!(v["process"]["user"]["uid"], 1000);
        assert_eq!(v["process"]["user"]["additionalGids"][0], 44);
        assert_eq!(v["process"]["cwd"], "/w");
        assert_eq!(v["root"]["path"], "/r");
        let caps = v["process"]["capabilities"]["bounding"].as_array().unwrap();
        assert!(caps.iter().any(|c| c == "CAP_CHOWN") && caps.iter().any(|c| c == "CAP_SETUID"));
        assert!(!caps.iter().any(|c| c == "CAP_SYS_ADMIN"));
        let ns: Vec<&str> = v["linux"]["namespaces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["type"].as_str().unwrap())
            .collect();
        assert!(!ns.contains(&"network") && ns.contains(&"mount") && ns.contains(&"pid"));
        let dests: Vec<&str> = v["mounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["destination"].as_str().unwrap())
            .collect();
        for d in [
            "/proc",
            "/dev",
            "/sys",
            "/dev/shm",
            "/etc/resolv.conf",
            "/etc/hosts",
            "/tmp",
        ] {
            assert!(dests.contains(&d), "{d}");
        }
        let none = RunSpec {
            network: Network::None,
            ..spec
        };
        let v = serde_json::to_value(config(&none).unwrap()).unwrap();
        assert!(
            v["linux"]["namespaces"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n["type"] == "network")
        );
    }
}
