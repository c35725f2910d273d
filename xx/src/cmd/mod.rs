//! The helper commands and the multi-call dispatcher that picks one.
//!
//! Each helper is a function from its arguments to an exit code. Output goes
//! through [`Out`], which treats a closed stdout (`xx-info | head -0`) as a
//! normal end rather than a panic.

use std::ffi::OsString;
use std::path::Path;

pub mod apk;
pub mod apt;
pub mod cargo;
pub mod cc;
pub mod go;
pub mod info;
pub mod out;
pub mod sys;
pub mod trace;
pub mod verify;
pub mod windres;

pub use out::Out;

/// A helper's entry point: the name it was called by (`c++` for `xx-c++`) and
/// the arguments after it; the exit code back.
type Helper = fn(&str, &[String]) -> u8;

/// Every helper: its names (first is canonical) and entry point.
const HELPERS: &[(&[&str], Helper)] = &[
    (&["info"], |_, a| info::run(a)),
    (&["verify"], |_, a| verify::run(a)),
    (&["cc", "c++", "clang", "clang++"], cc::run),
    (&["cargo"], |_, a| cargo::run(a)),
    (&["go"], |_, a| go::run(a)),
    (&["apt", "apt-get"], apt::run),
    (&["apk"], |_, a| apk::run(a)),
    (&["windres"], |_, a| windres::run(a)),
];

/// Exit code for usage errors in the dispatcher itself.
const EXIT_USAGE: u8 = 2;

/// Dispatches on `argv[0]` (`xx-info`) or, for plain `xx`, on `argv[1]`
/// (`xx info`, `xx xx-info`).
pub fn run_multicall(argv: &[OsString]) -> u8 {
    let args: Vec<String> = argv
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let invoked = args
        .first()
        .and_then(|a| Path::new(a).file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if let Some(name) = invoked.strip_prefix("xx-") {
        return dispatch(name, &args[1..]);
    }
    // Plain `clang` through the /usr/local/bin/clang link xx-clang's setup makes.
    if invoked == "clang" || invoked == "clang++" {
        return cc::run_plain(&invoked, &args[1..]);
    }
    match args.get(1).map(String::as_str) {
        None | Some("-h" | "--help" | "help") => {
            print_usage();
            0
        }
        Some("--version" | "-V") => {
            let _ = Out::new().line(&format!("xx {}", env!("CARGO_PKG_VERSION")));
            0
        }
        Some("install-links") => install_links(&args[2..]),
        Some(cmd) => dispatch(cmd.strip_prefix("xx-").unwrap_or(cmd), &args[2..]),
    }
}

fn dispatch(name: &str, args: &[String]) -> u8 {
    match HELPERS.iter().find(|(names, _)| names.contains(&name)) {
        Some((_, run)) => run(name, args),
        None => {
            eprintln!("xx: unknown helper {name:?}; run `xx --help` for the list");
            EXIT_USAGE
        }
    }
}

/// Every `xx-<name>` a symlink is made for.
pub fn link_names() -> Vec<String> {
    HELPERS
        .iter()
        .flat_map(|(names, _)| names.iter().map(|n| format!("xx-{n}")))
        .collect()
}

/// `xx install-links DIR`: creates `DIR/xx-<helper> -> xx` for every helper, so
/// an image needs only the binary plus this one call.
fn install_links(args: &[String]) -> u8 {
    let [dir] = args else {
        eprintln!("usage: xx install-links DIR   (e.g. xx install-links /usr/bin)");
        return EXIT_USAGE;
    };
    let dir = Path::new(dir);
    for name in link_names() {
        let link = dir.join(&name);
        if link.symlink_metadata().is_ok() {
            if let Err(e) = std::fs::remove_file(&link) {
                eprintln!("xx: cannot replace {}: {e}", link.display());
                return 1;
            }
        }
        if let Err(e) = std::os::unix::fs::symlink("xx", &link) {
            eprintln!("xx: cannot create {}: {e}", link.display());
            return 1;
        }
    }
    0
}

fn print_usage() {
    let text = format!(
        "xx {}: cross-compilation helpers for Dockerfile build stages

Usage: xx-<helper> [ARGS...]   (through a symlink named after the helper)
       xx <helper> [ARGS...]
       xx install-links DIR     create the xx-* symlinks in DIR

Helpers: {}

The target comes from TARGETPLATFORM (or TARGETPAIR, TARGETOS/TARGETARCH/
TARGETVARIANT), as BuildKit sets them in a stage that declares `ARG TARGETPLATFORM`.",
        env!("CARGO_PKG_VERSION"),
        link_names().join(" ")
    );
    let _ = Out::new().line(&text);
}
