//! `xx-apt` / `xx-apt-get`: apt for the build stage's target architecture
//! (as upstream xx). `xx-apt-get install -y zlib1g-dev gcc` becomes
//! `apt-get install -y zlib1g-dev:arm64 gcc-aarch64-linux-gnu` after the
//! architecture is added. Deliberate differences: libgcc/libstdc++ versions
//! are probed from the newest down, `apt-get update` runs only when sources or
//! architectures changed (or no index was ever fetched), xx-apt-get execs
//! apt-get (not apt), and `-o KEY=VALUE` values are not taken for packages.

mod sources;
mod translate;

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;

use crate::cmd::out::Out;
use crate::cmd::{cc, sys, trace};
use crate::distro::os_release_field;
use crate::targetenv::{self, TargetEnv};

/// apt subcommands whose following words are package names.
const PACKAGE_COMMANDS: &[&str] = &[
    "install", "remove", "purge", "search", "show", "list", "info", "download",
];
/// apt options that take the next word as their value.
const VALUE_FLAGS: &[&str] = &[
    "-o",
    "-c",
    "-t",
    "-a",
    "--option",
    "--config-file",
    "--target-release",
    "--host-architecture",
];

/// Entry point; `name` is `apt` or `apt-get`.
pub fn run(name: &str, args: &[String]) -> u8 {
    let tool = if name == "apt-get" { "apt-get" } else { "apt" };
    let helper = format!("xx-{tool}");
    match args.first().map(String::as_str) {
        Some("--fix-source-file") => return fix_source_file(&helper, &args[1..]),
        Some("--print-source-file") => {
            let _ = Out::new().line(&sources::main_source_file(Path::new("/")));
            return 0;
        }
        _ => {}
    }
    let _lock = sys::Lock::take("xx-apt", "XX_APT_NOLOCK");
    let env = targetenv::from_process();
    let env_lines = match env.env_lines() {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{helper}: {e}");
            return 1;
        }
    };
    let cross_only = match source_of(&env) {
        Source::Skip(why) => {
            eprintln!("skipping packages installation on {}: {why}", env.arch);
            return 0;
        }
        Source::CrossPackages(why) => Some(why),
        Source::Multiarch => None,
    };

    let parsed = parse_args(args);
    let Some(subcommand) = parsed.subcommand.clone() else {
        let mut cmd = Command::new(tool);
        sys::export_target_env(&mut cmd, &env_lines);
        return sys::exec(&helper, cmd.args(args));
    };

    let native_arch = command_output("dpkg", &["--print-architecture"]).unwrap_or_default();
    // Multiarch (`p:<arch>`) needs a Linux target whose architecture the
    // archive has; riscv64 on Debian 12 gets only the `-cross` packages.
    let linux = env.os == "linux" && cross_only.is_none();
    let cross = !(env.os == "linux" && env.pkg_arch == native_arch);
    let mut changed = false;
    if cross && linux {
        match add_architecture(&env, &native_arch) {
            Ok(c) => changed = c,
            Err(e) => {
                eprintln!("{helper}: {e}");
                return 1;
            }
        }
    }
    if changed || !have_package_lists() {
        eprintln!("+ apt-get update");
        let ok = trace::command("xx-apt", Command::new("apt-get").arg("update"))
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!(
                "{helper}: warning: apt-get update reported errors; trying the install anyway"
            );
        }
    }

    let cx = Context {
        env: &env,
        helper: &helper,
        cross,
        linux,
        cross_only: cross_only.as_deref(),
        native_arch: &native_arch,
    };
    let Some(packages) = package_names(&cx, &parsed.packages) else {
        return 0;
    };

    let mut cmd = Command::new(tool);
    cmd.args(&parsed.flags).arg(&subcommand).args(&packages);
    sys::export_target_env(&mut cmd, &env_lines);
    let shown: Vec<String> = parsed
        .flags
        .iter()
        .chain([&subcommand])
        .chain(&packages)
        .cloned()
        .collect();
    eprintln!("+ {tool} {}", shown.join(" "));
    sys::exec(&helper, &mut cmd)
}

/// What translating package names depends on.
struct Context<'a> {
    env: &'a TargetEnv,
    helper: &'a str,
    /// The target is not this machine.
    cross: bool,
    /// Multiarch `p:<arch>` names are possible.
    linux: bool,
    /// Only `-cross` packages exist for the target (why not its own).
    cross_only: Option<&'a str>,
    native_arch: &'a str,
}

/// The names to give apt for the requested packages, or `None` when none
/// is left to install (having said why).
fn package_names(cx: &Context<'_>, requested: &[String]) -> Option<Vec<String>> {
    let env = cx.env;
    let mut packages = requested.to_vec();
    if crate::target::is_wasi_os(&env.os) {
        // Debian's wasm32 packages are architecture-independent: no translation.
        let (keep, skip) = translate::expand_wasi(&packages, clang_major());
        for p in &skip {
            eprintln!("skipping {p} on wasi: Debian has no wasm32 build of it");
        }
        if keep.is_empty() && !packages.is_empty() {
            eprintln!("skipping packages installation on {}", env.os);
            return None;
        }
        return Some(keep);
    }
    let needs_gcc = packages
        .iter()
        .any(|p| p.starts_with("xx-c") && p.ends_with("-essentials"));
    if cx.cross {
        return cross_names(cx, packages, needs_gcc, requested);
    }
    if needs_gcc {
        let meta = translate::Meta {
            gcc_version: newest_gcc(cx.native_arch, false),
            gnu_ld: false,
        };
        packages = translate::expand_meta(&packages, meta);
    }
    Some(packages)
}

/// The target's names for packages of a foreign target: meta-packages
/// expanded, then cross tools or `p:<arch>` (or `-cross` packages).
fn cross_names(
    cx: &Context<'_>,
    packages: Vec<String>,
    needs_gcc: bool,
    requested: &[String],
) -> Option<Vec<String>> {
    let env = cx.env;
    let meta = translate::Meta {
        gcc_version: needs_gcc
            .then(|| newest_gcc(&env.pkg_arch, cx.cross_only.is_some()))
            .flatten(),
        gnu_ld: env.os == "linux" && !cc::lld_links(&env.arch),
    };
    let packages = translate::expand_meta(&packages, meta);
    let triple = env.triple.clone().unwrap_or_default();
    let naming = translate::Naming {
        pkg_arch: &env.pkg_arch,
        suffix: translate::Naming::suffix_for(&triple, &env.os, &env.arch),
        prefer_cross: cx.cross_only.is_some()
            || std::env::var_os("XX_APT_PREFER_CROSS").is_some_and(|v| !v.is_empty()),
        linux: cx.linux,
    };
    let wanted: Vec<String> = packages
        .iter()
        .flat_map(|p| translate::candidates(p, &naming))
        .collect();
    let available = available_packages(&wanted);
    if let Some(why) = cx.cross_only {
        let has_form = |p: &&String| {
            p.contains(':')
                || translate::candidates(p, &naming)
                    .iter()
                    .any(|c| available.contains(c))
        };
        for p in packages.iter().filter(|p| !has_form(p)) {
            eprintln!("skipping {p} on {}: {why}", env.arch);
        }
    }
    let names = translate::translate(&packages, &naming, &|p| available.contains(p));
    if names.is_empty() && !requested.is_empty() {
        match cx.cross_only {
            Some(why) => eprintln!("skipping packages installation on {}: {why}", env.arch),
            None => eprintln!(
                "{}: no packages for {} {}; nothing to do",
                cx.helper, env.os, env.arch
            ),
        }
        return None;
    }
    Some(names)
}

/// The command line split into apt flags (with their values), the package
/// subcommand, and package names.
#[derive(Debug, Default, PartialEq, Eq)]
struct Parsed {
    flags: Vec<String>,
    subcommand: Option<String>,
    packages: Vec<String>,
}

fn parse_args(args: &[String]) -> Parsed {
    let mut p = Parsed::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a.starts_with('-') {
            p.flags.push(a.clone());
            if VALUE_FLAGS.contains(&a.as_str()) {
                if let Some(v) = it.next() {
                    p.flags.push(v.clone());
                }
            }
        } else if p.subcommand.is_none() && PACKAGE_COMMANDS.contains(&a.as_str()) {
            p.subcommand = Some(a.clone());
        } else if p.subcommand.is_some() {
            p.packages.push(a.clone());
        } else {
            // A word before any package subcommand (e.g. `update`): not ours.
            return Parsed::default();
        }
    }
    p
}

/// Where a target's packages come from.
enum Source {
    /// None at all (upstream's skip rules): say why, install nothing.
    Skip(String),
    /// Only the archive's `<pkg>-<arch>-cross` packages (and cross tools),
    /// installed without adding the architecture: riscv64 on Debian 12,
    /// whose archive has no riscv64 packages but has the cross toolchain's.
    /// `xx-c-essentials` works; other target libraries are skipped, with why.
    CrossPackages(String),
    /// The target's own packages, through dpkg multiarch (`p:<arch>`).
    Multiarch,
}

/// Where this target's packages come from (upstream's skip rules, except
/// that riscv64 on Debian 12 still gets its C runtime from the cross packages).
fn source_of(env: &TargetEnv) -> Source {
    match skip_reason(env) {
        Some(why) if env.arch == "riscv64" && env.vendor == "debian" => Source::CrossPackages(why),
        Some(why) => Source::Skip(why),
        None => Source::Multiarch,
    }
}

/// Why this target gets no packages of its own, if it does not.
fn skip_reason(env: &TargetEnv) -> Option<String> {
    if env.arch.starts_with("mips") {
        return Some("no mips packages in Debian/Ubuntu".to_string());
    }
    if env.arch == "riscv64" && std::env::var_os("XX_APT_FORCE_RISCV64").is_none() {
        let get = |k: &str| os_release_field(Path::new("/"), k);
        let major: u32 = get("VERSION_ID")
            .split('.')
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        match get("ID").as_str() {
            "debian" if major > 0 && major < 13 => {
                return Some(
                    "riscv64 requires debian 13+ (set XX_APT_FORCE_RISCV64=1 to use debian-ports)"
                        .to_string(),
                );
            }
            "ubuntu" if !get("VERSION").starts_with('2') => {
                return Some("riscv64 requires ubuntu 20.04+".to_string());
            }
            _ => {}
        }
    }
    None
}

/// Adds the target architecture to dpkg (and, on Ubuntu, the ports sources it
/// needs). Returns whether anything changed.
fn add_architecture(env: &TargetEnv, native: &str) -> Result<bool, String> {
    let arch = &env.pkg_arch;
    let foreign = command_output("dpkg", &["--print-foreign-architectures"]).unwrap_or_default();
    if foreign.split_whitespace().any(|a| a == arch) {
        return Ok(false);
    }
    let root = Path::new("/");
    if env.vendor == "ubuntu" {
        let main = sources::main_source_file(root);
        let deb822 = main.ends_with(".sources");
        if let Ok(text) = std::fs::read_to_string(&main) {
            let fixed = sources::fix_source_text(&text, native, deb822);
            sys::write_file(Path::new(&main), &fixed, 0o644)
                .map_err(|e| format!("cannot write {main}: {e}"))?;
        }
        let codename = os_release_field(root, "VERSION_CODENAME");
        let ext = if deb822 { "sources" } else { "list" };
        let path = format!("/etc/apt/sources.list.d/xx-{arch}.{ext}");
        sys::write_file(
            Path::new(&path),
            &sources::ubuntu_arch_sources(arch, &codename, deb822),
            0o644,
        )
        .map_err(|e| format!("cannot write {path}: {e}"))?;
    }
    if arch == "riscv64"
        && env.vendor == "debian"
        && std::env::var_os("XX_APT_FORCE_RISCV64").is_some()
    {
        // Debian < 13 has riscv64 only on debian-ports (sid).
        let _ = trace::command(
            "xx-apt",
            Command::new("apt-get").args(["install", "-y", "debian-ports-archive-keyring"]),
        )
        .status();
        sys::write_file(
            Path::new("/etc/apt/sources.list.d/riscv64-sid.list"),
            "deb [ arch=riscv64 ] http://ftp.ports.debian.org/debian-ports sid main\n",
            0o644,
        )
        .map_err(|e| format!("cannot write the riscv64 sources: {e}"))?;
    }
    eprintln!("+ dpkg --add-architecture {arch}");
    let ok = trace::command(
        "xx-apt",
        Command::new("dpkg").args(["--add-architecture", arch]),
    )
    .status()
    .is_ok_and(|s| s.success());
    if !ok {
        return Err(format!("dpkg --add-architecture {arch} failed"));
    }
    Ok(true)
}

/// Whether apt has ever fetched a package index here.
fn have_package_lists() -> bool {
    std::fs::read_dir("/var/lib/apt/lists")
        .map(|d| {
            d.flatten()
                .any(|e| e.file_name().to_string_lossy().ends_with("_Packages"))
        })
        .unwrap_or(false)
}

/// The newest GCC major version N with a `libgcc-N-dev` for `arch`
/// (`libgcc-N-dev:<arch>`, or `libgcc-N-dev-<arch>-cross` with `cross`).
fn newest_gcc(arch: &str, cross: bool) -> Option<u32> {
    let name = |n: u32| {
        if cross {
            format!("libgcc-{n}-dev-{arch}-cross")
        } else {
            format!("libgcc-{n}-dev:{arch}")
        }
    };
    let names: Vec<String> = (8..=20).rev().map(name).collect();
    let available = available_packages(&names);
    (8..=20).rev().find(|n| available.contains(&name(*n)))
}

/// The major version of the installed clang (`Debian clang version 14.0.6`),
/// else the newest clang whose wasm32 builtins apt offers, else 14
/// (Debian 12's).
fn clang_major() -> u32 {
    let installed = command_output("clang", &["--version"]).and_then(|v| {
        let words: Vec<&str> = v.split_whitespace().collect();
        let at = words.iter().position(|w| *w == "version")?;
        words.get(at + 1)?.split('.').next()?.parse().ok()
    });
    installed
        .or_else(|| {
            let names: Vec<String> = (14..=24)
                .map(|n| format!("libclang-rt-{n}-dev-wasm32"))
                .collect();
            let available = available_packages(&names);
            (14..=24)
                .rev()
                .find(|n| available.contains(&format!("libclang-rt-{n}-dev-wasm32")))
        })
        .unwrap_or(14)
}

/// Which of `names` apt can install (one `apt-cache policy` call for all).
fn available_packages(names: &[String]) -> HashSet<String> {
    let mut found = HashSet::new();
    if names.is_empty() {
        return found;
    }
    let mut policy = Command::new("apt-cache");
    policy.arg("policy").args(names);
    let Ok(out) = trace::command("xx-apt", &mut policy).output() else {
        return found;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let mut current: Option<String> = None;
    for line in text.lines() {
        if !line.starts_with(' ') && line.ends_with(':') {
            current = Some(line.trim_end_matches(':').to_string());
        } else if let (Some(name), Some(cand)) = (&current, line.trim().strip_prefix("Candidate:"))
        {
            if cand.trim() != "(none)" {
                found.insert(name.clone());
                // apt prints native packages without their architecture.
                for n in names {
                    if n.split(':').next() == Some(name.as_str()) {
                        found.insert(n.clone());
                    }
                }
            }
        }
    }
    found
}

fn command_output(program: &str, args: &[&str]) -> Option<String> {
    let out = trace::command("xx-apt", Command::new(program).args(args))
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// `xx-apt --fix-source-file FILE ARCH`.
fn fix_source_file(helper: &str, args: &[String]) -> u8 {
    let [file, arch] = args else {
        eprintln!("usage: {helper} --fix-source-file FILE ARCH");
        return 1;
    };
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{helper}: cannot read {file}: {e}");
            return 1;
        }
    };
    let fixed = sources::fix_source_text(&text, arch, file.ends_with(".sources"));
    match sys::write_file(Path::new(file), &fixed, 0o644) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("{helper}: cannot write {file}: {e}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn argument_split() {
        let p = parse_args(&s(&[
            "install",
            "-y",
            "-o",
            "Dpkg::Options::=--force-confnew",
            "zlib1g-dev",
            "gcc",
        ]));
        assert_eq!(p.subcommand.as_deref(), Some("install"));
        assert_eq!(p.flags, s(&["-y", "-o", "Dpkg::Options::=--force-confnew"]));
        assert_eq!(p.packages, s(&["zlib1g-dev", "gcc"]));
        assert_eq!(parse_args(&s(&["update"])), Parsed::default());
        assert_eq!(parse_args(&s(&["-q", "update"])), Parsed::default());
        let p = parse_args(&s(&[
            "--no-install-recommends",
            "install",
            "xx-c-essentials",
        ]));
        assert_eq!(p.flags, s(&["--no-install-recommends"]));
    }
}
