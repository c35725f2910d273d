//! The rules a binary must meet to run on a target platform. Upstream xx
//! checks OS, architecture and endianness; we also check the ARM architecture
//! version and float ABI, static linking, the loader and libraries inside a
//! root, and the newest glibc symbol version required.

use super::abi;
use super::describe::{ArmLevel, FloatAbi, arm_level, float_abi};
use super::elf::ElfInfo;
use super::expect::{Expectation, Options};
use super::loader;
use super::object::Binary;
use super::rootfs::RootFs;
use crate::arm::{ArmArch, FloatRule};

/// Where to look up loaders and libraries, and the binary's directory in it.
pub struct RootCheck<'a> {
    /// The root filesystem.
    pub root: &'a RootFs,
    /// How the root is named in messages.
    pub label: String,
    /// Directory of the binary inside the root, for `$ORIGIN`.
    pub origin: Option<String>,
}

/// Every way `bin` fails to meet `expect`; empty means it passes.
pub fn problems(
    bin: &Binary,
    expect: &Expectation,
    opts: &Options,
    root: Option<&RootCheck<'_>>,
) -> Vec<String> {
    let mut out = Vec::new();
    let os = expect.platform.os.as_str();
    let arch = expect.platform.arch.as_str();
    let Some(spec) = expect.spec else {
        out.push(format!(
            "unsupported target architecture {arch} for xx-verify"
        ));
        return out;
    };
    match (os, bin) {
        ("linux", Binary::Elf(e)) if e.os.is_none() => {}
        ("freebsd", Binary::Elf(e)) if e.os == Some("FreeBSD") => {}
        ("netbsd", Binary::Elf(e)) if e.os == Some("NetBSD") => {}
        ("openbsd", Binary::Elf(e)) if e.os == Some("OpenBSD") => {}
        ("darwin", Binary::MachO { .. }) | ("windows", Binary::Pe { .. }) => {}
        ("wasi" | "wasip1", Binary::Wasm { version }) => {
            if *version != 1 {
                out.push(format!("WebAssembly module version {version}, not 1"));
            }
            return out;
        }
        (
            "linux" | "freebsd" | "netbsd" | "openbsd" | "darwin" | "windows" | "wasi" | "wasip1",
            _,
        ) => {
            out.push(format!("does not match expected target OS {os}"));
            return out;
        }
        _ => {
            out.push(format!("unsupported target os {os}"));
            return out;
        }
    }
    match bin {
        // Checked with the OS above: a module has no architecture beyond wasm32.
        Binary::Wasm { .. } => {}
        Binary::Pe { machine } => {
            if spec.windows.map(|w| w.pe_machine) != Some(*machine) {
                out.push(format!(
                    "does not match expected target architecture {arch}"
                ));
            }
        }
        Binary::MachO { cputypes, .. } => {
            if spec
                .darwin
                .is_none_or(|d| !cputypes.contains(&d.macho_cputype))
            {
                out.push(format!(
                    "does not match expected target architecture {arch}"
                ));
            }
        }
        Binary::Elf(elf) => {
            if elf.machine != spec.elf.machine || elf.bits != spec.elf.bits {
                out.push(format!(
                    "does not match expected target architecture {arch}"
                ));
                return out;
            }
            if elf.endian != spec.elf.endian {
                out.push(format!("does not match expected endianness for {arch}"));
                return out;
            }
            if let Some((max, rule)) = spec.elf.arm {
                arm_rules(elf, &expect.platform.to_string(), max, rule, &mut out);
            }
            if opts.require_static && matches!(os, "linux" | "freebsd") && !elf.is_static() {
                out.push(format!(
                    "is not statically linked ({})",
                    dynamic_summary(elf)
                ));
            }
            if let Some(root) = root {
                root_rules(elf, spec, root, &mut out);
            }
            if let (Some(limit), Some(have)) = (opts.max_glibc, elf.max_glibc()) {
                if (have.0, have.1) > limit {
                    out.push(format!(
                        "requires GLIBC_{}, newer than --max-glibc {}.{}",
                        fmt_version(have),
                        limit.0,
                        limit.1
                    ));
                }
            }
        }
    }
    out
}

fn arm_rules(elf: &ElfInfo, target: &str, max: ArmArch, rule: FloatRule, out: &mut Vec<String>) {
    let attrs = elf.arm.clone().unwrap_or_default();
    if let ArmLevel::Known(level, name) = arm_level(&attrs) {
        if level > max {
            out.push(format!(
                "needs {} (Tag_CPU_arch {name}), newer than the {} CPU of {target}",
                level.name(),
                max.name()
            ));
        }
    }
    let abi = float_abi(elf.flags, &attrs);
    match (rule, abi) {
        (FloatRule::Hard, FloatAbi::Soft) if !elf.is_static() => out.push(format!(
            "is soft-float and dynamically linked, but {target} userlands are hard-float (armhf): \
             it cannot load their libraries"
        )),
        (FloatRule::Soft, FloatAbi::Hard) => out.push(format!(
            "is hard-float, but {target} (ARMv5) has no FPU: build soft-float (e.g. arm-linux-gnueabi)"
        )),
        _ => {}
    }
    // Tag_FP_arch: 1-2 VFPv1/v2 (ARM1176 has VFPv2), 3+ VFPv3 and later (ARMv7+).
    match (max, attrs.fp_arch) {
        (ArmArch::V5, Some(fp)) if fp > 0 => out.push(format!(
            "uses VFP instructions (Tag_FP_arch {fp}), but {target} has no FPU"
        )),
        (ArmArch::V6, Some(fp)) if fp > 2 => out.push(format!(
            "uses VFPv3 or newer (Tag_FP_arch {fp}), but the ARMv6 CPU of {target} has VFPv2"
        )),
        _ => {}
    }
}

fn root_rules(
    elf: &ElfInfo,
    spec: &crate::target::ArchSpec,
    root: &RootCheck<'_>,
    out: &mut Vec<String>,
) {
    if let Some(interp) = &elf.interp {
        let Some(loader) = root.root.resolve(interp) else {
            out.push(format!(
                "needs the dynamic loader {interp}, which is missing in {} (a glibc binary in a musl \
                 image, or the other way round?)",
                root.label
            ));
            return;
        };
        if let Some(p) = abi::loader_family_problem(interp, &loader, &root.label) {
            out.push(p);
            return;
        }
    }
    if elf.needed.is_empty() {
        return;
    }
    let dirs = loader::search_dirs(root.root, elf, spec, root.origin.as_deref());
    let missing: Vec<&str> = elf
        .needed
        .iter()
        .filter(|lib| loader::find_library(root.root, lib, &dirs).is_none())
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        out.push(format!(
            "needs {} not found in {} (searched {})",
            missing.join(", "),
            root.label,
            dirs.join(":")
        ));
    }
    out.extend(abi::version_problems(elf, root.root, &dirs, &root.label));
}

fn dynamic_summary(elf: &ElfInfo) -> String {
    let mut parts = Vec::new();
    if let Some(i) = &elf.interp {
        parts.push(format!("interpreter {i}"));
    }
    if !elf.needed.is_empty() {
        parts.push(format!("needs {}", elf.needed.join(", ")));
    }
    parts.join(", ")
}

fn fmt_version(v: (u32, u32, u32)) -> String {
    if v.2 == 0 {
        format!("{}.{}", v.0, v.1)
    } else {
        format!("{}.{}.{}", v.0, v.1, v.2)
    }
}
