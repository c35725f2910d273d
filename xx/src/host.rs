//! Facts about the machine this process runs on.

use std::ffi::CStr;

use crate::arm::ArmArch;

/// The kernel's machine name, exactly what `uname -m` prints (`x86_64`,
/// `aarch64`, `armv7l`, ...). Under QEMU user emulation this is the emulated
/// machine, which is what helpers running inside a foreign stage must see.
pub fn machine() -> String {
    // SAFETY: `utsname` is plain old data, so all-zero is a valid value, and
    // uname(2) only writes NUL-terminated strings into the buffer we own.
    let mut uts: libc::utsname = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::uname(&mut uts) };
    if rc != 0 {
        return "unknown".to_string();
    }
    // SAFETY: the kernel NUL-terminates `machine` within its fixed length.
    let name = unsafe { CStr::from_ptr(uts.machine.as_ptr()) };
    name.to_string_lossy().into_owned()
}

/// `uname -m` back to (arch, variant), as upstream xx-info does when no target
/// is given. Only the names upstream maps are mapped (notably not `i686`).
pub fn from_uname_machine(machine: &str) -> Option<(&'static str, Option<&'static str>)> {
    let arm = |a: ArmArch| ("arm", Some(a.variant()));
    Some(match machine {
        "x86_64" => ("amd64", None),
        "i386" => ("386", None),
        "aarch64" | "arm64" => ("arm64", None),
        "armv7l" => arm(ArmArch::V7),
        "armv6l" => arm(ArmArch::V6),
        "armv5l" => arm(ArmArch::V5),
        "riscv64" => ("riscv64", None),
        "ppc64le" => ("ppc64le", None),
        "s390x" => ("s390x", None),
        "loongarch64" => ("loong64", None),
        "mips" => ("mips", None),
        "mipsle" => ("mipsle", None),
        "mips64" => ("mips64", None),
        "mips64le" => ("mips64le", None),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn machine_matches_uname_command() {
        let out = std::process::Command::new("uname").arg("-m").output();
        if let Ok(out) = out {
            let want = String::from_utf8_lossy(&out.stdout).trim().to_string();
            assert_eq!(super::machine(), want);
        }
    }
}
