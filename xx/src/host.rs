//! Facts about the machine this process runs on.

use std::ffi::CStr;

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
