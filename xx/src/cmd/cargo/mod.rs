//! `xx-cargo`: cargo for the build stage's target (as upstream xx).
//! It picks a Rust triple that rustc knows, installs the target's std when it
//! is missing (rustup, Debian's libstd-rust(-web)-dev:<arch>, Alpine's
//! rust-stdlib), sets linker, C toolchain, pkg-config and bindgen variables
//! for the target, and puts `--target` before any `--`. After `build` and
//! `install` it checks every executable it produced with xx-verify.
//!
//! `XX_CARGO_BUILD_STD=1` builds std from source (`-Zbuild-std`, needs
//! rust-src) and links musl targets with zig: the path to ARMv6 (Raspberry Pi
//! Zero / 1), whose `arm-unknown-linux-musleabihf` std no distro ships.

mod config;
mod env;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::arm::ArmArch;
use crate::cmd::out::Out;
use crate::cmd::{cc, sys, trace};
use crate::distro::{Distro, Family, Libc};
use crate::target::Target;
use crate::targetenv::{Inputs, TargetEnv};
use crate::verify::{self, Expectation};

/// Entry point.
pub fn run(argv: &[String]) -> u8 {
    match main(argv) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("xx-cargo: {e}");
            1
        }
    }
}

fn main(argv: &[String]) -> Result<u8, String> {
    let flag = |f: &str| argv.iter().any(|a| a == f);
    let (print_triple, setup_only, print_dir) = (
        flag("--print-target-triple"),
        flag("--setup-target-triple"),
        flag("--print-target-dir"),
    );
    let args: Vec<String> = argv
        .iter()
        .filter(|a| {
            !matches!(
                a.as_str(),
                "--print-target-triple" | "--setup-target-triple" | "--print-target-dir"
            )
        })
        .cloned()
        .collect();

    // Upstream defaults that only shape Alpine's distro-rust triples.
    let env = TargetEnv::resolve(&Inputs {
        var: &|k| match k {
            "ARM_TARGET_ARCH" => Some(std::env::var(k).unwrap_or_else(|_| "armv7".into())),
            "RISCV64_TARGET_ARCH" => Some(std::env::var(k).unwrap_or_else(|_| "riscv64gc".into())),
            _ => std::env::var(k).ok(),
        },
        ..Inputs::from_process()
    });
    let c_triple = env.triple().map_err(|e| e.to_string())?.to_string();
    let runs_cargo = !(print_triple || setup_only || print_dir);
    if runs_cargo && sys::which("cargo").is_none() {
        let missing = std::io::Error::from(std::io::ErrorKind::NotFound);
        return Err(sys::cannot_run("cargo".as_ref(), &missing));
    }
    let has_rustup = sys::which("rustup").is_some();
    let distro = Distro::detect(Path::new("/"));
    let build_std = std::env::var("XX_CARGO_BUILD_STD").is_ok_and(|v| v == "1");
    let rust_triple = rust_triple(&env, &distro, has_rustup, build_std)?;

    if print_dir {
        let _ = Out::new().line(&env::target_dir(&args, &rust_triple));
        return Ok(0);
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let user = config::read(&cwd, &rust_triple);
    let musl_with_zig =
        build_std && rust_triple.contains("-musl") && distro.family() != Family::Alpine;

    let marker = PathBuf::from(format!("/.xx-cargo.{rust_triple}"));
    if setup_only || print_triple || !marker.exists() {
        let _lock = sys::Lock::take("xx-cargo", "XX_CARGO_NOLOCK");
        ensure_std(&rust_triple, has_rustup, &distro, &env, build_std)?;
        if !musl_with_zig {
            ensure_c_runtime(&distro, &env, &c_triple)?;
        }
        if !musl_with_zig && cc::have_clang() {
            cc::ensure_setup(&c_triple)?;
        }
        let _ = std::fs::write(&marker, "");
    }
    if print_triple {
        let _ = Out::new().line(&rust_triple);
        return Ok(0);
    }
    if setup_only {
        return Ok(0);
    }

    let mut vars = toolchain_env(&env, &c_triple, &rust_triple, &distro, &user, musl_with_zig)?;
    let user_target = args
        .iter()
        .any(|a| a == "--target" || a.starts_with("--target="))
        || user.build_target.is_some();
    let insert_at = args.iter().position(|a| a == "--").unwrap_or(args.len());
    let mut extra = Vec::new();
    if !user_target {
        extra.push(format!("--target={rust_triple}"));
    }
    if build_std {
        extra.push("-Zbuild-std=std,panic_abort".to_string());
        vars.push(("RUSTC_BOOTSTRAP".to_string(), "1".to_string()));
    }
    let subcommand = args
        .iter()
        .find(|a| !a.starts_with('-'))
        .cloned()
        .unwrap_or_default();
    let verify_after = matches!(subcommand.as_str(), "build" | "b" | "install")
        && !args.iter().any(|a| a.starts_with("--message-format"))
        && args.iter().position(|a| a == &subcommand) < Some(insert_at);
    if verify_after {
        extra.push("--message-format=json-render-diagnostics".to_string());
    }
    let cargo_args = env::with_cargo_flags(&args, extra);

    let mut cmd = Command::new("cargo");
    cmd.args(&cargo_args)
        .envs(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    if !verify_after {
        return Ok(sys::exec("xx-cargo", &mut cmd));
    }
    // `cargo install` deletes its build directory: check the installed copies.
    let installed_in = (subcommand == "install").then(|| {
        env::install_bin_dir(
            &args,
            &|k| std::env::var(k).ok().filter(|v| !v.is_empty()),
            user.install_root.as_deref(),
        )
    });
    build_and_verify(cmd, &env, &rust_triple, installed_in.as_deref())
}

/// The Rust triple for the target (our deliberate difference 2: always one
/// rustc knows). Alpine's own rust (no rustup) uses Alpine's triples.
fn rust_triple(
    env: &TargetEnv,
    distro: &Distro,
    has_rustup: bool,
    build_std: bool,
) -> Result<String, String> {
    if distro.family() == Family::Alpine && !has_rustup && env.os == "linux" {
        return env.triple().map(str::to_string).map_err(|e| e.to_string());
    }
    let platform = env.platform();
    let libc = match std::env::var("XX_LIBC").ok().as_deref() {
        Some("musl") => Libc::Musl,
        Some("gnu") => Libc::Gnu,
        // No glibc userland is built for ARMv6 hard-float: building std for
        // it means musl (linked by zig).
        _ if build_std
            && platform.arch == "arm"
            && platform.variant_str() == ArmArch::V6.variant() =>
        {
            Libc::Musl
        }
        _ if distro.family() == Family::Alpine => Libc::Musl,
        _ => Libc::Gnu,
    };
    let target = Target::new(&platform, distro.family())
        .map_err(|e| e.to_string())?
        .with_libc(libc);
    target
        .rust_triple()
        .ok_or_else(|| format!("no Rust target for {platform} (Rust has no such target)"))
}

/// Installs the target's std if rustc lacks it (or checks for rust-src with XX_CARGO_BUILD_STD).
fn ensure_std(
    triple: &str,
    has_rustup: bool,
    distro: &Distro,
    env: &TargetEnv,
    build_std: bool,
) -> Result<(), String> {
    let sysroot = trace::command(
        "xx-cargo",
        Command::new("rustc").args(["--print", "sysroot"]),
    )
    .output()
    .map_err(|e| sys::cannot_run("rustc".as_ref(), &e))?;
    let sysroot = PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim());
    if build_std {
        if sysroot.join("lib/rustlib/src/rust/library").is_dir() {
            return Ok(());
        }
        return Err(format!(
            "XX_CARGO_BUILD_STD=1 needs the Rust sources in {}: apt-get install -y rust-web-src (or rust-src), \
             or rustup component add rust-src",
            sysroot.join("lib/rustlib/src/rust").display()
        ));
    }
    if sysroot.join("lib/rustlib").join(triple).is_dir() {
        return Ok(());
    }
    if crate::target::is_wasi_os(&env.os) && !has_rustup {
        return Err(format!(
            "no packaged Rust std for {triple} with this rustc: install it with rustup \
             (rustup target add {triple}), or set XX_CARGO_BUILD_STD=1 with the Rust sources \
             (apt-get install -y rust-web-src)"
        ));
    }
    let self_exe =
        std::env::current_exe().map_err(|e| format!("cannot find the xx binary: {e}"))?;
    let (what, mut cmd) = if has_rustup {
        let mut c = Command::new("rustup");
        c.args(["target", "add", triple]);
        (format!("rustup target add {triple}"), c)
    } else if distro.family() == Family::Alpine {
        let mut c = Command::new(&self_exe);
        c.args(["apk", "add", "rust-stdlib"]);
        ("xx-apk add rust-stdlib".to_string(), c)
    } else {
        let package = debian_std_package();
        let mut c = Command::new(&self_exe);
        c.args(["apt-get", "install", "-y", &package]);
        (format!("xx-apt-get install -y {package}"), c)
    };
    eprintln!("xx-cargo: installing the Rust std for {triple} ({what})");
    cmd.env("XX_VENDOR", &distro.id).env("XX_CARGO_NOLOCK", "1");
    let out = trace::command("xx-cargo", &mut cmd)
        .output()
        .map_err(|e| format!("{what}: {e}"))?;
    if !out.status.success() || !sysroot.join("lib/rustlib").join(triple).is_dir() {
        return Err(format!(
            "{what} did not provide the std for {triple} (platform {}): {}{}",
            env.platform(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

/// Linking a Rust program needs the target's C runtime (crt files, libc,
/// libgcc): install `xx-c-essentials` for a foreign target when it is missing,
/// instead of failing at link time with "cannot open Scrt1.o".
fn ensure_c_runtime(distro: &Distro, env: &TargetEnv, c_triple: &str) -> Result<(), String> {
    if !env.is_cross() || env.os != "linux" {
        return Ok(());
    }
    let (missing, helper) = match distro.family() {
        Family::Debian => {
            let pkg = format!("libc6-dev:{}", env.pkg_arch);
            let installed = Command::new("dpkg-query")
                .args(["-W", "-f=${Status}", &pkg])
                .output()
                .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"));
            (!installed, "apt-get")
        }
        Family::Alpine => (
            !Path::new(&format!("/{c_triple}/usr/lib/crt1.o")).exists(),
            "apk",
        ),
        _ => (false, ""),
    };
    if !missing {
        return Ok(());
    }
    let self_exe =
        std::env::current_exe().map_err(|e| format!("cannot find the xx binary: {e}"))?;
    let mut cmd = Command::new(self_exe);
    cmd.arg(helper);
    if helper == "apt-get" {
        cmd.args(["install", "-y", "xx-c-essentials"]);
    } else {
        cmd.args(["add", "xx-c-essentials"]);
    }
    eprintln!(
        "xx-cargo: installing the C runtime for {c_triple} (xx-{helper} ... xx-c-essentials)"
    );
    cmd.env("XX_VENDOR", &distro.id);
    let out = trace::command("xx-cargo", &mut cmd)
        .output()
        .map_err(|e| format!("xx-{helper}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "installing xx-c-essentials for {c_triple} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

/// Debian ships std for other architectures as `libstd-rust-web-dev:<arch>`
/// (with rustc-web) or `libstd-rust-dev:<arch>` (with rustc).
fn debian_std_package() -> String {
    let rustc = sys::which("rustc").and_then(|p| std::fs::canonicalize(p).ok());
    let owner = rustc.and_then(|p| {
        let out = Command::new("dpkg").arg("-S").arg(&p).output().ok()?;
        Some(String::from_utf8_lossy(&out.stdout).to_string())
    });
    if owner.is_some_and(|o| o.contains("rustc-web")) {
        "libstd-rust-web-dev".to_string()
    } else {
        "libstd-rust-dev".to_string()
    }
}

/// The variables for cargo: see [`env::cargo_env`].
fn toolchain_env(
    env: &TargetEnv,
    c_triple: &str,
    rust_triple: &str,
    distro: &Distro,
    user: &config::UserConfig,
    musl_with_zig: bool,
) -> Result<Vec<(String, String)>, String> {
    let spec = env.spec().ok_or("unknown target architecture")?;
    let alpine_cross = distro.family() == Family::Alpine && env.is_cross();
    let sysroot = alpine_cross.then(|| format!("/{c_triple}"));
    let mut rustflags = std::env::var("XX_RUSTFLAGS").ok().filter(|s| !s.is_empty());
    let (cc, cxx) = if musl_with_zig {
        let zigcc = write_zig_wrapper(env, rust_triple)?;
        // zig brings musl's crt and libunwind; rustc must not add its own.
        rustflags = Some(
            format!("{} -Clink-self-contained=no", rustflags.unwrap_or_default())
                .trim()
                .to_string(),
        );
        (zigcc.clone(), zigcc)
    } else if cc::have_clang() {
        (
            format!("/usr/bin/{c_triple}-clang"),
            format!("/usr/bin/{c_triple}-clang++"),
        )
    } else {
        let gcc = sys::which(format!("{c_triple}-gcc")).ok_or_else(|| {
            format!("no C compiler for {c_triple}: install clang and lld, or gcc-{c_triple}")
        })?;
        let gxx = gcc.with_file_name(format!("{c_triple}-g++"));
        (gcc.display().to_string(), gxx.display().to_string())
    };
    let ar = sys::which(format!("{c_triple}-ar"))
        .or_else(|| sys::which("llvm-ar"))
        .map(|p| p.display().to_string());
    let pkg_config = write_pkg_config(
        rust_triple,
        c_triple,
        spec.libs.multiarch,
        sysroot.as_deref(),
    );
    let mut bindgen = format!("--target={c_triple}");
    if let Some(root) = &sysroot {
        bindgen.push_str(&format!(" --sysroot={root}"));
    }
    let runner = if env.is_cross() && env.os == "linux" {
        sys::which(format!("qemu-{}-static", spec.qemu))
            .or_else(|| sys::which(format!("qemu-{}", spec.qemu)))
            .map(|p| p.display().to_string())
    } else {
        None
    };
    Ok(env::cargo_env(&env::Inputs {
        rust_triple: rust_triple.to_string(),
        cc,
        cxx,
        ar,
        pkg_config,
        bindgen_args: bindgen,
        rustflags,
        runner,
        // Rust links wasm with its own wasm-ld and self-contained wasi-libc;
        // a clang linker would need flags it does not pass.
        linker_configured: user.linker_configured || crate::target::is_wasi_os(&env.os),
    }))
}

/// `/usr/bin/<rust-triple>-pkg-config`, or `None` if it cannot be written.
fn write_pkg_config(
    rust_triple: &str,
    c_triple: &str,
    multiarch: &str,
    sysroot: Option<&str>,
) -> Option<String> {
    let path = PathBuf::from(format!("/usr/bin/{rust_triple}-pkg-config"));
    let cross = format!("{c_triple}-pkg-config");
    let delegate = (cross != format!("{rust_triple}-pkg-config") && sys::which(&cross).is_some())
        .then_some(cross.as_str());
    if delegate.is_none() && sys::which("pkg-config").is_none() {
        return None;
    }
    let script = env::pkg_config_script(delegate, multiarch, sysroot);
    sys::write_file(&path, &script, 0o755).ok()?;
    Some(path.display().to_string())
}

/// `/usr/bin/<rust-triple>-zigcc`: zig as C compiler and linker for a musl
/// target, pinned to the oldest CPU of the variant (ARM1176 for arm/v6).
fn write_zig_wrapper(env: &TargetEnv, rust_triple: &str) -> Result<String, String> {
    let platform = env.platform();
    let target = Target::new(&platform, Family::Alpine).map_err(|e| e.to_string())?;
    let zig_triple = target
        .zig_triple()
        .ok_or_else(|| format!("zig has no target for {platform}"))?;
    let zig = if let Some(z) = sys::which("zig") {
        z.display().to_string()
    } else if Command::new("python3")
        .args(["-m", "ziglang", "version"])
        .output()
        .is_ok_and(|o| o.status.success())
    {
        "python3 -m ziglang".to_string()
    } else {
        return Err(format!(
            "linking {rust_triple} needs zig: pip install ziglang (or put zig on PATH)"
        ));
    };
    let mcpu = target
        .spec
        .zig
        .mcpu
        .map(|c| format!(" -mcpu={c}"))
        .unwrap_or_default();
    let path = format!("/usr/bin/{rust_triple}-zigcc");
    let script = format!(
        "#!/bin/sh\n# Written by xx-cargo: zig as C compiler and linker for {rust_triple}.\nexec {zig} cc -target {zig_triple}{mcpu} \"$@\"\n"
    );
    sys::write_file(Path::new(&path), &script, 0o755)
        .map_err(|e| format!("cannot write {path}: {e}"))?;
    Ok(path)
}

/// Runs cargo with JSON messages on stdout, passes other output through,
/// then checks every executable built for the target.
fn build_and_verify(
    mut cmd: Command,
    env: &TargetEnv,
    rust_triple: &str,
    installed_in: Option<&Path>,
) -> Result<u8, String> {
    let mut child = trace::command("xx-cargo", &mut cmd)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| sys::cannot_run(cmd.get_program(), &e))?;
    let mut executables = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            match serde_json::from_str::<serde_json::Value>(&line) {
                Ok(msg) if msg.get("reason").is_some() => {
                    if msg["reason"] == "compiler-artifact" {
                        if let Some(exe) = msg["executable"].as_str() {
                            // Build scripts are host programs: only check the target's.
                            if exe.contains(&format!("/{rust_triple}/")) {
                                let built = PathBuf::from(exe);
                                executables.push(match (installed_in, built.file_name()) {
                                    (Some(bin), Some(name)) => bin.join(name),
                                    _ => built,
                                });
                            }
                        }
                    }
                }
                _ => {
                    let _ = Out::new().line(&line);
                }
            }
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for cargo: {e}"))?;
    if !status.success() {
        return Ok(status.code().map_or(1, |c| c as u8));
    }
    let expect = Expectation::new(env.platform());
    let mut ok = true;
    for exe in &executables {
        let report = verify::verify_path(exe, &expect, &verify::Options::default());
        if report.ok {
            eprintln!(
                "xx-cargo: {} verified for {}",
                exe.display(),
                expect.platform
            );
        } else {
            eprintln!("xx-cargo: {}", report.failure_line());
            ok = false;
        }
    }
    Ok(if ok { 0 } else { 1 })
}
