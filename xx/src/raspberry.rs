//! Raspberry Pi models and the platform to build for each. People know which
//! Pi they own, not which ARM architecture it has, so both `mxbuild --platform`
//! and the README table read this data.

/// One Raspberry Pi model (or family of boards sharing a CPU).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PiModel {
    /// Marketing name, as printed in the README table.
    pub name: &'static str,
    /// Names accepted by `--platform` (lower case). A `-32` suffix on any of
    /// them selects the 32-bit OS platform of a 64-bit capable board.
    pub aliases: &'static [&'static str],
    /// The SoC's CPU core.
    pub cpu: &'static str,
    /// Platform of a 64-bit OS, if the CPU has AArch64.
    pub platform_64: Option<&'static str>,
    /// Platform of a 32-bit OS (Raspberry Pi OS 32-bit, Raspbian).
    pub platform_32: &'static str,
}

/// Every Raspberry Pi model family.
pub static MODELS: &[PiModel] = &[
    PiModel {
        name: "Raspberry Pi 1 (A, B, A+, B+)",
        aliases: &["rpi1", "pi1"],
        cpu: "ARM1176JZF-S (ARMv6)",
        platform_64: None,
        platform_32: "linux/arm/v6",
    },
    PiModel {
        name: "Raspberry Pi Zero, Zero W",
        aliases: &["rpi-zero", "rpi0", "pi-zero", "rpi-zero-w", "pi-zero-w"],
        cpu: "ARM1176JZF-S (ARMv6)",
        platform_64: None,
        platform_32: "linux/arm/v6",
    },
    PiModel {
        name: "Raspberry Pi 2",
        aliases: &["rpi2", "pi2"],
        cpu: "Cortex-A7 (ARMv7)",
        platform_64: None,
        platform_32: "linux/arm/v7",
    },
    PiModel {
        name: "Raspberry Pi 3, 3B+, 3A+",
        aliases: &["rpi3", "pi3", "rpi3b+", "rpi3a+"],
        cpu: "Cortex-A53 (ARMv8)",
        platform_64: Some("linux/arm64"),
        platform_32: "linux/arm/v7",
    },
    PiModel {
        name: "Raspberry Pi Zero 2 W",
        aliases: &["rpi-zero2", "rpi-zero-2w", "pi-zero2", "pi-zero-2w"],
        cpu: "Cortex-A53 (ARMv8)",
        platform_64: Some("linux/arm64"),
        platform_32: "linux/arm/v7",
    },
    PiModel {
        name: "Raspberry Pi 4, 400, CM4",
        aliases: &["rpi4", "pi4", "rpi400", "pi400", "cm4"],
        cpu: "Cortex-A72 (ARMv8)",
        platform_64: Some("linux/arm64"),
        platform_32: "linux/arm/v7",
    },
    PiModel {
        name: "Raspberry Pi 5, 500, CM5",
        aliases: &["rpi5", "pi5", "rpi500", "pi500", "cm5"],
        cpu: "Cortex-A76 (ARMv8.2)",
        platform_64: Some("linux/arm64"),
        platform_32: "linux/arm/v7",
    },
];

/// The platform for a model alias (`rpi-zero` -> linux/arm/v6, `rpi4` ->
/// linux/arm64, `rpi4-32` -> linux/arm/v7), or `None` if it names no model.
/// The platform comes back as written in [`MODELS`], for the platform parser
/// to read (this table sits below the platform model).
pub fn resolve_alias(name: &str) -> Option<&'static str> {
    let lower = name.trim().to_ascii_lowercase();
    let (base, want_32) = match lower.strip_suffix("-32") {
        Some(base) => (base, true),
        None => (lower.as_str(), false),
    };
    let model = MODELS.iter().find(|m| m.aliases.contains(&base))?;
    Some(if want_32 {
        model.platform_32
    } else {
        model.platform_64.unwrap_or(model.platform_32)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_resolve() {
        for (alias, want) in [
            ("rpi1", "linux/arm/v6"),
            ("rpi-zero", "linux/arm/v6"),
            ("RPI-ZERO-W", "linux/arm/v6"),
            ("rpi-zero-32", "linux/arm/v6"),
            ("rpi2", "linux/arm/v7"),
            ("rpi3", "linux/arm64"),
            ("rpi3b+", "linux/arm64"),
            ("rpi-zero-2w", "linux/arm64"),
            ("rpi4", "linux/arm64"),
            ("rpi4-32", "linux/arm/v7"),
            ("rpi400", "linux/arm64"),
            ("rpi5", "linux/arm64"),
            ("pi5-32", "linux/arm/v7"),
        ] {
            assert_eq!(resolve_alias(alias), Some(want), "{alias}");
        }
        assert_eq!(resolve_alias("rpi9"), None);
        assert_eq!(resolve_alias("linux/arm64"), None);
    }
}
