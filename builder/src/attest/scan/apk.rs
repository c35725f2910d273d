//! Alpine packages from apk's installed database (`/lib/apk/db/installed`):
//! blocks of `X:value` lines, `P` name, `V` version, `A` arch, `L` license.

use std::path::Path;

use super::{Distro, Ecosystem, MAX_DB, Package, purl_escape, read_in_root};

const DB: &str = "/lib/apk/db/installed";

/// The installed packages of the root.
pub fn scan(root: &Path, distro: &Distro) -> Vec<Package> {
    read_in_root(root, DB, MAX_DB)
        .map(|b| parse(&String::from_utf8_lossy(&b), distro))
        .unwrap_or_default()
}

/// The packages of an apk installed-db text.
pub fn parse(text: &str, distro: &Distro) -> Vec<Package> {
    let mut out = Vec::new();
    for block in text.split("\n\n") {
        let field = |k: char| {
            block.lines().find_map(|l| {
                let mut c = l.chars();
                (c.next() == Some(k) && c.next() == Some(':')).then(|| l[2..].trim().to_string())
            })
        };
        let (Some(name), Some(version)) = (field('P'), field('V')) else {
            continue;
        };
        let arch = field('A');
        let namespace = if distro.id.is_empty() {
            "alpine".to_string()
        } else {
            distro.id.clone()
        };
        let mut q = Vec::new();
        if let Some(a) = &arch {
            q.push(format!("arch={}", purl_escape(a)));
        }
        if !distro.id.is_empty() {
            q.push(format!("distro={}", purl_escape(&distro.purl_qualifier())));
        }
        let mut purl = format!(
            "pkg:apk/{}/{}@{}",
            purl_escape(&namespace),
            purl_escape(&name),
            purl_escape(&version)
        );
        if !q.is_empty() {
            purl = format!("{purl}?{}", q.join("&"));
        }
        out.push(Package {
            ecosystem: Ecosystem::Apk,
            name,
            version,
            arch,
            license: field('L'),
            found_in: DB.to_string(),
            purl,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_become_packages() {
        let text = "C:Q1abc=\nP:musl\nV:1.2.5-r0\nA:aarch64\nL:MIT\no:musl\n\nP:busybox\nV:1.36.1-r29\nA:aarch64\nL:GPL-2.0-only\n";
        let d = Distro {
            id: "alpine".into(),
            version_id: "3.20.3".into(),
        };
        let p = parse(text, &d);
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].license.as_deref(), Some("MIT"));
        assert_eq!(
            p[0].purl,
            "pkg:apk/alpine/musl@1.2.5-r0?arch=aarch64&distro=alpine-3.20.3"
        );
    }
}
