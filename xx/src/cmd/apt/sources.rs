//! APT source lists: pinning existing sources to an architecture
//! (`--fix-source-file`), finding the main list (`--print-source-file`), and
//! the Ubuntu ports lists a foreign architecture needs (as upstream xx).

use std::path::Path;

/// The distro's main source list, in the order upstream looks for it.
pub fn main_source_file(root: &Path) -> String {
    for f in [
        "/etc/apt/sources.list.d/debian.sources",
        "/etc/apt/sources.list.d/ubuntu.sources",
    ] {
        if root.join(&f[1..]).exists() {
            return f.to_string();
        }
    }
    "/etc/apt/sources.list".to_string()
}

/// Restricts every source in `text` to `arch`, so adding a foreign
/// architecture does not make apt look for it on mirrors that lack it.
/// deb822 (`*.sources`): `Architectures: ARCH` after each `Types:` line unless
/// the file already has one. One-line format: `[arch=ARCH]` on every `deb` /
/// `deb-src` line (commented ones too) that has no `arch=` yet; lines that
/// already carry `[options]` get `arch=ARCH` added inside the brackets.
pub fn fix_source_text(text: &str, arch: &str, deb822: bool) -> String {
    let mut out = String::new();
    if deb822 {
        let has_arch = text
            .lines()
            .any(|l| l.trim_start().starts_with("Architectures:"));
        for line in text.lines() {
            out.push_str(line);
            out.push('\n');
            if !has_arch && line.trim_start().starts_with("Types:") {
                out.push_str(&format!("Architectures: {arch}\n"));
            }
        }
        return out;
    }
    for line in text.lines() {
        out.push_str(&fix_one_line(line, arch));
        out.push('\n');
    }
    out
}

fn fix_one_line(line: &str, arch: &str) -> String {
    if line.contains("arch=") {
        return line.to_string();
    }
    let (comment, rest) = match line.strip_prefix("# ") {
        Some(r) => ("# ", r),
        None => ("", line),
    };
    for kind in ["deb ", "deb-src "] {
        if let Some(after) = rest.strip_prefix(kind) {
            let after = after.trim_start();
            if let Some(opts) = after.strip_prefix('[') {
                return format!("{comment}{kind}[arch={arch} {}", opts.trim_start());
            }
            return format!("{comment}{kind}[arch={arch}] {after}");
        }
    }
    line.to_string()
}

/// The Ubuntu archive that carries `arch`: ports for the non-PC ones.
pub fn ubuntu_mirrors(arch: &str) -> (&'static str, &'static str) {
    match arch {
        "arm64" | "armhf" | "ppc64el" | "s390x" | "riscv64" => (
            "http://ports.ubuntu.com/ubuntu-ports/",
            "http://ports.ubuntu.com/ubuntu-ports/",
        ),
        _ => (
            "http://archive.ubuntu.com/ubuntu/",
            "http://security.ubuntu.com/ubuntu/",
        ),
    }
}

/// The source list for a foreign Ubuntu architecture, in the main list's format.
pub fn ubuntu_arch_sources(arch: &str, codename: &str, deb822: bool) -> String {
    let (main, security) = ubuntu_mirrors(arch);
    let components = "main restricted universe multiverse";
    if deb822 {
        format!(
            "Types: deb\nURIs: {main}\nSuites: {codename} {codename}-updates {codename}-backports\n\
             Components: {components}\nArchitectures: {arch}\n\
             Signed-By: /usr/share/keyrings/ubuntu-archive-keyring.gpg\n\n\
             Types: deb\nURIs: {security}\nSuites: {codename}-security\nComponents: {components}\n\
             Architectures: {arch}\nSigned-By: /usr/share/keyrings/ubuntu-archive-keyring.gpg\n"
        )
    } else {
        let mut s = String::new();
        for suite in [
            codename.to_string(),
            format!("{codename}-updates"),
            format!("{codename}-backports"),
        ] {
            s.push_str(&format!("deb [arch={arch}] {main} {suite} {components}\n"));
        }
        s.push_str(&format!(
            "deb [arch={arch}] {security} {codename}-security {components}\n"
        ));
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_lines() {
        let text = "deb http://m/debian bookworm main\n# deb-src http://m/debian bookworm main\n\
                    deb [signed-by=/k.gpg] http://m/debian bookworm main\ndeb [arch=amd64] http://x y z\n# comment\n";
        let got = fix_source_text(text, "amd64", false);
        assert_eq!(
            got,
            "deb [arch=amd64] http://m/debian bookworm main\n# deb-src [arch=amd64] http://m/debian bookworm main\n\
             deb [arch=amd64 signed-by=/k.gpg] http://m/debian bookworm main\ndeb [arch=amd64] http://x y z\n# comment\n"
        );
        assert_eq!(fix_source_text(&got, "amd64", false), got, "idempotent");
    }

    #[test]
    fn deb822() {
        let text = "Types: deb\nURIs: http://m/ubuntu\nSuites: noble\n\nTypes: deb\nURIs: http://s/ubuntu\n";
        let got = fix_source_text(text, "amd64", true);
        assert_eq!(got.matches("Architectures: amd64\n").count(), 2, "{got}");
        assert_eq!(fix_source_text(&got, "amd64", true), got, "idempotent");
    }

    #[test]
    fn ubuntu_ports() {
        assert!(
            ubuntu_arch_sources("arm64", "noble", false)
                .contains("deb [arch=arm64] http://ports.ubuntu.com/ubuntu-ports/ noble-security")
        );
        assert!(
            ubuntu_arch_sources("i386", "noble", true)
                .contains("URIs: http://security.ubuntu.com/ubuntu/")
        );
    }
}
