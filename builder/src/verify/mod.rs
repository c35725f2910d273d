//! Verifying a finished image: every ELF file in a platform's filesystem is
//! checked with `xx::verify` against that platform (architecture, ARM
//! version and float ABI, and that its loader and libraries exist *in the
//! image*). A wrong-architecture binary is found here, at build time, not
//! by a user's device saying "exec format error".

pub mod cached;
pub mod table;

use std::fs;
use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};
use xx::Platform;
use xx::verify::{Expectation, Options, Report};

/// The result for one platform.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlatformReport {
    /// The platform checked against.
    pub platform: String,
    /// ELF files checked.
    pub checked: usize,
    /// Files that failed.
    pub failures: Vec<Report>,
    /// Shared libraries tagged for a newer ARM architecture level than the
    /// platform's: distributions build crypto and math libraries that way
    /// and pick the instructions at run time (Debian's armhf libgcrypt is
    /// tagged ARMv8), so this is reported, not failed.
    pub notes: Vec<Report>,
    /// Reports for the files the build added (not from the base image), for the table.
    pub added: Vec<Report>,
    /// The image's C library, as its dynamic binaries were checked against:
    /// `glibc 2.36` (the newest version its libc.so.6 defines), `musl`, or
    /// `none` (static binaries only).
    pub libc: String,
}

/// The C library of an image root, for the table.
fn libc_of(root: &Path, platform: &Platform) -> String {
    if let Some((major, minor, _)) = xx::verify::root_glibc(root, platform) {
        return format!("glibc {major}.{minor}");
    }
    let musl = fs::read_dir(root.join("lib"))
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.starts_with("ld-musl-"))
        });
    if musl { "musl" } else { "none" }.to_string()
}

impl PlatformReport {
    /// True when nothing failed.
    pub fn ok(&self) -> bool {
        self.failures.is_empty()
    }
}

fn is_elf(p: &Path) -> bool {
    let Ok(mut f) = fs::File::open(p) else {
        return false;
    };
    let mut magic = [0u8; 4];
    f.read_exact(&mut magic).is_ok() && magic == *b"\x7fELF"
}

/// Paths of regular ELF files under `root`, as seen inside the image.
fn elf_files(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![String::new()];
    while let Some(rel) = todo.pop() {
        let Ok(rd) = fs::read_dir(root.join(rel.trim_start_matches('/'))) else {
            continue;
        };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let path = format!("{rel}/{name}");
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                if !matches!(path.as_str(), "/proc" | "/sys" | "/dev") {
                    todo.push(path);
                }
            } else if ft.is_file() && is_elf(&e.path()) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Checks every ELF file in `root` against `platform`. `added` are the
/// in-image paths the build itself wrote (listed in the table even when fine).
pub fn verify_root(root: &Path, platform: &Platform, added: &[String]) -> PlatformReport {
    let expect = Expectation::new(platform.clone());
    let opts = Options::default();
    let mut failures = Vec::new();
    let mut notes = Vec::new();
    let mut added_reports = Vec::new();
    let files = elf_files(root);
    for f in &files {
        let r = xx::verify::verify_in_root(root, f, &expect, &opts);
        if added.iter().any(|a| a == f) {
            added_reports.push(r.clone());
        }
        if !r.ok {
            if runtime_dispatch_library(&r) {
                notes.push(r);
            } else {
                failures.push(r);
            }
        }
    }
    PlatformReport {
        platform: platform.to_string(),
        checked: files.len(),
        failures,
        notes,
        added: added_reports,
        libc: libc_of(root, platform),
    }
}

/// A shared library (no program interpreter, `.so` name) whose only
/// problems are an ARM architecture level above the platform's and, on a
/// platform without an FPU, VFP instructions: the float ABI matches, and
/// distributions build libraries this way with the instructions chosen at
/// run time (Debian's armhf libgcrypt is tagged ARMv8, its armel libnettle
/// ARMv6 with VFPv3).
fn runtime_dispatch_library(r: &Report) -> bool {
    let is_lib =
        r.interpreter.is_none() && r.file.rsplit('/').next().is_some_and(|n| n.contains(".so"));
    is_lib
        && r.error.is_none()
        && !r.problems.is_empty()
        && r.problems.iter().all(|p| {
            (p.starts_with("needs ARMv") && p.contains("newer than"))
                || (p.starts_with("uses VFP instructions") && p.ends_with("has no FPU"))
                || (p.starts_with("uses VFPv3 or newer") && p.ends_with("has VFPv2"))
        })
}

/// In-image paths of the ELF files in some layer directories (the layers
/// a build added on top of its base image).
pub fn elf_files_in(dirs: &[std::path::PathBuf]) -> Vec<String> {
    let mut v: Vec<String> = dirs.iter().flat_map(|d| elf_files(d)).collect();
    v.sort();
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(file: &str, interpreter: Option<&str>, problems: &[&str]) -> Report {
        Report {
            file: file.to_string(),
            ok: problems.is_empty(),
            target: "linux/arm/v5".to_string(),
            error: None,
            format: None,
            platform: Some("linux/arm/v6".to_string()),
            linkage: Some("dynamic".to_string()),
            interpreter: interpreter.map(str::to_string),
            needed: Vec::new(),
            max_glibc: None,
            problems: problems.iter().map(|p| p.to_string()).collect(),
        }
    }

    #[test]
    fn only_libraries_with_newer_instructions_are_notes() {
        let newer = "needs ARMv6 (Tag_CPU_arch v6), newer than the ARMv5 CPU of linux/arm/v5";
        let vfp = "uses VFP instructions (Tag_FP_arch 3), but linux/arm/v5 has no FPU";
        let lib = "/usr/lib/arm-linux-gnueabi/libnettle.so.8.6";
        assert!(runtime_dispatch_library(&report(lib, None, &[newer, vfp])));
        assert!(runtime_dispatch_library(&report(lib, None, &[newer])));
        let vfp3 =
            "uses VFPv3 or newer (Tag_FP_arch 3), but the ARMv6 CPU of linux/arm/v6 has VFPv2";
        assert!(runtime_dispatch_library(&report(lib, None, &[vfp3])));
        // A program, or a wrong float ABI, is a failure.
        assert!(!runtime_dispatch_library(&report(
            "/usr/bin/tool",
            Some("/lib/ld-linux.so.3"),
            &[newer, vfp]
        )));
        assert!(!runtime_dispatch_library(&report(
            lib,
            None,
            &[newer, "hard-float ABI, but linux/arm/v5 is soft-float"]
        )));
    }
}
