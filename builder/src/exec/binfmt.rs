//! Which platforms this host can execute: natively, or through a
//! binfmt_misc handler (QEMU user emulation). A handler without the `F`
//! (fix-binary) flag opens its interpreter lazily from inside the
//! container's root, where there is no qemu: so only `F` handlers count.

use std::path::Path;

use xx::Platform;

const BINFMT: &str = "/proc/sys/fs/binfmt_misc";

/// What the host can do for one platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Support {
    /// The CPU runs it.
    Native,
    /// An enabled handler with the F flag.
    Emulated {
        /// Handler name.
        handler: String,
        /// Interpreter path.
        interpreter: String,
    },
    /// A handler exists but cannot work in a container.
    Unusable(String),
    /// No handler.
    Missing,
}

/// The qemu name for a platform (`aarch64`, `arm`, `riscv64`…).
pub fn qemu_name(p: &Platform) -> Option<&'static str> {
    xx::target::for_platform(p)
        .map(|t| t.qemu)
        .filter(|q| !q.is_empty())
}

/// Handler names that could serve `qemu` (`qemu-aarch64`, and Debian's alternatives).
fn handler_names(qemu: &str) -> Vec<String> {
    let mut v = vec![format!("qemu-{qemu}")];
    if qemu == "arm" {
        v.push("qemu-armeb".to_string());
    }
    v
}

/// Reads a handler's status file.
fn handler(name: &str) -> Option<(bool, String, String)> {
    let text = std::fs::read_to_string(Path::new(BINFMT).join(name)).ok()?;
    let enabled = text.lines().next() == Some("enabled");
    let field = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(k))
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    Some((enabled, field("interpreter"), field("flags:")))
}

/// Whether and how this host runs `p`.
pub fn support(host: &Platform, p: &Platform) -> Support {
    if xx::platform::runs_natively(host, p) {
        return Support::Native;
    }
    let Some(q) = qemu_name(p) else {
        return Support::Missing;
    };
    let name = handler_names(q).remove(0);
    match handler(&name) {
        None => Support::Missing,
        Some((false, _, _)) => Support::Unusable(format!("{name} is registered but disabled")),
        Some((true, interp, flags)) if flags.contains('F') => Support::Emulated {
            handler: name,
            interpreter: interp,
        },
        Some((true, _, flags)) => Support::Unusable(format!(
            "{name} lacks the F flag (flags: {flags:?}); inside a container it cannot find its interpreter"
        )),
    }
}

/// The fix to print when `p` cannot run.
pub fn fix_hint(p: &Platform) -> String {
    format!(
        "run `mxbuild binfmt --install {p}` as root (needs the qemu-user-static package), or `apt-get install qemu-user-static binfmt-support`"
    )
}

/// Registers `p`'s handler through Debian's binfmt-support (which knows the
/// ELF magic of every qemu-user-static emulator and registers with `F`),
/// mounting binfmt_misc first if needed. Root only.
pub fn install(p: &Platform) -> Result<String, String> {
    let q = qemu_name(p).ok_or_else(|| format!("no QEMU emulator is known for {p}"))?;
    let interp = format!("/usr/bin/qemu-{q}-static");
    if !Path::new(&interp).exists() {
        return Err(format!(
            "{interp} is missing; hint: apt-get install qemu-user-static binfmt-support"
        ));
    }
    if !Path::new(BINFMT).join("register").exists() {
        let st = std::process::Command::new("mount")
            .args(["-t", "binfmt_misc", "binfmt_misc", BINFMT])
            .status()
            .map_err(|e| format!("mount binfmt_misc: {e}"))?;
        if !st.success() {
            return Err(format!(
                "cannot mount binfmt_misc at {BINFMT} (are you root?)"
            ));
        }
    }
    let name = format!("qemu-{q}");
    let st = std::process::Command::new("update-binfmts")
        .args(["--enable", &name])
        .stderr(std::process::Stdio::null())
        .status()
        .map_err(|e| format!("update-binfmts: {e}; hint: apt-get install binfmt-support"))?;
    match handler(&name) {
        Some((true, i, flags)) if flags.contains('F') => Ok(format!("{name}: {i} (flags {flags})")),
        Some((_, _, flags)) => Err(format!(
            "{name} is registered without the F flag (flags {flags:?}); hint: remove it (echo -1 > {BINFMT}/{name}) and run again"
        )),
        None => Err(format!(
            "update-binfmts --enable {name} did not register it (exit {st})"
        )),
    }
}
