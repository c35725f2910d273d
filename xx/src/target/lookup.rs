//! Finding a row: by OCI arch and variant, by platform, by C triple.

use super::spec::ArchSpec;
use super::table::TABLE;
use crate::arm::ArmArch;
use crate::platform::Platform;

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
    if triple.starts_with("wasm32-wasi") {
        return Some(("wasi", lookup("wasm", "")?));
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arm::FloatRule;
    use crate::target::spec::{ElfSpec, Endian, em};

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
        let (os, spec) = parse_c_triple("wasm32-wasi").unwrap();
        assert_eq!((os, spec.arch), ("wasi", "wasm"));
        assert!(parse_c_triple("wasm32-unknown-unknown").is_none());
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
}
