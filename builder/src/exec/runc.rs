//! The OCI runtime backend: a bundle (`config.json` made with oci-spec's
//! runtime types, plus `hosts` and `resolv.conf`) and `runc run`. runc is
//! the default because it works on this kind of host (cgroup v1/hybrid),
//! where crun does not; `MXBUILD_RUNTIME=crun` picks another binary with the
//! same command line.
//!
//! Every step is sandboxed unless the build allowed otherwise: Docker's
//! default capabilities and seccomp profile ([`super::seccomp`]), no
//! devices, and a network namespace of its own with outbound access
//! ([`super::netns`]). Files only a step may see (secrets, the network
//! namespace) live on the build's private tmpfs ([`super::private_tmpfs`]).
//!
//! Containers get ids `mxbuild-<pid>-<n>`; [`Runc::reap_stale`] kills and
//! deletes containers whose mxbuild process is gone (a build killed with
//! SIGKILL), so nothing keeps running or holding mounts, and removes what
//! such a build left of its sandboxes (slirp4netns processes, directories).

use std::io::Read;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, mpsc};

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

use super::netns::{self, SandboxNet};
use super::private_tmpfs::{self, PrivateTmpfs};
use super::run_extras::{self, RunExtras};
use super::{ExecError, MountSpec, Network, RunSpec, Runtime, Security, insecure, seccomp};

/// runc (or a compatible runtime) with a private state directory.
#[derive(Debug, Clone)]
pub struct Runc {
    binary: PathBuf,
    state: PathBuf,
    sandbox: Option<Sandbox>,
}

/// Where sandboxed steps keep their private files.
#[derive(Debug, Clone)]
struct Sandbox {
    /// On disk (the store): the tmpfs mount points and slirp4netns records.
    base: PathBuf,
    /// This process's private tmpfs under `base`.
    tmpfs: Arc<PrivateTmpfs>,
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
            sandbox: None,
        })
    }

    /// Mounts the private tmpfs that secret files and network namespaces of
    /// steps live on, at `<base>/<pid>`. Call it only inside the build's
    /// private mount namespace. Without it, steps with secrets or the
    /// default network are refused.
    pub fn with_sandbox(mut self, base: &Path) -> Result<Runc, String> {
        let tmpfs = PrivateTmpfs::mount(base).map_err(|e| {
            format!("{e}\nhint: mxbuild build needs root (or CAP_SYS_ADMIN) for its private tmpfs")
        })?;
        self.sandbox = Some(Sandbox {
            base: base.to_path_buf(),
            tmpfs: Arc::new(tmpfs),
        });
        Ok(self)
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new(&self.binary);
        c.arg("--root").arg(&self.state);
        c
    }

    /// Kills and deletes containers left by mxbuild processes that no
    /// longer exist, then (with [`Runc::with_sandbox`]) their slirp4netns
    /// processes and private-tmpfs mount points. Returns the number of
    /// containers.
    pub fn reap_stale(&self) -> usize {
        let n = self.reap_containers();
        if let Some(sb) = &self.sandbox {
            sweep_sandboxes(&sb.base);
        }
        n
    }

    fn reap_containers(&self) -> usize {
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

/// Removes what builds that are gone left of their sandboxes under `base`
/// (`<store>/sandbox`): slirp4netns processes still running, and the mount
/// points of their private tmpfs. Run containers of dead builds are reaped
/// first ([`Runc::reap_stale`]).
pub fn sweep_sandboxes(base: &Path) {
    netns::reap_stale(base);
    private_tmpfs::sweep_stale(base);
}

fn bind(dest: &str, source: &Path, extra: &[&str]) -> Mount {
    let mut opts = vec!["rbind".to_string(), "rprivate".to_string()];
    opts.extend(extra.iter().map(|o| o.to_string()));
    let mut m = Mount::default();
    m.set_destination(PathBuf::from(dest))
        .set_typ(Some("bind".to_string()))
        .set_source(Some(source.to_path_buf()))
        .set_options(Some(opts));
    m
}

/// Where the init of an emulated step is mounted in its container.
const INIT_PATH: &str = "/dev/.mxbuild-init";

/// The runtime config for `spec`, whose bundle (`hosts`, `resolv.conf`) is
/// `bundle`. `mounts` are the spec's mounts with secrets already written to
/// files (`PrivateRun::secrets`); `netns` is the namespace file of a
/// [`Network::Sandbox`] step.
pub fn config(
    spec: &RunSpec,
    bundle: &Path,
    mounts: &[MountSpec],
    netns: Option<&Path>,
) -> Result<Spec, ExecError> {
    let mut s = Spec::default();
    s.set_hostname(Some(spec.hostname.clone()));
    if let Some(root) = s.root_mut() {
        root.set_path(spec.rootfs.clone()).set_readonly(Some(false));
    }
    let args = match &spec.init {
        Some(_) => [INIT_PATH.to_string(), "--".to_string()]
            .into_iter()
            .chain(spec.args.iter().cloned())
            .collect(),
        None => spec.args.clone(),
    };
    if let Some(p) = s.process_mut() {
        p.set_args(Some(args))
            .set_env(Some(spec.env.clone()))
            .set_cwd(PathBuf::from(&spec.cwd))
            .set_no_new_privileges(Some(false))
            // Inherit mxbuild's limits (hard limits here cannot be raised, and
            // builds like cargo or make -j need more than the spec's default
            // 1024), except those `--ulimit` sets, as BuildKit does.
            .set_rlimits(Some(rlimits(&spec.extras)?));
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
    let mut all: Vec<Mount> = s
        .mounts()
        .clone()
        .unwrap_or_default()
        .into_iter()
        // cgroup v1 hosts: a read-only cgroup mount gains nothing for a build step.
        .filter(|m| m.destination() != Path::new("/sys/fs/cgroup"))
        // `--shm-size`: BuildKit mounts a tmpfs of that size at /dev/shm.
        .map(|m| with_shm_size(m, spec.extras.shm_size))
        .collect();
    all.push(bind(
        "/etc/resolv.conf",
        &bundle.join("resolv.conf"),
        &["ro"],
    ));
    all.push(bind("/etc/hosts", &bundle.join("hosts"), &["ro"]));
    if let Some(init) = &spec.init {
        // Under /dev, a tmpfs of the runtime's: never part of a layer.
        all.push(bind(INIT_PATH, init, &["ro"]));
    }
    for m in mounts {
        all.push(step_mount(m)?);
    }
    s.set_mounts(Some(all));
    if let Some(linux) = s.linux_mut() {
        if let Some(ns) = linux.namespaces_mut() {
            ns.retain(|n| {
                n.typ() != LinuxNamespaceType::Cgroup
                    && (spec.network != Network::Host || n.typ() != LinuxNamespaceType::Network)
            });
            if let Some(path) = netns {
                for n in ns.iter_mut() {
                    if n.typ() == LinuxNamespaceType::Network {
                        n.set_path(Some(path.to_path_buf()));
                    }
                }
            }
        }
        if spec.network == Network::Sandbox && netns.is_none() {
            return Err(ExecError(
                "internal: a sandboxed network needs its namespace file".to_string(),
            ));
        }
        let mut deny = LinuxDeviceCgroup::default();
        deny.set_allow(false).set_access(Some("rwm".to_string()));
        if let Some(r) = linux.resources_mut() {
            r.set_devices(Some(vec![deny]));
        }
        linux.set_seccomp(Some(seccomp::default_profile(CAPS)?));
    }
    if spec.security == Security::Insecure {
        insecure::apply(&mut s);
    }
    Ok(s)
}

/// The runtime mount for one of the step's mounts.
fn step_mount(m: &MountSpec) -> Result<Mount, ExecError> {
    Ok(match m {
        MountSpec::Bind {
            source,
            destination,
            readonly,
        } => bind(destination, source, if *readonly { &["ro"] } else { &[] }),
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
        MountSpec::Secret { .. } => {
            return Err(ExecError(
                "internal: a secret reached the runtime config without its file".to_string(),
            ));
        }
    })
}

/// The step's `/etc/hosts`: BuildKit's lines, then each `--add-host`.
fn hosts(hostname: &str, extras: &RunExtras) -> String {
    let mut s = format!(
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t{hostname}\n"
    );
    for (h, ip) in &extras.hosts {
        s.push_str(&format!("{ip}\t{h}\n"));
    }
    s
}

/// The rlimits `--ulimit` sets (none: every limit inherited).
fn rlimits(extras: &RunExtras) -> Result<Vec<PosixRlimit>, ExecError> {
    extras
        .ulimits
        .iter()
        .map(|u| {
            let typ = run_extras::rlimit_type(&u.name)
                .parse()
                .map_err(|_| ExecError(format!("--ulimit {}: not a limit runc knows", u.name)))?;
            oci_spec::runtime::PosixRlimitBuilder::default()
                .typ::<oci_spec::runtime::PosixRlimitType>(typ)
                .soft(run_extras::rlimit_value(u.soft))
                .hard(run_extras::rlimit_value(u.hard))
                .build()
                .map_err(|e| ExecError(format!("--ulimit {}: {e}", u.name)))
        })
        .collect()
}

/// The default `/dev/shm` mount with `size=` set to `bytes` (0: as is).
fn with_shm_size(mut m: Mount, bytes: u64) -> Mount {
    if bytes == 0 || m.destination() != Path::new("/dev/shm") {
        return m;
    }
    let mut opts: Vec<String> = m
        .options()
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter(|o| !o.starts_with("size="))
        .collect();
    opts.push(format!("size={bytes}"));
    m.set_options(Some(opts));
    m
}

/// What one run keeps on the private tmpfs (`<tmpfs>/<container id>/`):
/// its bundle (config.json holds the environment, where `env=` secrets
/// are), its secret files and its network namespace file. Removed on drop.
#[derive(Debug)]
struct PrivateRun {
    dir: PathBuf,
}

impl PrivateRun {
    fn new(sandbox: &Sandbox, id: &str) -> Result<PrivateRun, ExecError> {
        let dir = sandbox.tmpfs.path().join(id);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
        Ok(PrivateRun { dir })
    }

    /// `mounts` with each secret written to a file here and bound read-only.
    fn secrets(&self, mounts: &[MountSpec]) -> Result<Vec<MountSpec>, ExecError> {
        let mut out = Vec::with_capacity(mounts.len());
        for (n, m) in mounts.iter().enumerate() {
            let MountSpec::Secret {
                content,
                destination,
                mode,
                uid,
                gid,
            } = m
            else {
                out.push(m.clone());
                continue;
            };
            let f = self.dir.join(format!("secret-{n}"));
            std::fs::write(&f, &content.0)?;
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(*mode))?;
            std::os::unix::fs::lchown(&f, Some(*uid), Some(*gid))?;
            out.push(MountSpec::Bind {
                source: f,
                destination: destination.clone(),
                readonly: true,
            });
        }
        Ok(out)
    }
}

impl Drop for PrivateRun {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Runtime for Runc {
    fn run(&self, spec: &RunSpec, log: &mut dyn FnMut(&[u8])) -> Result<i32, ExecError> {
        let has_secrets = spec
            .mounts
            .iter()
            .any(|m| matches!(m, MountSpec::Secret { .. }));
        // With the build's private tmpfs, everything of the run goes there;
        // without it (no sandbox set up) only steps that need nothing private run.
        let private = match &self.sandbox {
            Some(sb) => Some((sb, PrivateRun::new(sb, &spec.id)?)),
            None if has_secrets || spec.network == Network::Sandbox => {
                return Err(ExecError(
                    "internal: a step with secrets or its own network needs the build's private tmpfs (Runc::with_sandbox)"
                        .to_string(),
                ));
            }
            None => None,
        };
        let bundle = match &private {
            Some((_, p)) => p.dir.join("bundle"),
            None => spec.bundle.clone(),
        };
        std::fs::create_dir_all(&bundle)?;
        let mounts = match &private {
            Some((_, p)) => p.secrets(&spec.mounts)?,
            None => spec.mounts.clone(),
        };
        // Declared after `private`, so dropped (slirp4netns stopped, the
        // namespace unmounted) before the directory it lives in goes.
        let net = match (&private, spec.network) {
            (Some((sb, p)), Network::Sandbox) => {
                let slirp = which::which("slirp4netns").map_err(|_| {
                    ExecError(
                        "slirp4netns is not installed: RUN steps get their own network through it\nhint: apt-get install slirp4netns (scripts/setup.sh does), or build with --network none"
                            .to_string(),
                    )
                })?;
                Some(SandboxNet::start(&slirp, &p.dir.join("netns"), &sb.base)?)
            }
            _ => None,
        };
        let resolv = if spec.network == Network::Sandbox {
            format!("nameserver {}\n", netns::DNS).into_bytes()
        } else {
            std::fs::read("/etc/resolv.conf").unwrap_or_else(|_| b"nameserver 127.0.0.1\n".to_vec())
        };
        std::fs::write(bundle.join("resolv.conf"), resolv)?;
        std::fs::write(bundle.join("hosts"), hosts(&spec.hostname, &spec.extras))?;
        config(spec, &bundle, &mounts, net.as_ref().map(SandboxNet::path))?
            .save(bundle.join("config.json"))
            .map_err(|e| ExecError(format!("writing config.json: {e}")))?;
        let mut cmd = self.cmd();
        cmd.args(["run", "--bundle"])
            .arg(&bundle)
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
        drop(net);
        drop(private);
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
            security: Security::Sandbox,
            extras: RunExtras::default(),
            init: None,
        };
        let with_init = RunSpec {
            init: Some("/usr/bin/tini-static".into()),
            ..spec.clone()
        };
        let v = serde_json::to_value(config(&with_init, &spec.bundle, &spec.mounts, None).unwrap())
            .unwrap();
        assert_eq!(v["process"]["args"][0], "/dev/.mxbuild-init");
        assert_eq!(v["process"]["args"][1], "--");
        assert_eq!(v["process"]["args"][2], "/bin/sh");
        assert!(
            v["mounts"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["destination"] == "/dev/.mxbuild-init"
                    && m["source"] == "/usr/bin/tini-static")
        );
        let v =
            serde_json::to_value(config(&spec, &spec.bundle, &spec.mounts, None).unwrap()).unwrap();
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
        // Every sandboxed step gets the default seccomp profile.
        assert_eq!(v["linux"]["seccomp"]["defaultAction"], "SCMP_ACT_ERRNO");
        let none = RunSpec {
            network: Network::None,
            ..spec.clone()
        };
        let v =
            serde_json::to_value(config(&none, &none.bundle, &none.mounts, None).unwrap()).unwrap();
        let net = |v: &serde_json::Value| -> Option<serde_json::Value> {
            v["linux"]["namespaces"]
                .as_array()
                .unwrap()
                .iter()
                .find(|n| n["type"] == "network")
                .cloned()
        };
        // none: a new namespace of runc's own (only lo).
        assert!(net(&v).is_some_and(|n| n.get("path").is_none()));
        // default: the namespace slirp4netns serves, by path.
        let sandboxed = RunSpec {
            network: Network::Sandbox,
            ..spec.clone()
        };
        let v = serde_json::to_value(
            config(
                &sandboxed,
                &sandboxed.bundle,
                &sandboxed.mounts,
                Some(Path::new("/p/netns")),
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(net(&v).unwrap()["path"], "/p/netns");
        assert!(config(&sandboxed, &sandboxed.bundle, &sandboxed.mounts, None).is_err());
        // A secret must have been turned into a file first.
        let secret = vec![MountSpec::Secret {
            content: crate::exec::SecretBytes(b"s".to_vec()),
            destination: "/run/secrets/a".into(),
            mode: 0o400,
            uid: 0,
            gid: 0,
        }];
        assert!(config(&spec, &spec.bundle, &secret, None).is_err());
        // insecure: privileged, unfiltered.
        let insecure = RunSpec {
            security: Security::Insecure,
            ..spec
        };
        let v = serde_json::to_value(
            config(&insecure, &insecure.bundle, &insecure.mounts, None).unwrap(),
        )
        .unwrap();
        assert!(v["linux"]["seccomp"].is_null());
        let caps = v["process"]["capabilities"]["bounding"].as_array().unwrap();
        assert!(caps.iter().any(|c| c == "CAP_SYS_ADMIN"), "{caps:?}");
    }

    #[test]
    fn secret_debug_does_not_show_content() {
        let s = crate::exec::SecretBytes(b"hunter2".to_vec());
        assert_eq!(format!("{s:?}"), "SecretBytes(7 bytes)");
    }
}
