//! `xx-cc`, `xx-c++`, `xx-clang`, `xx-clang++` (and plain `clang` once
//! hijacked): clang for the build stage's target. The first call for a target
//! sets it up (see [`setup`]); every call then only execs
//! `clang --config /usr/bin/<triple>.cfg ARGS`. Behaviour: as upstream xx-clang.
//! Beyond upstream: without clang, a `<triple>-gcc` is used instead, and
//! `--print-cmake-toolchain-file` prints a CMake toolchain file.

mod linker;
mod setup;

use std::path::Path;
use std::process::Command;

use setup::{AUTOWRAP, CcTarget, DEFAULT_CFG, REAL_CLANG};

use crate::cmd::out::Out;
use crate::cmd::sys;
use crate::targetenv::{self, TargetEnv};

/// Flags xx-cc answers itself instead of passing to clang.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Special {
    Setup,
    PrintTriple,
    PrintCmakeDefines,
    PrintSysroot,
    PrintCmakeToolchain,
    DownloadLd,
}

/// Entry point for `xx-<name>` (`name` is cc, c++, clang or clang++).
pub fn run(name: &str, args: &[String]) -> u8 {
    main(name, args, true)
}

/// Entry point for plain `clang`/`clang++` reached through the
/// `/usr/local/bin/clang -> xx-clang` link: wrapped only while `--wrap` is on.
pub fn run_plain(name: &str, args: &[String]) -> u8 {
    main(name, args, false)
}

fn main(name: &str, args: &[String], invoked_as_xx: bool) -> u8 {
    let compiler = if matches!(name, "c++" | "clang++") {
        "clang++"
    } else {
        "clang"
    };
    let real = format!("/usr/bin/{compiler}");

    if args
        .iter()
        .any(|a| a == "--config" || a.starts_with("--config="))
    {
        return sys::exec("xx-clang", Command::new(&real).args(args));
    }
    if invoked_as_xx && name.starts_with("clang") {
        if let Some(code) = wrap_toggle(args) {
            return code;
        }
    }
    let wrapped = invoked_as_xx || Path::new(AUTOWRAP).exists();
    let special = args.iter().find_map(|a| special_flag(a));

    let env = targetenv::from_process();
    let target = match explicit_target(args) {
        Some(triple) => match CcTarget::from_triple(&triple, &env) {
            Some(t) => Some(t),
            // A triple xx does not know: clang may still; pass it through untouched.
            None => return sys::exec("xx-clang", Command::new(&real).args(args)),
        },
        None if wrapped => match CcTarget::from_env(&env) {
            Ok(t) => Some(t),
            Err(e) => {
                eprintln!("xx-clang: {e}");
                return 1;
            }
        },
        None => None,
    };

    let Some(t) = target else {
        // Plain clang, no target: the native default config if setup wrote one.
        let mut cmd = Command::new(&real);
        if Path::new(DEFAULT_CFG).exists() {
            cmd.arg("--config").arg(DEFAULT_CFG);
        }
        return sys::exec("xx-clang", cmd.args(args));
    };

    if !Path::new(REAL_CLANG).exists() {
        return gcc_fallback(&t, compiler, special, args);
    }
    let cfg = setup::cfg_path(&t.triple);
    if special == Some(Special::Setup) || !cfg.exists() {
        let _lock = sys::Lock::take("xx-cc", "XX_CC_NOLOCK");
        if special == Some(Special::DownloadLd) {
            // Upstream downloads a prebuilt ld here; we never download.
            return match setup::choose_linker(&t) {
                Ok(linker) => {
                    if let Some(warning) = linker.missing_ld64_warning(&t.triple) {
                        eprintln!("xx-clang: {warning}");
                    }
                    0
                }
                Err(e) => {
                    eprintln!("xx-clang: {e}");
                    1
                }
            };
        }
        if let Err(e) = setup::run(&t, &env.macos_sdk_path()) {
            eprintln!("xx-clang: {e}");
            return 1;
        }
    }
    match special {
        None => sys::exec(
            "xx-clang",
            Command::new(&real).arg("--config").arg(&cfg).args(args),
        ),
        Some(special) => answer_with_clang(special, &t, &cfg, &env),
    }
}

/// `xx-clang --wrap` / `--unwrap`: turns the plain-clang wrapping on or off;
/// `None` when neither is asked.
fn wrap_toggle(args: &[String]) -> Option<u8> {
    if args.iter().any(|a| a == "--wrap") {
        return Some(report(
            sys::write_file(Path::new(AUTOWRAP), "", 0o644),
            "--wrap",
        ));
    }
    if args.iter().any(|a| a == "--unwrap") {
        let r = match std::fs::remove_file(AUTOWRAP) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            other => other,
        };
        return Some(report(r, "--unwrap"));
    }
    None
}

/// The flag xx-cc answers itself, if `arg` is one.
fn special_flag(arg: &str) -> Option<Special> {
    match arg {
        "--setup-target-triple" | "-setup-target-triple" => Some(Special::Setup),
        "--print-target-triple" => Some(Special::PrintTriple),
        "--print-cmake-defines" => Some(Special::PrintCmakeDefines),
        "--print-sysroot" => Some(Special::PrintSysroot),
        "--print-cmake-toolchain-file" => Some(Special::PrintCmakeToolchain),
        "--download-prog=ld" => Some(Special::DownloadLd),
        _ => None,
    }
}

/// Answers a special flag once clang is set up for `t` (config at `cfg`).
fn answer_with_clang(special: Special, t: &CcTarget, cfg: &Path, env: &TargetEnv) -> u8 {
    match special {
        Special::Setup | Special::DownloadLd => 0,
        Special::PrintTriple => print(&t.triple),
        Special::PrintSysroot => print(&t.sysroot(env)),
        Special::PrintCmakeDefines => {
            let pkg_config = Command::new(REAL_CLANG)
                .arg("--config")
                .arg(cfg)
                .arg("--print-prog-name=pkg-config")
                .output()
                .ok()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "pkg-config".to_string());
            let t_ = &t.triple;
            print(&format!(
                "-DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_ASM_COMPILER=clang \
                 -DPKG_CONFIG_EXECUTABLE={pkg_config} -DCMAKE_C_COMPILER_TARGET={t_} \
                 -DCMAKE_CXX_COMPILER_TARGET={t_} -DCMAKE_ASM_COMPILER_TARGET={t_}"
            ))
        }
        Special::PrintCmakeToolchain => print(&cmake_toolchain(
            t,
            env,
            &format!("/usr/bin/{}-clang", t.triple),
            &format!("/usr/bin/{}-clang++", t.triple),
        )),
    }
}

/// Sets clang up for `triple` if that was not done yet (what
/// `xx-clang --target=T --setup-target-triple` does), so xx-cargo and xx-go
/// can point build tools at `/usr/bin/<triple>-clang`.
pub fn ensure_setup(triple: &str) -> Result<(), String> {
    if setup::cfg_path(triple).exists() {
        return Ok(());
    }
    let env = targetenv::from_process();
    let t = CcTarget::from_triple(triple, &env)
        .ok_or_else(|| format!("unknown target triple {triple}"))?;
    let _lock = sys::Lock::take("xx-cc", "XX_CC_NOLOCK");
    setup::run(&t, &env.macos_sdk_path())
}

/// The major version of the `ld.lld` on PATH, `None` without one.
pub fn installed_lld_major() -> Option<u32> {
    let lld = sys::which("ld.lld")?;
    let out = Command::new(lld).arg("--version").output().ok()?;
    linker::parse_lld_major(&String::from_utf8_lossy(&out.stdout))
}

/// Whether the installed lld can link binaries for `arch` (Docker arch name):
/// when it cannot, xx-apt-get's `xx-c-essentials` brings the target's GNU ld.
pub fn lld_links(arch: &str) -> bool {
    installed_lld_major().is_some_and(|v| linker::lld_can_link(arch, v))
}

/// The oldest lld that links `arch` (0: any).
pub fn lld_min_version(arch: &str) -> u32 {
    linker::lld_min_version(arch)
}

/// Whether the real clang exists (else the helpers fall back to gcc).
pub fn have_clang() -> bool {
    Path::new(REAL_CLANG).exists()
}

/// `-target T`, `--target=T` or `--target T` among the arguments.
fn explicit_target(args: &[String]) -> Option<String> {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if let Some(t) = a.strip_prefix("--target=") {
            return Some(t.to_string());
        }
        if a == "-target" || a == "--target" {
            return it.next().cloned();
        }
    }
    None
}

/// Without clang: the target's GNU compiler (`aarch64-linux-gnu-gcc`), or the
/// native gcc for a native target. clang-only flags are dropped.
fn gcc_fallback(t: &CcTarget, compiler: &str, special: Option<Special>, args: &[String]) -> u8 {
    let gnu = if compiler == "clang++" { "g++" } else { "gcc" };
    let cross = format!("{}-{gnu}", t.triple);
    let found = sys::which(&cross).or_else(|| if t.native { sys::which(gnu) } else { None });
    let Some(gcc) = found else {
        eprintln!(
            "xx-clang: clang not found: neither {REAL_CLANG} nor {cross} is installed: install clang and lld \
             (apt-get install -y clang lld / apk add clang lld) or the cross compiler \
             (apt-get install -y {gnu}-{})",
            t.triple
        );
        return 1;
    };
    let env = targetenv::from_process();
    match special {
        Some(Special::Setup) | Some(Special::DownloadLd) => 0,
        Some(Special::PrintTriple) => print(&t.triple),
        Some(Special::PrintSysroot) => print(&t.sysroot(&env)),
        Some(Special::PrintCmakeDefines) => {
            let g = gcc.display();
            let gxx = gcc.with_file_name(format!("{}-g++", t.triple));
            print(&format!(
                "-DCMAKE_C_COMPILER={g} -DCMAKE_CXX_COMPILER={} -DCMAKE_ASM_COMPILER={g}",
                gxx.display()
            ))
        }
        Some(Special::PrintCmakeToolchain) => {
            let gxx = gcc.with_file_name(format!("{}-g++", t.triple));
            print(&cmake_toolchain(
                t,
                &env,
                &gcc.display().to_string(),
                &gxx.display().to_string(),
            ))
        }
        None => {
            let mut filtered = Vec::new();
            let mut it = args.iter();
            while let Some(a) = it.next() {
                if a == "-target" || a == "--target" {
                    it.next();
                } else if !a.starts_with("--target=") && !a.starts_with("-fuse-ld=lld") {
                    filtered.push(a.clone());
                }
            }
            sys::exec("xx-clang", Command::new(&gcc).args(&filtered))
        }
    }
}

/// A CMake toolchain file for the target (beyond upstream): compilers,
/// target triple, system name and processor, sysroot on Alpine, pkg-config,
/// and QEMU as the emulator for try_run when it is installed.
fn cmake_toolchain(t: &CcTarget, env: &TargetEnv, cc: &str, cxx: &str) -> String {
    let system = match t.os.as_str() {
        "darwin" => "Darwin",
        "windows" => "Windows",
        "freebsd" => "FreeBSD",
        _ => "Linux",
    };
    let mut s = format!(
        "# CMake toolchain file for {triple}, printed by xx-clang --print-cmake-toolchain-file.\n\
         set(CMAKE_SYSTEM_NAME {system})\n\
         set(CMAKE_SYSTEM_PROCESSOR {march})\n\
         set(CMAKE_C_COMPILER {cc})\n\
         set(CMAKE_CXX_COMPILER {cxx})\n\
         set(CMAKE_ASM_COMPILER {cc})\n\
         set(CMAKE_C_COMPILER_TARGET {triple})\n\
         set(CMAKE_CXX_COMPILER_TARGET {triple})\n\
         set(CMAKE_ASM_COMPILER_TARGET {triple})\n",
        triple = t.triple,
        march = t.spec.march,
    );
    let pkg_config = format!("{}-pkg-config", t.triple);
    if sys::which(&pkg_config).is_some() {
        s.push_str(&format!("set(PKG_CONFIG_EXECUTABLE {pkg_config})\n"));
    }
    let root = t.sysroot(env);
    if root != "/" {
        s.push_str(&format!(
            "set(CMAKE_SYSROOT {root})\nset(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)\n\
             set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)\nset(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)\n\
             set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)\n"
        ));
    }
    if !t.native && t.os == "linux" {
        if let Some(q) = sys::which(format!("qemu-{}-static", t.spec.qemu))
            .or_else(|| sys::which(format!("qemu-{}", t.spec.qemu)))
        {
            s.push_str(&format!(
                "set(CMAKE_CROSSCOMPILING_EMULATOR {})\n",
                q.display()
            ));
        }
    }
    s
}

fn print(s: &str) -> u8 {
    let _ = Out::new().line(s);
    0
}

fn report(r: std::io::Result<()>, what: &str) -> u8 {
    match r {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("xx-clang {what}: {e}");
            1
        }
    }
}
