//! The shape of a table row: every name one architecture goes by, grouped by
//! the tool that uses it (package managers, C, Rust and zig toolchains,
//! loaders, other operating systems), plus what its binaries look like.

use crate::arm::{ArmArch, FloatRule};

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
    /// WebAssembly: a target only of the `wasi` OS (`wasi/wasm`), for
    /// xx-info, xx-clang, xx-cargo and xx-go; no Linux names, no QEMU.
    Wasi,
}

/// The OS names of WebAssembly System Interface targets: Docker's `wasi`
/// and the preview-1 name some tools write (`wasip1`).
pub fn is_wasi_os(os: &str) -> bool {
    matches!(os, "wasi" | "wasip1")
}

/// The names of `wasi/wasm`. The C triple keeps the spelling every clang
/// and wasi-libc release knows (`wasm32-wasi`; clang 18+ reads it as
/// preview 1); Rust's target is `wasm32-wasip1` (its `wasm32-wasi` is gone
/// since Rust 1.84).
pub mod wasi {
    /// C triple (xx-info, xx-clang).
    pub const C_TRIPLE: &str = "wasm32-wasi";
    /// Rust triple (xx-cargo).
    pub const RUST_TRIPLE: &str = "wasm32-wasip1";
    /// zig target.
    pub const ZIG_TRIPLE: &str = "wasm32-wasi";
    use std::path::Path;

    /// The `--sysroot` for wasi-libc in the filesystem at `root`. Debian
    /// installs it multiarch-style (`/usr/include/wasm32-wasi`,
    /// `/usr/lib/wasm32-wasi`), which clang finds under `--sysroot=/usr`;
    /// wasi-sdk, Arch and Alpine use `/usr/share/wasi-sysroot`.
    pub fn sysroot_in(root: &Path) -> &'static str {
        const SHARE: &str = "/usr/share/wasi-sysroot";
        let debian = root.join("usr/include").join(C_TRIPLE).is_dir();
        if !debian && root.join(&SHARE[1..]).is_dir() {
            SHARE
        } else {
            "/usr"
        }
    }
}

/// One architecture (or ARM variant). Each group holds the names one kind of
/// tool uses; the fields say which.
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
    /// QEMU user-mode name: `qemu-<name>` / `qemu-<name>-static`, binfmt `qemu-<name>`.
    pub qemu: &'static str,
    /// The QEMU CPU model (`QEMU_CPU`) of the oldest CPU the variant runs on,
    /// so emulation fails where a device would (QEMU's default CPU has every
    /// instruction); `""` leaves QEMU's default.
    pub qemu_cpu: &'static str,
    /// ELF header expectations.
    pub elf: ElfSpec,
    /// Distro package architectures.
    pub packages: PackageArchs,
    /// The table's parts of Linux C triples.
    pub c: CTripleNames,
    /// The table's parts of Linux Rust triples.
    pub rust: RustTripleNames,
    /// The table's parts of Linux zig triples.
    pub zig: ZigTripleNames,
    /// Where a Linux userland keeps loaders and libraries.
    pub libs: LibraryPaths,
    /// Names for `windows/<arch>`, `None` when nothing targets it.
    pub windows: Option<WindowsNames>,
    /// Names for `darwin/<arch>`, `None` when nothing targets it.
    pub darwin: Option<DarwinNames>,
}

/// Package architectures, as each distro's package manager prints them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackageArchs {
    /// Debian/Ubuntu (`dpkg --print-architecture`).
    pub debian: &'static str,
    /// Alpine (`apk --print-arch`).
    pub alpine: &'static str,
    /// RPM (RHEL family).
    pub rhel: &'static str,
}

/// What a Linux C triple takes from the row; the vendor and libc come from
/// the distro (see `TripleParts`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CTripleNames {
    /// Arch part of the GNU/Debian triple (`arm`-linux-gnueabihf).
    pub arch: &'static str,
    /// Arch part of Alpine's triple (`armv7`-alpine-linux-musleabihf).
    pub alpine_arch: &'static str,
    /// Environment variable that replaces the arch part (xx-info).
    pub arch_env: Option<&'static str>,
    /// What follows `gnu`/`musl` (`eabihf`, `eabi`, `abi64`).
    pub abi_suffix: &'static str,
    /// The same on Alpine, whose armhf (ARMv6) is hard-float.
    pub alpine_abi_suffix: &'static str,
}

/// What a Linux Rust triple takes from the row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RustTripleNames {
    /// Arch part (`armv7`-unknown-linux-gnueabihf).
    pub arch: &'static str,
    /// What follows `gnu`.
    pub gnu_suffix: &'static str,
    /// What follows `musl`.
    pub musl_suffix: &'static str,
}

/// What a Linux zig target takes from the row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZigTripleNames {
    /// Arch part.
    pub arch: &'static str,
    /// ABI for glibc.
    pub gnu_abi: &'static str,
    /// ABI for musl.
    pub musl_abi: &'static str,
    /// `-mcpu` that pins the oldest CPU of the variant (ARMv5/v6), if needed.
    pub mcpu: Option<&'static str>,
}

/// Where a Linux userland for the row keeps its loader and libraries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LibraryPaths {
    /// Debian multiarch tuple: the `/usr/lib/<tuple>` library directory.
    pub multiarch: &'static str,
    /// glibc's dynamic loader (PT_INTERP) on Debian/RHEL.
    pub glibc_loader: &'static str,
    /// musl's dynamic loader on Alpine.
    pub musl_loader: &'static str,
}

/// Names of `windows/<arch>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowsNames {
    /// MinGW triple (xx-info).
    pub triple: &'static str,
    /// Rust triple, `None` where Rust has no such target.
    pub rust: Option<&'static str>,
    /// zig triple arch.
    pub zig_arch: &'static str,
    /// PE `Machine`.
    pub pe_machine: u16,
}

/// Names of `darwin/<arch>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DarwinNames {
    /// Arch part of the darwin triple, also `uname -m` on macOS.
    pub arch: &'static str,
    /// Rust triple.
    pub rust: &'static str,
    /// zig arch.
    pub zig_arch: &'static str,
    /// Mach-O `cputype`.
    pub macho_cputype: u32,
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
