//! The target a helper builds for, worked out from the environment with
//! exactly upstream xx-info's rules, so Dockerfiles written for tonistiigi/xx
//! behave the same: TARGETPAIR, then TARGETPLATFORM (which wins), then
//! TARGETOS/TARGETARCH/TARGETVARIANT, then `uname -m`; vendor and libc from
//! `/etc/os-release` unless XX_VENDOR / XX_LIBC say otherwise.
//!
//! Every helper (xx-info, xx-verify, xx-cc, xx-cargo, ...) starts here; the
//! names it prints come from [`crate::target`], never from this file.

use std::path::PathBuf;

use crate::arm::ArmArch;
use crate::distro::{Distro, Family, Libc};
use crate::platform::Platform;
use crate::target::{self, ArchSpec, Target, Tier, TripleParts, UnsupportedTarget};

/// Where the inputs come from: the process environment and `/` in real runs,
/// a map and a temp dir in tests.
pub struct Inputs<'a> {
    /// Environment lookup. Empty values count as unset, as in `[ -n "$X" ]`.
    pub var: &'a dyn Fn(&str) -> Option<String>,
    /// Root of the filesystem to read os-release etc. from.
    pub root: PathBuf,
    /// `uname -m` of the machine running the helper.
    pub host_machine: String,
}

impl std::fmt::Debug for Inputs<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inputs")
            .field("root", &self.root)
            .field("host_machine", &self.host_machine)
            .finish_non_exhaustive()
    }
}

impl Inputs<'_> {
    /// The real process environment, `/` and the kernel's machine name.
    pub fn from_process() -> Inputs<'static> {
        Inputs {
            var: &|k| std::env::var(k).ok(),
            root: PathBuf::from("/"),
            host_machine: crate::host::machine(),
        }
    }

    fn get(&self, key: &str) -> String {
        (self.var)(key).unwrap_or_default()
    }
}

/// Everything xx-info can print, resolved once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetEnv {
    /// TARGETOS.
    pub os: String,
    /// TARGETARCH.
    pub arch: String,
    /// TARGETVARIANT (may be empty).
    pub variant: String,
    /// XX_VENDOR: the distro ID, `apple` for darwin, or `unknown`.
    pub vendor: String,
    /// XX_LIBC: `gnu`, `musl` or `mingw32`.
    pub libc: String,
    /// XX_OS_VERSION: VERSION_ID of the build stage's distro.
    pub os_version: String,
    /// The target every name comes from; `None` for architectures xx does
    /// not know (their names print as `unknown`).
    pub target: Option<Target>,
    /// XX_TRIPLE (the target's C triple), `None` when the architecture is unknown.
    pub triple: Option<String>,
    /// XX_PKG_ARCH.
    pub pkg_arch: String,
    /// Whether `/etc/alpine-release` exists (sysroot rule).
    pub alpine_release: bool,
    /// `uname -m` of the machine running the helper.
    pub host_machine: String,
    root: PathBuf,
}

/// What `cut -d D -f N` prints for one line: fields are 1-based, and a line
/// without the delimiter is printed whole for every field (xx-info relies on
/// this: `TARGETPLATFORM=linux` gives os and arch `linux`).
fn cut_field(s: &str, delim: char, n: usize) -> &str {
    if !s.contains(delim) {
        return s;
    }
    s.split(delim).nth(n - 1).unwrap_or("")
}

/// TARGETOS / TARGETARCH / TARGETVARIANT as xx-info works them out, spelled
/// as the environment gave them (upstream compares them verbatim).
struct Spelled {
    os: String,
    arch: String,
    variant: String,
}

impl Spelled {
    /// TARGETPAIR, then TARGETPLATFORM (which wins), over TARGETOS/ARCH/VARIANT;
    /// then `uname -m` for a missing arch, `linux` for a missing OS.
    fn from_inputs(inputs: &Inputs<'_>) -> Spelled {
        let mut s = Spelled {
            os: inputs.get("TARGETOS"),
            arch: inputs.get("TARGETARCH"),
            variant: inputs.get("TARGETVARIANT"),
        };
        s.apply_pair(&inputs.get("TARGETPAIR"));
        s.apply_platform(&inputs.get("TARGETPLATFORM"));
        if s.arch.is_empty() {
            if let Some((a, v)) = crate::host::from_uname_machine(&inputs.host_machine) {
                s.arch = a.to_string();
                if let Some(v) = v {
                    s.variant = v.to_string();
                }
            }
        }
        if s.os.is_empty() {
            s.os = "linux".to_string();
        }
        if s.arch == "arm" && s.variant.is_empty() {
            s.variant = ArmArch::V7.variant().to_string();
        }
        s
    }

    /// TARGETPAIR: os-arch[variant], e.g. linux-armv7.
    fn apply_pair(&mut self, pair: &str) {
        if pair.is_empty() {
            return;
        }
        let p_os = cut_field(pair, '-', 1).to_string();
        let mut p_arch = cut_field(pair, '-', 2).to_string();
        let mut p_variant = String::new();
        if p_arch.starts_with("armv") {
            p_variant = p_arch["arm".len()..].to_string();
            p_arch = "arm".to_string();
        }
        if !p_os.is_empty() && !p_arch.is_empty() {
            self.os = p_os;
            self.arch = p_arch;
            if !p_variant.is_empty() {
                self.variant = p_variant;
            }
        }
    }

    /// TARGETPLATFORM: os/arch[/variant]. Only amd64 levels, ARM generations
    /// and MIPS float modes replace the variant (other arches keep a stale
    /// TARGETVARIANT, an upstream quirk kept).
    fn apply_platform(&mut self, platform: &str) {
        let p_os = cut_field(platform, '/', 1);
        let p_arch = cut_field(platform, '/', 2);
        if platform.is_empty() || p_os.is_empty() || p_arch.is_empty() {
            return;
        }
        self.os = p_os.to_string();
        self.arch = p_arch.to_string();
        let field3 = cut_field(platform, '/', 3);
        match p_arch {
            "amd64" if matches!(field3, "v2" | "v3" | "v4") => self.variant = field3.to_string(),
            "arm" => self.variant = ArmArch::from_variant_or_v7(field3).variant().to_string(),
            a if a.starts_with("mips") => self.variant = field3.to_string(),
            _ => {}
        }
    }
}

impl TargetEnv {
    /// Resolves the target from the inputs (see the module docs for the order).
    pub fn resolve(inputs: &Inputs<'_>) -> TargetEnv {
        let spelled = Spelled::from_inputs(inputs);
        let distro = Distro::detect(&inputs.root);
        let os_version = if distro.has_os_release {
            distro.version_id.clone()
        } else {
            inputs.get("XX_OS_VERSION")
        };
        let vendor = match inputs.get("XX_VENDOR") {
            v if !v.is_empty() => v,
            _ if spelled.os == "darwin" => "apple".to_string(),
            _ if distro.id.is_empty() => "unknown".to_string(),
            _ => distro.id.clone(),
        };
        let libc = match inputs.get("XX_LIBC") {
            l if !l.is_empty() => l,
            _ if spelled.os == "windows" => "mingw32".to_string(),
            _ if distro.id == "alpine" => "musl".to_string(),
            _ => "gnu".to_string(),
        };
        let target = resolve_target(inputs, &spelled, &vendor, &libc);
        let triple = target.as_ref().map(Target::c_triple);
        let pkg_arch = match &target {
            Some(t) => t.pkg_arch().to_string(),
            None if Family::from_id(&vendor) == Family::Other => spelled.arch.clone(),
            None => "unknown".to_string(),
        };
        TargetEnv {
            os: spelled.os,
            arch: spelled.arch,
            variant: spelled.variant,
            vendor,
            libc,
            os_version,
            target,
            triple,
            pkg_arch,
            alpine_release: distro.alpine_release,
            host_machine: inputs.host_machine.clone(),
            root: inputs.root.clone(),
        }
    }

    /// The table row, `None` for architectures xx does not know.
    pub fn spec(&self) -> Option<&'static ArchSpec> {
        self.target.as_ref().map(|t| t.spec)
    }

    /// `uname -m` of the target (`arm64` for darwin/arm64, as on a Mac).
    pub fn march(&self) -> &'static str {
        self.target.as_ref().map_or("unknown", Target::march)
    }

    /// Debian architecture, or `unknown`.
    pub fn debian_arch(&self) -> &'static str {
        self.spec().map_or("unknown", |s| s.packages.debian)
    }

    /// Alpine architecture, or `unknown`.
    pub fn alpine_arch(&self) -> &'static str {
        self.spec().map_or("unknown", |s| s.packages.alpine)
    }

    /// RPM architecture, or `unknown`.
    pub fn rhel_arch(&self) -> &'static str {
        self.spec().map_or("unknown", |s| s.packages.rhel)
    }

    /// The target as an OCI platform.
    pub fn platform(&self) -> Platform {
        let variant = Some(self.variant.as_str()).filter(|v| !v.is_empty());
        Platform::new(&self.os, &self.arch, variant)
    }

    /// The C triple, or the error upstream master prints for unknown targets.
    pub fn triple(&self) -> Result<&str, UnsupportedTarget> {
        self.triple
            .as_deref()
            .ok_or_else(|| UnsupportedTarget(self.platform()))
    }

    /// Whether the target differs from the machine running the helper: not
    /// Linux, or another `uname -m`.
    pub fn is_cross(&self) -> bool {
        !is_native(&self.os, self.march(), &self.host_machine)
    }

    /// Where target headers and libraries live (see [`sysroot_for`]).
    pub fn sysroot(&self) -> Result<String, UnsupportedTarget> {
        let foreign_on_alpine = self.alpine_release && self.is_cross();
        let triple = match self.os.as_str() {
            "linux" if foreign_on_alpine => self.triple()?,
            _ => "",
        };
        Ok(sysroot_for(&self.os, foreign_on_alpine, triple, || {
            self.sdk_path()
        }))
    }

    /// The SDK of a darwin or wasi target: the macOS SDK, or the wasi-libc
    /// sysroot installed in this root.
    pub fn sdk_path(&self) -> String {
        if target::is_wasi_os(&self.os) {
            target::wasi::sysroot_in(&self.root).to_string()
        } else {
            self.macos_sdk_path()
        }
    }

    /// The first `/xx-sdk/MacOSX*.sdk`, or the default path upstream assumes.
    pub fn macos_sdk_path(&self) -> String {
        let sdk_dir = self.root.join("xx-sdk");
        let mut found: Vec<String> = std::fs::read_dir(&sdk_dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| n.starts_with("MacOSX") && n.ends_with(".sdk"))
            .collect();
        found.sort();
        match found.first() {
            Some(name) => format!("/xx-sdk/{name}"),
            None => "/xx-sdk/MacOSX11.1.sdk".to_string(),
        }
    }

    /// The `xx-info env` lines, which the other helpers export.
    pub fn env_lines(&self) -> Result<Vec<String>, UnsupportedTarget> {
        let triple = self.triple()?;
        let mut lines = vec![
            format!("XX_OS={}", self.os),
            format!("XX_OS_VERSION={}", self.os_version),
            format!("XX_ARCH={}", self.arch),
            format!("XX_MARCH={}", self.march()),
            format!("XX_VENDOR={}", self.vendor),
        ];
        if self.os == "linux" {
            lines.push(format!("XX_PKG_ARCH={}", self.pkg_arch));
        }
        lines.extend([
            format!("XX_TRIPLE={triple}"),
            format!("XX_LIBC={}", self.libc),
            format!("TARGETOS={}", self.os),
            format!("TARGETARCH={}", self.arch),
            format!("TARGETVARIANT={}", self.variant),
        ]);
        Ok(lines)
    }
}

/// The target xx-info's names come from: the table row for the spelled arch
/// and variant (Full tier only), named the way the vendor's distro names
/// things, with the libc, arch override and macOS version the environment
/// gives. The platform keeps TARGETOS as given: upstream compares it
/// verbatim (`macos` is not `darwin` to xx-info).
fn resolve_target(inputs: &Inputs<'_>, s: &Spelled, vendor: &str, libc: &str) -> Option<Target> {
    let spec = target::lookup(&s.arch, &s.variant).filter(|spec| match spec.tier {
        Tier::Full => true,
        Tier::Wasi => target::is_wasi_os(&s.os),
        Tier::VerifyOnly => false,
    })?;
    let mut macos_version_min = inputs.get("MACOSX_VERSION_MIN");
    if macos_version_min.is_empty() {
        macos_version_min = target::default_macos_version_min(&s.arch).to_string();
    }
    let mut platform = Platform::new(&s.os, &s.arch, Some(s.variant.as_str()));
    platform.os = s.os.clone();
    Some(Target {
        platform,
        spec,
        family: Family::from_id(vendor),
        libc: if libc == "musl" {
            Libc::Musl
        } else {
            Libc::Gnu
        },
        parts: TripleParts {
            vendor: vendor.to_string(),
            libc: libc.to_string(),
            arch_override: spec.c.arch_env.map(|k| inputs.get(k)),
            macos_version_min,
        },
    })
}

/// Whether a target is the machine running the helper: Linux with the same
/// `uname -m`. xx-info's `is-cross` and xx-clang's native set-up both ask this.
pub fn is_native(os: &str, march: &str, host_machine: &str) -> bool {
    os == "linux" && march == host_machine
}

/// Where target headers and libraries live: the SDK for darwin (the macOS
/// SDK) and wasi (the wasi-libc sysroot), `/<triple>/` for a foreign Linux
/// target on Alpine (xx-apk installs there), else `/` (Debian multiarch
/// needs no sysroot). One rule for xx-info and xx-clang; `sdk` is looked up
/// only for darwin and wasi.
pub fn sysroot_for(
    os: &str,
    foreign_on_alpine: bool,
    triple: &str,
    sdk: impl FnOnce() -> String,
) -> String {
    match os {
        "darwin" => format!("{}/", sdk()),
        o if target::is_wasi_os(o) => format!("{}/", sdk()),
        "linux" if foreign_on_alpine => format!("/{triple}/"),
        _ => "/".to_string(),
    }
}

/// Resolves with the real process environment (the helpers' entry point).
pub fn from_process() -> TargetEnv {
    TargetEnv::resolve(&Inputs::from_process())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Resolves with `vars` on a fresh root holding `os_release` (if any).
    fn resolve(vars: &[(&str, &str)], os_release: Option<&str>, host: &str) -> TargetEnv {
        let root = std::env::temp_dir().join(format!(
            "xx-targetenv-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("etc")).unwrap();
        if let Some(text) = os_release {
            std::fs::write(root.join("etc/os-release"), text).unwrap();
        }
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let get = move |k: &str| map.get(k).cloned().filter(|v| !v.is_empty());
        let env = TargetEnv::resolve(&Inputs {
            var: &get,
            root: root.clone(),
            host_machine: host.to_string(),
        });
        let _ = std::fs::remove_dir_all(&root);
        env
    }

    const DEBIAN: Option<&str> = Some("ID=debian\nVERSION_ID=\"12\"\n");

    #[test]
    fn cut_semantics() {
        assert_eq!(cut_field("linux", '/', 2), "linux");
        assert_eq!(cut_field("linux/arm", '/', 3), "");
        assert_eq!(cut_field("linux/arm/v6", '/', 3), "v6");
    }

    #[test]
    fn platform_beats_pair_beats_parts() {
        let e = resolve(
            &[("TARGETPAIR", "linux-armv6"), ("TARGETARCH", "s390x")],
            DEBIAN,
            "x86_64",
        );
        assert_eq!((e.arch.as_str(), e.variant.as_str()), ("arm", "v6"));
        let e = resolve(
            &[
                ("TARGETPAIR", "linux-armv6"),
                ("TARGETPLATFORM", "linux/arm64"),
            ],
            DEBIAN,
            "x86_64",
        );
        assert_eq!(e.arch, "arm64");
        // The pair's variant survives a TARGETPLATFORM whose arch ignores variants (quirk kept).
        assert_eq!(e.variant, "v6");
    }

    #[test]
    fn arm_variant_rules() {
        for (platform, want) in [
            ("linux/arm", "v7"),
            ("linux/arm/v6", "v6"),
            ("linux/arm/v5", "v5"),
            ("linux/arm/v8", "v8"),
            ("linux/arm/v9", "v7"),
        ] {
            let e = resolve(&[("TARGETPLATFORM", platform)], DEBIAN, "x86_64");
            assert_eq!(e.variant, want, "{platform}");
        }
        let e = resolve(&[("TARGETARCH", "arm")], DEBIAN, "x86_64");
        assert_eq!(e.variant, "v7");
    }

    #[test]
    fn amd64_and_mips_variants() {
        let e = resolve(&[("TARGETPLATFORM", "linux/amd64/v3")], DEBIAN, "x86_64");
        assert_eq!(e.variant, "v3");
        let e = resolve(
            &[
                ("TARGETPLATFORM", "linux/amd64/v9"),
                ("TARGETVARIANT", "v2"),
            ],
            DEBIAN,
            "x86_64",
        );
        assert_eq!(
            e.variant, "v2",
            "an unknown amd64 level leaves TARGETVARIANT as it was"
        );
        let e = resolve(
            &[("TARGETPLATFORM", "linux/mips64le/softfloat")],
            DEBIAN,
            "x86_64",
        );
        assert_eq!(e.variant, "softfloat");
        let e = resolve(
            &[
                ("TARGETPLATFORM", "linux/riscv64"),
                ("TARGETVARIANT", "stale"),
            ],
            DEBIAN,
            "x86_64",
        );
        assert_eq!(
            e.variant, "stale",
            "upstream quirk: other arches keep TARGETVARIANT"
        );
    }

    #[test]
    fn uname_fallback_and_is_cross() {
        let e = resolve(&[], DEBIAN, "aarch64");
        assert_eq!((e.os.as_str(), e.arch.as_str()), ("linux", "arm64"));
        assert!(!e.is_cross());
        let e = resolve(&[], DEBIAN, "armv6l");
        assert_eq!((e.arch.as_str(), e.variant.as_str()), ("arm", "v6"));
        let e = resolve(&[("TARGETARCH", "arm64")], DEBIAN, "x86_64");
        assert!(e.is_cross());
        let e = resolve(&[("TARGETPLATFORM", "windows/amd64")], DEBIAN, "x86_64");
        assert!(e.is_cross(), "another OS is always cross");
        let e = resolve(&[], DEBIAN, "i686");
        assert_eq!(e.arch, "", "upstream does not map i686");
    }

    #[test]
    fn vendor_and_libc() {
        let e = resolve(&[("TARGETPLATFORM", "linux/arm64")], None, "x86_64");
        assert_eq!(e.vendor, "unknown");
        assert_eq!(e.triple().unwrap(), "aarch64-unknown-linux-gnu");
        let e = resolve(
            &[("TARGETPLATFORM", "linux/arm64"), ("XX_LIBC", "gnu")],
            Some("ID=alpine\n"),
            "x86_64",
        );
        assert_eq!(e.triple().unwrap(), "aarch64-alpine-linux-gnu");
        let e = resolve(
            &[
                ("TARGETPLATFORM", "linux/riscv64"),
                ("XX_VENDOR", "unknown"),
            ],
            Some("ID=alpine\n"),
            "x86_64",
        );
        assert_eq!(e.triple().unwrap(), "riscv64-unknown-linux-musl");
        assert_eq!(
            e.pkg_arch, "riscv64",
            "unknown vendor: pkg-arch is TARGETARCH"
        );
        let e = resolve(&[("TARGETPLATFORM", "darwin/arm64")], DEBIAN, "x86_64");
        assert_eq!(e.triple().unwrap(), "arm64-apple-macos11.0");
        assert_eq!(e.march(), "arm64");
        let e = resolve(
            &[
                ("TARGETPLATFORM", "darwin/amd64"),
                ("MACOSX_VERSION_MIN", "10.15"),
            ],
            DEBIAN,
            "x86_64",
        );
        assert_eq!(e.triple().unwrap(), "x86_64-apple-macos10.15");
        let e = resolve(
            &[("TARGETPLATFORM", "darwin/amd64"), ("XX_VENDOR", "unknown")],
            DEBIAN,
            "x86_64",
        );
        assert_eq!(e.triple().unwrap(), "x86_64-unknown-macos10.6");
    }

    #[test]
    fn arch_overrides() {
        let e = resolve(
            &[
                ("TARGETPLATFORM", "linux/arm"),
                ("ARM_TARGET_ARCH", "armv7"),
                ("XX_VENDOR", "unknown"),
            ],
            DEBIAN,
            "x86_64",
        );
        assert_eq!(e.triple().unwrap(), "armv7-unknown-linux-gnueabihf");
        let e = resolve(
            &[
                ("TARGETPLATFORM", "linux/arm/v6"),
                ("ARM_TARGET_ARCH", "armv7"),
            ],
            DEBIAN,
            "x86_64",
        );
        assert_eq!(e.triple().unwrap(), "arm-linux-gnueabi", "no effect on v6");
        let e = resolve(
            &[
                ("TARGETPLATFORM", "linux/riscv64"),
                ("RISCV64_TARGET_ARCH", "riscv64gc"),
            ],
            DEBIAN,
            "x86_64",
        );
        assert_eq!(e.triple().unwrap(), "riscv64gc-linux-gnu");
    }

    #[test]
    fn quirks_kept() {
        let e = resolve(&[("TARGETPLATFORM", "freebsd/amd64")], DEBIAN, "x86_64");
        assert_eq!(e.triple().unwrap(), "x86_64-linux-gnu");
        let e = resolve(&[("TARGETPLATFORM", "linux")], DEBIAN, "x86_64");
        assert_eq!((e.os.as_str(), e.arch.as_str()), ("linux", "linux"));
        let e = resolve(&[("TARGETPAIR", "linux-amd64v3")], DEBIAN, "x86_64");
        assert_eq!(e.arch, "amd64v3");
        assert!(e.triple().is_err());
        // wasi/wasm is a target now (upstream master fails it).
        let e = resolve(&[("TARGETPLATFORM", "wasi/wasm")], DEBIAN, "x86_64");
        assert_eq!(e.triple().unwrap(), "wasm32-wasi");
        assert_eq!(e.sysroot().unwrap(), "/usr/", "Debian's wasi-libc layout");
        assert!(e.is_cross());
        let e = resolve(&[("TARGETPLATFORM", "wasip1/wasm")], DEBIAN, "x86_64");
        assert_eq!(e.march(), "wasm32");
    }

    #[test]
    fn os_version_falls_back_to_env_without_os_release() {
        let e = resolve(&[("XX_OS_VERSION", "9")], None, "x86_64");
        assert_eq!(e.os_version, "9");
        let e = resolve(&[("XX_OS_VERSION", "9")], Some("ID=debian\n"), "x86_64");
        assert_eq!(e.os_version, "", "os-release without VERSION_ID (sid) wins");
    }
}
