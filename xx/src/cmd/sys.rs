//! The few process and filesystem operations every helper needs: run or
//! replace the process with another program, take the helper's lock file,
//! find programs on PATH, write small generated files atomically.

use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::io::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Replaces this process with `cmd` (like the shell's `exec`); returns an
/// exit code only if that fails, after saying why.
pub fn exec(helper: &str, cmd: &mut Command) -> u8 {
    let err = super::trace::command(helper, cmd).exec();
    eprintln!("{helper}: {}", cannot_run(cmd.get_program(), &err));
    127
}

/// Why a program could not be started. A missing one reads `go: not found`
/// (the shell's words, which upstream's scripts print and users grep for)
/// followed by what to install.
pub fn cannot_run(program: &OsStr, err: &std::io::Error) -> String {
    let name = program.to_string_lossy();
    if err.kind() != std::io::ErrorKind::NotFound {
        return format!("cannot run {name}: {err}");
    }
    let hint = match Path::new(program).file_name().and_then(OsStr::to_str) {
        Some("go") => "install Go: apt-get install -y golang-go, or start FROM a golang image",
        Some("cargo" | "rustc" | "rustup") => {
            "install Rust: rustup, or apt-get install -y rustc-web cargo-web (or rustc cargo)"
        }
        Some("clang" | "clang++") => {
            "install clang: apt-get install -y clang lld / apk add clang lld"
        }
        Some("apk") => "xx-apk works in Alpine stages only",
        _ => "is it installed and on PATH?",
    };
    format!("{name}: not found ({hint})")
}

/// An exclusive lock on `/var/lock/<name>` held until dropped, so parallel
/// RUN steps sharing a stage do not set up the same target twice. Skipped
/// when `nolock_env` is set, as upstream allows.
#[derive(Debug)]
pub struct Lock {
    _file: Option<File>,
}

impl Lock {
    /// Takes the lock (blocking). Failing to create the lock file is not
    /// fatal: the helper then runs unlocked, as it would with NOLOCK.
    pub fn take(name: &str, nolock_env: &str) -> Lock {
        if std::env::var_os(nolock_env).is_some_and(|v| !v.is_empty()) {
            return Lock { _file: None };
        }
        let dir = Path::new("/var/lock");
        let _ = fs::create_dir_all(dir);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(name))
            .ok();
        if let Some(f) = &file {
            // SAFETY: flock on a descriptor we own; it has no memory effects.
            unsafe {
                libc::flock(f.as_raw_fd(), libc::LOCK_EX);
            }
        }
        Lock { _file: file }
    }
}

/// The full path of `program` on PATH, if any.
pub fn which(program: impl AsRef<OsStr>) -> Option<PathBuf> {
    which::which(program).ok()
}

/// Writes `contents` to `path` through a temporary file and a rename, so a
/// concurrent reader never sees half a file; `mode` as in chmod.
pub fn write_file(path: &Path, contents: &str, mode: u32) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    let tmp = path.with_extension(format!("xx-tmp-{}", std::process::id()));
    {
        let mut f = File::create(&tmp)?;
        f.write_all(contents.as_bytes())?;
        f.set_permissions(fs::Permissions::from_mode(mode))?;
    }
    fs::rename(&tmp, path)
}

/// Creates (or replaces) a symlink `link -> target`.
pub fn symlink(target: &Path, link: &Path) -> std::io::Result<()> {
    if link.symlink_metadata().is_ok() {
        fs::remove_file(link)?;
    }
    if let Some(parent) = link.parent() {
        fs::create_dir_all(parent)?;
    }
    std::os::unix::fs::symlink(target, link)
}

/// Sets the `xx-info env` variables (XX_OS, XX_TRIPLE, TARGETARCH, ...) on a
/// command, as upstream's scripts `export` them for the tools they run.
pub fn export_target_env(cmd: &mut Command, lines: &[String]) {
    for line in lines {
        if let Some((k, v)) = line.split_once('=') {
            cmd.env(k, v);
        }
    }
}
