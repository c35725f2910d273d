//! The 32-bit ARM generations and every spelling of them: OCI variants
//! (`v7`), the short forms people type (`7`), `GOARM`, `Tag_CPU_arch`, the
//! arch part of C triples (`armv6`) and the names in messages (`ARMv6`).
//!
//! ARM is the one architecture whose variant picks another CPU, ABI and
//! package set, so the rule "which generation is meant" was once written out
//! wherever a variant was read. It lives here alone; everything else asks.

/// ARM architecture generations, oldest first, in the order `Tag_CPU_arch`
/// ranks them (so `<` means "runs on more CPUs").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ArmArch {
    /// ARMv5TE (Debian armel baseline).
    V5,
    /// ARMv6 (Raspberry Pi 1 / Zero: ARM1176JZF-S).
    V6,
    /// ARMv7-A (Debian armhf baseline, Pi 2).
    V7,
    /// ARMv8-A in 32-bit (AArch32) mode.
    V8,
}

/// Which float ABI an ARM binary for a platform may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FloatRule {
    /// Hard-float only (armhf): a soft-float binary cannot load armhf libraries.
    Hard,
    /// Soft-float only (ARMv5 has no VFP).
    Soft,
    /// Either (ARMv6 has VFP, and both armel and Alpine armhf userlands exist).
    Any,
}

impl ArmArch {
    /// Every generation, newest first: the order a CPU falls back through
    /// when looking for something it runs.
    pub const NEWEST_FIRST: [ArmArch; 4] = [ArmArch::V8, ArmArch::V7, ArmArch::V6, ArmArch::V5];

    /// The generation an OCI variant names exactly (`v5`..`v8`), else `None`.
    pub fn from_variant(variant: &str) -> Option<ArmArch> {
        ArmArch::NEWEST_FIRST
            .into_iter()
            .find(|a| a.variant() == variant)
    }

    /// xx's reading of an `arm` variant: `v5`, `v6` and `v8` as named, and
    /// anything else (none, `v7`, a variant nobody ships) as ARMv7, the
    /// default of a plain `linux/arm`.
    pub fn from_variant_or_v7(variant: &str) -> ArmArch {
        ArmArch::from_variant(variant).unwrap_or(ArmArch::V7)
    }

    /// containerd's normalisation of what users write after `arm/`: the short
    /// forms `5`..`8` and nothing at all (= `v7`). `None` for anything else,
    /// which is kept as written.
    pub fn from_user_variant(variant: &str) -> Option<ArmArch> {
        match variant {
            "" => Some(ArmArch::V7),
            v if v.len() == 1 => ArmArch::from_variant(&format!("v{v}")),
            v => ArmArch::from_variant(v),
        }
    }

    /// The OCI variant: `v5`, `v6`, `v7`, `v8`.
    pub const fn variant(self) -> &'static str {
        match self {
            ArmArch::V5 => "v5",
            ArmArch::V6 => "v6",
            ArmArch::V7 => "v7",
            ArmArch::V8 => "v8",
        }
    }

    /// The name in messages: `ARMv5` .. `ARMv8`.
    pub const fn name(self) -> &'static str {
        match self {
            ArmArch::V5 => "ARMv5",
            ArmArch::V6 => "ARMv6",
            ArmArch::V7 => "ARMv7",
            ArmArch::V8 => "ARMv8",
        }
    }

    /// `GOARM`: Go knows 5, 6 and 7; 32-bit code for an ARMv8 CPU is GOARM=7.
    pub const fn goarm(self) -> &'static str {
        match self {
            ArmArch::V5 => "5",
            ArmArch::V6 => "6",
            ArmArch::V7 | ArmArch::V8 => "7",
        }
    }

    /// The generation a `Tag_CPU_arch` value falls in: v4-v5TEJ are ARMv5 or
    /// older, v6* (and the v6-M microcontroller profiles) ARMv6, v7 and v7E-M
    /// ARMv7, v8-A and later ARMv8.
    pub fn from_tag_cpu_arch(tag: u64) -> ArmArch {
        match tag {
            0..=5 => ArmArch::V5,
            6..=9 | 11 | 12 => ArmArch::V6,
            10 | 13 => ArmArch::V7,
            _ => ArmArch::V8,
        }
    }

    /// The generation the arch part of a C triple names (`armv5te`, `armv6`,
    /// `armv7a`, `thumbv7neon`); 32-bit code for ARMv8 is built as ARMv7.
    /// `None` for a bare `arm`, whose generation the ABI part decides.
    pub fn from_triple_arch(arch: &str) -> Option<ArmArch> {
        if arch.starts_with("armv5") {
            Some(ArmArch::V5)
        } else if arch.starts_with("armv6") {
            Some(ArmArch::V6)
        } else if arch.starts_with("armv7")
            || arch.starts_with("armv8")
            || arch.starts_with("thumbv7")
        {
            Some(ArmArch::V7)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_round_trip_and_default_to_v7() {
        for a in ArmArch::NEWEST_FIRST {
            assert_eq!(ArmArch::from_variant(a.variant()), Some(a));
        }
        assert_eq!(ArmArch::from_variant("v9"), None);
        assert_eq!(ArmArch::from_variant_or_v7(""), ArmArch::V7);
        assert_eq!(ArmArch::from_variant_or_v7("v9"), ArmArch::V7);
        assert_eq!(ArmArch::from_variant_or_v7("v6"), ArmArch::V6);
    }

    #[test]
    fn user_spellings() {
        for (input, want) in [
            ("", Some(ArmArch::V7)),
            ("7", Some(ArmArch::V7)),
            ("5", Some(ArmArch::V5)),
            ("6", Some(ArmArch::V6)),
            ("8", Some(ArmArch::V8)),
            ("v6", Some(ArmArch::V6)),
            ("9", None),
            ("softfloat", None),
        ] {
            assert_eq!(ArmArch::from_user_variant(input), want, "{input:?}");
        }
    }

    #[test]
    fn other_names() {
        assert_eq!(ArmArch::V8.goarm(), "7");
        assert_eq!(ArmArch::V5.goarm(), "5");
        assert_eq!(ArmArch::V6.name(), "ARMv6");
        assert_eq!(ArmArch::from_tag_cpu_arch(10), ArmArch::V7);
        assert_eq!(ArmArch::from_tag_cpu_arch(7), ArmArch::V6);
        assert_eq!(ArmArch::from_tag_cpu_arch(14), ArmArch::V8);
        assert_eq!(ArmArch::from_triple_arch("armv5te"), Some(ArmArch::V5));
        assert_eq!(ArmArch::from_triple_arch("armv8l"), Some(ArmArch::V7));
        assert_eq!(ArmArch::from_triple_arch("arm"), None);
        assert!(ArmArch::V5 < ArmArch::V8);
    }
}
