//! Shared helpers for xx's integration tests: requirement checks that SKIP
//! (or fail under MXBUILD_REQUIRE_ALL=1), scratch directories and throwaway
//! chroots and sandboxes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub use testkit::{TempDir, require};

/// Whether the tests run as root (needed for chroot).
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// A fresh scratch directory `xx-test-<tag>-…` under cargo's per-target
/// temp dir (the same filesystem as the built binary, so chroots can
/// hard-link it; see Chroot::new), removed when the test passes and kept
/// when it fails.
pub fn tmp(tag: &str) -> TempDir {
    testkit::temp_dir!(&format!("xx-test-{tag}"))
}

/// A root filesystem holding only the static `xx` binary, its helper
/// symlinks in /usr/bin, and the given files.
pub struct Chroot {
    pub dir: TempDir,
}

/// Puts the executable `from` at `to`: a hard link, not a copy, where it
/// can. Writing an executable while another test thread forks leaves the
/// write fd open in the child, and exec then fails with ETXTBSY ("Text
/// file busy").
pub fn link_or_copy(from: &Path, to: &Path) {
    if std::fs::hard_link(from, to).is_err() {
        std::fs::copy(from, to).unwrap();
    }
}

impl Chroot {
    pub fn new(tag: &str, files: &[(&str, &str)]) -> Chroot {
        let dir = tmp(tag);
        let bin = dir.path().join("usr/bin");
        std::fs::create_dir_all(&bin).unwrap();
        link_or_copy(Path::new(env!("CARGO_BIN_EXE_xx")), &bin.join("xx"));
        let status = Command::new(bin.join("xx"))
            .args(["install-links"])
            .arg(&bin)
            .status()
            .unwrap();
        assert!(status.success(), "xx install-links failed");
        for (rel, text) in files {
            let path = dir.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        Chroot { dir }
    }

    /// Runs `/usr/bin/<prog> args` inside the chroot with only `vars` (and PATH) set.
    pub fn run(&self, prog: &str, args: &[&str], vars: &[(&str, &str)]) -> Output {
        Command::new(chroot_program())
            .arg(self.dir.path())
            .arg(format!("/usr/bin/{prog}"))
            .args(args)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .envs(vars.iter().copied())
            .output()
            .unwrap()
    }

    /// Runs an absolute program inside the chroot.
    pub fn run_abs(&self, prog: &str, args: &[&str]) -> Output {
        Command::new(chroot_program())
            .arg(self.dir.path())
            .arg(prog)
            .args(args)
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .output()
            .unwrap()
    }

    /// Runs a /bin/sh script inside the chroot (which must have a shell).
    pub fn sh(&self, script: &str, vars: &[(&str, &str)]) -> Output {
        Command::new(chroot_program())
            .arg(self.dir.path())
            .args(["/bin/sh", "-c", script])
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .envs(vars.iter().copied())
            .output()
            .unwrap()
    }

    /// Like `run`, but asserts success and returns trimmed stdout.
    pub fn stdout(&self, prog: &str, args: &[&str], vars: &[(&str, &str)]) -> String {
        let out = self.run(prog, args, vars);
        assert!(
            out.status.success(),
            "{prog} {args:?} with {vars:?} failed: {:?}\nstdout: {}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim_end().to_string()
    }
}

/// The `chroot` program, found on the test process's PATH (the child gets a
/// minimal PATH, which Command would otherwise search instead).
fn chroot_program() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .map(|dir| dir.join("chroot"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("chroot"))
}

/// The repository's top directory.
pub fn repo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A cached debootstrapped Debian bookworm root for `arch` with `packages`
/// (scripts/base-rootfs.sh), or `None` after `require` said why not.
pub fn base_rootfs(arch: &str, packages: &[&str]) -> Option<PathBuf> {
    if !require(is_root(), "debootstrapped root filesystems need root") {
        return None;
    }
    let out = Command::new(repo_dir().join("scripts/base-rootfs.sh"))
        .arg(arch)
        .args(packages)
        .output()
        .unwrap();
    let ok = out.status.success();
    let why = format!(
        "scripts/base-rootfs.sh {arch} {packages:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    if !require(ok, &why) {
        return None;
    }
    Some(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// The host's TLS trust settings (standard variable names), passed into
/// sandboxes so tools inside trust what the host trusts.
fn tls_env() -> Vec<(String, String)> {
    [
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "CURL_CA_BUNDLE",
        "REQUESTS_CA_BUNDLE",
        "PIP_CERT",
        "CARGO_HTTP_CAINFO",
    ]
    .iter()
    .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
    .collect()
}

/// Whether QEMU handlers with the F flag are registered for these binfmt names.
pub fn binfmt_ready(names: &[&str]) -> bool {
    names.iter().all(|n| {
        std::fs::read_to_string(format!("/proc/sys/fs/binfmt_misc/qemu-{n}"))
            .map(|s| {
                s.starts_with("enabled")
                    && s.lines()
                        .any(|l| l.starts_with("flags:") && l.contains('F'))
            })
            .unwrap_or(false)
    })
}

/// A throwaway writable view of a cached root filesystem: an overlay whose
/// lower layer is the cache (never modified) and whose upper layer lives in a
/// temp dir. Each `run` mounts it in a private mount namespace (with /dev,
/// /proc and the host's resolv.conf), chroots and runs a script; the mounts
/// vanish with the namespace, so nothing is left mounted even on a panic.
pub struct Sandbox {
    lower: PathBuf,
    dir: TempDir,
}

impl Sandbox {
    /// A sandbox over `lower` with the static xx and its links in /usr/bin.
    pub fn new(tag: &str, lower: &Path) -> Sandbox {
        let dir = tmp(tag);
        for d in ["upper/usr/bin", "work", "merged"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        let bin = dir.path().join("upper/usr/bin");
        let exe = Path::new(env!("CARGO_BIN_EXE_xx"));
        if std::fs::hard_link(exe, bin.join("xx")).is_err() {
            std::fs::copy(exe, bin.join("xx")).unwrap();
        }
        let status = Command::new(bin.join("xx"))
            .arg("install-links")
            .arg(&bin)
            .status()
            .unwrap();
        assert!(status.success());
        Sandbox {
            lower: lower.to_path_buf(),
            dir,
        }
    }

    /// Puts a host file into the sandbox at `dest` (absolute inside it).
    pub fn add(&self, src: &Path, dest: &str) {
        let to = self
            .dir
            .path()
            .join("upper")
            .join(dest.trim_start_matches('/'));
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(src, to).unwrap();
    }

    /// The host path of a file the sandbox wrote (from its upper layer).
    pub fn upper(&self, path: &str) -> PathBuf {
        self.dir
            .path()
            .join("upper")
            .join(path.trim_start_matches('/'))
    }

    /// Runs `script` with /bin/sh inside the sandbox, with only `vars` and a
    /// standard PATH in the environment.
    pub fn run(&self, script: &str, vars: &[(&str, &str)]) -> Output {
        let d = self.dir.path();
        let setup = r#"set -e
mount -t overlay overlay -o "lowerdir=$SB_LOWER,upperdir=$SB_UPPER,workdir=$SB_WORK" "$SB_MERGED"
mount --rbind /dev "$SB_MERGED/dev"
mount -t proc proc "$SB_MERGED/proc"
cp /etc/resolv.conf "$SB_MERGED/etc/resolv.conf" 2>/dev/null || true
# The host's trust store: registries may be reached through a TLS proxy.
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  mkdir -p "$SB_MERGED/etc/ssl/certs"
  cp /etc/ssl/certs/ca-certificates.crt "$SB_MERGED/etc/ssl/certs/ca-certificates.crt"
fi
exec chroot "$SB_MERGED" /bin/sh -c "$SB_SCRIPT"
"#;
        Command::new("unshare")
            .args([
                "--mount",
                "--propagation",
                "private",
                "--",
                "/bin/sh",
                "-c",
                setup,
            ])
            .env_clear()
            .env(
                "PATH",
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            )
            .env("HOME", "/root")
            .env("SB_LOWER", &self.lower)
            .env("SB_UPPER", d.join("upper"))
            .env("SB_WORK", d.join("work"))
            .env("SB_MERGED", d.join("merged"))
            .env("SB_SCRIPT", script)
            .envs(tls_env())
            .envs(vars.iter().copied())
            .output()
            .unwrap()
    }

    /// Like `run`, but panics with the script's output unless it succeeds.
    pub fn run_ok(&self, script: &str, vars: &[(&str, &str)]) -> String {
        let out = self.run(script, vars);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "script failed ({:?}) with {vars:?}:\n{script}\n--- stdout\n{stdout}\n--- stderr\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }
}
