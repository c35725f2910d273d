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
    /// The QEMU CPU model of the core in 64-bit mode (`qemu-aarch64 -cpu`).
    pub qemu_cpu_64: Option<&'static str>,
    /// The QEMU CPU model for its 32-bit platform (`qemu-arm -cpu`, which
    /// has no ARMv8 cores: 64-bit boards get the platform's ARMv7 default).
    pub qemu_cpu_32: &'static str,
}

/// Every Raspberry Pi model family.
pub static MODELS: &[PiModel] = &[
    PiModel {
        name: "Raspberry Pi 1 (A, B, A+, B+)",
        aliases: &["rpi1", "pi1"],
        cpu: "ARM1176JZF-S (ARMv6)",
        platform_64: None,
        platform_32: "linux/arm/v6",
        qemu_cpu_64: None,
        qemu_cpu_32: "arm1176",
    },
    PiModel {
        name: "Raspberry Pi Zero, Zero W",
        aliases: &["rpi-zero", "rpi0", "pi-zero", "rpi-zero-w", "pi-zero-w"],
        cpu: "ARM1176JZF-S (ARMv6)",
        platform_64: None,
        platform_32: "linux/arm/v6",
        qemu_cpu_64: None,
        qemu_cpu_32: "arm1176",
    },
    PiModel {
        name: "Raspberry Pi 2",
        aliases: &["rpi2", "pi2"],
        cpu: "Cortex-A7 (ARMv7)",
        platform_64: None,
        platform_32: "linux/arm/v7",
        qemu_cpu_64: None,
        qemu_cpu_32: "cortex-a7",
    },
    PiModel {
        name: "Raspberry Pi 3, 3B+, 3A+",
        aliases: &["rpi3", "pi3", "rpi3b+", "rpi3a+"],
        cpu: "Cortex-A53 (ARMv8)",
        platform_64: Some("linux/arm64"),
        platform_32: "linux/arm/v7",
        qemu_cpu_64: Some("cortex-a53"),
        qemu_cpu_32: "cortex-a7",
    },
    PiModel {
        name: "Raspberry Pi Zero 2 W",
        aliases: &["rpi-zero2", "rpi-zero-2w", "pi-zero2", "pi-zero-2w"],
        cpu: "Cortex-A53 (ARMv8)",
        platform_64: Some("linux/arm64"),
        platform_32: "linux/arm/v7",
        qemu_cpu_64: Some("cortex-a53"),
        qemu_cpu_32: "cortex-a7",
    },
    PiModel {
        name: "Raspberry Pi 4, 400, CM4",
        aliases: &["rpi4", "pi4", "rpi400", "pi400", "cm4"],
        cpu: "Cortex-A72 (ARMv8)",
        platform_64: Some("linux/arm64"),
        platform_32: "linux/arm/v7",
        qemu_cpu_64: Some("cortex-a72"),
        qemu_cpu_32: "cortex-a7",
    },
    PiModel {
        name: "Raspberry Pi 5, 500, CM5",
        aliases: &["rpi5", "pi5", "rpi500", "pi500", "cm5"],
        cpu: "Cortex-A76 (ARMv8.2)",
        platform_64: Some("linux/arm64"),
        platform_32: "linux/arm/v7",
        qemu_cpu_64: Some("cortex-a76"),
        qemu_cpu_32: "cortex-a7",
    },
];

/// The platform for a model alias (`rpi-zero` -> linux/arm/v6, `rpi4` ->
/// linux/arm64, `rpi4-32` -> linux/arm/v7), or `None` if it names no model.
/// The platform comes back as written in [`MODELS`], for the platform parser
/// to read (this table sits below the platform model).
pub fn resolve_alias(name: &str) -> Option<&'static str> {
    resolve_alias_with_cpu(name).map(|(platform, _)| platform)
}

/// The platform and the QEMU CPU model of a model alias: `rpi4` ->
/// (linux/arm64, cortex-a72), `rpi-zero` -> (linux/arm/v6, arm1176).
/// Emulated steps for that platform then run on the board's own core.
pub fn resolve_alias_with_cpu(name: &str) -> Option<(&'static str, &'static str)> {
    let lower = name.trim().to_ascii_lowercase();
    let (base, want_32) = match lower.strip_suffix("-32") {
        Some(base) => (base, true),
        None => (lower.as_str(), false),
    };
    let model = MODELS.iter().find(|m| m.aliases.contains(&base))?;
    Some(match (want_32, model.platform_64, model.qemu_cpu_64) {
        (false, Some(p64), Some(cpu)) => (p64, cpu),
        _ => (model.platform_32, model.qemu_cpu_32),
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
        assert_eq!(
            resolve_alias_with_cpu("rpi4"),
            Some(("linux/arm64", "cortex-a72"))
        );
        assert_eq!(
            resolve_alias_with_cpu("RPI-ZERO"),
            Some(("linux/arm/v6", "arm1176"))
        );
        assert_eq!(
            resolve_alias_with_cpu("rpi5-32"),
            Some(("linux/arm/v7", "cortex-a7"))
        );
        assert_eq!(resolve_alias("rpi9"), None);
        assert_eq!(resolve_alias("linux/arm64"), None);
    }
}
