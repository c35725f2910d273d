//! Running a command in a root filesystem, and the kernel side effects
//! around it (overlay mounts, binfmt_misc). Everything with a side effect
//! is behind [`Runtime`], so the build logic above can be tested with a
//! recording fake. Knows nothing of Dockerfiles or plans.

pub mod binfmt;
pub mod effects;
#[cfg(test)]
pub mod fake;
pub mod insecure;
pub mod mounts;
pub mod netns;
pub mod private_tmpfs;
pub mod qemu_cpu;
pub mod run_extras;
pub mod runc;
pub mod seccomp;
pub mod users;

use std::path::PathBuf;

/// A mount inside the container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountSpec {
    /// A bind mount of a host path.
    Bind {
        /// Host path.
        source: PathBuf,
        /// Path in the container.
        destination: String,
        /// Read-only.
        readonly: bool,
    },
    /// A fresh tmpfs.
    Tmpfs {
        /// Path in the container.
        destination: String,
        /// Size limit in bytes (0 = kernel default).
        size: u64,
    },
    /// A secret file (`RUN --mount=type=secret`): the runtime writes it to
    /// memory only (never to the store's disk) and mounts it read-only.
    Secret {
        /// The secret's bytes.
        content: SecretBytes,
        /// Path in the container.
        destination: String,
        /// File mode.
        mode: u32,
        /// Owner.
        uid: u32,
        /// Group.
        gid: u32,
    },
}

/// Secret content; `Debug` does not print it, so it cannot end up in a log.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretBytes(pub Vec<u8>);

impl std::fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretBytes({} bytes)", self.0.len())
    }
}

/// Network access of a RUN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network {
    /// BuildKit's default: a network namespace of its own with outbound
    /// access (through slirp4netns), nothing of the host's loopback.
    Sandbox,
    /// The host's network namespace (needs the `network.host` entitlement).
    Host,
    /// No network at all (loopback only).
    None,
}

impl Network {
    /// BuildKit's name of the mode (`default`, `host`, `none`).
    pub fn name(self) -> &'static str {
        match self {
            Network::Sandbox => "default",
            Network::Host => "host",
            Network::None => "none",
        }
    }
}

/// Privileges of a RUN (`RUN --security=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Docker's default capabilities, the default seccomp profile, no devices.
    Sandbox,
    /// Privileged, as BuildKit's insecure mode: every capability, no
    /// seccomp, all devices (needs the `security.insecure` entitlement).
    Insecure,
}

impl Security {
    /// BuildKit's name of the mode (`sandbox`, `insecure`).
    pub fn name(self) -> &'static str {
        match self {
            Security::Sandbox => "sandbox",
            Security::Insecure => "insecure",
        }
    }
}

/// One process to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSpec {
    /// Unique id (also the runtime's container id).
    pub id: String,
    /// The (mounted) root filesystem.
    pub rootfs: PathBuf,
    /// Scratch directory for the bundle (config.json, resolv.conf, hosts).
    pub bundle: PathBuf,
    /// argv.
    pub args: Vec<String>,
    /// Environment `K=V`.
    pub env: Vec<String>,
    /// Working directory (absolute).
    pub cwd: String,
    /// User id.
    pub uid: u32,
    /// Group id.
    pub gid: u32,
    /// Supplementary groups.
    pub additional_gids: Vec<u32>,
    /// Hostname.
    pub hostname: String,
    /// Extra mounts (cache, bind, secret, tmpfs).
    pub mounts: Vec<MountSpec>,
    /// Network.
    pub network: Network,
    /// Privileges.
    pub security: Security,
    /// `--add-host`, `--ulimit`, `--shm-size` of the build.
    pub extras: run_extras::RunExtras,
    /// A static init (host path) to run as PID 1 in front of `args`: for
    /// emulated steps, whose program must not be PID 1 (see
    /// [`qemu_cpu::init_program`]).
    pub init: Option<PathBuf>,
}

/// Why a run could not happen (a non-zero exit is not an error here).
#[derive(Debug)]
pub struct ExecError(pub String);

impl std::fmt::Display for ExecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::error::Error for ExecError {}

impl From<std::io::Error> for ExecError {
    fn from(e: std::io::Error) -> Self {
        ExecError(e.to_string())
    }
}

/// Runs processes in root filesystems.
pub trait Runtime: Send + Sync {
    /// Runs `spec` to completion, feeding its combined output to `log` as it
    /// comes; returns the exit code (128+N for a signal).
    fn run(&self, spec: &RunSpec, log: &mut dyn FnMut(&[u8])) -> Result<i32, ExecError>;
}
