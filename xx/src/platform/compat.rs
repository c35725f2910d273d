//! Which platforms run on which: one rule, containerd's platform vector
//! (`platformVector` in containerd/platforms' compare.go), answering both
//! "which image manifest serves this platform" ([`Platform::compatible`]) and
//! "does this host need QEMU for it" ([`runs_natively`]).
//!
//! The vector of a platform lists, best first, the platforms whose binaries
//! it runs: itself; for amd64 the older x86-64 levels, then 386; for 32-bit
//! ARM the older generations down to ARMv5; for arm64 the older ARMv8/ARMv9
//! revisions, then 32-bit ARM from ARMv8 down.

use super::model::Platform;
use crate::arm::ArmArch;

/// The platforms whose binaries `p` runs, best first (containerd's
/// `platformVector`, in this crate's normalised spelling: `amd64/v1` and
/// `arm64/v8` are written without a variant). An arm64 revision containerd
/// does not know runs only itself.
pub fn vector(p: &Platform) -> Vec<Platform> {
    let with = |arch: &str, variant: Option<&str>| Platform::new(&p.os, arch, variant);
    let mut out = vec![p.clone()];
    match p.arch.as_str() {
        "amd64" => {
            let level = p
                .variant_str()
                .strip_prefix('v')
                .and_then(|n| n.parse::<u32>().ok());
            for older in (1..level.unwrap_or(1)).rev() {
                out.push(with("amd64", Some(&format!("v{older}"))));
            }
            out.push(with("386", None));
        }
        "arm" => {
            if let Some(arm) = ArmArch::from_variant(p.variant_str()) {
                let older = ArmArch::NEWEST_FIRST.into_iter().filter(|a| *a < arm);
                out.extend(older.map(|a| with("arm", Some(a.variant()))));
            }
        }
        "arm64" => {
            if let Some(revisions) = arm64_revisions(p.variant_str()) {
                for (major, minor) in revisions {
                    let variant = match minor {
                        0 => format!("v{major}"),
                        _ => format!("v{major}.{minor}"),
                    };
                    let older = with("arm64", Some(&variant));
                    if !out.contains(&older) {
                        out.push(older);
                    }
                }
                // Every ARMv8/ARMv9 core runs AArch32 code up to ARMv8.
                out.extend(vector(&with("arm", Some(ArmArch::V8.variant()))));
            }
        }
        _ => {}
    }
    out
}

/// The arm64 revisions (major, minor) a variant runs, newest first, as
/// containerd's `arm64variantToVersion` lists them: `v8.x` runs `v8.x`..`v8`;
/// `v9.x` runs `v9.x`..`v9`, then ARMv8 from `v8.(x+5)` (capped at `v8.9`)
/// down, the ARMv8 revision each ARMv9 one includes. `None` for others.
fn arm64_revisions(variant: &str) -> Option<Vec<(u32, u32)>> {
    let number = match variant {
        "" => "8",
        v => v.strip_prefix('v')?,
    };
    let (major, minor) = match number.split_once('.') {
        Some((major, minor)) if minor.len() == 1 => (major, minor.parse::<u32>().ok()?),
        Some(_) => return None,
        None => (number, 0),
    };
    let tops = match (major, minor) {
        ("8", 0..=9) => vec![(8, minor)],
        ("9", 0..=7) => vec![(9, minor), (8, (minor + 5).min(9))],
        _ => return None,
    };
    Some(
        tops.into_iter()
            .flat_map(|(major, top)| (0..=top).rev().map(move |m| (major, m)))
            .collect(),
    )
}

/// Whether `host` runs `p` without QEMU: `p` is in the host's vector (386
/// on amd64, 32-bit ARM up to ARMv8 on arm64, older ARM generations on ARM).
/// `uname -m` names an architecture but not its x86-64 or ARMv8 feature
/// level, so any level of the host's own architecture counts as native
/// (there is no binfmt handler for the host's own architecture anyway);
/// 32-bit ARM is the exception, its generations are distinct machines.
pub fn runs_natively(host: &Platform, p: &Platform) -> bool {
    if host.os != p.os {
        return false;
    }
    if host.arch == p.arch && host.arch != "arm" {
        return true;
    }
    vector(host).contains(p)
}

impl Platform {
    /// The image platforms whose binaries run on this one, best first, as
    /// containerd picks an image's manifest, restricted to this architecture:
    /// itself, then its older variants (a Raspberry Pi Zero, `linux/arm/v6`,
    /// takes a `linux/arm/v5` image such as Debian's armel when there is no v6
    /// one, never a v7 one; `amd64/v3` takes `amd64/v2`, then `amd64`).
    ///
    /// The vector's other architectures (386 under amd64, 32-bit ARM under
    /// arm64) are left out: the chosen manifest becomes the base of an image
    /// labelled with this platform, and a 32-bit base under a 64-bit label is
    /// not what anyone asked for.
    pub fn compatible(&self) -> Vec<Platform> {
        vector(self)
            .into_iter()
            .filter(|p| p.arch == self.arch)
            .collect()
    }

    /// The best of `have` for this platform (see [`Platform::compatible`]).
    pub fn best_match<'a>(&self, have: &'a [Platform]) -> Option<&'a Platform> {
        self.compatible()
            .iter()
            .find_map(|c| have.iter().find(|h| *h == c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Platform {
        s.parse().unwrap()
    }

    fn names(v: Vec<Platform>) -> Vec<String> {
        v.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn older_arm_variants_are_compatible_newer_never() {
        let have = [
            p("linux/amd64"),
            p("linux/arm/v7"),
            p("linux/arm/v5"),
            p("linux/arm64"),
        ];
        assert_eq!(
            p("linux/arm/v6").best_match(&have),
            Some(&p("linux/arm/v5"))
        );
        assert_eq!(
            p("linux/arm/v7").best_match(&have),
            Some(&p("linux/arm/v7"))
        );
        assert_eq!(
            p("linux/arm/v8").best_match(&have),
            Some(&p("linux/arm/v7"))
        );
        assert_eq!(p("linux/arm64").best_match(&have), Some(&p("linux/arm64")));
        assert_eq!(p("linux/arm/v5").best_match(&[p("linux/arm/v7")]), None);
        assert_eq!(p("linux/386").best_match(&have), None);
    }

    #[test]
    fn image_selection_stays_within_the_architecture() {
        assert_eq!(p("linux/amd64").best_match(&[p("linux/386")]), None);
        assert_eq!(p("linux/arm64").best_match(&[p("linux/arm/v7")]), None);
        assert_eq!(
            p("linux/amd64/v3").best_match(&[p("linux/amd64")]),
            Some(&p("linux/amd64"))
        );
        assert_eq!(names(p("linux/riscv64").compatible()), ["linux/riscv64"]);
    }

    /// The vectors containerd's compare.go builds, in our spelling.
    #[test]
    fn vectors_follow_containerd() {
        let cases: &[(&str, &[&str])] = &[
            ("linux/amd64", &["linux/amd64", "linux/386"]),
            (
                "linux/amd64/v3",
                &[
                    "linux/amd64/v3",
                    "linux/amd64/v2",
                    "linux/amd64",
                    "linux/386",
                ],
            ),
            (
                "linux/arm/v7",
                &["linux/arm/v7", "linux/arm/v6", "linux/arm/v5"],
            ),
            ("linux/arm/v5", &["linux/arm/v5"]),
            (
                "linux/arm64",
                &[
                    "linux/arm64",
                    "linux/arm/v8",
                    "linux/arm/v7",
                    "linux/arm/v6",
                    "linux/arm/v5",
                ],
            ),
            (
                "linux/arm64/v8.2",
                &[
                    "linux/arm64/v8.2",
                    "linux/arm64/v8.1",
                    "linux/arm64",
                    "linux/arm/v8",
                    "linux/arm/v7",
                    "linux/arm/v6",
                    "linux/arm/v5",
                ],
            ),
            ("linux/arm64/v7.5", &["linux/arm64/v7.5"]),
            ("windows/386", &["windows/386"]),
            ("linux/s390x", &["linux/s390x"]),
        ];
        for (platform, want) in cases {
            assert_eq!(names(vector(&p(platform))), *want, "{platform}");
        }
        let v9 = names(vector(&p("linux/arm64/v9.1")));
        assert_eq!(
            &v9[..3],
            ["linux/arm64/v9.1", "linux/arm64/v9", "linux/arm64/v8.6"]
        );
        assert_eq!(v9.len(), 2 + 7 + 4);
    }

    #[test]
    fn native_execution() {
        let amd = p("linux/amd64");
        let arm64 = p("linux/arm64");
        let armv6 = p("linux/arm/v6");
        assert!(runs_natively(&amd, &p("linux/amd64")));
        assert!(
            runs_natively(&amd, &p("linux/amd64/v3")),
            "host level unknown"
        );
        assert!(runs_natively(&amd, &p("linux/386")));
        assert!(!runs_natively(&amd, &p("linux/arm64")));
        assert!(!runs_natively(&amd, &p("windows/amd64")));
        assert!(runs_natively(&arm64, &p("linux/arm/v7")));
        assert!(runs_natively(&arm64, &p("linux/arm/v5")));
        assert!(runs_natively(&arm64, &p("linux/arm64/v8.2")));
        assert!(!runs_natively(&arm64, &p("linux/amd64")));
        assert!(runs_natively(&armv6, &p("linux/arm/v5")));
        assert!(!runs_natively(&armv6, &p("linux/arm/v7")));
        assert!(!runs_natively(&p("linux/arm/v7"), &p("linux/arm/v8")));
    }
}
