//! THE platform table: one row per CPU architecture (and ARM variant), holding
//! every name the tools around a cross build use for it — `uname -m`, Debian /
//! Alpine / RHEL package architectures, C, Rust and zig triples, Go env, QEMU
//! binary, ELF expectations and dynamic loaders.
//!
//! Every mapping in the project comes from here. A newcomer adding an
//! architecture adds one row and the tests in this file tell what is missing.
//! The functions below only combine a row with the OS, distro and libc; they
//! hold no names of their own.

pub use crate::arm::{ArmArch, FloatRule};
use crate::distro::{Family, Libc};
use crate::platform::Platform;

/// Byte order of an ELF file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endian {
    /// `ELFDATA2LSB`
    Little,
    /// `ELFDATA2MSB`
    Big,
}

/// What the ELF header of a binary for this row must say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ElfSpec {
    /// `e_machine`.
    pub machine: u16,
    /// 32 or 64 (`EI_CLASS`).
    pub bits: u8,
    /// `EI_DATA`.
    pub endian: Endian,
    /// For 32-bit ARM: the newest architecture the CPU runs, and the float ABI rule.
    pub arm: Option<(ArmArch, FloatRule)>,
}

/// Whether every helper supports a row, or only binary verification does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    /// xx-info, package managers, compilers and verification.
    Full,
    /// Only recognised when checking binaries (no distro ships these here).
    VerifyOnly,
}

/// One architecture (or ARM variant). Field names say which tool uses the name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchSpec {
    /// OCI/Docker/Go architecture (`GOARCH`).
    pub arch: &'static str,
    /// Canonical OCI variant for this row, `""` when the arch has none.
    pub variant: &'static str,
    /// Which helpers support this row.
    pub tier: Tier,
    /// `uname -m` on Linux.
    pub march: &'static str,
    /// Debian/Ubuntu architecture (`dpkg --print-architecture`).
    pub debian_arch: &'static str,
    /// Alpine architecture (`apk --print-arch`).
    pub alpine_arch: &'static str,
    /// RPM architecture (RHEL family).
    pub rhel_arch: &'static str,
    /// Arch part of the GNU/Debian C triple (`arm`-linux-gnueabihf).
    pub triple_arch: &'static str,
    /// Arch part of Alpine's C triple (`armv7`-alpine-linux-musleabihf).
    pub alpine_triple_arch: &'static str,
    /// Environment variable that replaces the triple's arch part (xx-info).
    pub triple_arch_env: Option<&'static str>,
    /// What follows `gnu`/`musl` in the C triple (`eabihf`, `eabi`, `abi64`).
    pub abi_suffix: &'static str,
    /// The same on Alpine, whose armhf (ARMv6) is hard-float.
    pub alpine_abi_suffix: &'static str,
    /// Arch part of the Rust triple (`armv7`-unknown-linux-gnueabihf).
    pub rust_arch: &'static str,
    /// What follows `gnu` in the Rust triple.
    pub rust_gnu_suffix: &'static str,
    /// What follows `musl` in the Rust triple.
    pub rust_musl_suffix: &'static str,
    /// Arch part of the zig triple.
    pub zig_arch: &'static str,
    /// zig ABI for glibc.
    pub zig_gnu_abi: &'static str,
    /// zig ABI for musl.
    pub zig_musl_abi: &'static str,
    /// zig `-mcpu` that pins the oldest CPU of the variant (ARMv5/v6), if needed.
    pub zig_mcpu: Option<&'static str>,
    /// QEMU user-mode name: `qemu-<name>` / `qemu-<name>-static`, binfmt `qemu-<name>`.
    pub qemu: &'static str,
    /// ELF header expectations.
    pub elf: ElfSpec,
    /// Debian multiarch tuple: the `/usr/lib/<tuple>` library directory.
    pub debian_multiarch: &'static str,
    /// glibc's dynamic loader (PT_INTERP) on Debian/RHEL.
    pub glibc_loader: &'static str,
    /// musl's dynamic loader on Alpine.
    pub musl_loader: &'static str,
    /// MinGW triple (xx-info) for windows/<arch>.
    pub windows_triple: Option<&'static str>,
    /// Rust triple for windows/<arch>.
    pub windows_rust: Option<&'static str>,
    /// zig triple arch for windows/<arch>.
    pub windows_zig_arch: Option<&'static str>,
    /// PE `Machine` for windows/<arch>.
    pub pe_machine: Option<u16>,
    /// Arch part of the darwin triple, also `uname -m` on macOS.
    pub darwin_arch: Option<&'static str>,
    /// Rust triple for darwin/<arch>.
    pub darwin_rust: Option<&'static str>,
    /// zig arch for darwin/<arch>.
    pub darwin_zig_arch: Option<&'static str>,
    /// Mach-O `cputype` for darwin/<arch>.
    pub macho_cputype: Option<u32>,
}

/// ELF `e_machine` values used by the table (from the ELF gABI registry).
pub mod em {
    /// Intel 80386.
    pub const I386: u16 = 3;
    /// MIPS (32 and 64 bit).
    pub const MIPS: u16 = 8;
    /// 64-bit PowerPC.
    pub const PPC64: u16 = 21;
    /// IBM S/390.
    pub const S390: u16 = 22;
    /// 32-bit ARM.
    pub const ARM: u16 = 40;
    /// AMD x86-64.
    pub const X86_64: u16 = 62;
    /// AArch64.
    pub const AARCH64: u16 = 183;
    /// RISC-V.
    pub const RISCV: u16 = 243;
    /// LoongArch.
    pub const LOONGARCH: u16 = 258;
}

const fn elf(machine: u16, bits: u8, endian: Endian) -> ElfSpec {
    ElfSpec {
        machine,
        bits,
        endian,
        arm: None,
    }
}

/// The fields most rows share; rows override what differs.
const BASE: ArchSpec = ArchSpec {
    arch: "",
    variant: "",
    tier: Tier::Full,
    march: "",
    debian_arch: "",
    alpine_arch: "",
    rhel_arch: "",
    triple_arch: "",
    alpine_triple_arch: "",
    triple_arch_env: None,
    abi_suffix: "",
    alpine_abi_suffix: "",
    rust_arch: "",
    rust_gnu_suffix: "",
    rust_musl_suffix: "",
    zig_arch: "",
    zig_gnu_abi: "gnu",
    zig_musl_abi: "musl",
    zig_mcpu: None,
    qemu: "",
    elf: elf(0, 64, Endian::Little),
    debian_multiarch: "",
    glibc_loader: "",
    musl_loader: "",
    windows_triple: None,
    windows_rust: None,
    windows_zig_arch: None,
    pe_machine: None,
    darwin_arch: None,
    darwin_rust: None,
    darwin_zig_arch: None,
    macho_cputype: None,
};

const ARM_V7: ArchSpec = ArchSpec {
    arch: "arm",
    variant: "v7",
    march: "armv7l",
    debian_arch: "armhf",
    alpine_arch: "armv7",
    rhel_arch: "armv7hl",
    triple_arch: "arm",
    alpine_triple_arch: "armv7",
    triple_arch_env: Some("ARM_TARGET_ARCH"),
    abi_suffix: "eabihf",
    alpine_abi_suffix: "eabihf",
    rust_arch: "armv7",
    rust_gnu_suffix: "eabihf",
    rust_musl_suffix: "eabihf",
    zig_arch: "arm",
    zig_gnu_abi: "gnueabihf",
    zig_musl_abi: "musleabihf",
    qemu: "arm",
    elf: ElfSpec {
        machine: em::ARM,
        bits: 32,
        endian: Endian::Little,
        arm: Some((ArmArch::V7, FloatRule::Hard)),
    },
    debian_multiarch: "arm-linux-gnueabihf",
    glibc_loader: "/lib/ld-linux-armhf.so.3",
    musl_loader: "/lib/ld-musl-armhf.so.1",
    windows_triple: Some("armv7-w64-mingw32"),
    windows_zig_arch: Some("arm"),
    pe_machine: Some(0x01c4),
    ..BASE
};

/// Every architecture the project knows, Full tier first.
pub static TABLE: &[ArchSpec] = &[
    ArchSpec {
        arch: "amd64",
        march: "x86_64",
        debian_arch: "amd64",
        alpine_arch: "x86_64",
        rhel_arch: "x86_64",
        triple_arch: "x86_64",
        alpine_triple_arch: "x86_64",
        rust_arch: "x86_64",
        zig_arch: "x86_64",
        qemu: "x86_64",
        elf: elf(em::X86_64, 64, Endian::Little),
        debian_multiarch: "x86_64-linux-gnu",
        glibc_loader: "/lib64/ld-linux-x86-64.so.2",
        musl_loader: "/lib/ld-musl-x86_64.so.1",
        windows_triple: Some("x86_64-w64-mingw32"),
        windows_rust: Some("x86_64-pc-windows-gnu"),
        windows_zig_arch: Some("x86_64"),
        pe_machine: Some(0x8664),
        darwin_arch: Some("x86_64"),
        darwin_rust: Some("x86_64-apple-darwin"),
        darwin_zig_arch: Some("x86_64"),
        macho_cputype: Some(0x0100_0007),
        ..BASE
    },
    ArchSpec {
        arch: "arm64",
        march: "aarch64",
        debian_arch: "arm64",
        alpine_arch: "aarch64",
        rhel_arch: "aarch64",
        triple_arch: "aarch64",
        alpine_triple_arch: "aarch64",
        rust_arch: "aarch64",
        zig_arch: "aarch64",
        qemu: "aarch64",
        elf: elf(em::AARCH64, 64, Endian::Little),
        debian_multiarch: "aarch64-linux-gnu",
        glibc_loader: "/lib/ld-linux-aarch64.so.1",
        musl_loader: "/lib/ld-musl-aarch64.so.1",
        windows_triple: Some("aarch64-w64-mingw32"),
        windows_rust: Some("aarch64-pc-windows-gnullvm"),
        windows_zig_arch: Some("aarch64"),
        pe_machine: Some(0xaa64),
        darwin_arch: Some("arm64"),
        darwin_rust: Some("aarch64-apple-darwin"),
        darwin_zig_arch: Some("aarch64"),
        macho_cputype: Some(0x0100_000c),
        ..BASE
    },
    ARM_V7,
    // 32-bit userland on an ARMv8 CPU: named like v7 everywhere, but may use v8 instructions.
    ArchSpec {
        variant: "v8",
        elf: ElfSpec {
            arm: Some((ArmArch::V8, FloatRule::Hard)),
            ..ARM_V7.elf
        },
        ..ARM_V7
    },
    // Raspberry Pi 1 / Zero. Debian's armel (soft-float) or Alpine's armhf (ARMv6 hard-float).
    ArchSpec {
        variant: "v6",
        march: "armv6l",
        debian_arch: "armel",
        alpine_arch: "armhf",
        rhel_arch: "armv6hl",
        alpine_triple_arch: "armv6",
        triple_arch_env: None,
        abi_suffix: "eabi",
        rust_arch: "arm",
        rust_gnu_suffix: "eabi",
        zig_gnu_abi: "gnueabi",
        zig_mcpu: Some("arm1176jzf_s"),
        elf: ElfSpec {
            arm: Some((ArmArch::V6, FloatRule::Any)),
            ..ARM_V7.elf
        },
        debian_multiarch: "arm-linux-gnueabi",
        glibc_loader: "/lib/ld-linux.so.3",
        ..ARM_V7
    },
    ArchSpec {
        variant: "v5",
        march: "armv5l",
        debian_arch: "armel",
        // Alpine has no ARMv5 port; upstream xx prints armel.
        alpine_arch: "armel",
        rhel_arch: "armv5tel",
        alpine_triple_arch: "armv5",
        triple_arch_env: None,
        abi_suffix: "eabi",
        alpine_abi_suffix: "eabi",
        // Rust's arm-unknown-linux-gnueabi is ARMv6: v5 needs the armv5te targets.
        rust_arch: "armv5te",
        rust_gnu_suffix: "eabi",
        rust_musl_suffix: "eabi",
        zig_gnu_abi: "gnueabi",
        zig_musl_abi: "musleabi",
        zig_mcpu: Some("arm926ej_s"),
        elf: ElfSpec {
            arm: Some((ArmArch::V5, FloatRule::Soft)),
            ..ARM_V7.elf
        },
        debian_multiarch: "arm-linux-gnueabi",
        glibc_loader: "/lib/ld-linux.so.3",
        musl_loader: "/lib/ld-musl-arm.so.1",
        ..ARM_V7
    },
    ArchSpec {
        arch: "386",
        march: "i386",
        debian_arch: "i386",
        alpine_arch: "x86",
        rhel_arch: "i386",
        triple_arch: "i686",
        alpine_triple_arch: "i586",
        rust_arch: "i686",
        zig_arch: "x86",
        qemu: "i386",
        elf: elf(em::I386, 32, Endian::Little),
        debian_multiarch: "i386-linux-gnu",
        glibc_loader: "/lib/ld-linux.so.2",
        musl_loader: "/lib/ld-musl-i386.so.1",
        windows_triple: Some("i686-w64-mingw32"),
        windows_rust: Some("i686-pc-windows-gnu"),
        windows_zig_arch: Some("x86"),
        pe_machine: Some(0x014c),
        ..BASE
    },
    ArchSpec {
        arch: "ppc64le",
        march: "ppc64le",
        debian_arch: "ppc64el",
        alpine_arch: "ppc64le",
        rhel_arch: "ppc64le",
        triple_arch: "powerpc64le",
        alpine_triple_arch: "powerpc64le",
        rust_arch: "powerpc64le",
        zig_arch: "powerpc64le",
        qemu: "ppc64le",
        elf: elf(em::PPC64, 64, Endian::Little),
        debian_multiarch: "powerpc64le-linux-gnu",
        glibc_loader: "/lib64/ld64.so.2",
        musl_loader: "/lib/ld-musl-powerpc64le.so.1",
        ..BASE
    },
    ArchSpec {
        arch: "s390x",
        march: "s390x",
        debian_arch: "s390x",
        alpine_arch: "s390x",
        rhel_arch: "s390x",
        triple_arch: "s390x",
        alpine_triple_arch: "s390x",
        rust_arch: "s390x",
        zig_arch: "s390x",
        qemu: "s390x",
        elf: elf(em::S390, 64, Endian::Big),
        debian_multiarch: "s390x-linux-gnu",
        glibc_loader: "/lib/ld64.so.1",
        musl_loader: "/lib/ld-musl-s390x.so.1",
        ..BASE
    },
    ArchSpec {
        arch: "riscv64",
        march: "riscv64",
        debian_arch: "riscv64",
        alpine_arch: "riscv64",
        rhel_arch: "riscv64",
        triple_arch: "riscv64",
        alpine_triple_arch: "riscv64",
        triple_arch_env: Some("RISCV64_TARGET_ARCH"),
        rust_arch: "riscv64gc",
        zig_arch: "riscv64",
        qemu: "riscv64",
        elf: elf(em::RISCV, 64, Endian::Little),
        debian_multiarch: "riscv64-linux-gnu",
        glibc_loader: "/lib/ld-linux-riscv64-lp64d.so.1",
        musl_loader: "/lib/ld-musl-riscv64.so.1",
        ..BASE
    },
    ArchSpec {
        arch: "loong64",
        march: "loongarch64",
        debian_arch: "loong64",
        alpine_arch: "loongarch64",
        rhel_arch: "loongarch64",
        triple_arch: "loongarch64",
        alpine_triple_arch: "loongarch64",
        rust_arch: "loongarch64",
        zig_arch: "loongarch64",
        qemu: "loongarch64",
        elf: elf(em::LOONGARCH, 64, Endian::Little),
        debian_multiarch: "loongarch64-linux-gnu",
        glibc_loader: "/lib64/ld-linux-loongarch-lp64d.so.1",
        musl_loader: "/lib/ld-musl-loongarch64.so.1",
        ..BASE
    },
    ArchSpec {
        arch: "mips",
        march: "mips",
        debian_arch: "mips",
        alpine_arch: "mips",
        rhel_arch: "mips",
        triple_arch: "mips",
        alpine_triple_arch: "mips",
        rust_arch: "mips",
        zig_arch: "mips",
        zig_gnu_abi: "gnueabi",
        qemu: "mips",
        elf: elf(em::MIPS, 32, Endian::Big),
        debian_multiarch: "mips-linux-gnu",
        glibc_loader: "/lib/ld.so.1",
        musl_loader: "/lib/ld-musl-mips.so.1",
        ..BASE
    },
    ArchSpec {
        arch: "mipsle",
        march: "mipsle",
        debian_arch: "mipsel",
        alpine_arch: "mipsle",
        rhel_arch: "mipsel",
        triple_arch: "mipsel",
        alpine_triple_arch: "mipsel",
        rust_arch: "mipsel",
        zig_arch: "mipsel",
        zig_gnu_abi: "gnueabi",
        qemu: "mipsel",
        elf: elf(em::MIPS, 32, Endian::Little),
        debian_multiarch: "mipsel-linux-gnu",
        glibc_loader: "/lib/ld.so.1",
        musl_loader: "/lib/ld-musl-mipsel.so.1",
        ..BASE
    },
    ArchSpec {
        arch: "mips64",
        march: "mips64",
        debian_arch: "mips64",
        alpine_arch: "mips64",
        rhel_arch: "mips64",
        triple_arch: "mips64",
        alpine_triple_arch: "mips64",
        abi_suffix: "abi64",
        alpine_abi_suffix: "abi64",
        rust_arch: "mips64",
        rust_gnu_suffix: "abi64",
        rust_musl_suffix: "abi64",
        zig_arch: "mips64",
        zig_gnu_abi: "gnuabi64",
        qemu: "mips64",
        elf: elf(em::MIPS, 64, Endian::Big),
        debian_multiarch: "mips64-linux-gnuabi64",
        glibc_loader: "/lib64/ld.so.1",
        musl_loader: "/lib/ld-musl-mips64.so.1",
        ..BASE
    },
    ArchSpec {
        arch: "mips64le",
        march: "mips64le",
        debian_arch: "mips64el",
        alpine_arch: "mips64le",
        rhel_arch: "mips64el",
        triple_arch: "mips64el",
        alpine_triple_arch: "mips64el",
        abi_suffix: "abi64",
        alpine_abi_suffix: "abi64",
        rust_arch: "mips64el",
        rust_gnu_suffix: "abi64",
        rust_musl_suffix: "abi64",
        zig_arch: "mips64el",
        zig_gnu_abi: "gnuabi64",
        qemu: "mips64el",
        elf: elf(em::MIPS, 64, Endian::Little),
        debian_multiarch: "mips64el-linux-gnuabi64",
        glibc_loader: "/lib64/ld.so.1",
        musl_loader: "/lib/ld-musl-mips64el.so.1",
        ..BASE
    },
    // Big-endian variants nobody ships a distro for here: recognised by xx-verify only.
    ArchSpec {
        arch: "ppc64",
        tier: Tier::VerifyOnly,
        march: "ppc64",
        qemu: "ppc64",
        elf: elf(em::PPC64, 64, Endian::Big),
        ..BASE
    },
    ArchSpec {
        arch: "armbe",
        tier: Tier::VerifyOnly,
        march: "armv7b",
        qemu: "armeb",
        elf: elf(em::ARM, 32, Endian::Big),
        ..BASE
    },
    ArchSpec {
        arch: "arm64be",
        tier: Tier::VerifyOnly,
        march: "aarch64_be",
        qemu: "aarch64_be",
        elf: elf(em::AARCH64, 64, Endian::Big),
        ..BASE
    },
];

/// The row for an OCI arch and variant, with xx's variant rules: `arm` with
/// `v5`, `v6` or `v8` gets that row, any other `arm` variant is ARMv7; other
/// architectures ignore the variant (it selects GOAMD64/GOMIPS, not a row).
pub fn lookup(arch: &str, variant: &str) -> Option<&'static ArchSpec> {
    if arch == "arm" {
        let wanted = ArmArch::from_variant_or_v7(variant).variant();
        return TABLE
            .iter()
            .find(|s| s.arch == "arm" && s.variant == wanted);
    }
    TABLE.iter().find(|s| s.arch == arch)
}

/// The row for a platform.
pub fn for_platform(platform: &Platform) -> Option<&'static ArchSpec> {
    lookup(&platform.arch, platform.variant_str())
}

/// The OS and table row a C triple names, for `xx-clang --target=T`:
/// `aarch64-linux-gnu` -> (linux, arm64), `armv6-alpine-linux-musleabihf` ->
/// (linux, arm/v6), `arm-linux-gnueabi` -> (linux, arm/v5: Debian armel),
/// `x86_64-w64-mingw32` -> (windows, amd64), `arm64-apple-macos11.0` -> (darwin, arm64).
pub fn parse_c_triple(triple: &str) -> Option<(&'static str, &'static ArchSpec)> {
    let os = if triple.contains("-linux") {
        "linux"
    } else if triple.contains("-apple") || triple.contains("-macos") || triple.contains("darwin") {
        "darwin"
    } else if triple.contains("mingw32") || triple.contains("windows") {
        "windows"
    } else if triple.contains("freebsd") {
        "freebsd"
    } else {
        return None;
    };
    let first = triple.split('-').next()?;
    if let Some(arm) = ArmArch::from_triple_arch(first) {
        return Some((os, lookup("arm", arm.variant())?));
    }
    let (arch, variant) = match first {
        "x86_64" | "amd64" => ("amd64", ""),
        "aarch64" | "arm64" => ("arm64", ""),
        // Bare `arm`: hard-float is armhf (ARMv7), soft-float Debian's armel baseline.
        "arm" if triple.ends_with("eabihf") || os == "windows" => ("arm", ArmArch::V7.variant()),
        "arm" => ("arm", ArmArch::V5.variant()),
        "i386" | "i486" | "i586" | "i686" | "x86" => ("386", ""),
        a if a.starts_with("riscv64") => ("riscv64", ""),
        "powerpc64le" | "ppc64le" => ("ppc64le", ""),
        "powerpc64" | "ppc64" => ("ppc64", ""),
        "s390x" => ("s390x", ""),
        "loongarch64" => ("loong64", ""),
        "mips" => ("mips", ""),
        "mipsel" => ("mipsle", ""),
        "mips64" => ("mips64", ""),
        "mips64el" => ("mips64le", ""),
        _ => return None,
    };
    Some((os, lookup(arch, variant)?))
}

/// The parts of a C triple that come from outside the table: upstream xx-info
/// takes them from the environment, mxbuild from the detected distro.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TripleParts {
    /// The vendor field, `None` for vendors written without one (debian, rhel, ...).
    pub vendor: Option<String>,
    /// The libc prefix of the ABI field: `gnu`, `musl`, `mingw32`.
    pub libc: String,
    /// Whether Alpine's arch names apply (`armv7`, `i586`, ARMv6 hard-float).
    pub alpine: bool,
    /// Replacement for the arch part (ARM_TARGET_ARCH / RISCV64_TARGET_ARCH).
    pub arch_override: Option<String>,
    /// Deployment target for darwin triples (`10.6`, `11.0`).
    pub macos_version_min: String,
}

/// The C triple xx-info prints (`XX_TRIPLE`) for a row on an OS.
///
/// Non-Linux, non-darwin, non-windows OSes get the Linux triple, as upstream.
pub fn c_triple(spec: &ArchSpec, os: &str, parts: &TripleParts) -> String {
    let vendor = parts
        .vendor
        .as_deref()
        .map(|v| format!("-{v}"))
        .unwrap_or_default();
    if os == "windows" {
        if let Some(t) = spec.windows_triple {
            return t.to_string();
        }
    }
    if os == "darwin" {
        if let Some(a) = spec.darwin_arch {
            return format!("{a}{vendor}-macos{}", parts.macos_version_min);
        }
    }
    let arch = match (&parts.arch_override, spec.triple_arch_env) {
        (Some(a), Some(_)) if !a.is_empty() => a.as_str(),
        _ if parts.alpine => spec.alpine_triple_arch,
        _ => spec.triple_arch,
    };
    let suffix = if parts.alpine {
        spec.alpine_abi_suffix
    } else {
        spec.abi_suffix
    };
    format!("{arch}{vendor}-linux-{}{suffix}", parts.libc)
}

/// A platform resolved against the table for one distro family: the single
/// place mxbuild and the helpers ask for any name of a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The normalised platform.
    pub platform: Platform,
    /// Its table row.
    pub spec: &'static ArchSpec,
    /// The distro whose packages and toolchains the build stage uses.
    pub family: Family,
    /// The C library binaries for it link against.
    pub libc: Libc,
}

/// A platform with no row in the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsupportedTarget(pub Platform);

impl std::fmt::Display for UnsupportedTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "unsupported target: os={} arch={} variant={}",
            self.0.os,
            self.0.arch,
            self.0.variant_str()
        )
    }
}

impl std::error::Error for UnsupportedTarget {}

impl Target {
    /// Resolves a platform for a distro family; musl on Alpine, glibc elsewhere.
    pub fn new(platform: &Platform, family: Family) -> Result<Target, UnsupportedTarget> {
        let spec = for_platform(platform).ok_or_else(|| UnsupportedTarget(platform.clone()))?;
        let libc = if family == Family::Alpine {
            Libc::Musl
        } else {
            Libc::Gnu
        };
        Ok(Target {
            platform: platform.clone(),
            spec,
            family,
            libc,
        })
    }

    /// The same target with another libc (e.g. a static musl build on Debian).
    pub fn with_libc(mut self, libc: Libc) -> Target {
        self.libc = libc;
        self
    }

    /// The C triple of the distro's own toolchain, as `xx-info triple` prints it
    /// for that distro: `aarch64-linux-gnu`, `armv7-alpine-linux-musleabihf`.
    pub fn c_triple(&self) -> String {
        let vendor = match self.family {
            Family::Debian | Family::Rhel => None,
            Family::Alpine => Some("alpine".to_string()),
            Family::Other => Some("unknown".to_string()),
        };
        let parts = TripleParts {
            vendor,
            libc: if self.platform.os == "windows" {
                "mingw32".to_string()
            } else {
                self.libc.as_str().to_string()
            },
            alpine: self.family == Family::Alpine,
            arch_override: None,
            macos_version_min: default_macos_version_min(&self.platform.arch).to_string(),
        };
        c_triple(self.spec, &self.platform.os, &parts)
    }

    /// The Rust target triple: always one rustc knows (`armv7-unknown-linux-gnueabihf`,
    /// `arm-unknown-linux-musleabihf` for ARMv6 on musl, `x86_64-pc-windows-gnu`).
    pub fn rust_triple(&self) -> Option<String> {
        let s = self.spec;
        match self.platform.os.as_str() {
            "windows" => s.windows_rust.map(str::to_string),
            "darwin" => s.darwin_rust.map(str::to_string),
            "linux" if s.tier == Tier::Full => Some(match self.libc {
                Libc::Gnu => format!("{}-unknown-linux-gnu{}", s.rust_arch, s.rust_gnu_suffix),
                Libc::Musl => format!("{}-unknown-linux-musl{}", s.rust_arch, s.rust_musl_suffix),
            }),
            _ => None,
        }
    }

    /// The zig `-target` value (`aarch64-linux-musl`, `x86_64-windows-gnu`).
    pub fn zig_triple(&self) -> Option<String> {
        let s = self.spec;
        match self.platform.os.as_str() {
            "windows" => s.windows_zig_arch.map(|a| format!("{a}-windows-gnu")),
            "darwin" => s.darwin_zig_arch.map(|a| format!("{a}-macos-none")),
            "linux" if s.tier == Tier::Full => Some(match self.libc {
                Libc::Gnu => format!("{}-linux-{}", s.zig_arch, s.zig_gnu_abi),
                Libc::Musl => format!("{}-linux-{}", s.zig_arch, s.zig_musl_abi),
            }),
            _ => None,
        }
    }

    /// Go's environment for the target: GOOS, GOARCH and the variant knobs
    /// (GOARM, GOAMD64, GOMIPS/GOMIPS64), as xx-go sets them.
    pub fn go_env(&self) -> Vec<(&'static str, String)> {
        go_env(&self.platform)
    }

    /// The package architecture of the distro (`arm64`, `aarch64`, `armv7hl`).
    pub fn pkg_arch(&self) -> &'static str {
        match self.family {
            Family::Debian => self.spec.debian_arch,
            Family::Alpine => self.spec.alpine_arch,
            Family::Rhel => self.spec.rhel_arch,
            Family::Other => self.spec.arch,
        }
    }

    /// The dynamic loader binaries for this target name in PT_INTERP.
    pub fn loader(&self) -> &'static str {
        match self.libc {
            Libc::Gnu => self.spec.glibc_loader,
            Libc::Musl => self.spec.musl_loader,
        }
    }
}

/// Go's environment for a platform (xx-go): GOOS/GOARCH, plus GOARM for arm
/// (5, 6, else 7), GOAMD64 for amd64 v2-v4, GOMIPS/GOMIPS64 from the variant.
pub fn go_env(platform: &Platform) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("GOOS", platform.os.clone()),
        ("GOARCH", platform.arch.clone()),
    ];
    let variant = platform.variant_str();
    match platform.arch.as_str() {
        "arm" => {
            let goarm = ArmArch::from_variant_or_v7(variant).goarm();
            env.push(("GOARM", goarm.to_string()));
        }
        "amd64" if matches!(variant, "v2" | "v3" | "v4") => {
            env.push(("GOAMD64", variant.to_string()));
        }
        "mips" | "mipsle" if !variant.is_empty() => env.push(("GOMIPS", variant.to_string())),
        "mips64" | "mips64le" if !variant.is_empty() => env.push(("GOMIPS64", variant.to_string())),
        _ => {}
    }
    env
}

/// macOS deployment target xx-info uses when MACOSX_VERSION_MIN is unset:
/// 10.6 for Intel, 11.0 (the first Apple Silicon release) otherwise.
pub fn default_macos_version_min(arch: &str) -> &'static str {
    if arch == "amd64" { "10.6" } else { "11.0" }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn target(platform: &str, family: Family) -> Target {
        let p: Platform = platform.parse().unwrap();
        Target::new(&p, family).unwrap()
    }

    /// XX-COMPAT §2.1: march, debian, alpine and rhel arch per platform.
    #[test]
    fn package_arch_names() {
        let rows = [
            ("linux/amd64", "x86_64", "amd64", "x86_64", "x86_64"),
            ("linux/amd64/v3", "x86_64", "amd64", "x86_64", "x86_64"),
            ("linux/arm64", "aarch64", "arm64", "aarch64", "aarch64"),
            ("linux/arm/v7", "armv7l", "armhf", "armv7", "armv7hl"),
            ("linux/arm/v6", "armv6l", "armel", "armhf", "armv6hl"),
            ("linux/arm/v5", "armv5l", "armel", "armel", "armv5tel"),
            ("linux/arm/v8", "armv7l", "armhf", "armv7", "armv7hl"),
            ("linux/386", "i386", "i386", "x86", "i386"),
            ("linux/ppc64le", "ppc64le", "ppc64el", "ppc64le", "ppc64le"),
            ("linux/s390x", "s390x", "s390x", "s390x", "s390x"),
            ("linux/riscv64", "riscv64", "riscv64", "riscv64", "riscv64"),
            (
                "linux/loong64",
                "loongarch64",
                "loong64",
                "loongarch64",
                "loongarch64",
            ),
            ("linux/mips", "mips", "mips", "mips", "mips"),
            ("linux/mipsle", "mipsle", "mipsel", "mipsle", "mipsel"),
            ("linux/mips64", "mips64", "mips64", "mips64", "mips64"),
            (
                "linux/mips64le",
                "mips64le",
                "mips64el",
                "mips64le",
                "mips64el",
            ),
        ];
        for (p, march, deb, alpine, rhel) in rows {
            let t = target(p, Family::Debian);
            assert_eq!(t.spec.march, march, "{p} march");
            assert_eq!(t.pkg_arch(), deb, "{p} debian");
            assert_eq!(target(p, Family::Alpine).pkg_arch(), alpine, "{p} alpine");
            assert_eq!(target(p, Family::Rhel).pkg_arch(), rhel, "{p} rhel");
        }
    }

    /// XX-COMPAT §2.2: C triples per distro family.
    #[test]
    fn c_triples() {
        let rows = [
            (
                "linux/amd64",
                "x86_64-alpine-linux-musl",
                "x86_64-linux-gnu",
                "x86_64-unknown-linux-gnu",
            ),
            (
                "linux/arm64",
                "aarch64-alpine-linux-musl",
                "aarch64-linux-gnu",
                "aarch64-unknown-linux-gnu",
            ),
            (
                "linux/arm/v7",
                "armv7-alpine-linux-musleabihf",
                "arm-linux-gnueabihf",
                "arm-unknown-linux-gnueabihf",
            ),
            (
                "linux/arm/v6",
                "armv6-alpine-linux-musleabihf",
                "arm-linux-gnueabi",
                "arm-unknown-linux-gnueabi",
            ),
            (
                "linux/arm/v5",
                "armv5-alpine-linux-musleabi",
                "arm-linux-gnueabi",
                "arm-unknown-linux-gnueabi",
            ),
            (
                "linux/386",
                "i586-alpine-linux-musl",
                "i686-linux-gnu",
                "i686-unknown-linux-gnu",
            ),
            (
                "linux/ppc64le",
                "powerpc64le-alpine-linux-musl",
                "powerpc64le-linux-gnu",
                "powerpc64le-unknown-linux-gnu",
            ),
            (
                "linux/s390x",
                "s390x-alpine-linux-musl",
                "s390x-linux-gnu",
                "s390x-unknown-linux-gnu",
            ),
            (
                "linux/riscv64",
                "riscv64-alpine-linux-musl",
                "riscv64-linux-gnu",
                "riscv64-unknown-linux-gnu",
            ),
            (
                "linux/loong64",
                "loongarch64-alpine-linux-musl",
                "loongarch64-linux-gnu",
                "loongarch64-unknown-linux-gnu",
            ),
            (
                "linux/mips",
                "mips-alpine-linux-musl",
                "mips-linux-gnu",
                "mips-unknown-linux-gnu",
            ),
            (
                "linux/mipsle",
                "mipsel-alpine-linux-musl",
                "mipsel-linux-gnu",
                "mipsel-unknown-linux-gnu",
            ),
            (
                "linux/mips64",
                "mips64-alpine-linux-muslabi64",
                "mips64-linux-gnuabi64",
                "mips64-unknown-linux-gnuabi64",
            ),
            (
                "linux/mips64le",
                "mips64el-alpine-linux-muslabi64",
                "mips64el-linux-gnuabi64",
                "mips64el-unknown-linux-gnuabi64",
            ),
            (
                "windows/amd64",
                "x86_64-w64-mingw32",
                "x86_64-w64-mingw32",
                "x86_64-w64-mingw32",
            ),
            (
                "windows/arm64",
                "aarch64-w64-mingw32",
                "aarch64-w64-mingw32",
                "aarch64-w64-mingw32",
            ),
            (
                "windows/arm",
                "armv7-w64-mingw32",
                "armv7-w64-mingw32",
                "armv7-w64-mingw32",
            ),
            (
                "windows/386",
                "i686-w64-mingw32",
                "i686-w64-mingw32",
                "i686-w64-mingw32",
            ),
        ];
        for (p, alpine, debian, other) in rows {
            assert_eq!(target(p, Family::Alpine).c_triple(), alpine, "{p} alpine");
            assert_eq!(target(p, Family::Debian).c_triple(), debian, "{p} debian");
            assert_eq!(target(p, Family::Rhel).c_triple(), debian, "{p} rhel");
            assert_eq!(target(p, Family::Other).c_triple(), other, "{p} other");
        }
    }

    /// XX-COMPAT §2.3 with our deliberate differences 2: valid Rust triples.
    #[test]
    fn rust_triples_are_real_rust_targets() {
        let rows = [
            (
                "linux/amd64",
                "x86_64-unknown-linux-gnu",
                "x86_64-unknown-linux-musl",
            ),
            (
                "linux/arm64",
                "aarch64-unknown-linux-gnu",
                "aarch64-unknown-linux-musl",
            ),
            (
                "linux/arm/v7",
                "armv7-unknown-linux-gnueabihf",
                "armv7-unknown-linux-musleabihf",
            ),
            (
                "linux/arm/v6",
                "arm-unknown-linux-gnueabi",
                "arm-unknown-linux-musleabihf",
            ),
            (
                "linux/arm/v5",
                "armv5te-unknown-linux-gnueabi",
                "armv5te-unknown-linux-musleabi",
            ),
            (
                "linux/386",
                "i686-unknown-linux-gnu",
                "i686-unknown-linux-musl",
            ),
            (
                "linux/ppc64le",
                "powerpc64le-unknown-linux-gnu",
                "powerpc64le-unknown-linux-musl",
            ),
            (
                "linux/s390x",
                "s390x-unknown-linux-gnu",
                "s390x-unknown-linux-musl",
            ),
            (
                "linux/riscv64",
                "riscv64gc-unknown-linux-gnu",
                "riscv64gc-unknown-linux-musl",
            ),
            (
                "linux/loong64",
                "loongarch64-unknown-linux-gnu",
                "loongarch64-unknown-linux-musl",
            ),
            (
                "linux/mips64le",
                "mips64el-unknown-linux-gnuabi64",
                "mips64el-unknown-linux-muslabi64",
            ),
            (
                "windows/amd64",
                "x86_64-pc-windows-gnu",
                "x86_64-pc-windows-gnu",
            ),
            ("windows/386", "i686-pc-windows-gnu", "i686-pc-windows-gnu"),
            (
                "windows/arm64",
                "aarch64-pc-windows-gnullvm",
                "aarch64-pc-windows-gnullvm",
            ),
            ("darwin/amd64", "x86_64-apple-darwin", "x86_64-apple-darwin"),
            (
                "darwin/arm64",
                "aarch64-apple-darwin",
                "aarch64-apple-darwin",
            ),
        ];
        for (p, gnu, musl) in rows {
            let got_gnu = target(p, Family::Debian).rust_triple().unwrap();
            let got_musl = target(p, Family::Alpine).rust_triple().unwrap();
            assert_eq!(got_gnu, gnu, "{p} gnu");
            assert_eq!(got_musl, musl, "{p} musl");
            for t in [&got_gnu, &got_musl] {
                let parsed = target_lexicon::Triple::from_str(t);
                assert!(parsed.is_ok(), "{t} is not a triple Rust knows: {parsed:?}");
            }
        }
        assert_eq!(target("windows/arm", Family::Debian).rust_triple(), None);
    }

    /// Every Full-tier Linux row yields a Rust triple target-lexicon accepts.
    #[test]
    fn every_linux_rust_triple_parses() {
        for spec in TABLE.iter().filter(|s| s.tier == Tier::Full) {
            let p = Platform::new(
                "linux",
                spec.arch,
                Some(spec.variant).filter(|v| !v.is_empty()),
            );
            for family in [Family::Debian, Family::Alpine] {
                let t = Target::new(&p, family).unwrap().rust_triple().unwrap();
                assert!(target_lexicon::Triple::from_str(&t).is_ok(), "{p}: {t}");
            }
        }
    }

    /// XX-COMPAT §2.4: Go environment.
    #[test]
    fn go_environment() {
        let rows: &[(&str, &[(&str, &str)])] = &[
            ("linux/amd64", &[("GOOS", "linux"), ("GOARCH", "amd64")]),
            (
                "linux/amd64/v3",
                &[("GOOS", "linux"), ("GOARCH", "amd64"), ("GOAMD64", "v3")],
            ),
            ("linux/arm64", &[("GOOS", "linux"), ("GOARCH", "arm64")]),
            (
                "linux/arm/v7",
                &[("GOOS", "linux"), ("GOARCH", "arm"), ("GOARM", "7")],
            ),
            (
                "linux/arm/v8",
                &[("GOOS", "linux"), ("GOARCH", "arm"), ("GOARM", "7")],
            ),
            (
                "linux/arm/v6",
                &[("GOOS", "linux"), ("GOARCH", "arm"), ("GOARM", "6")],
            ),
            (
                "linux/arm/v5",
                &[("GOOS", "linux"), ("GOARCH", "arm"), ("GOARM", "5")],
            ),
            (
                "linux/mips/softfloat",
                &[
                    ("GOOS", "linux"),
                    ("GOARCH", "mips"),
                    ("GOMIPS", "softfloat"),
                ],
            ),
            (
                "linux/mips64le/softfloat",
                &[
                    ("GOOS", "linux"),
                    ("GOARCH", "mips64le"),
                    ("GOMIPS64", "softfloat"),
                ],
            ),
            ("linux/mips64", &[("GOOS", "linux"), ("GOARCH", "mips64")]),
            ("windows/386", &[("GOOS", "windows"), ("GOARCH", "386")]),
            ("darwin/arm64", &[("GOOS", "darwin"), ("GOARCH", "arm64")]),
        ];
        for (p, want) in rows {
            let got = go_env(&p.parse().unwrap());
            let got: Vec<(&str, &str)> = got.iter().map(|(k, v)| (*k, v.as_str())).collect();
            assert_eq!(&got, want, "{p}");
        }
    }

    /// XX-COMPAT §2.6: zig triples (ARMv6 on musl is hard-float, see README).
    #[test]
    fn zig_triples() {
        let rows = [
            ("linux/amd64", "x86_64-linux-gnu", "x86_64-linux-musl"),
            ("linux/arm64", "aarch64-linux-gnu", "aarch64-linux-musl"),
            (
                "linux/arm/v7",
                "arm-linux-gnueabihf",
                "arm-linux-musleabihf",
            ),
            ("linux/arm/v6", "arm-linux-gnueabi", "arm-linux-musleabihf"),
            ("linux/arm/v5", "arm-linux-gnueabi", "arm-linux-musleabi"),
            ("linux/386", "x86-linux-gnu", "x86-linux-musl"),
            (
                "linux/ppc64le",
                "powerpc64le-linux-gnu",
                "powerpc64le-linux-musl",
            ),
            (
                "linux/loong64",
                "loongarch64-linux-gnu",
                "loongarch64-linux-musl",
            ),
            ("linux/mipsle", "mipsel-linux-gnueabi", "mipsel-linux-musl"),
            ("linux/mips64", "mips64-linux-gnuabi64", "mips64-linux-musl"),
            ("windows/386", "x86-windows-gnu", "x86-windows-gnu"),
            (
                "windows/arm64",
                "aarch64-windows-gnu",
                "aarch64-windows-gnu",
            ),
            ("darwin/amd64", "x86_64-macos-none", "x86_64-macos-none"),
            ("darwin/arm64", "aarch64-macos-none", "aarch64-macos-none"),
        ];
        for (p, gnu, musl) in rows {
            assert_eq!(target(p, Family::Debian).zig_triple().unwrap(), gnu, "{p}");
            assert_eq!(target(p, Family::Alpine).zig_triple().unwrap(), musl, "{p}");
        }
    }

    #[test]
    fn qemu_names_and_loaders() {
        let rows = [
            (
                "linux/amd64",
                "x86_64",
                "/lib64/ld-linux-x86-64.so.2",
                "/lib/ld-musl-x86_64.so.1",
            ),
            (
                "linux/arm64",
                "aarch64",
                "/lib/ld-linux-aarch64.so.1",
                "/lib/ld-musl-aarch64.so.1",
            ),
            (
                "linux/arm/v7",
                "arm",
                "/lib/ld-linux-armhf.so.3",
                "/lib/ld-musl-armhf.so.1",
            ),
            (
                "linux/arm/v6",
                "arm",
                "/lib/ld-linux.so.3",
                "/lib/ld-musl-armhf.so.1",
            ),
            (
                "linux/arm/v5",
                "arm",
                "/lib/ld-linux.so.3",
                "/lib/ld-musl-arm.so.1",
            ),
            (
                "linux/386",
                "i386",
                "/lib/ld-linux.so.2",
                "/lib/ld-musl-i386.so.1",
            ),
            (
                "linux/ppc64le",
                "ppc64le",
                "/lib64/ld64.so.2",
                "/lib/ld-musl-powerpc64le.so.1",
            ),
            (
                "linux/s390x",
                "s390x",
                "/lib/ld64.so.1",
                "/lib/ld-musl-s390x.so.1",
            ),
            (
                "linux/riscv64",
                "riscv64",
                "/lib/ld-linux-riscv64-lp64d.so.1",
                "/lib/ld-musl-riscv64.so.1",
            ),
            (
                "linux/loong64",
                "loongarch64",
                "/lib64/ld-linux-loongarch-lp64d.so.1",
                "/lib/ld-musl-loongarch64.so.1",
            ),
            (
                "linux/mips64le",
                "mips64el",
                "/lib64/ld.so.1",
                "/lib/ld-musl-mips64el.so.1",
            ),
        ];
        for (p, qemu, glibc, musl) in rows {
            let t = target(p, Family::Debian);
            assert_eq!(t.spec.qemu, qemu, "{p}");
            assert_eq!(t.loader(), glibc, "{p}");
            assert_eq!(target(p, Family::Alpine).loader(), musl, "{p}");
        }
    }

    #[test]
    fn elf_expectations() {
        let rows = [
            ("linux/amd64", em::X86_64, 64, Endian::Little, None),
            ("linux/arm64", em::AARCH64, 64, Endian::Little, None),
            (
                "linux/arm/v7",
                em::ARM,
                32,
                Endian::Little,
                Some((ArmArch::V7, FloatRule::Hard)),
            ),
            (
                "linux/arm/v8",
                em::ARM,
                32,
                Endian::Little,
                Some((ArmArch::V8, FloatRule::Hard)),
            ),
            (
                "linux/arm/v6",
                em::ARM,
                32,
                Endian::Little,
                Some((ArmArch::V6, FloatRule::Any)),
            ),
            (
                "linux/arm/v5",
                em::ARM,
                32,
                Endian::Little,
                Some((ArmArch::V5, FloatRule::Soft)),
            ),
            ("linux/386", em::I386, 32, Endian::Little, None),
            ("linux/s390x", em::S390, 64, Endian::Big, None),
            ("linux/mips", em::MIPS, 32, Endian::Big, None),
            ("linux/mips64le", em::MIPS, 64, Endian::Little, None),
            ("linux/ppc64", em::PPC64, 64, Endian::Big, None),
            ("linux/arm64be", em::AARCH64, 64, Endian::Big, None),
        ];
        for (p, machine, bits, endian, arm) in rows {
            let spec = for_platform(&p.parse().unwrap()).unwrap();
            assert_eq!(
                spec.elf,
                ElfSpec {
                    machine,
                    bits,
                    endian,
                    arm
                },
                "{p}"
            );
        }
    }

    #[test]
    fn c_triples_parse_back() {
        for (triple, os, arch, variant) in [
            ("aarch64-linux-gnu", "linux", "arm64", ""),
            ("aarch64-unknown-linux-musl", "linux", "arm64", ""),
            ("arm-linux-gnueabihf", "linux", "arm", "v7"),
            ("armv7-alpine-linux-musleabihf", "linux", "arm", "v7"),
            ("armv6-alpine-linux-musleabihf", "linux", "arm", "v6"),
            ("arm-linux-gnueabi", "linux", "arm", "v5"),
            ("i686-linux-gnu", "linux", "386", ""),
            ("i586-alpine-linux-musl", "linux", "386", ""),
            ("riscv64gc-unknown-linux-gnu", "linux", "riscv64", ""),
            ("powerpc64le-linux-gnu", "linux", "ppc64le", ""),
            ("s390x-linux-gnu", "linux", "s390x", ""),
            ("x86_64-w64-mingw32", "windows", "amd64", ""),
            ("armv7-w64-mingw32", "windows", "arm", "v7"),
            ("arm64-apple-macos11.0", "darwin", "arm64", ""),
            ("x86_64-apple-macos10.6", "darwin", "amd64", ""),
        ] {
            let (got_os, spec) = parse_c_triple(triple).unwrap();
            assert_eq!(
                (got_os, spec.arch, spec.variant),
                (os, arch, variant),
                "{triple}"
            );
        }
        assert!(parse_c_triple("wasm32-wasi").is_none());
    }

    #[test]
    fn unknown_platforms_are_unsupported() {
        let p: Platform = "wasi/wasm".parse().unwrap();
        let err = Target::new(&p, Family::Debian).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unsupported target: os=wasi arch=wasm variant="
        );
    }

    #[test]
    fn every_full_row_is_complete() {
        for s in TABLE.iter().filter(|s| s.tier == Tier::Full) {
            for (name, v) in [
                ("march", s.march),
                ("debian_arch", s.debian_arch),
                ("alpine_arch", s.alpine_arch),
                ("rhel_arch", s.rhel_arch),
                ("triple_arch", s.triple_arch),
                ("alpine_triple_arch", s.alpine_triple_arch),
                ("rust_arch", s.rust_arch),
                ("zig_arch", s.zig_arch),
                ("qemu", s.qemu),
                ("glibc_loader", s.glibc_loader),
                ("debian_multiarch", s.debian_multiarch),
                ("musl_loader", s.musl_loader),
            ] {
                assert!(!v.is_empty(), "{}/{}: {name} is empty", s.arch, s.variant);
            }
            assert_ne!(s.elf.machine, 0, "{}: e_machine", s.arch);
        }
    }

    #[test]
    fn every_raspberry_pi_platform_parses_and_has_a_row() {
        for m in crate::raspberry::MODELS {
            for p in m.platform_64.iter().chain(std::iter::once(&m.platform_32)) {
                let parsed: Platform = p.parse().unwrap();
                assert_eq!(parsed.to_string(), *p);
                assert!(for_platform(&parsed).is_some(), "{p}");
            }
        }
    }

    #[test]
    fn uname_round_trip() {
        for s in TABLE
            .iter()
            .filter(|s| s.tier == Tier::Full && s.variant != "v8")
        {
            if let Some((arch, variant)) = crate::host::from_uname_machine(s.march) {
                assert_eq!(arch, s.arch, "{}", s.march);
                assert_eq!(variant.unwrap_or(""), s.variant, "{}", s.march);
            }
        }
        assert_eq!(
            crate::host::from_uname_machine("i686"),
            None,
            "upstream does not map i686"
        );
    }
}
