//! What software an image holds, read from the image itself: the package
//! databases of its distribution (dpkg's status, apk's installed db) and the
//! metadata toolchains embed in binaries (Go's build info, the crate list
//! of cargo-auditable) or leave beside them (`Cargo.lock`). Everything is
//! untrusted image content: files are opened only when regular, inside the
//! root, and read with a size cap; a file that does not parse is skipped.

mod apk;
mod cargo;
mod dpkg;
mod gobuild;
mod walk;

use std::path::Path;

/// Where a package was found, which decides its purl type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Ecosystem {
    /// A Debian/Ubuntu package (dpkg).
    Deb,
    /// An Alpine package (apk).
    Apk,
    /// A Rust crate.
    Cargo,
    /// A Go module.
    Go,
}

/// One package of an image.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Package {
    /// Its ecosystem.
    pub ecosystem: Ecosystem,
    /// Name (Go: the module path).
    pub name: String,
    /// Version as its ecosystem writes it.
    pub version: String,
    /// Package architecture (deb, apk).
    pub arch: Option<String>,
    /// Declared license (apk's `L:`), if the database has one.
    pub license: Option<String>,
    /// Where in the image it was found (`/var/lib/dpkg/status`, a binary).
    pub found_in: String,
    /// The package URL (purl) naming it.
    pub purl: String,
}

/// The distribution of a root, for purls (`debian-12`, `alpine-3.20`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Distro {
    /// os-release `ID`.
    pub id: String,
    /// os-release `VERSION_ID`.
    pub version_id: String,
}

impl Distro {
    /// `debian-12`, or the ID alone without a version.
    pub fn purl_qualifier(&self) -> String {
        if self.version_id.is_empty() {
            self.id.clone()
        } else {
            format!("{}-{}", self.id, self.version_id)
        }
    }
}

/// What a scan of one root found.
#[derive(Debug, Clone, Default)]
pub struct Scan {
    /// The distribution, from the root's own os-release.
    pub distro: Distro,
    /// Every package, sorted and without duplicates.
    pub packages: Vec<Package>,
}

/// Most packages one SBOM document lists (a hostile image must not make
/// an SBOM of gigabytes; real images have thousands).
const MAX_PACKAGES: usize = 200_000;

/// Largest package database or lock file read (Debian's full status file
/// with every package of a desktop install is ~10 MiB).
const MAX_DB: u64 = 64 << 20;

/// Reads a file inside `root` (symlinks resolved inside it) if it is a
/// regular file of at most `cap` bytes.
pub(super) fn read_in_root(root: &Path, path: &str, cap: u64) -> Option<Vec<u8>> {
    let p = crate::fsutil::resolve(root, path).ok()?;
    xx::verify::open::read_small(&p, false, cap)
}

/// Scans the filesystem at `root`.
pub fn scan_root(root: &Path) -> Scan {
    let distro = read_in_root(root, "/etc/os-release", 1 << 16)
        .or_else(|| read_in_root(root, "/usr/lib/os-release", 1 << 16))
        .map(|b| {
            let fields = xx::distro::parse_os_release(&String::from_utf8_lossy(&b));
            Distro {
                id: xx::distro::field(&fields, "ID"),
                version_id: xx::distro::field(&fields, "VERSION_ID"),
            }
        })
        .unwrap_or_default();
    let mut packages = dpkg::scan(root, &distro);
    packages.extend(apk::scan(root, &distro));
    walk::files(root, &mut |found| {
        if packages.len() >= MAX_PACKAGES {
            return;
        }
        match found {
            walk::Found::CargoLock(path, bytes) => {
                packages.extend(cargo::from_lock(&String::from_utf8_lossy(&bytes), &path));
            }
            walk::Found::Elf(path, sections) => {
                for (name, data) in sections {
                    match name.as_str() {
                        gobuild::SECTION => packages.extend(gobuild::modules(&data, &path)),
                        cargo::AUDITABLE_SECTION => {
                            packages.extend(cargo::from_auditable(&data, &path))
                        }
                        _ => {}
                    }
                }
            }
        }
    });
    packages.truncate(MAX_PACKAGES);
    packages.sort();
    packages.dedup_by(|a, b| {
        a.ecosystem == b.ecosystem && a.purl == b.purl && a.found_in == b.found_in
    });
    Scan { distro, packages }
}

/// Percent-encodes a purl component (everything but unreserved characters).
pub(super) fn purl_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hostile image's metadata files: an absolute symlink to a host
    /// file, FIFOs where the databases and a Cargo.lock should be. Nothing
    /// outside the root is read and nothing blocks.
    #[test]
    fn hostile_roots_are_read_inside_and_never_block() {
        let root = std::env::temp_dir().join(format!("mx-scan-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for d in ["etc", "var/lib/dpkg", "lib/apk/db", "src"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        // The host's own os-release would name the host's distribution.
        std::os::unix::fs::symlink("/etc/os-release", root.join("etc/os-release")).unwrap();
        for fifo in [
            "var/lib/dpkg/status",
            "lib/apk/db/installed",
            "src/Cargo.lock",
        ] {
            let c = std::ffi::CString::new(root.join(fifo).to_str().unwrap()).unwrap();
            // SAFETY: a valid NUL-terminated path.
            assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        }
        let (tx, rx) = std::sync::mpsc::channel();
        let r = root.clone();
        std::thread::spawn(move || {
            let _ = tx.send(scan_root(&r));
        });
        let scan = rx
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("the scan finishes");
        assert_eq!(
            scan.distro,
            Distro::default(),
            "the host's os-release was read"
        );
        assert!(scan.packages.is_empty());
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn purl_components_are_escaped() {
        assert_eq!(purl_escape("1:2.36-9+deb12u4"), "1%3A2.36-9%2Bdeb12u4");
        assert_eq!(purl_escape("a/b c"), "a%2Fb%20c");
    }
}
