//! The triples a target is known by: C (`XX_TRIPLE`, as xx-info prints it),
//! Rust and zig.

use super::resolve::Target;
use super::spec::{Tier, wasi};
use crate::distro::{Family, Libc};

impl Target {
    /// The C triple, as `xx-info triple` prints it for the distro:
    /// `aarch64-linux-gnu`, `armv7-alpine-linux-musleabihf`. Non-Linux,
    /// non-darwin, non-windows OSes get the Linux triple, as upstream.
    pub fn c_triple(&self) -> String {
        let (spec, parts) = (self.spec, &self.parts);
        let vendor = match self.family {
            Family::Debian | Family::Rhel => String::new(),
            Family::Alpine | Family::Other => format!("-{}", parts.vendor),
        };
        if spec.tier == Tier::Wasi {
            return wasi::C_TRIPLE.to_string();
        }
        match (self.platform.os.as_str(), spec.windows, spec.darwin) {
            ("windows", Some(w), _) => return w.triple.to_string(),
            ("darwin", _, Some(d)) => {
                return format!("{}{vendor}-macos{}", d.arch, parts.macos_version_min);
            }
            _ => {}
        }
        let alpine = self.family == Family::Alpine;
        let arch = match (&parts.arch_override, spec.c.arch_env) {
            (Some(a), Some(_)) if !a.is_empty() => a.as_str(),
            _ if alpine => spec.c.alpine_arch,
            _ => spec.c.arch,
        };
        let suffix = if alpine {
            spec.c.alpine_abi_suffix
        } else {
            spec.c.abi_suffix
        };
        format!("{arch}{vendor}-linux-{}{suffix}", parts.libc)
    }

    /// The Rust target triple: always one rustc knows (`armv7-unknown-linux-gnueabihf`,
    /// `arm-unknown-linux-musleabihf` for ARMv6 on musl, `x86_64-pc-windows-gnu`).
    pub fn rust_triple(&self) -> Option<String> {
        let s = self.spec;
        if s.tier == Tier::Wasi {
            return Some(wasi::RUST_TRIPLE.to_string());
        }
        match self.platform.os.as_str() {
            "windows" => s.windows.and_then(|w| w.rust).map(str::to_string),
            "darwin" => s.darwin.map(|d| d.rust.to_string()),
            "linux" if s.tier == Tier::Full => Some(match self.libc {
                Libc::Gnu => format!("{}-unknown-linux-gnu{}", s.rust.arch, s.rust.gnu_suffix),
                Libc::Musl => format!("{}-unknown-linux-musl{}", s.rust.arch, s.rust.musl_suffix),
            }),
            _ => None,
        }
    }

    /// The zig `-target` value (`aarch64-linux-musl`, `x86_64-windows-gnu`).
    pub fn zig_triple(&self) -> Option<String> {
        let s = self.spec;
        if s.tier == Tier::Wasi {
            return Some(wasi::ZIG_TRIPLE.to_string());
        }
        match self.platform.os.as_str() {
            "windows" => s.windows.map(|w| format!("{}-windows-gnu", w.zig_arch)),
            "darwin" => s.darwin.map(|d| format!("{}-macos-none", d.zig_arch)),
            "linux" if s.tier == Tier::Full => Some(match self.libc {
                Libc::Gnu => format!("{}-linux-{}", s.zig.arch, s.zig.gnu_abi),
                Libc::Musl => format!("{}-linux-{}", s.zig.arch, s.zig.musl_abi),
            }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::Platform;
    use crate::target::table::TABLE;
    use std::str::FromStr;

    fn target(platform: &str, family: Family) -> Target {
        let p: Platform = platform.parse().unwrap();
        Target::new(&p, family).unwrap()
    }

    /// As upstream xx: C triples per distro family.
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

    /// Rust triples as upstream xx writes them, made valid where upstream's
    /// are not (see the README's deliberate differences).
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

    /// As upstream xx: zig triples (ARMv6 on musl is hard-float, see README).
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
}
