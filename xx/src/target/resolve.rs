//! `Target`: a platform resolved against the table for one distro family,
//! the single place mxbuild and the helpers ask for any name of a target.

use super::lookup::for_platform;
use super::spec::{ArchSpec, Tier, is_wasi_os};
use crate::distro::{Family, Libc};
use crate::platform::Platform;

/// A platform resolved against the table for one distro family: the single
/// place mxbuild and the helpers ask for any name of a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The platform. [`Target::new`] takes a normalised one; xx-info's
    /// environment keeps TARGETOS as given (upstream compares it verbatim).
    pub platform: Platform,
    /// Its table row.
    pub spec: &'static ArchSpec,
    /// The distro whose packages and toolchains the build stage uses.
    pub family: Family,
    /// The C library binaries for it link against.
    pub libc: Libc,
    /// How its C triple is spelled where the table leaves a choice.
    pub parts: TripleParts,
}

/// The parts of a C triple that come from outside the table: mxbuild derives
/// them from the distro family ([`Target::new`]), upstream xx-info takes them
/// from XX_VENDOR, XX_LIBC, ARM_TARGET_ARCH / RISCV64_TARGET_ARCH and
/// MACOSX_VERSION_MIN.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TripleParts {
    /// The vendor: a distro ID (`alpine`, `debian`), `apple`, `unknown`. The
    /// Debian and RHEL families write no vendor field.
    pub vendor: String,
    /// The libc word of the ABI field: `gnu`, `musl`, `mingw32`.
    pub libc: String,
    /// Replacement for the arch part (ARM_TARGET_ARCH / RISCV64_TARGET_ARCH),
    /// used by the rows that name such a variable.
    pub arch_override: Option<String>,
    /// Deployment target for darwin triples (`10.6`, `11.0`).
    pub macos_version_min: String,
}

/// A platform with no row in the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsupportedTarget(pub Platform);

impl std::fmt::Display for UnsupportedTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Upstream's words: `os=${TARGETOS:-unknown} arch=${TARGETARCH:-unknown}
        // variant=${TARGETVARIANT:-}`, so scripts matching on them keep working.
        let or_unknown = |s: &str| {
            if s.is_empty() {
                "unknown".to_string()
            } else {
                s.to_string()
            }
        };
        write!(
            f,
            "unsupported target: os={} arch={} variant={}",
            or_unknown(&self.0.os),
            or_unknown(&self.0.arch),
            self.0.variant_str()
        )
    }
}

impl std::error::Error for UnsupportedTarget {}

impl Target {
    /// Resolves a platform for a distro family; musl on Alpine, glibc elsewhere.
    pub fn new(platform: &Platform, family: Family) -> Result<Target, UnsupportedTarget> {
        let spec = for_platform(platform)
            .filter(|s| (s.tier == Tier::Wasi) == is_wasi_os(&platform.os))
            .ok_or_else(|| UnsupportedTarget(platform.clone()))?;
        let libc = if family == Family::Alpine {
            Libc::Musl
        } else {
            Libc::Gnu
        };
        let parts = TripleParts {
            vendor: family.vendor().to_string(),
            libc: libc_word(platform, libc).to_string(),
            arch_override: None,
            macos_version_min: default_macos_version_min(&platform.arch).to_string(),
        };
        Ok(Target {
            platform: platform.clone(),
            spec,
            family,
            libc,
            parts,
        })
    }

    /// The same target with another libc (e.g. a static musl build on Debian).
    pub fn with_libc(mut self, libc: Libc) -> Target {
        self.libc = libc;
        self.parts.libc = libc_word(&self.platform, libc).to_string();
        self
    }

    /// `uname -m` of the target (`arm64` for darwin/arm64, as on a Mac).
    pub fn march(&self) -> &'static str {
        match self.spec.darwin {
            Some(d) if self.platform.os == "darwin" => d.arch,
            _ => self.spec.march,
        }
    }

    /// The package architecture of the distro (`arm64`, `aarch64`, `armv7hl`).
    pub fn pkg_arch(&self) -> &'static str {
        let names = &self.spec.packages;
        match self.family {
            Family::Debian => names.debian,
            Family::Alpine => names.alpine,
            Family::Rhel => names.rhel,
            Family::Other => self.spec.arch,
        }
    }

    /// The dynamic loader binaries for this target name in PT_INTERP.
    pub fn loader(&self) -> &'static str {
        match self.libc {
            Libc::Gnu => self.spec.libs.glibc_loader,
            Libc::Musl => self.spec.libs.musl_loader,
        }
    }
}

/// The libc word of a triple: MinGW's on windows, else the libc's.
fn libc_word(platform: &Platform, libc: Libc) -> &'static str {
    if platform.os == "windows" {
        "mingw32"
    } else {
        libc.as_str()
    }
}

/// macOS deployment target xx-info uses when MACOSX_VERSION_MIN is unset:
/// 10.6 for Intel, 11.0 (the first Apple Silicon release) otherwise.
pub fn default_macos_version_min(arch: &str) -> &'static str {
    if arch == "amd64" { "10.6" } else { "11.0" }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(platform: &str, family: Family) -> Target {
        let p: Platform = platform.parse().unwrap();
        Target::new(&p, family).unwrap()
    }

    /// As upstream xx: march, debian, alpine and rhel arch per platform.
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
    fn unknown_platforms_are_unsupported() {
        let p: Platform = "linux/wasm".parse().unwrap();
        let err = Target::new(&p, Family::Debian).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unsupported target: os=linux arch=wasm variant="
        );
        let p: Platform = "wasi/arm64".parse().unwrap();
        assert!(Target::new(&p, Family::Debian).is_err());
        let p = Platform::new("", "", None);
        assert_eq!(
            UnsupportedTarget(p).to_string(),
            "unsupported target: os=unknown arch=unknown variant=",
            "upstream's words for an unknown machine"
        );
    }

    #[test]
    fn wasi_names() {
        let p: Platform = "wasi/wasm".parse().unwrap();
        let t = Target::new(&p, Family::Debian).unwrap();
        assert_eq!(t.c_triple(), "wasm32-wasi");
        assert_eq!(t.rust_triple().as_deref(), Some("wasm32-wasip1"));
        assert_eq!(t.zig_triple().as_deref(), Some("wasm32-wasi"));
        assert_eq!(t.march(), "wasm32");
    }
}
