//! `xx-apk`: apk for the build stage's target on Alpine (as upstream xx).
//! A foreign target gets its own root, `/<triple>`, with the target's
//! `/etc/apk/arch`; packages install there (`apk --root /<triple> add ...`)
//! and `xx-clang` uses it as the sysroot. Deliberate difference 7:
//! XX_APK_KEEP_BINARIES works (target `usr/bin` is emptied unless it is set).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cmd::{cc, sys, trace};
use crate::distro::Distro;
use crate::targetenv::{Inputs, TargetEnv};

/// Marker of a finished cross-root setup.
const SETUP_MARKER: &str = ".xx-setup";

/// Entry point.
pub fn run(args: &[String]) -> u8 {
    let _lock = sys::Lock::take("xx-apk", "XX_APK_NOLOCK");
    // Package vendor is always alpine: resolve as if XX_VENDOR were unset.
    let env = TargetEnv::resolve(&Inputs {
        var: &|k| {
            if k == "XX_VENDOR" {
                None
            } else {
                std::env::var(k).ok()
            }
        },
        ..Inputs::from_process()
    });
    if env.os != "linux" {
        eprintln!("skipping packages installation on {}", env.os);
        return 0;
    }
    if env.arch.starts_with("mips") {
        eprintln!("skipping packages installation on {}", env.arch);
        return 0;
    }
    let env_lines = match env.env_lines() {
        Ok(l) => l,
        Err(e) => {
            eprintln!("xx-apk: {e}");
            return 1;
        }
    };
    let triple = env.triple.clone().unwrap_or_default();
    let cross = env.is_cross();
    let root = if cross {
        PathBuf::from(format!("/{triple}"))
    } else {
        PathBuf::from("/")
    };

    match args.first().map(String::as_str) {
        Some("setup") => {
            if cross {
                return report(setup(&root, &env, &env_lines));
            }
            return 0;
        }
        Some("clean") => {
            if cross && root.exists() {
                eprintln!("+ rm -rf {}", root.display());
                return report(
                    fs::remove_dir_all(&root)
                        .map_err(|e| format!("cannot remove {}: {e}", root.display())),
                );
            }
            return 0;
        }
        _ => {}
    }
    if cross && !root.join(SETUP_MARKER).exists() {
        if let Err(e) = setup(&root, &env, &env_lines) {
            eprintln!("xx-apk: {e}");
            return 1;
        }
    }

    let is_add = args.iter().any(|a| a == "add");
    if cross && args.iter().any(|a| a == "xx-c-essentials") && !cc::lld_links(&env.arch) {
        // Debian gets the target's GNU ld here; Alpine publishes no cross
        // binutils, and its lld links every target from LLVM 19 (Alpine 3.21).
        match cc::installed_lld_major() {
            None => eprintln!("xx-apk: note: xx-clang links with lld: apk add clang lld"),
            Some(v) => eprintln!(
                "xx-apk: warning: lld {v} cannot link {}: install lld {} or newer (apk add lld; \
                 Alpine 3.21 has lld 19); Alpine has no cross GNU ld for xx-clang to fall back to",
                env.arch,
                cc::lld_min_version(&env.arch)
            ),
        }
    }
    let args: Vec<String> = args
        .iter()
        .flat_map(|a| match a.as_str() {
            "xx-c-essentials" => vec!["musl-dev".to_string(), "gcc".to_string()],
            "xx-cxx-essentials" => vec!["g++".to_string()],
            _ => vec![a.clone()],
        })
        .collect();
    let code = apk(&env_lines, &root, &args);
    if code != 0 || !is_add {
        return code;
    }
    if cross {
        if args
            .iter()
            .any(|a| a == "compiler-rt" || a == "compiler-rt-static")
        {
            link_compiler_rt(&env_lines, &root);
        }
        if args.iter().any(|a| a == "rust-stdlib") {
            let rustlib = format!("usr/lib/rustlib/{triple}");
            let _ = sys::symlink(&root.join(&rustlib), &Path::new("/").join(&rustlib));
        }
        if std::env::var_os("XX_APK_KEEP_BINARIES").is_none_or(|v| v.is_empty()) {
            // Target executables cannot run here and only take space.
            if let Ok(entries) = fs::read_dir(root.join("usr/bin")) {
                for e in entries.flatten() {
                    let p = e.path();
                    let _ = if p.is_dir() && !p.is_symlink() {
                        fs::remove_dir_all(&p)
                    } else {
                        fs::remove_file(&p)
                    };
                }
            }
        }
    }
    0
}

/// Runs `apk --root ROOT ARGS` with the target's environment; its exit code.
fn apk(env_lines: &[String], root: &Path, args: &[String]) -> u8 {
    let mut cmd = Command::new("apk");
    cmd.arg("--root").arg(root).args(args);
    sys::export_target_env(&mut cmd, env_lines);
    // Nested xx-apk calls (from package scripts) must not wait for our lock.
    cmd.env("XX_APK_NOLOCK", "1");
    eprintln!("+ apk --root {} {}", root.display(), args.join(" "));
    match trace::command("xx-apk", &mut cmd).status() {
        Ok(s) => s.code().map_or(1, |c| c as u8),
        Err(e) => {
            eprintln!("xx-apk: cannot run apk: {e} (is this an Alpine stage?)");
            127
        }
    }
}

/// Creates the target root: keys, repositories (newer ones for riscv64 and
/// loong64 on old Alpine), the target arch, the keyring, the shared cache.
fn setup(root: &Path, env: &TargetEnv, env_lines: &[String]) -> Result<(), String> {
    let io = |what: &Path, e: std::io::Error| format!("cannot write {}: {e}", what.display());
    for d in ["etc/apk/keys", "etc/apk/protected_paths.d"] {
        fs::create_dir_all(root.join(d)).map_err(|e| io(&root.join(d), e))?;
    }
    let repos = fs::read_to_string("/etc/apk/repositories").unwrap_or_default();
    let version = Distro::detect(Path::new("/")).version_id;
    let repos = match env.arch.as_str() {
        "riscv64" if version_lt(&version, (3, 20)) => newer_repositories(&repos, "v3.20"),
        "loong64" if version_lt(&version, (3, 21)) => newer_repositories(&repos, "v3.21"),
        _ => repos,
    };
    let repo_file = root.join("etc/apk/repositories");
    fs::write(&repo_file, repos).map_err(|e| io(&repo_file, e))?;
    let arch_file = root.join("etc/apk/arch");
    fs::write(&arch_file, format!("{}\n", env.alpine_arch())).map_err(|e| io(&arch_file, e))?;

    let mut cmd = Command::new("apk");
    cmd.args(["add", "--no-cache", "--initdb", "-p"])
        .arg(root)
        .args(["--allow-untrusted", "alpine-keys"]);
    sys::export_target_env(&mut cmd, env_lines);
    eprintln!(
        "+ apk add --no-cache --initdb -p {} --allow-untrusted alpine-keys",
        root.display()
    );
    let ok = trace::command("xx-apk", &mut cmd)
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        return Err(format!(
            "setting up {} failed: apk could not install alpine-keys",
            root.display()
        ));
    }
    if Path::new("/etc/apk/cache").is_dir() {
        let shared = PathBuf::from(format!("/etc/apk/cache/_{}", env.alpine_arch()));
        let _ = fs::create_dir_all(&shared);
        sys::symlink(&shared, &root.join("etc/apk/cache"))
            .map_err(|e| io(&root.join("etc/apk/cache"), e))?;
    }
    let marker = root.join(SETUP_MARKER);
    fs::write(&marker, "").map_err(|e| io(&marker, e))
}

/// `compiler-rt` installs into the target root, but clang looks for its
/// runtime in its own resource dir: link every `clang_rt.` file back to `/`.
fn link_compiler_rt(env_lines: &[String], root: &Path) {
    let mut cmd = Command::new("apk");
    cmd.arg("--root")
        .arg(root)
        .args(["info", "-qL", "compiler-rt"]);
    sys::export_target_env(&mut cmd, env_lines);
    // Inherit stdin rather than open /dev/null, which minimal roots may lack.
    cmd.stdin(std::process::Stdio::inherit());
    let Ok(out) = trace::command("xx-apk", &mut cmd).output() else {
        return;
    };
    for f in String::from_utf8_lossy(&out.stdout).lines().map(str::trim) {
        if f.contains("clang_rt.") {
            let rel = f.trim_start_matches('/');
            let _ = sys::symlink(&root.join(rel), &Path::new("/").join(rel));
        }
    }
}

/// The repositories list pointed at release `v` (same mirror, main and community).
fn newer_repositories(current: &str, v: &str) -> String {
    let base = current
        .lines()
        .map(str::trim)
        .find(|l| !l.starts_with('#') && l.contains("/alpine/"))
        .and_then(|l| l.split("/alpine/").next())
        .map(|b| b.trim_start_matches('@').to_string())
        .unwrap_or_else(|| "https://dl-cdn.alpinelinux.org".to_string());
    format!("{base}/alpine/{v}/main\n{base}/alpine/{v}/community\n")
}

/// `3.19.1` < (3, 20)? Unknown versions (edge) count as new.
fn version_lt(version: &str, than: (u32, u32)) -> bool {
    let mut it = version.split('.').map(|p| p.parse::<u32>().ok());
    match (it.next().flatten(), it.next().flatten()) {
        (Some(a), Some(b)) => (a, b) < than,
        _ => false,
    }
}

fn report(r: Result<(), String>) -> u8 {
    match r {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("xx-apk: {e}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_repositories() {
        assert!(version_lt("3.19.1", (3, 20)));
        assert!(!version_lt("3.20.0", (3, 20)));
        assert!(!version_lt("", (3, 20)));
        let repos = "https://mirror.example/alpine/v3.19/main\n#x\n";
        assert_eq!(
            newer_repositories(repos, "v3.20"),
            "https://mirror.example/alpine/v3.20/main\nhttps://mirror.example/alpine/v3.20/community\n"
        );
    }
}
