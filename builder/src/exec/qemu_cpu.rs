//! Which CPU QEMU emulates for a platform. QEMU's default model has every
//! instruction it knows, so an ARMv7 binary in a `linux/arm/v6` image runs
//! in an emulated RUN step and dies on a Pi Zero. Emulated RUN steps and
//! smoke tests therefore run on the oldest core of the platform (arm/v5 an
//! ARM926, arm/v6 an ARM1176, arm/v7 a Cortex-A7), or on the board's own
//! core when `--platform` names a Raspberry Pi (`rpi4` a Cortex-A72), set
//! through `QEMU_CPU`, which qemu-user reads at start. A Dockerfile that
//! sets `QEMU_CPU` itself (`ENV QEMU_CPU=max`) keeps its choice.

use std::collections::BTreeMap;

use xx::Platform;

/// The CPU model for each platform of a build.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QemuCpus(BTreeMap<Platform, &'static str>);

impl QemuCpus {
    /// The models for the items of `--platform` (platforms or Raspberry Pi
    /// names). When two names give one platform (`rpi3,rpi4`) the first wins.
    pub fn from_platform_list(items: &[String]) -> QemuCpus {
        let mut map = BTreeMap::new();
        for item in items.iter().flat_map(|i| i.split(',')) {
            let Some((platform, cpu)) = xx::raspberry::resolve_alias_with_cpu(item) else {
                continue;
            };
            if let Ok(p) = platform.parse::<Platform>() {
                map.entry(p).or_insert(cpu);
            }
        }
        QemuCpus(map)
    }

    /// The model for `p`: the board's, else the platform's oldest core,
    /// else `None` (QEMU's default, for platforms without variants that matter).
    pub fn cpu(&self, p: &Platform) -> Option<&'static str> {
        self.0.get(p).copied().or_else(|| {
            xx::target::for_platform(p)
                .map(|s| s.qemu_cpu)
                .filter(|c| !c.is_empty())
        })
    }
}

/// `QEMU_CPU=<model>` for an emulated process of `p`, unless `env` (the
/// process's `K=V` list) already sets it.
pub fn env_entry(cpus: &QemuCpus, p: &Platform, env: &[String]) -> Option<String> {
    if env.iter().any(|e| e.starts_with("QEMU_CPU=")) {
        return None;
    }
    cpus.cpu(p).map(|c| format!("QEMU_CPU={c}"))
}

/// The init an emulated step runs as PID 1 (Debian's static tini), if
/// installed. qemu-user ends a guest killed by a signal with kill(2) on
/// itself, which the kernel ignores for a PID namespace's init: as PID 1 the
/// step would never exit. Under tini the program is PID 2, dies as it would
/// on a device, and tini exits 128+signal. `None`: not installed (the step
/// still runs; a crash then hangs, as it does under BuildKit).
pub fn init_program() -> Option<std::path::PathBuf> {
    ["/usr/bin/tini-static", "/usr/sbin/tini-static"]
        .iter()
        .map(std::path::PathBuf::from)
        .find(|p| p.is_file())
}

/// What a failed emulated process's exit code means, for the message:
/// 132 is SIGILL, what a CPU without an instruction gives.
pub fn signal_name(code: i32) -> Option<&'static str> {
    match code - 128 {
        4 => Some("Illegal instruction"),
        6 => Some("Aborted"),
        7 => Some("Bus error"),
        8 => Some("Floating point exception"),
        9 => Some("Killed"),
        11 => Some("Segmentation fault"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Platform {
        s.parse().unwrap()
    }

    #[test]
    fn oldest_core_per_variant_and_the_boards_own() {
        let none = QemuCpus::default();
        assert_eq!(none.cpu(&p("linux/arm/v5")), Some("arm926"));
        assert_eq!(none.cpu(&p("linux/arm/v6")), Some("arm1176"));
        assert_eq!(none.cpu(&p("linux/arm/v7")), Some("cortex-a7"));
        assert_eq!(none.cpu(&p("linux/arm64")), None);
        assert_eq!(none.cpu(&p("linux/riscv64")), None);
        let pis = QemuCpus::from_platform_list(&[
            "rpi4,linux/amd64".to_string(),
            "rpi3".to_string(),
            "rpi-zero".to_string(),
        ]);
        assert_eq!(pis.cpu(&p("linux/arm64")), Some("cortex-a72"), "first wins");
        assert_eq!(pis.cpu(&p("linux/arm/v6")), Some("arm1176"));
        assert_eq!(pis.cpu(&p("linux/amd64")), None);
    }

    #[test]
    fn the_dockerfiles_own_choice_stays() {
        let cpus = QemuCpus::default();
        let v6 = p("linux/arm/v6");
        assert_eq!(
            env_entry(&cpus, &v6, &["PATH=/bin".to_string()]).as_deref(),
            Some("QEMU_CPU=arm1176")
        );
        assert_eq!(env_entry(&cpus, &v6, &["QEMU_CPU=max".to_string()]), None);
        assert_eq!(signal_name(132), Some("Illegal instruction"));
        assert_eq!(signal_name(1), None);
    }
}
