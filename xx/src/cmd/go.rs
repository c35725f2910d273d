//! `xx-go`: go for the build stage's target (as upstream xx): GOOS, GOARCH
//! and the variant knobs (GOARM, GOAMD64, GOMIPS/GOMIPS64), plus CC/CXX/AR/
//! PKG_CONFIG for cgo from the xx-clang wrappers (or `<triple>-gcc`, or zig).
//! Like upstream it leaves CGO_ENABLED to the user. `--wrap` writes the
//! settings to Go's env file so plain `go` uses them; `--unwrap` removes it.
//! Beyond upstream: GOMIPS/GOMIPS64 are wrapped too, and wasi maps to wasip1.

use std::path::PathBuf;
use std::process::Command;

use crate::cmd::{cc, sys, trace};
use crate::distro::Family;
use crate::target::{self, Target};
use crate::targetenv::{self, TargetEnv};

/// Entry point.
pub fn run(args: &[String]) -> u8 {
    let env = targetenv::from_process();
    let vars = match go_vars(&env) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("xx-go: {e}");
            return 1;
        }
    };
    match args.first().map(String::as_str) {
        Some("--wrap") => wrap(&vars),
        Some("--unwrap") => unwrap(),
        _ => {
            let mut cmd = Command::new("go");
            cmd.args(args)
                .envs(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            sys::exec("xx-go", &mut cmd)
        }
    }
}

/// Keys `--wrap` writes to Go's env file.
const WRAPPED: &[&str] = &[
    "GOOS",
    "GOARCH",
    "GOAMD64",
    "GOARM",
    "GOMIPS",
    "GOMIPS64",
    "CC",
    "CXX",
    "AR",
    "PKG_CONFIG",
];

/// Every variable xx-go sets for `go`.
fn go_vars(env: &TargetEnv) -> Result<Vec<(String, String)>, String> {
    if crate::target::is_wasi_os(&env.os) {
        return Ok(vec![
            ("GOOS".into(), "wasip1".into()),
            ("GOARCH".into(), "wasm".into()),
        ]);
    }
    let mut vars: Vec<(String, String)> = env
        .env_lines()
        .map_err(|e| e.to_string())?
        .iter()
        .filter_map(|l| {
            l.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect();
    for (k, v) in target::go_env(&env.platform()) {
        // GOOS/GOARCH always follow the target; the variant knobs only if unset.
        if matches!(k, "GOOS" | "GOARCH") || std::env::var_os(k).is_none_or(|x| x.is_empty()) {
            vars.push((k.to_string(), v));
        }
    }
    let triple = env.triple().map_err(|e| e.to_string())?.to_string();
    let set = |vars: &mut Vec<(String, String)>, k: &str, v: String| {
        vars.retain(|(key, _)| key != k);
        vars.push((k.to_string(), v));
    };
    // Tools are named, not pathed, as upstream: `go env CC` prints
    // `aarch64-linux-gnu-clang`, and scripts compare against that.
    if sys::which(format!("{triple}-gcc")).is_some() {
        set(&mut vars, "CC", format!("{triple}-gcc"));
    }
    if sys::which(format!("{triple}-g++")).is_some() {
        set(&mut vars, "CXX", format!("{triple}-g++"));
    }
    let prefer = std::env::var("XX_GO_PREFER_C_COMPILER").unwrap_or_else(|_| "clang".into());
    let cgo = std::env::var("CGO_ENABLED").is_ok_and(|v| v == "1");
    if prefer == "clang" && cc::have_clang() {
        match cc::ensure_setup(&triple) {
            Ok(()) => {
                set(&mut vars, "CC", format!("{triple}-clang"));
                set(&mut vars, "CXX", format!("{triple}-clang++"));
            }
            // Pure Go needs no C toolchain: only cgo builds care.
            Err(e) if cgo => return Err(e),
            Err(_) => {}
        }
    } else if prefer == "zig" && sys::which("zig").is_some() {
        let family = if env.libc == "musl" {
            Family::Alpine
        } else {
            Family::Debian
        };
        if let Some(z) = Target::new(&env.platform(), family)
            .ok()
            .and_then(|t| t.zig_triple())
        {
            set(&mut vars, "CC", format!("zig cc -target {z}"));
            set(&mut vars, "CXX", format!("zig c++ -target {z}"));
        }
    }
    // As upstream, the target's ar and pkg-config come with the clang choice.
    if prefer == "clang" {
        for (key, tool) in [("AR", "ar"), ("PKG_CONFIG", "pkg-config")] {
            let name = format!("{triple}-{tool}");
            if sys::which(&name).is_some() {
                set(&mut vars, key, name);
            }
        }
    }
    if std::env::var_os("GOBIN").is_none_or(|v| v.is_empty()) {
        if let Some(gopath) = std::env::var_os("GOPATH").filter(|v| !v.is_empty()) {
            let os = &env.os;
            let arch = &env.arch;
            let bin = PathBuf::from(gopath)
                .join("bin")
                .join(format!("{os}_{arch}"));
            let path = std::env::var("PATH").unwrap_or_default();
            set(&mut vars, "PATH", format!("{}:{path}", bin.display()));
        }
    }
    Ok(vars)
}

/// The file `go env GOENV` names.
fn goenv_file() -> Result<PathBuf, String> {
    let out = trace::command("xx-go", Command::new("go").args(["env", "GOENV"]))
        .output()
        .map_err(|e| sys::cannot_run("go".as_ref(), &e))?;
    let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if path.is_empty() || path == "off" {
        return Err("go env GOENV is off or empty: nothing to wrap".to_string());
    }
    Ok(PathBuf::from(path))
}

fn wrap(vars: &[(String, String)]) -> u8 {
    let file = match goenv_file() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("xx-go --wrap: {e}");
            return 1;
        }
    };
    let text: String = WRAPPED
        .iter()
        .filter_map(|k| vars.iter().rev().find(|(key, _)| key == k))
        .map(|(k, v)| format!("{k}={v}\n"))
        .collect();
    match sys::write_file(&file, &text, 0o644) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("xx-go --wrap: cannot write {}: {e}", file.display());
            1
        }
    }
}

fn unwrap() -> u8 {
    match goenv_file().map(std::fs::remove_file) {
        Ok(Ok(())) => 0,
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => 0,
        Ok(Err(e)) => {
            eprintln!("xx-go --unwrap: {e}");
            1
        }
        Err(e) => {
            eprintln!("xx-go --unwrap: {e}");
            1
        }
    }
}
