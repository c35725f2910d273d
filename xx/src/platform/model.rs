//! The `Platform` value and its one parser: users write platforms many ways
//! (`aarch64`, `linux/arm64/v8`, `armhf`, `x86_64`). Everything downstream (the
//! target table, image indexes, cache keys) compares platforms for equality,
//! so every spelling is normalised here once, with the same rules containerd
//! uses, and nowhere else.

use std::fmt;
use std::str::FromStr;

use crate::arm::ArmArch;

/// An OCI platform, always normalised: lower case, canonical arch names, and a
/// variant only where it carries meaning (`arm/v7`, but `arm64`, `amd64`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Platform {
    /// Operating system, e.g. `linux`, `windows`, `darwin`.
    pub os: String,
    /// Architecture as Docker/Go name it, e.g. `amd64`, `arm64`, `arm`, `386`.
    pub arch: String,
    /// CPU variant, e.g. `v7` for `arm`, `v3` for `amd64`; `None` when absent.
    pub variant: Option<String>,
}

/// Why a platform string was rejected; its `Display` says what to write instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformError {
    /// The text the user gave.
    pub input: String,
    /// What is wrong with it.
    pub reason: String,
}

impl fmt::Display for PlatformError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid platform {:?}: {} (expected os/arch[/variant], e.g. linux/arm64 or linux/arm/v7)",
            self.input, self.reason
        )
    }
}

impl std::error::Error for PlatformError {}

/// Operating systems that a lone word (`--platform windows`) is taken to mean;
/// any other lone word is an architecture on Linux.
const KNOWN_OS: &[&str] = &[
    "aix",
    "android",
    "darwin",
    "dragonfly",
    "freebsd",
    "illumos",
    "ios",
    "js",
    "linux",
    "netbsd",
    "openbsd",
    "plan9",
    "solaris",
    "wasi",
    "wasip1",
    "windows",
];

impl Platform {
    /// A platform from parts that are already known to be canonical (tables, tests).
    pub fn new(os: &str, arch: &str, variant: Option<&str>) -> Platform {
        let (arch, variant) = normalize_arch(arch, variant.unwrap_or(""));
        Platform {
            os: normalize_os(os),
            arch,
            variant: if variant.is_empty() {
                None
            } else {
                Some(variant)
            },
        }
    }

    /// The platform of the machine this process runs on, as the kernel reports
    /// it (`uname -m`; under QEMU user emulation, the emulated machine).
    pub fn host() -> Platform {
        let machine = crate::host::machine();
        match crate::host::from_uname_machine(&machine) {
            Some((arch, variant)) => Platform::new("linux", arch, variant),
            None => Platform::new("linux", &machine, None),
        }
    }

    /// The variant, or `""` when there is none.
    pub fn variant_str(&self) -> &str {
        self.variant.as_deref().unwrap_or("")
    }

    /// Parses a comma-separated list (`linux/amd64,linux/arm64`), as given to
    /// `--platform`. Raspberry Pi model names (`rpi-zero`, `rpi4`) are accepted
    /// too. Duplicates are dropped, first occurrence wins the position.
    pub fn parse_list(list: &str) -> Result<Vec<Platform>, PlatformError> {
        let mut out: Vec<Platform> = Vec::new();
        for item in list.split(',') {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            let platform = crate::raspberry::resolve_alias(item)
                .unwrap_or(item)
                .parse()?;
            if !out.contains(&platform) {
                out.push(platform);
            }
        }
        if out.is_empty() {
            return Err(PlatformError {
                input: list.to_string(),
                reason: "no platform given".to_string(),
            });
        }
        Ok(out)
    }
}

impl FromStr for Platform {
    type Err = PlatformError;

    /// containerd's `platforms.Parse`: `os`, `arch`, `os/arch` or
    /// `os/arch/variant`, each part `[A-Za-z0-9_.-]+`, then normalised.
    fn from_str(s: &str) -> Result<Platform, PlatformError> {
        let err = |reason: &str| PlatformError {
            input: s.to_string(),
            reason: reason.to_string(),
        };
        let trimmed = s.trim();
        if trimmed.is_empty() {
            return Err(err("it is empty"));
        }
        let parts: Vec<&str> = trimmed.split('/').collect();
        if parts.len() > 3 {
            return Err(err("it has more than three '/'-separated parts"));
        }
        for part in &parts {
            if part.is_empty() {
                return Err(err("it has an empty part"));
            }
            if !part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
            {
                return Err(err(&format!(
                    "{part:?} may contain only letters, digits, '_', '-' and '.'"
                )));
            }
        }
        let lower: Vec<String> = parts.iter().map(|p| p.to_ascii_lowercase()).collect();
        Ok(match lower.as_slice() {
            [one] if KNOWN_OS.contains(&normalize_os(one).as_str()) => {
                let host = Platform::host();
                Platform::new(one, &host.arch, host.variant.as_deref())
            }
            [arch] => Platform::new("linux", arch, None),
            [os, arch] => Platform::new(os, arch, None),
            [os, arch, variant] => Platform::new(os, arch, Some(variant)),
            _ => return Err(err("it has no parts")),
        })
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.variant {
            Some(v) => write!(f, "{}/{}/{}", self.os, self.arch, v),
            None => write!(f, "{}/{}", self.os, self.arch),
        }
    }
}

fn normalize_os(os: &str) -> String {
    let os = os.to_ascii_lowercase();
    match os.as_str() {
        "macos" => "darwin".to_string(),
        _ => os,
    }
}

/// containerd's `normalizeArch`, plus the Debian names `armhf`/`armel` that
/// people type for Raspberry Pi OS images.
fn normalize_arch(arch: &str, variant: &str) -> (String, String) {
    let arch = arch.to_ascii_lowercase();
    let variant = variant.to_ascii_lowercase();
    let (a, v): (&str, &str) = match arch.as_str() {
        "i386" | "i686" | "x86" => ("386", ""),
        "x86_64" | "x86-64" | "amd64" => ("amd64", if variant == "v1" { "" } else { &variant }),
        "aarch64" | "arm64" => (
            "arm64",
            match variant.as_str() {
                "8" | "v8" | "v8.0" => "",
                v => v,
            },
        ),
        "armhf" => ("arm", ArmArch::V7.variant()),
        "armel" => ("arm", ArmArch::V6.variant()),
        "arm" => (
            "arm",
            ArmArch::from_user_variant(&variant).map_or(variant.as_str(), |a| a.variant()),
        ),
        _ => (&arch, &variant),
    };
    (a.to_string(), v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> String {
        match s.parse::<Platform>() {
            Ok(p) => p.to_string(),
            Err(e) => format!("ERR {e}"),
        }
    }

    #[test]
    fn containerd_normalisation() {
        let cases = [
            ("linux/amd64", "linux/amd64"),
            ("linux/amd64/v1", "linux/amd64"),
            ("linux/amd64/v3", "linux/amd64/v3"),
            ("linux/x86_64", "linux/amd64"),
            ("linux/x86-64", "linux/amd64"),
            ("x86_64", "linux/amd64"),
            ("linux/arm64/v8", "linux/arm64"),
            ("linux/aarch64", "linux/arm64"),
            ("aarch64", "linux/arm64"),
            ("linux/arm64/v8.2", "linux/arm64/v8.2"),
            ("linux/arm", "linux/arm/v7"),
            ("linux/arm/7", "linux/arm/v7"),
            ("linux/arm/6", "linux/arm/v6"),
            ("linux/arm/v5", "linux/arm/v5"),
            ("linux/arm/v8", "linux/arm/v8"),
            ("linux/armhf", "linux/arm/v7"),
            ("armhf", "linux/arm/v7"),
            ("linux/armel", "linux/arm/v6"),
            ("linux/i386", "linux/386"),
            ("i386", "linux/386"),
            ("LINUX/ARM64", "linux/arm64"),
            ("macos/arm64", "darwin/arm64"),
            ("windows/amd64", "windows/amd64"),
            ("linux/riscv64", "linux/riscv64"),
            ("linux/mips64le/softfloat", "linux/mips64le/softfloat"),
            (" linux/s390x ", "linux/s390x"),
        ];
        for (input, want) in cases {
            assert_eq!(p(input), want, "parsing {input:?}");
        }
    }

    #[test]
    fn lone_os_gets_host_arch() {
        let host = Platform::host();
        let got: Platform = "linux".parse().unwrap();
        assert_eq!(got.arch, host.arch);
        assert_eq!(got.os, "linux");
    }

    #[test]
    fn bad_platforms_are_rejected_with_a_hint() {
        for bad in [
            "",
            "/",
            "linux/",
            "linux//v7",
            "a/b/c/d",
            "linux/arm 64",
            "linux/ä",
        ] {
            let err = bad.parse::<Platform>().unwrap_err();
            assert!(
                err.to_string().contains("expected os/arch"),
                "{bad:?}: {err}"
            );
        }
    }

    #[test]
    fn lists_dedupe_and_keep_order() {
        let got =
            Platform::parse_list("linux/arm64, linux/amd64,linux/aarch64,,linux/arm").unwrap();
        let got: Vec<String> = got.iter().map(|p| p.to_string()).collect();
        assert_eq!(got, ["linux/arm64", "linux/amd64", "linux/arm/v7"]);
        assert!(Platform::parse_list(" , ").is_err());
        assert!(Platform::parse_list("linux/arm64,bad//x").is_err());
    }

    #[test]
    fn list_parsing_accepts_raspberry_aliases() {
        let got = Platform::parse_list("rpi-zero,rpi4,rpi4-32").unwrap();
        let got: Vec<String> = got.iter().map(|p| p.to_string()).collect();
        assert_eq!(got, ["linux/arm/v6", "linux/arm64", "linux/arm/v7"]);
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "linux/arm/v6",
            "linux/arm64",
            "windows/386",
            "linux/amd64/v2",
        ] {
            assert_eq!(s.parse::<Platform>().unwrap().to_string(), s);
        }
    }
}
