//! The environment xx-cargo gives cargo for a target (as upstream xx-cargo, with
//! deliberate difference 4): linker, C/C++ compilers and archiver for the `cc`
//! crate, pkg-config for `*-sys` crates, bindgen's clang arguments, rustflags
//! and a QEMU runner. Pure: every input is a parameter.

/// Facts the environment is built from.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// Rust target triple (`aarch64-unknown-linux-gnu`).
    pub rust_triple: String,
    /// C compiler driver for the target (`/usr/bin/aarch64-linux-gnu-clang`).
    pub cc: String,
    /// C++ driver.
    pub cxx: String,
    /// Archiver, if one for the target exists.
    pub ar: Option<String>,
    /// pkg-config wrapper for the target, if any.
    pub pkg_config: Option<String>,
    /// Extra clang arguments for bindgen (`--target=... [--sysroot=...]`).
    pub bindgen_args: String,
    /// XX_RUSTFLAGS.
    pub rustflags: Option<String>,
    /// QEMU runner for `cargo run`/`cargo test`, if installed and the target is foreign.
    pub runner: Option<String>,
    /// The user configured a linker for this triple: leave it alone.
    pub linker_configured: bool,
}

/// `aarch64-unknown-linux-gnu` -> `AARCH64_UNKNOWN_LINUX_GNU` (cargo's env form).
pub fn upper(triple: &str) -> String {
    triple.to_uppercase().replace(['-', '.'], "_")
}

/// `aarch64-unknown-linux-gnu` -> `aarch64_unknown_linux_gnu` (the cc crate's form).
pub fn lower(triple: &str) -> String {
    triple.replace(['-', '.'], "_")
}

/// The variables to set, in a stable order.
pub fn cargo_env(i: &Inputs) -> Vec<(String, String)> {
    let tu = upper(&i.rust_triple);
    let tl = lower(&i.rust_triple);
    let mut env = Vec::new();
    if !i.linker_configured {
        env.push((format!("CARGO_TARGET_{tu}_LINKER"), i.cc.clone()));
    }
    env.push((format!("CC_{tl}"), i.cc.clone()));
    env.push((format!("CXX_{tl}"), i.cxx.clone()));
    if let Some(ar) = &i.ar {
        env.push((format!("AR_{tl}"), ar.clone()));
    }
    if let Some(pc) = &i.pkg_config {
        env.push((format!("PKG_CONFIG_{tl}"), pc.clone()));
        env.push(("PKG_CONFIG_ALLOW_CROSS".to_string(), "1".to_string()));
    }
    env.push((
        format!("BINDGEN_EXTRA_CLANG_ARGS_{tl}"),
        i.bindgen_args.clone(),
    ));
    if let Some(flags) = i.rustflags.as_ref().filter(|f| !f.is_empty()) {
        env.push((format!("CARGO_TARGET_{tu}_RUSTFLAGS"), flags.clone()));
    }
    if let Some(r) = &i.runner {
        env.push((format!("CARGO_TARGET_{tu}_RUNNER"), r.clone()));
    }
    env
}

/// A `<rust-triple>-pkg-config` script: pkg-config that sees only the
/// target's `.pc` files. Delegates to the distro's cross pkg-config
/// (`aarch64-linux-gnu-pkg-config`) when there is one; otherwise points the
/// native pkg-config at the multiarch dir (Debian) or the sysroot (Alpine).
pub fn pkg_config_script(
    c_pkg_config: Option<&str>,
    multiarch: &str,
    sysroot: Option<&str>,
) -> String {
    let mut s =
        String::from("#!/bin/sh\n# Written by xx-cargo: pkg-config for the target's libraries.\n");
    if let Some(cross) = c_pkg_config {
        s.push_str(&format!("exec {cross} \"$@\"\n"));
        return s;
    }
    match sysroot {
        Some(root) => s.push_str(&format!(
            "export PKG_CONFIG_SYSROOT_DIR={root}\nexport PKG_CONFIG_LIBDIR={root}/usr/lib/pkgconfig:{root}/usr/share/pkgconfig\n"
        )),
        None => s.push_str(&format!(
            "export PKG_CONFIG_LIBDIR=/usr/lib/{multiarch}/pkgconfig:/usr/share/pkgconfig\n"
        )),
    }
    s.push_str("exec pkg-config \"$@\"\n");
    s
}

/// Where `cargo install` puts executables: `<root>/bin`, the root being
/// `--root`, then CARGO_INSTALL_ROOT, then `install.root` from the config,
/// then CARGO_HOME, then `~/.cargo` (cargo's order). cargo builds in a
/// temporary directory it deletes afterwards, so this is where xx-cargo
/// verifies what `install` made.
pub fn install_bin_dir(
    args: &[String],
    var: &dyn Fn(&str) -> Option<String>,
    config_root: Option<&std::path::Path>,
) -> std::path::PathBuf {
    use std::path::PathBuf;
    let mut root = None;
    let mut it = args.iter().take_while(|a| *a != "--");
    while let Some(a) = it.next() {
        if a == "--root" {
            root = it.next().map(PathBuf::from);
        } else if let Some(r) = a.strip_prefix("--root=") {
            root = Some(PathBuf::from(r));
        }
    }
    let root = root
        .or_else(|| var("CARGO_INSTALL_ROOT").map(PathBuf::from))
        .or_else(|| config_root.map(std::path::Path::to_path_buf))
        .or_else(|| var("CARGO_HOME").map(PathBuf::from))
        .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from("/root/.cargo"));
    root.join("bin")
}

/// The cargo command line with xx-cargo's flags (`--target=T`, ...) put
/// before a `--`, so they reach cargo and not the program `cargo run --`
/// starts (upstream appends them at the end: our deliberate difference 3).
pub fn with_cargo_flags(args: &[String], flags: Vec<String>) -> Vec<String> {
    let at = args.iter().position(|a| a == "--").unwrap_or(args.len());
    let mut out = args.to_vec();
    out.splice(at..at, flags);
    out
}

/// Where `cargo build --target T [--release|--profile P]` puts its output.
pub fn target_dir(args: &[String], triple: &str) -> String {
    let mut profile = "debug".to_string();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--release" || a == "-r" {
            profile = "release".to_string();
        } else if a == "--profile" {
            if let Some(p) = it.next() {
                profile = p.clone();
            }
        } else if let Some(p) = a.strip_prefix("--profile=") {
            profile = p.to_string();
        }
    }
    let profile = match profile.as_str() {
        "dev" | "test" => "debug".to_string(),
        "bench" => "release".to_string(),
        p => p.to_string(),
    };
    let base = std::env::var("CARGO_TARGET_DIR")
        .ok()
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| "target".to_string());
    format!("{base}/{triple}/{profile}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_go_before_the_program_arguments() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let target = vec!["--target=aarch64-unknown-linux-gnu".to_string()];
        assert_eq!(
            with_cargo_flags(&args(&["run", "--release", "--", "--help"]), target.clone()),
            args(&[
                "run",
                "--release",
                "--target=aarch64-unknown-linux-gnu",
                "--",
                "--help"
            ])
        );
        assert_eq!(
            with_cargo_flags(&args(&["build"]), target),
            args(&["build", "--target=aarch64-unknown-linux-gnu"])
        );
    }

    #[test]
    fn install_root_in_cargo_order() {
        use std::path::{Path, PathBuf};
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let vars = |k: &str| match k {
            "CARGO_INSTALL_ROOT" => Some("/env-root".to_string()),
            "CARGO_HOME" => Some("/cargo-home".to_string()),
            _ => None,
        };
        let none = |_: &str| None;
        let home = |k: &str| (k == "CARGO_HOME").then(|| "/cargo-home".to_string());
        let cfg = Some(Path::new("/cfg-root"));
        assert_eq!(
            install_bin_dir(&args(&["install", "--root", "/out", "ripgrep"]), &vars, cfg),
            PathBuf::from("/out/bin")
        );
        assert_eq!(
            install_bin_dir(&args(&["install", "--root=/o2", "x"]), &vars, cfg),
            PathBuf::from("/o2/bin")
        );
        assert_eq!(
            install_bin_dir(&args(&["install", "x"]), &vars, cfg),
            PathBuf::from("/env-root/bin")
        );
        assert_eq!(
            install_bin_dir(&args(&["install", "x"]), &home, cfg),
            PathBuf::from("/cfg-root/bin")
        );
        assert_eq!(
            install_bin_dir(&args(&["install", "x"]), &home, None),
            PathBuf::from("/cargo-home/bin")
        );
        assert_eq!(
            install_bin_dir(&args(&["install", "x", "--", "--root", "/no"]), &none, None),
            PathBuf::from("/root/.cargo/bin")
        );
    }

    #[test]
    fn the_whole_environment() {
        let i = Inputs {
            rust_triple: "aarch64-unknown-linux-gnu".into(),
            cc: "/usr/bin/aarch64-linux-gnu-clang".into(),
            cxx: "/usr/bin/aarch64-linux-gnu-clang++".into(),
            ar: Some("/usr/bin/aarch64-linux-gnu-ar".into()),
            pkg_config: Some("/usr/bin/aarch64-unknown-linux-gnu-pkg-config".into()),
            bindgen_args: "--target=aarch64-linux-gnu".into(),
            rustflags: Some("-Ctarget-cpu=cortex-a72".into()),
            runner: Some("qemu-aarch64-static".into()),
            linker_configured: false,
        };
        let env = cargo_env(&i);
        let get = |k: &str| {
            env.iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(
            get("CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER"),
            Some("/usr/bin/aarch64-linux-gnu-clang")
        );
        assert_eq!(
            get("CC_aarch64_unknown_linux_gnu"),
            Some("/usr/bin/aarch64-linux-gnu-clang")
        );
        assert_eq!(
            get("CXX_aarch64_unknown_linux_gnu"),
            Some("/usr/bin/aarch64-linux-gnu-clang++")
        );
        assert_eq!(
            get("AR_aarch64_unknown_linux_gnu"),
            Some("/usr/bin/aarch64-linux-gnu-ar")
        );
        assert_eq!(
            get("PKG_CONFIG_aarch64_unknown_linux_gnu"),
            Some("/usr/bin/aarch64-unknown-linux-gnu-pkg-config")
        );
        assert_eq!(get("PKG_CONFIG_ALLOW_CROSS"), Some("1"));
        assert_eq!(
            get("BINDGEN_EXTRA_CLANG_ARGS_aarch64_unknown_linux_gnu"),
            Some("--target=aarch64-linux-gnu")
        );
        assert_eq!(
            get("CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUSTFLAGS"),
            Some("-Ctarget-cpu=cortex-a72")
        );
        assert_eq!(
            get("CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER"),
            Some("qemu-aarch64-static")
        );
        let configured = cargo_env(&Inputs {
            linker_configured: true,
            ..i
        });
        assert!(
            !configured.iter().any(|(k, _)| k.ends_with("_LINKER")),
            "a user's linker wins"
        );
    }

    #[test]
    fn pkg_config_wrappers() {
        let s = pkg_config_script(
            Some("aarch64-linux-gnu-pkg-config"),
            "aarch64-linux-gnu",
            None,
        );
        assert!(s.ends_with("exec aarch64-linux-gnu-pkg-config \"$@\"\n"));
        let s = pkg_config_script(None, "aarch64-linux-gnu", None);
        assert!(s.contains(
            "PKG_CONFIG_LIBDIR=/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig"
        ));
        let s = pkg_config_script(None, "", Some("/aarch64-alpine-linux-musl"));
        assert!(s.contains("PKG_CONFIG_SYSROOT_DIR=/aarch64-alpine-linux-musl"));
    }

    #[test]
    fn target_dirs() {
        let a = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            target_dir(&a(&["build", "--release"]), "x"),
            "target/x/release"
        );
        assert_eq!(target_dir(&a(&["build"]), "x"), "target/x/debug");
        assert_eq!(
            target_dir(&a(&["build", "--profile", "dist"]), "x"),
            "target/x/dist"
        );
        assert_eq!(
            target_dir(&a(&["build", "--profile=dev"]), "x"),
            "target/x/debug"
        );
    }
}
