//! Saying what a binary *is*, in the user's terms: the platform it was built
//! for (`linux/arm/v7`) and a `file`-like summary (`ELF 32-bit LSB ARM,
//! ARMv7, hard-float, dynamic`). Failure messages lead with this, so the user
//! sees at once which stage produced the wrong binary.

use super::arm_attributes::{ArmAttributes, cpu_arch_name};
use super::elf::ElfInfo;
use super::object::Binary;
use crate::arm::ArmArch;
use crate::target::{Endian, TABLE, Tier, em};

/// `e_flags` bits of the ARM EABI (version 5).
const EF_ARM_ABI_FLOAT_SOFT: u32 = 0x200;
const EF_ARM_ABI_FLOAT_HARD: u32 = 0x400;
const EF_ARM_EABIMASK: u32 = 0xff00_0000;

/// ARM architecture generation of a binary, if its attributes say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArmLevel {
    /// From Tag_CPU_arch: the generation and the tag's own name (`v6KZ`).
    Known(ArmArch, String),
    /// No `.ARM.attributes`, or no Tag_CPU_arch in it.
    Unknown,
}

/// Float calling convention of an ARM binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FloatAbi {
    /// Floats passed in VFP registers (armhf).
    Hard,
    /// Floats passed in integer registers (armel, soft or softfp).
    Soft,
    /// The file does not say.
    Unknown,
}

/// The generation Tag_CPU_arch falls in (see [`ArmArch::from_tag_cpu_arch`]).
pub fn arm_level(attrs: &ArmAttributes) -> ArmLevel {
    let Some(tag) = attrs.cpu_arch else {
        return ArmLevel::Unknown;
    };
    ArmLevel::Known(ArmArch::from_tag_cpu_arch(tag), cpu_arch_name(tag))
}

/// The float ABI from the EABI `e_flags` bits, else from Tag_ABI_VFP_args.
pub fn float_abi(flags: u32, attrs: &ArmAttributes) -> FloatAbi {
    if flags & EF_ARM_EABIMASK >= 0x0500_0000 {
        if flags & EF_ARM_ABI_FLOAT_HARD != 0 {
            return FloatAbi::Hard;
        }
        if flags & EF_ARM_ABI_FLOAT_SOFT != 0 {
            return FloatAbi::Soft;
        }
    }
    match attrs.vfp_args {
        Some(1) => FloatAbi::Hard,
        Some(0) => FloatAbi::Soft,
        _ => FloatAbi::Unknown,
    }
}

/// How a binary is linked: `static`, `static-pie` or `dynamic`.
pub fn linkage(elf: &ElfInfo) -> &'static str {
    const ET_DYN: u16 = 3;
    match (elf.is_static(), elf.e_type == ET_DYN) {
        (true, true) if elf.has_dynamic => "static-pie",
        (true, _) => "static",
        (false, _) => "dynamic",
    }
}

/// The platform a binary was built for, as far as its headers tell.
pub fn platform_of(bin: &Binary) -> Option<String> {
    match bin {
        Binary::Elf(elf) => {
            let os = elf
                .os
                .map_or("linux".to_string(), |o| o.to_ascii_lowercase());
            let mut rows = TABLE.iter().filter(|s| {
                s.tier != Tier::Wasi
                    && s.elf.machine == elf.machine
                    && s.elf.bits == elf.bits
                    && s.elf.endian == elf.endian
            });
            if elf.machine == em::ARM && elf.endian == Endian::Little {
                let attrs = elf.arm.clone().unwrap_or_default();
                return Some(match arm_level(&attrs) {
                    ArmLevel::Known(arm, _) => format!("{os}/arm/{}", arm.variant()),
                    ArmLevel::Unknown => format!("{os}/arm"),
                });
            }
            let full = rows.clone().find(|s| s.tier == Tier::Full);
            full.or_else(|| rows.next())
                .map(|s| format!("{os}/{}", s.arch))
        }
        Binary::Pe { machine } => TABLE
            .iter()
            .find(|s| s.windows.map(|w| w.pe_machine) == Some(*machine))
            .map(|s| format!("windows/{}", s.arch)),
        Binary::Wasm { .. } => Some("wasi/wasm".to_string()),
        Binary::MachO { cputypes, .. } => {
            let arches: Vec<&str> = cputypes
                .iter()
                .filter_map(|c| {
                    TABLE
                        .iter()
                        .find(|s| s.darwin.map(|d| d.macho_cputype) == Some(*c))
                })
                .map(|s| s.arch)
                .collect();
            (!arches.is_empty()).then(|| format!("darwin/{}", arches.join("+")))
        }
    }
}

/// A one-line, `file`-like summary.
pub fn summary(bin: &Binary) -> String {
    match bin {
        Binary::Elf(elf) => {
            let mut parts = vec![format!(
                "ELF {}-bit {} {}",
                elf.bits,
                if elf.endian == Endian::Little {
                    "LSB"
                } else {
                    "MSB"
                },
                machine_name(elf.machine)
            )];
            if elf.machine == em::ARM {
                let attrs = elf.arm.clone().unwrap_or_default();
                if let ArmLevel::Known(level, name) = arm_level(&attrs) {
                    parts.push(format!("{} ({name})", level.name()));
                }
                match float_abi(elf.flags, &attrs) {
                    FloatAbi::Hard => parts.push("hard-float".to_string()),
                    FloatAbi::Soft => parts.push("soft-float".to_string()),
                    FloatAbi::Unknown => {}
                }
            }
            if let Some(os) = elf.os {
                parts.push(format!("for {os}"));
            }
            match &elf.interp {
                Some(i) => parts.push(format!("dynamic ({i})")),
                None => parts.push(linkage(elf).to_string()),
            }
            parts.join(", ")
        }
        Binary::Pe { machine } => format!("PE {}", pe_machine_name(*machine)),
        Binary::Wasm { version } => format!("WebAssembly (wasm) binary module version {version}"),
        Binary::MachO {
            cputypes,
            universal,
        } => {
            let names: Vec<String> = cputypes.iter().map(|c| macho_cpu_name(*c)).collect();
            if *universal {
                format!("Mach-O universal ({})", names.join(", "))
            } else {
                format!("Mach-O {}", names.join(", "))
            }
        }
    }
}

fn machine_name(m: u16) -> String {
    match m {
        em::I386 => "Intel 80386".to_string(),
        em::MIPS => "MIPS".to_string(),
        em::PPC64 => "64-bit PowerPC".to_string(),
        em::S390 => "IBM S/390".to_string(),
        em::ARM => "ARM".to_string(),
        em::X86_64 => "x86-64".to_string(),
        em::AARCH64 => "ARM aarch64".to_string(),
        em::RISCV => "RISC-V".to_string(),
        em::LOONGARCH => "LoongArch".to_string(),
        other => format!("machine {other}"),
    }
}

fn pe_machine_name(m: u16) -> String {
    match m {
        0x8664 => "x86-64".to_string(),
        0x014c => "Intel 80386".to_string(),
        0xaa64 => "Aarch64".to_string(),
        0x01c4 => "ARMv7 Thumb".to_string(),
        other => format!("machine {other:#x}"),
    }
}

fn macho_cpu_name(c: u32) -> String {
    match c {
        0x0100_0007 => "x86_64".to_string(),
        0x0100_000c => "arm64".to_string(),
        7 => "i386".to_string(),
        12 => "arm".to_string(),
        other => format!("cputype {other:#x}"),
    }
}
