//! Debian packages from dpkg's database: `/var/lib/dpkg/status` (only
//! packages whose status is `installed`) and the one-file-per-package
//! `/var/lib/dpkg/status.d/` of distroless images.

use std::path::Path;

use super::{Distro, Ecosystem, MAX_DB, Package, purl_escape, read_in_root};

/// Most files read from `status.d` (one per package).
const MAX_STATUS_D: usize = 20_000;

/// The installed packages of the root.
pub fn scan(root: &Path, distro: &Distro) -> Vec<Package> {
    let mut out = Vec::new();
    if let Some(b) = read_in_root(root, "/var/lib/dpkg/status", MAX_DB) {
        out.extend(parse(
            &String::from_utf8_lossy(&b),
            distro,
            "/var/lib/dpkg/status",
        ));
    }
    let Ok(dir) = crate::fsutil::resolve(root, "/var/lib/dpkg/status.d") else {
        return out;
    };
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return out;
    };
    let mut names: Vec<String> = rd
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| !n.ends_with(".md5sums"))
        .take(MAX_STATUS_D)
        .collect();
    names.sort();
    for n in names {
        let path = format!("/var/lib/dpkg/status.d/{n}");
        if let Some(b) = xx::verify::open::read_small(&dir.join(&n), false, 1 << 20) {
            out.extend(parse(&String::from_utf8_lossy(&b), distro, &path));
        }
    }
    out
}

/// The packages of a dpkg status text (paragraphs of `Field: value` lines).
pub fn parse(text: &str, distro: &Distro, found_in: &str) -> Vec<Package> {
    let mut out = Vec::new();
    for para in text.split("\n\n") {
        let field = |k: &str| -> Option<String> {
            para.lines().find_map(|l| {
                let (key, v) = l.split_once(':')?;
                (key == k).then(|| v.trim().to_string())
            })
        };
        let (Some(name), Some(version)) = (field("Package"), field("Version")) else {
            continue;
        };
        // status.d files of distroless images have no Status field.
        if field("Status").is_some_and(|s| !s.ends_with(" installed")) {
            continue;
        }
        let arch = field("Architecture");
        let namespace = if distro.id.is_empty() {
            "debian".to_string()
        } else {
            distro.id.clone()
        };
        let mut purl = format!(
            "pkg:deb/{}/{}@{}",
            purl_escape(&namespace),
            purl_escape(&name),
            purl_escape(&version)
        );
        let mut q = Vec::new();
        if let Some(a) = &arch {
            q.push(format!("arch={}", purl_escape(a)));
        }
        if !distro.id.is_empty() {
            q.push(format!("distro={}", purl_escape(&distro.purl_qualifier())));
        }
        if let Some(src) = field("Source") {
            let src = src.split_whitespace().next().unwrap_or("");
            if !src.is_empty() && src != name {
                q.push(format!("upstream={}", purl_escape(src)));
            }
        }
        if !q.is_empty() {
            purl = format!("{purl}?{}", q.join("&"));
        }
        out.push(Package {
            ecosystem: Ecosystem::Deb,
            name,
            version,
            arch,
            license: None,
            found_in: found_in.to_string(),
            purl,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installed_packages_with_purls() {
        let text = "Package: libc6\nStatus: install ok installed\nArchitecture: arm64\nSource: glibc\nVersion: 2.36-9+deb12u4\nDescription: GNU C Library\n multi line\n\nPackage: gone\nStatus: deinstall ok config-files\nVersion: 1\n\nPackage: bash\nStatus: install ok installed\nVersion: 5.2.15-2+b2\nArchitecture: arm64\nSource: bash (5.2.15-2)\n";
        let d = Distro {
            id: "debian".into(),
            version_id: "12".into(),
        };
        let p = parse(text, &d, "/var/lib/dpkg/status");
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].name, "libc6");
        assert_eq!(
            p[0].purl,
            "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=arm64&distro=debian-12&upstream=glibc"
        );
        assert_eq!(
            p[1].purl,
            "pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=arm64&distro=debian-12"
        );
    }
}
