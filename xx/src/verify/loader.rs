//! Where a dynamic loader looks for a binary's DT_NEEDED libraries, inside a
//! root: DT_RPATH (unless DT_RUNPATH is set), DT_RUNPATH, the loader's config
//! (glibc's /etc/ld.so.conf, musl's /etc/ld-musl-<arch>.path), then the
//! default directories, with Debian's multiarch directories first.

use std::path::PathBuf;

use super::elf::ElfInfo;
use super::rootfs::RootFs;
use crate::target::ArchSpec;

/// The library search path for `elf`, as directories inside the root.
/// `origin` is the directory holding the binary (for `$ORIGIN`), if known.
pub fn search_dirs(
    root: &RootFs,
    elf: &ElfInfo,
    spec: &ArchSpec,
    origin: Option<&str>,
) -> Vec<String> {
    let musl = elf.interp.as_deref().is_some_and(|i| i.contains("ld-musl"));
    let lib = if elf.bits == 64 && !musl {
        "lib64"
    } else {
        "lib"
    };
    let expand = |entry: &str| -> Option<String> {
        let mut e = entry.replace("$LIB", lib).replace("${LIB}", lib);
        if e.contains("ORIGIN") {
            let origin = origin?;
            e = e.replace("${ORIGIN}", origin).replace("$ORIGIN", origin);
        }
        Some(e)
    };
    let mut dirs: Vec<String> = Vec::new();
    let mut add = |list: &[String]| {
        for entry in list {
            for part in entry.split(':').filter(|p| !p.is_empty()) {
                if let Some(dir) = expand(part) {
                    dirs.push(dir);
                }
            }
        }
    };
    if elf.runpath.is_empty() {
        add(&elf.rpath);
    }
    add(&elf.runpath);
    if musl {
        let arch = elf
            .interp
            .as_deref()
            .and_then(|i| i.rsplit('/').next())
            .and_then(|f| f.strip_prefix("ld-musl-"))
            .and_then(|f| f.strip_suffix(".so.1"))
            .unwrap_or("");
        let path_file = format!("/etc/ld-musl-{arch}.path");
        match root
            .resolve(&path_file)
            .and_then(|p| super::open::read_small(&p, false, super::rootfs::MAX_CONF_FILE))
            .map(|b| String::from_utf8_lossy(&b).into_owned())
        {
            Some(text) => {
                let list: Vec<String> = text
                    .split(['\n', ':'])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect();
                add(&list);
            }
            None => add(&["/lib:/usr/local/lib:/usr/lib".to_string()]),
        }
    } else {
        add(&root.ld_so_conf_dirs());
        let ma = spec.libs.multiarch;
        let mut defaults = Vec::new();
        if !ma.is_empty() {
            defaults.push(format!("/lib/{ma}"));
            defaults.push(format!("/usr/lib/{ma}"));
        }
        if elf.bits == 64 {
            defaults.extend(["/lib64".to_string(), "/usr/lib64".to_string()]);
        }
        defaults.extend(["/lib".to_string(), "/usr/lib".to_string()]);
        add(&defaults);
    }
    let mut seen = std::collections::HashSet::new();
    dirs.retain(|d| seen.insert(d.clone()));
    dirs
}

/// The host path of library `name` in the first of `dirs` that has it.
pub fn find_library(root: &RootFs, name: &str, dirs: &[String]) -> Option<PathBuf> {
    if name.contains('/') {
        return root.resolve(name);
    }
    dirs.iter()
        .find_map(|d| root.resolve(&format!("{}/{name}", d.trim_end_matches('/'))))
}
