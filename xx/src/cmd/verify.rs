//! `xx-verify [--static] [--json] [--root DIR] [--max-glibc X.Y] FILE...`:
//! exits 0 only if every file is a binary for the target platform.
//! Compatible with upstream's flags and exit codes (as upstream xx), and
//! stricter (deliberate difference 1): ARM version, float ABI, loader.

use std::path::{Path, PathBuf};

use crate::cmd::out::Out;
use crate::cmd::trace;
use crate::platform::Platform;
use crate::targetenv;
use crate::verify::{self, Expectation, Options};

const USAGE: &str =
    "Usage: xx-verify [--static] [--json] [--root DIR] [--max-glibc X.Y|auto] [--platform P] FILE...

Checks that each FILE is a binary for the target platform (TARGETPLATFORM etc.,
as xx-info resolves it): OS, architecture and byte order; for 32-bit ARM also
the architecture version (v5/v6/v7) and float ABI. Exits 0 only if all pass.

  --static          also require static linking (no loader, no shared libraries);
                    XX_VERIFY_STATIC=1 does the same
  --json            print a JSON report for every file on stdout
  --root DIR        the loader and every needed library must exist in DIR,
                    as ld.so would find them, and define every symbol version
                    the binary needs (catches a glibc binary copied into an
                    Alpine image, and 'GLIBC_2.38 not found')
  --max-glibc X.Y   fail if a binary needs a newer GLIBC_ symbol version;
                    `auto` takes the version of --root's libc.so.6
  --platform P      check against P instead of the build stage's target
  --setup           accepted for compatibility; nothing to install
";

/// Parsed command line.
#[derive(Debug, Default)]
struct Args {
    json: bool,
    setup_only: bool,
    platform: Option<Platform>,
    opts: Options,
    files: Vec<String>,
}

/// Runs xx-verify with the process environment.
pub fn run(argv: &[String]) -> u8 {
    let mut args = match parse(argv) {
        Ok(a) => a,
        Err(Parse::Usage) => {
            eprint!("{USAGE}");
            return 1;
        }
        Err(Parse::Error(msg)) => {
            eprintln!("{msg}");
            return 1;
        }
    };
    if std::env::var("XX_VERIFY_STATIC").is_ok_and(|v| v == "1") {
        args.opts.require_static = true;
    }
    if args.files.is_empty() {
        if args.setup_only {
            return 0;
        }
        eprint!("{USAGE}");
        return 1;
    }
    let platform = args
        .platform
        .clone()
        .unwrap_or_else(|| targetenv::from_process().platform());
    trace::note("xx-verify", &format!("target {platform}"));
    if let Err(e) = verify::resolve_auto_glibc(&mut args.opts, &platform) {
        eprintln!("xx-verify: {e}");
        return 1;
    }
    let expect = Expectation::new(platform);
    let reports: Vec<verify::Report> = args
        .files
        .iter()
        .map(|f| verify::verify_path(Path::new(f), &expect, &args.opts))
        .collect();
    for r in &reports {
        let format = r.format.as_deref().or(r.error.as_deref()).unwrap_or("?");
        let verdict = if r.ok { "ok" } else { "FAILED" };
        trace::note("xx-verify", &format!("{}: {format}: {verdict}", r.file));
    }
    let all_ok = reports.iter().all(|r| r.ok);
    if args.json {
        match serde_json::to_string_pretty(&reports) {
            Ok(text) => {
                let _ = Out::new().line(&text);
            }
            Err(e) => {
                eprintln!("xx-verify: cannot encode the report: {e}");
                return 1;
            }
        }
    }
    for r in reports.iter().filter(|r| !r.ok) {
        eprintln!("xx-verify: {}", r.failure_line());
    }
    if all_ok { 0 } else { 1 }
}

enum Parse {
    Usage,
    Error(String),
}

fn parse(argv: &[String]) -> Result<Args, Parse> {
    let mut a = Args::default();
    let mut it = argv.iter();
    let mut flags_done = false;
    while let Some(arg) = it.next() {
        if flags_done || !arg.starts_with('-') || arg == "-" {
            a.files.push(arg.clone());
            continue;
        }
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let mut value = |flag: &str| -> Result<String, Parse> {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| {
                    Parse::Error(format!("xx-verify: {flag} needs a value (see --help)"))
                })
        };
        match name {
            "--" => flags_done = true,
            "--static" => a.opts.require_static = true,
            "--setup" => a.setup_only = true,
            "--json" => a.json = true,
            "--help" | "-h" => return Err(Parse::Usage),
            "--root" => a.opts.root = Some(PathBuf::from(value("--root")?)),
            "--platform" => {
                let v = value("--platform")?;
                a.platform = Some(
                    v.parse()
                        .map_err(|e| Parse::Error(format!("xx-verify: {e}")))?,
                );
            }
            "--max-glibc" => {
                let v = value("--max-glibc")?;
                if v == "auto" {
                    a.opts.max_glibc_auto = true;
                    continue;
                }
                let parsed = v
                    .split_once('.')
                    .and_then(|(x, y)| Some((x.parse().ok()?, y.parse().ok()?)));
                match parsed {
                    Some(ver) => a.opts.max_glibc = Some(ver),
                    None => {
                        return Err(Parse::Error(format!(
                            "xx-verify: --max-glibc wants MAJOR.MINOR (e.g. 2.31) or auto, not {v:?}"
                        )));
                    }
                }
            }
            _ => return Err(Parse::Error(format!("invalid flag {arg}"))),
        }
    }
    if let Some(root) = &a.opts.root {
        if !root.is_dir() {
            return Err(Parse::Error(format!(
                "xx-verify: --root {} is not a directory",
                root.display()
            )));
        }
    }
    Ok(a)
}
