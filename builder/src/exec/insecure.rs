//! BuildKit's insecure mode, for `RUN --security=insecure` (granted only
//! with `--allow security.insecure`): the step is as privileged as root on
//! the host can make it, because that is what such Dockerfiles ask for
//! (building disk images with loop devices, mounting filesystems, FUSE).
//! Every capability this process has, in all five sets; no seccomp filter;
//! no masked or read-only paths; `/sys` writable; every character and block
//! device allowed, and the device nodes BuildKit adds (kmsg, cuse, fuse,
//! kvm, net/tun, loop-control, loop devices).

use std::path::PathBuf;

use oci_spec::runtime::{
    Capability, LinuxCapabilities, LinuxDevice, LinuxDeviceCgroup, LinuxDeviceType, Spec,
};

/// Capabilities by their bit number (linux/capability.h).
const BY_BIT: &[Capability] = &[
    Capability::Chown,
    Capability::DacOverride,
    Capability::DacReadSearch,
    Capability::Fowner,
    Capability::Fsetid,
    Capability::Kill,
    Capability::Setgid,
    Capability::Setuid,
    Capability::Setpcap,
    Capability::LinuxImmutable,
    Capability::NetBindService,
    Capability::NetBroadcast,
    Capability::NetAdmin,
    Capability::NetRaw,
    Capability::IpcLock,
    Capability::IpcOwner,
    Capability::SysModule,
    Capability::SysRawio,
    Capability::SysChroot,
    Capability::SysPtrace,
    Capability::SysPacct,
    Capability::SysAdmin,
    Capability::SysBoot,
    Capability::SysNice,
    Capability::SysResource,
    Capability::SysTime,
    Capability::SysTtyConfig,
    Capability::Mknod,
    Capability::Lease,
    Capability::AuditWrite,
    Capability::AuditControl,
    Capability::Setfcap,
    Capability::MacOverride,
    Capability::MacAdmin,
    Capability::Syslog,
    Capability::WakeAlarm,
    Capability::BlockSuspend,
    Capability::AuditRead,
    Capability::Perfmon,
    Capability::Bpf,
    Capability::CheckpointRestore,
];

/// The capabilities in a `/proc/PID/status` bounding set line's hex mask.
fn from_mask(mask: u64) -> Vec<Capability> {
    BY_BIT
        .iter()
        .enumerate()
        .filter(|(bit, _)| mask & (1u64 << bit) != 0)
        .map(|(_, c)| *c)
        .collect()
}

/// Every capability this process may hand out (its bounding set), as
/// BuildKit grants "the current capabilities".
pub fn all_capabilities() -> Vec<Capability> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let mask = status
        .lines()
        .find_map(|l| l.strip_prefix("CapBnd:"))
        .and_then(|h| u64::from_str_radix(h.trim(), 16).ok())
        // Without /proc: all the capabilities of Linux 3.5 (bits 0-36).
        .unwrap_or((1u64 << 37) - 1);
    from_mask(mask)
}

fn device(path: &str, typ: LinuxDeviceType, major: i64, minor: i64) -> LinuxDevice {
    let mut d = LinuxDevice::default();
    d.set_path(PathBuf::from(path))
        .set_typ(typ)
        .set_major(major)
        .set_minor(minor);
    d
}

/// Highest N of the host's /dev/loopN (`None` without loop devices).
fn highest_loop() -> Option<i64> {
    std::fs::read_dir("/dev")
        .ok()?
        .flatten()
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_prefix("loop"))
                .and_then(|n| n.parse::<i64>().ok())
        })
        .max()
}

/// Turns a sandboxed spec into BuildKit's insecure one.
pub fn apply(s: &mut Spec) {
    let caps: oci_spec::runtime::Capabilities = all_capabilities().into_iter().collect();
    if let Some(p) = s.process_mut() {
        let mut lc = LinuxCapabilities::default();
        lc.set_bounding(Some(caps.clone()))
            .set_effective(Some(caps.clone()))
            .set_permitted(Some(caps.clone()))
            .set_inheritable(Some(caps.clone()))
            .set_ambient(Some(caps));
        p.set_capabilities(Some(lc));
        p.set_apparmor_profile(None);
    }
    if let Some(mounts) = s.mounts_mut() {
        for m in mounts.iter_mut() {
            if m.destination() == &PathBuf::from("/sys") {
                let opts: Vec<String> = m
                    .options()
                    .clone()
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|o| o != "ro")
                    .collect();
                m.set_options(Some(opts));
            }
        }
    }
    if let Some(linux) = s.linux_mut() {
        linux.set_seccomp(None);
        linux.set_masked_paths(Some(Vec::new()));
        linux.set_readonly_paths(Some(Vec::new()));
        let allow = |t: LinuxDeviceType| {
            let mut d = LinuxDeviceCgroup::default();
            d.set_allow(true)
                .set_typ(Some(t))
                .set_access(Some("rwm".to_string()));
            d
        };
        if let Some(r) = linux.resources_mut() {
            r.set_devices(Some(vec![
                allow(LinuxDeviceType::C),
                allow(LinuxDeviceType::B),
            ]));
        }
        let mut devices = vec![
            device("/dev/kmsg", LinuxDeviceType::C, 1, 11),
            device("/dev/cuse", LinuxDeviceType::C, 10, 203),
            device("/dev/fuse", LinuxDeviceType::C, 10, 229),
            device("/dev/kvm", LinuxDeviceType::C, 10, 232),
            device("/dev/net/tun", LinuxDeviceType::C, 10, 200),
            device("/dev/loop-control", LinuxDeviceType::C, 10, 237),
        ];
        // The host's loop devices and a few more, as BuildKit offers the
        // next free one and seven after it.
        let last = highest_loop().map_or(7, |n| n + 8);
        for n in 0..=last {
            devices.push(device(&format!("/dev/loop{n}"), LinuxDeviceType::B, 7, n));
        }
        linux.set_devices(Some(devices));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_bits_are_capabilities() {
        assert_eq!(
            from_mask(0b101),
            vec![Capability::Chown, Capability::DacReadSearch]
        );
        let all = from_mask(u64::MAX);
        assert_eq!(all.len(), 41);
        assert!(all.contains(&Capability::SysAdmin) && all.contains(&Capability::Bpf));
        // Bit 21 is CAP_SYS_ADMIN.
        assert_eq!(from_mask(1 << 21), vec![Capability::SysAdmin]);
    }

    #[test]
    fn insecure_spec_is_privileged() {
        let mut s = Spec::default();
        apply(&mut s);
        let v = serde_json::to_value(&s).unwrap();
        let bounding = v["process"]["capabilities"]["bounding"].as_array().unwrap();
        assert!(
            bounding.iter().any(|c| c == "CAP_SYS_ADMIN"),
            "{bounding:?}"
        );
        assert!(v["linux"]["seccomp"].is_null());
        assert_eq!(v["linux"]["maskedPaths"], serde_json::json!([]));
        assert_eq!(v["linux"]["resources"]["devices"][0]["allow"], true);
        let devs: Vec<&str> = v["linux"]["devices"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|d| d["path"].as_str())
            .collect();
        for d in [
            "/dev/fuse",
            "/dev/net/tun",
            "/dev/loop-control",
            "/dev/loop0",
        ] {
            assert!(devs.contains(&d), "{d}");
        }
        let sys = v["mounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["destination"] == "/sys")
            .unwrap();
        assert!(!sys["options"].as_array().unwrap().iter().any(|o| o == "ro"));
    }
}
