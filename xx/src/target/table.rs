//! The rows: every architecture (and ARM variant) the project knows. A
//! newcomer adding an architecture adds one row here, and the tests below and
//! in the sibling files tell what is missing.

use super::spec::{
    ArchSpec, CTripleNames, DarwinNames, ElfSpec, Endian, LibraryPaths, PackageArchs,
    RustTripleNames, Tier, WindowsNames, ZigTripleNames, em,
};
use crate::arm::{ArmArch, FloatRule};

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
    qemu: "",
    qemu_cpu: "",
    elf: elf(0, 64, Endian::Little),
    packages: PackageArchs {
        debian: "",
        alpine: "",
        rhel: "",
    },
    c: CTripleNames {
        arch: "",
        alpine_arch: "",
        arch_env: None,
        abi_suffix: "",
        alpine_abi_suffix: "",
    },
    rust: RustTripleNames {
        arch: "",
        gnu_suffix: "",
        musl_suffix: "",
    },
    zig: ZigTripleNames {
        arch: "",
        gnu_abi: "gnu",
        musl_abi: "musl",
        mcpu: None,
    },
    libs: LibraryPaths {
        multiarch: "",
        glibc_loader: "",
        musl_loader: "",
    },
    windows: None,
    darwin: None,
};

const ARM_V7: ArchSpec = ArchSpec {
    arch: "arm",
    variant: ArmArch::V7.variant(),
    march: "armv7l",
    qemu: "arm",
    // The Raspberry Pi 2's core, the oldest ARMv7-A with VFPv4 and NEON.
    qemu_cpu: "cortex-a7",
    elf: ElfSpec {
        machine: em::ARM,
        bits: 32,
        endian: Endian::Little,
        arm: Some((ArmArch::V7, FloatRule::Hard)),
    },
    packages: PackageArchs {
        debian: "armhf",
        alpine: "armv7",
        rhel: "armv7hl",
    },
    c: CTripleNames {
        arch: "arm",
        alpine_arch: "armv7",
        arch_env: Some("ARM_TARGET_ARCH"),
        abi_suffix: "eabihf",
        alpine_abi_suffix: "eabihf",
    },
    rust: RustTripleNames {
        arch: "armv7",
        gnu_suffix: "eabihf",
        musl_suffix: "eabihf",
    },
    zig: ZigTripleNames {
        arch: "arm",
        gnu_abi: "gnueabihf",
        musl_abi: "musleabihf",
        ..BASE.zig
    },
    libs: LibraryPaths {
        multiarch: "arm-linux-gnueabihf",
        glibc_loader: "/lib/ld-linux-armhf.so.3",
        musl_loader: "/lib/ld-musl-armhf.so.1",
    },
    windows: Some(WindowsNames {
        triple: "armv7-w64-mingw32",
        zig_arch: "arm",
        pe_machine: 0x01c4,
        rust: None,
    }),
    ..BASE
};

/// Every architecture the project knows, Full tier first.
pub static TABLE: &[ArchSpec] = &[
    ArchSpec {
        arch: "amd64",
        march: "x86_64",
        qemu: "x86_64",
        elf: elf(em::X86_64, 64, Endian::Little),
        packages: PackageArchs {
            debian: "amd64",
            alpine: "x86_64",
            rhel: "x86_64",
        },
        c: CTripleNames {
            arch: "x86_64",
            alpine_arch: "x86_64",
            ..BASE.c
        },
        rust: RustTripleNames {
            arch: "x86_64",
            ..BASE.rust
        },
        zig: ZigTripleNames {
            arch: "x86_64",
            ..BASE.zig
        },
        libs: LibraryPaths {
            multiarch: "x86_64-linux-gnu",
            glibc_loader: "/lib64/ld-linux-x86-64.so.2",
            musl_loader: "/lib/ld-musl-x86_64.so.1",
        },
        windows: Some(WindowsNames {
            triple: "x86_64-w64-mingw32",
            rust: Some("x86_64-pc-windows-gnu"),
            zig_arch: "x86_64",
            pe_machine: 0x8664,
        }),
        darwin: Some(DarwinNames {
            arch: "x86_64",
            rust: "x86_64-apple-darwin",
            zig_arch: "x86_64",
            macho_cputype: 0x0100_0007,
        }),
        ..BASE
    },
    ArchSpec {
        arch: "arm64",
        march: "aarch64",
        qemu: "aarch64",
        elf: elf(em::AARCH64, 64, Endian::Little),
        packages: PackageArchs {
            debian: "arm64",
            alpine: "aarch64",
            rhel: "aarch64",
        },
        c: CTripleNames {
            arch: "aarch64",
            alpine_arch: "aarch64",
            ..BASE.c
        },
        rust: RustTripleNames {
            arch: "aarch64",
            ..BASE.rust
        },
        zig: ZigTripleNames {
            arch: "aarch64",
            ..BASE.zig
        },
        libs: LibraryPaths {
            multiarch: "aarch64-linux-gnu",
            glibc_loader: "/lib/ld-linux-aarch64.so.1",
            musl_loader: "/lib/ld-musl-aarch64.so.1",
        },
        windows: Some(WindowsNames {
            triple: "aarch64-w64-mingw32",
            rust: Some("aarch64-pc-windows-gnullvm"),
            zig_arch: "aarch64",
            pe_machine: 0xaa64,
        }),
        darwin: Some(DarwinNames {
            arch: "arm64",
            rust: "aarch64-apple-darwin",
            zig_arch: "aarch64",
            macho_cputype: 0x0100_000c,
        }),
        ..BASE
    },
    ARM_V7,
    // 32-bit userland on an ARMv8 CPU: named like v7 everywhere, but may use v8 instructions.
    ArchSpec {
        variant: ArmArch::V8.variant(),
        qemu_cpu: "",
        elf: ElfSpec {
            arm: Some((ArmArch::V8, FloatRule::Hard)),
            ..ARM_V7.elf
        },
        ..ARM_V7
    },
    // Raspberry Pi 1 / Zero. Debian's armel (soft-float) or Alpine's armhf (ARMv6 hard-float).
    ArchSpec {
        variant: ArmArch::V6.variant(),
        march: "armv6l",
        // Raspberry Pi 1 / Zero.
        qemu_cpu: "arm1176",
        elf: ElfSpec {
            arm: Some((ArmArch::V6, FloatRule::Any)),
            ..ARM_V7.elf
        },
        packages: PackageArchs {
            debian: "armel",
            alpine: "armhf",
            rhel: "armv6hl",
        },
        c: CTripleNames {
            alpine_arch: "armv6",
            arch_env: None,
            abi_suffix: "eabi",
            ..ARM_V7.c
        },
        rust: RustTripleNames {
            arch: "arm",
            gnu_suffix: "eabi",
            ..ARM_V7.rust
        },
        zig: ZigTripleNames {
            gnu_abi: "gnueabi",
            mcpu: Some("arm1176jzf_s"),
            ..ARM_V7.zig
        },
        libs: LibraryPaths {
            multiarch: "arm-linux-gnueabi",
            glibc_loader: "/lib/ld-linux.so.3",
            ..ARM_V7.libs
        },
        ..ARM_V7
    },
    ArchSpec {
        variant: ArmArch::V5.variant(),
        march: "armv5l",
        qemu_cpu: "arm926",
        elf: ElfSpec {
            arm: Some((ArmArch::V5, FloatRule::Soft)),
            ..ARM_V7.elf
        },
        packages: PackageArchs {
            debian: "armel",
            // Alpine has no ARMv5 port; upstream xx prints armel.
            alpine: "armel",
            rhel: "armv5tel",
        },
        c: CTripleNames {
            alpine_arch: "armv5",
            arch_env: None,
            abi_suffix: "eabi",
            alpine_abi_suffix: "eabi",
            ..ARM_V7.c
        },
        rust: RustTripleNames {
            // Rust's arm-unknown-linux-gnueabi is ARMv6: v5 needs the armv5te targets.
            arch: "armv5te",
            gnu_suffix: "eabi",
            musl_suffix: "eabi",
        },
        zig: ZigTripleNames {
            gnu_abi: "gnueabi",
            musl_abi: "musleabi",
            mcpu: Some("arm926ej_s"),
            ..ARM_V7.zig
        },
        libs: LibraryPaths {
            multiarch: "arm-linux-gnueabi",
            glibc_loader: "/lib/ld-linux.so.3",
            musl_loader: "/lib/ld-musl-arm.so.1",
        },
        ..ARM_V7
    },
    ArchSpec {
        arch: "386",
        march: "i386",
        qemu: "i386",
        elf: elf(em::I386, 32, Endian::Little),
        packages: PackageArchs {
            debian: "i386",
            alpine: "x86",
            rhel: "i386",
        },
        c: CTripleNames {
            arch: "i686",
            alpine_arch: "i586",
            ..BASE.c
        },
        rust: RustTripleNames {
            arch: "i686",
            ..BASE.rust
        },
        zig: ZigTripleNames {
            arch: "x86",
            ..BASE.zig
        },
        libs: LibraryPaths {
            multiarch: "i386-linux-gnu",
            glibc_loader: "/lib/ld-linux.so.2",
            musl_loader: "/lib/ld-musl-i386.so.1",
        },
        windows: Some(WindowsNames {
            triple: "i686-w64-mingw32",
            rust: Some("i686-pc-windows-gnu"),
            zig_arch: "x86",
            pe_machine: 0x014c,
        }),
        ..BASE
    },
    ArchSpec {
        arch: "ppc64le",
        march: "ppc64le",
        qemu: "ppc64le",
        elf: elf(em::PPC64, 64, Endian::Little),
        packages: PackageArchs {
            debian: "ppc64el",
            alpine: "ppc64le",
            rhel: "ppc64le",
        },
        c: CTripleNames {
            arch: "powerpc64le",
            alpine_arch: "powerpc64le",
            ..BASE.c
        },
        rust: RustTripleNames {
            arch: "powerpc64le",
            ..BASE.rust
        },
        zig: ZigTripleNames {
            arch: "powerpc64le",
            ..BASE.zig
        },
        libs: LibraryPaths {
            multiarch: "powerpc64le-linux-gnu",
            glibc_loader: "/lib64/ld64.so.2",
            musl_loader: "/lib/ld-musl-powerpc64le.so.1",
        },
        ..BASE
    },
    ArchSpec {
        arch: "s390x",
        march: "s390x",
        qemu: "s390x",
        elf: elf(em::S390, 64, Endian::Big),
        packages: PackageArchs {
            debian: "s390x",
            alpine: "s390x",
            rhel: "s390x",
        },
        c: CTripleNames {
            arch: "s390x",
            alpine_arch: "s390x",
            ..BASE.c
        },
        rust: RustTripleNames {
            arch: "s390x",
            ..BASE.rust
        },
        zig: ZigTripleNames {
            arch: "s390x",
            ..BASE.zig
        },
        libs: LibraryPaths {
            multiarch: "s390x-linux-gnu",
            glibc_loader: "/lib/ld64.so.1",
            musl_loader: "/lib/ld-musl-s390x.so.1",
        },
        ..BASE
    },
    ArchSpec {
        arch: "riscv64",
        march: "riscv64",
        qemu: "riscv64",
        elf: elf(em::RISCV, 64, Endian::Little),
        packages: PackageArchs {
            debian: "riscv64",
            alpine: "riscv64",
            rhel: "riscv64",
        },
        c: CTripleNames {
            arch: "riscv64",
            alpine_arch: "riscv64",
            arch_env: Some("RISCV64_TARGET_ARCH"),
            ..BASE.c
        },
        rust: RustTripleNames {
            arch: "riscv64gc",
            ..BASE.rust
        },
        zig: ZigTripleNames {
            arch: "riscv64",
            ..BASE.zig
        },
        libs: LibraryPaths {
            multiarch: "riscv64-linux-gnu",
            glibc_loader: "/lib/ld-linux-riscv64-lp64d.so.1",
            musl_loader: "/lib/ld-musl-riscv64.so.1",
        },
        ..BASE
    },
    ArchSpec {
        arch: "loong64",
        march: "loongarch64",
        qemu: "loongarch64",
        elf: elf(em::LOONGARCH, 64, Endian::Little),
        packages: PackageArchs {
            debian: "loong64",
            alpine: "loongarch64",
            rhel: "loongarch64",
        },
        c: CTripleNames {
            arch: "loongarch64",
            alpine_arch: "loongarch64",
            ..BASE.c
        },
        rust: RustTripleNames {
            arch: "loongarch64",
            ..BASE.rust
        },
        zig: ZigTripleNames {
            arch: "loongarch64",
            ..BASE.zig
        },
        libs: LibraryPaths {
            multiarch: "loongarch64-linux-gnu",
            glibc_loader: "/lib64/ld-linux-loongarch-lp64d.so.1",
            musl_loader: "/lib/ld-musl-loongarch64.so.1",
        },
        ..BASE
    },
    ArchSpec {
        arch: "mips",
        march: "mips",
        qemu: "mips",
        elf: elf(em::MIPS, 32, Endian::Big),
        packages: PackageArchs {
            debian: "mips",
            alpine: "mips",
            rhel: "mips",
        },
        c: CTripleNames {
            arch: "mips",
            alpine_arch: "mips",
            ..BASE.c
        },
        rust: RustTripleNames {
            arch: "mips",
            ..BASE.rust
        },
        zig: ZigTripleNames {
            arch: "mips",
            gnu_abi: "gnueabi",
            ..BASE.zig
        },
        libs: LibraryPaths {
            multiarch: "mips-linux-gnu",
            glibc_loader: "/lib/ld.so.1",
            musl_loader: "/lib/ld-musl-mips.so.1",
        },
        ..BASE
    },
    ArchSpec {
        arch: "mipsle",
        march: "mipsle",
        qemu: "mipsel",
        elf: elf(em::MIPS, 32, Endian::Little),
        packages: PackageArchs {
            debian: "mipsel",
            alpine: "mipsle",
            rhel: "mipsel",
        },
        c: CTripleNames {
            arch: "mipsel",
            alpine_arch: "mipsel",
            ..BASE.c
        },
        rust: RustTripleNames {
            arch: "mipsel",
            ..BASE.rust
        },
        zig: ZigTripleNames {
            arch: "mipsel",
            gnu_abi: "gnueabi",
            ..BASE.zig
        },
        libs: LibraryPaths {
            multiarch: "mipsel-linux-gnu",
            glibc_loader: "/lib/ld.so.1",
            musl_loader: "/lib/ld-musl-mipsel.so.1",
        },
        ..BASE
    },
    ArchSpec {
        arch: "mips64",
        march: "mips64",
        qemu: "mips64",
        elf: elf(em::MIPS, 64, Endian::Big),
        packages: PackageArchs {
            debian: "mips64",
            alpine: "mips64",
            rhel: "mips64",
        },
        c: CTripleNames {
            arch: "mips64",
            alpine_arch: "mips64",
            abi_suffix: "abi64",
            alpine_abi_suffix: "abi64",
            ..BASE.c
        },
        rust: RustTripleNames {
            arch: "mips64",
            gnu_suffix: "abi64",
            musl_suffix: "abi64",
        },
        zig: ZigTripleNames {
            arch: "mips64",
            gnu_abi: "gnuabi64",
            ..BASE.zig
        },
        libs: LibraryPaths {
            multiarch: "mips64-linux-gnuabi64",
            glibc_loader: "/lib64/ld.so.1",
            musl_loader: "/lib/ld-musl-mips64.so.1",
        },
        ..BASE
    },
    ArchSpec {
        arch: "mips64le",
        march: "mips64le",
        qemu: "mips64el",
        elf: elf(em::MIPS, 64, Endian::Little),
        packages: PackageArchs {
            debian: "mips64el",
            alpine: "mips64le",
            rhel: "mips64el",
        },
        c: CTripleNames {
            arch: "mips64el",
            alpine_arch: "mips64el",
            abi_suffix: "abi64",
            alpine_abi_suffix: "abi64",
            ..BASE.c
        },
        rust: RustTripleNames {
            arch: "mips64el",
            gnu_suffix: "abi64",
            musl_suffix: "abi64",
        },
        zig: ZigTripleNames {
            arch: "mips64el",
            gnu_abi: "gnuabi64",
            ..BASE.zig
        },
        libs: LibraryPaths {
            multiarch: "mips64el-linux-gnuabi64",
            glibc_loader: "/lib64/ld.so.1",
            musl_loader: "/lib/ld-musl-mips64el.so.1",
        },
        ..BASE
    },
    // WebAssembly, for the wasi OS only (see spec::wasi for its triples).
    ArchSpec {
        arch: "wasm",
        tier: Tier::Wasi,
        march: "wasm32",
        elf: elf(0, 32, Endian::Little),
        packages: PackageArchs {
            debian: "unknown",
            alpine: "unknown",
            rhel: "unknown",
        },
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_full_row_is_complete() {
        for s in TABLE.iter().filter(|s| s.tier == Tier::Full) {
            for (name, v) in [
                ("march", s.march),
                ("debian_arch", s.packages.debian),
                ("alpine_arch", s.packages.alpine),
                ("rhel_arch", s.packages.rhel),
                ("triple_arch", s.c.arch),
                ("alpine_triple_arch", s.c.alpine_arch),
                ("rust_arch", s.rust.arch),
                ("zig_arch", s.zig.arch),
                ("qemu", s.qemu),
                ("glibc_loader", s.libs.glibc_loader),
                ("debian_multiarch", s.libs.multiarch),
                ("musl_loader", s.libs.musl_loader),
            ] {
                assert!(!v.is_empty(), "{}/{}: {name} is empty", s.arch, s.variant);
            }
            assert_ne!(s.elf.machine, 0, "{}: e_machine", s.arch);
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
