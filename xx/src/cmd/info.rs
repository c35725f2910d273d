//! `xx-info [COMMAND]`: prints one fact about the target (default: its triple).
//! Drop-in compatible with upstream xx-info: same commands,
//! outputs and exit codes; only the facts' source differs (the target table).

use crate::cmd::out::Out;
use crate::targetenv::{self, TargetEnv};

const USAGE: &str = "Usage: xx-info [COMMAND]

Commands:
  alpine-arch    Print target architecture for Alpine package repositories
  arch           Print target architecture for Docker
  debian-arch    Print target architecture for Debian/Ubuntu package repositories
  env            Print XX_* variables defining target environment
  is-cross       Exit cleanly if target is not native architecture
  libc           Print used libc (musl or gnu)
  march          Print target machine architecture, uname -m
  os             Print target operating system (linux,darwin,windows,wasi)
  os-version     Print operating system version
  pkg-arch       Print either alpine-arch or debian-arch
  rhel-arch      Print target architecture for RPM package repositories
  sysroot        Print sysroot directory for target architecture
  triple         Print target triple in arch[-vendor]-os-abi form
  vendor         Print vendor part of target triple
  variant        Print target variant if architecture is arm (eg. v7)

The target comes from TARGETPLATFORM (e.g. linux/arm/v7), TARGETPAIR
(e.g. linux-armv7) or TARGETOS/TARGETARCH/TARGETVARIANT; without them, from
uname -m. XX_VENDOR, XX_LIBC, ARM_TARGET_ARCH, RISCV64_TARGET_ARCH and
MACOSX_VERSION_MIN adjust the triple.
";

/// Runs xx-info with the process environment.
pub fn run(args: &[String]) -> u8 {
    let env = targetenv::from_process();
    crate::cmd::trace::note(
        "xx-info",
        &format!(
            "target os={} arch={} variant={} vendor={} libc={} os-version={} triple={} host={}",
            env.os,
            env.arch,
            env.variant,
            env.vendor,
            env.libc,
            env.os_version,
            env.triple.as_deref().unwrap_or("unknown"),
            env.host_machine
        ),
    );
    let command = args.first().map(String::as_str).unwrap_or("");
    match answer(&env, command) {
        Answer::Lines(lines) => {
            let mut out = Out::new();
            for line in lines {
                if out.line(&line).is_err() {
                    return 0;
                }
            }
            0
        }
        Answer::Exit(code) => code,
        Answer::Usage => {
            eprint!("{USAGE}");
            0
        }
        Answer::Unknown(cmd) => {
            // Upstream prints this on stdout; scripts may capture it, so keep it there.
            let _ = Out::new().line(&format!("unknown command {cmd}"));
            1
        }
        Answer::Error(msg) => {
            eprintln!("xx-info: {msg}");
            1
        }
    }
}

/// What xx-info does for a command, separated from printing so it is testable.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    /// Print these lines, exit 0.
    Lines(Vec<String>),
    /// Print nothing, exit with this code (`is-cross`).
    Exit(u8),
    /// Print usage to stderr, exit 0.
    Usage,
    /// Unknown command, exit 1.
    Unknown(String),
    /// The target cannot answer this (unknown architecture), exit 1.
    Error(String),
}

/// The answer to one xx-info command for a resolved target.
pub fn answer(env: &TargetEnv, command: &str) -> Answer {
    let one = |s: &str| Answer::Lines(vec![s.to_string()]);
    match command {
        "" | "triple" => match env.triple() {
            Ok(t) => one(t),
            Err(e) => Answer::Error(e.to_string()),
        },
        "is-cross" => Answer::Exit(if env.is_cross() { 0 } else { 1 }),
        "arch" => one(&env.arch),
        "variant" => one(&env.variant),
        "os" => one(&env.os),
        "os-version" => one(&env.os_version),
        "march" => one(env.march()),
        "debian-arch" => one(env.debian_arch()),
        "alpine-arch" => one(env.alpine_arch()),
        "rhel-arch" => one(env.rhel_arch()),
        "pkg-arch" => one(&env.pkg_arch),
        "vendor" => one(&env.vendor),
        "libc" => one(&env.libc),
        "env" => match env.env_lines() {
            Ok(lines) => Answer::Lines(lines),
            Err(e) => Answer::Error(e.to_string()),
        },
        "sysroot" => match env.sysroot() {
            Ok(s) => one(&s),
            Err(e) => Answer::Error(e.to_string()),
        },
        "--help" | "-h" | "help" => Answer::Usage,
        other => Answer::Unknown(other.to_string()),
    }
}
