//! What a dynamic binary needs from the libraries of the root it will run
//! in, checked the way ld.so checks it: every symbol version it requires
//! (`GLIBC_2.38` from libc.so.6, `GLIBCXX_3.4.32` from libstdc++.so.6, any
//! library's own) must be defined by the copy of that library the loader
//! finds, and the loader must belong to the binary's C library (a glibc
//! program does not run on musl's loader, even under glibc's name). These
//! are the failures users meet as "version `GLIBC_2.38' not found".
//!
//! The versions a library defines are read from its own `.gnu.version_d`
//! (DT_VERDEF), never from package metadata.

use std::collections::BTreeSet;
use std::path::Path;

use super::elf::{self, ElfInfo};
use super::loader;
use super::object::{self, Binary};
use super::open;
use super::rootfs::RootFs;
use crate::target::ArchSpec;

/// The ELF facts of a library file in a root (only regular files; `None`
/// when it cannot be read as ELF).
fn library_info(host_path: &Path) -> Option<ElfInfo> {
    let (file, meta) = open::regular(host_path, false).ok()?;
    match object::inspect(&file, meta.len()).ok()? {
        Binary::Elf(e) => Some(*e),
        _ => None,
    }
}

/// `GLIBC_2.38` -> ("GLIBC", (2, 38, 0)) for the families users know by
/// number; other names -> None.
fn numbered(name: &str) -> Option<(&'static str, (u32, u32, u32))> {
    for family in ["GLIBCXX", "CXXABI", "GLIBC"] {
        if let Some(rest) = name.strip_prefix(family).and_then(|r| r.strip_prefix('_')) {
            let mut parts = rest.split('.').map(|p| p.parse::<u32>().ok());
            let major = parts.next()??;
            let minor = parts.next().unwrap_or(Some(0))?;
            let patch = parts.next().unwrap_or(Some(0))?;
            return Some((family, (major, minor, patch)));
        }
    }
    None
}

fn dotted(v: (u32, u32, u32)) -> String {
    if v.2 == 0 {
        format!("{}.{}", v.0, v.1)
    } else {
        format!("{}.{}.{}", v.0, v.1, v.2)
    }
}

/// The newest version of `family` (`GLIBC`) in `names`.
fn newest<'a>(names: impl Iterator<Item = &'a String>, family: &str) -> Option<(u32, u32, u32)> {
    names
        .filter_map(|n| numbered(n))
        .filter(|(f, _)| *f == family)
        .map(|(_, v)| v)
        .max()
}

/// Why `elf`'s version needs are not met by the libraries in `root` (one
/// message per library), searched in `dirs`. `label` names the root in
/// messages ("the image"). Libraries that are missing are reported
/// elsewhere, and ones that define no versions at all are accepted, as
/// ld.so only warns about those.
pub fn version_problems(elf: &ElfInfo, root: &RootFs, dirs: &[String], label: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (library, needs) in &elf.needs_by_library {
        let Some(host) = loader::find_library(root, library, dirs) else {
            continue;
        };
        let Some(info) = library_info(&host) else {
            continue;
        };
        if info.version_defs.is_empty() {
            continue;
        }
        let defined: BTreeSet<&String> = info.version_defs.iter().collect();
        let missing: Vec<&String> = needs.iter().filter(|n| !defined.contains(n)).collect();
        if missing.is_empty() {
            continue;
        }
        let mut explained = false;
        for (family, what) in [
            ("GLIBC", "glibc"),
            ("GLIBCXX", "libstdc++"),
            ("CXXABI", "libstdc++ C++ ABI"),
        ] {
            let Some(needed) = newest(missing.iter().copied(), family) else {
                continue;
            };
            explained = true;
            let have = newest(info.version_defs.iter(), family)
                .map(|v| format!("{label}'s {what} is {}", dotted(v)))
                .unwrap_or_else(|| format!("{label}'s {library} has no {family} versions"));
            if family == "GLIBC" {
                out.push(format!("needs {family}_{}, {have}", dotted(needed)));
            } else {
                out.push(format!(
                    "needs {family}_{} ({library}), {have}",
                    dotted(needed)
                ));
            }
        }
        let others: Vec<&str> = missing
            .iter()
            .filter(|n| numbered(n).is_none())
            .map(|n| n.as_str())
            .collect();
        if !others.is_empty() || !explained {
            out.push(format!(
                "needs version {} of {library}, which {label}'s copy does not define",
                others.join(", ")
            ));
        }
    }
    out
}

/// The C library a loader path belongs to, by its name.
fn is_musl_loader(path: &str) -> bool {
    path.contains("ld-musl-")
}

/// When the loader `interp` resolves (symlinks followed inside the root) to
/// another C library's loader: glibc's name pointing at musl's loader, as
/// Alpine's gcompat sets it up, or the other way round.
pub fn loader_family_problem(interp: &str, resolved: &Path, label: &str) -> Option<String> {
    let target = resolved.file_name()?.to_string_lossy().into_owned();
    let wants_musl = is_musl_loader(interp);
    let is_musl = is_musl_loader(&target) || target.starts_with("libc.musl");
    match (wants_musl, is_musl) {
        (false, true) => Some(format!(
            "is a glibc binary (loader {interp}), but in {label} that loader is musl's ({target}): \
             build it for musl, or use a glibc base image"
        )),
        (true, false) if target.starts_with("ld-linux") || target.starts_with("ld-2.") => {
            Some(format!(
                "is a musl binary (loader {interp}), but in {label} that loader is glibc's ({target})"
            ))
        }
        _ => None,
    }
}

/// The glibc version of a root: the newest `GLIBC_` version its libc.so.6
/// defines, found where the platform's loader would look.
pub fn root_glibc(root: &RootFs, spec: &ArchSpec) -> Option<(u32, u32, u32)> {
    let probe = ElfInfo {
        bits: spec.elf.bits,
        endian: spec.elf.endian,
        machine: spec.elf.machine,
        e_type: 0,
        flags: 0,
        os: None,
        interp: Some(spec.libs.glibc_loader.to_string()),
        has_dynamic: true,
        needed: vec!["libc.so.6".to_string()],
        rpath: Vec::new(),
        runpath: Vec::new(),
        version_needs: Vec::new(),
        needs_by_library: Vec::new(),
        version_defs: Vec::new(),
        arm: None,
    };
    let dirs = loader::search_dirs(root, &probe, spec, None);
    let host = loader::find_library(root, "libc.so.6", &dirs)?;
    let info = library_info(&host)?;
    info.version_defs
        .iter()
        .filter_map(|v| elf::parse_glibc_version(v))
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_versions() {
        assert_eq!(numbered("GLIBC_2.38"), Some(("GLIBC", (2, 38, 0))));
        assert_eq!(numbered("GLIBCXX_3.4.32"), Some(("GLIBCXX", (3, 4, 32))));
        assert_eq!(numbered("CXXABI_1.3.13"), Some(("CXXABI", (1, 3, 13))));
        assert_eq!(numbered("GLIBC_PRIVATE"), None);
        assert_eq!(numbered("OPENSSL_3.0.0"), None);
        let names = ["GLIBC_2.2.5", "GLIBC_2.36", "GLIBC_2.4"].map(String::from);
        assert_eq!(newest(names.iter(), "GLIBC"), Some((2, 36, 0)));
    }

    #[test]
    fn loader_families() {
        let p = |s: &str| Path::new(s).to_path_buf();
        let glibc_on_musl = loader_family_problem(
            "/lib64/ld-linux-x86-64.so.2",
            &p("/r/lib/ld-musl-x86_64.so.1"),
            "the image",
        )
        .unwrap();
        assert!(
            glibc_on_musl.contains("that loader is musl's"),
            "{glibc_on_musl}"
        );
        assert!(
            loader_family_problem(
                "/lib/ld-musl-x86_64.so.1",
                &p("/r/lib/ld-linux-x86-64.so.2"),
                "the image"
            )
            .is_some()
        );
        assert_eq!(
            loader_family_problem(
                "/lib64/ld-linux-x86-64.so.2",
                &p("/r/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"),
                "the image"
            ),
            None
        );
    }
}
