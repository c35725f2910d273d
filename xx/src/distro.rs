//! Which distribution a root filesystem is: decides package architectures,
//! the libc, and whether the vendor appears in C triples.
//!
//! Detection reads files under a given root rather than `/`, so mxbuild can ask
//! the same question about an image's filesystem that xx-info asks inside it.

use std::fs;
use std::path::Path;

/// The distro families whose tools and naming differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// debian, ubuntu: dpkg multiarch, no vendor in triples.
    Debian,
    /// alpine: apk, musl, `-alpine-` in triples.
    Alpine,
    /// rhel, fedora, centos, rocky, ol: rpm, no vendor in triples.
    Rhel,
    /// Anything else (or nothing): the vendor is written out, pkg-arch = Docker arch.
    Other,
}

impl Family {
    /// The family a distro `ID` (or an `XX_VENDOR` value) belongs to.
    pub fn from_id(id: &str) -> Family {
        match id {
            "debian" | "ubuntu" => Family::Debian,
            "alpine" => Family::Alpine,
            "rhel" | "fedora" | "centos" | "rocky" | "ol" => Family::Rhel,
            _ => Family::Other,
        }
    }

    /// The vendor a family is written as when only the family is known (mxbuild
    /// detects families): its first distro ID, or `unknown`.
    pub fn vendor(self) -> &'static str {
        match self {
            Family::Debian => "debian",
            Family::Alpine => "alpine",
            Family::Rhel => "rhel",
            Family::Other => "unknown",
        }
    }
}

/// The C library a target links against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Libc {
    /// GNU libc.
    Gnu,
    /// musl libc.
    Musl,
}

impl Libc {
    /// The name used in triples and by `xx-info libc`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Libc::Gnu => "gnu",
            Libc::Musl => "musl",
        }
    }
}

/// What a root filesystem says about itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Distro {
    /// `ID` from os-release (`debian`, `alpine`, `fedora`), empty when unknown.
    pub id: String,
    /// `VERSION_ID` from os-release, empty when absent (e.g. Debian sid).
    pub version_id: String,
    /// Whether an os-release file was found at all.
    pub has_os_release: bool,
    /// Whether `/etc/alpine-release` exists (xx-info uses it for the sysroot).
    pub alpine_release: bool,
}

impl Distro {
    /// Detects the distro of the filesystem rooted at `root` (`/` for the running
    /// system). Reads `etc/os-release`, then `usr/lib/os-release` (os-release(5));
    /// with neither, falls back to `etc/alpine-release` and `etc/redhat-release`.
    pub fn detect(root: &Path) -> Distro {
        let alpine_release = root.join("etc/alpine-release").is_file();
        for rel in ["etc/os-release", "usr/lib/os-release"] {
            if let Ok(text) = fs::read_to_string(root.join(rel)) {
                let fields = parse_os_release(&text);
                return Distro {
                    id: field(&fields, "ID"),
                    version_id: field(&fields, "VERSION_ID"),
                    has_os_release: true,
                    alpine_release,
                };
            }
        }
        let id = if alpine_release {
            "alpine".to_string()
        } else if let Ok(text) = fs::read_to_string(root.join("etc/redhat-release")) {
            redhat_release_id(&text).to_string()
        } else {
            String::new()
        };
        Distro {
            id,
            version_id: String::new(),
            has_os_release: false,
            alpine_release,
        }
    }

    /// The family of this distro.
    pub fn family(&self) -> Family {
        Family::from_id(&self.id)
    }
}

/// The distro ID a `/etc/redhat-release` line names.
fn redhat_release_id(text: &str) -> &'static str {
    if text.contains("Fedora") {
        "fedora"
    } else if text.contains("CentOS") {
        "centos"
    } else if text.contains("Rocky") {
        "rocky"
    } else if text.contains("Oracle") {
        "ol"
    } else {
        "rhel"
    }
}

/// The value of `key` among parsed os-release fields (empty if absent).
pub fn field(fields: &[(String, String)], key: &str) -> String {
    fields
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

/// The value of `key` in the os-release file of the root (empty if absent).
pub fn os_release_field(root: &Path, key: &str) -> String {
    ["etc/os-release", "usr/lib/os-release"]
        .iter()
        .find_map(|rel| fs::read_to_string(root.join(rel)).ok())
        .map(|text| {
            parse_os_release(&text)
                .into_iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v)
                .unwrap_or_default()
        })
        .unwrap_or_default()
}

/// Parses os-release's shell-compatible `KEY=value` lines: values may be bare,
/// 'single-quoted' or "double-quoted" with backslash escapes; comments and
/// malformed lines are skipped (the file is not ours to reject).
pub fn parse_os_release(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, raw)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        out.push((key.to_string(), unquote(raw.trim())));
    }
    out
}

fn unquote(raw: &str) -> String {
    let mut out = String::new();
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    out.push(c);
                }
            }
            '"' => {
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => {
                            if let Some(n) = chars.next() {
                                if !matches!(n, '"' | '\\' | '$' | '`') {
                                    out.push('\\');
                                }
                                out.push(n);
                            }
                        }
                        _ => out.push(c),
                    }
                }
            }
            '\\' => {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            c if c.is_whitespace() => break,
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_release_quoting() {
        let text = "NAME=\"Debian GNU/Linux\"\nID=debian\nVERSION_ID='12'\n# c\nPRETTY=\"a \\\"b\\\" \\$c\"\nbad line\n=x\n";
        let got = parse_os_release(text);
        let get = |k: &str| {
            got.iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("NAME"), Some("Debian GNU/Linux"));
        assert_eq!(get("ID"), Some("debian"));
        assert_eq!(get("VERSION_ID"), Some("12"));
        assert_eq!(get("PRETTY"), Some("a \"b\" $c"));
        assert_eq!(got.len(), 4);
    }

    #[test]
    fn families() {
        for (id, fam) in [
            ("debian", Family::Debian),
            ("ubuntu", Family::Debian),
            ("alpine", Family::Alpine),
            ("fedora", Family::Rhel),
            ("rocky", Family::Rhel),
            ("ol", Family::Rhel),
            ("arch", Family::Other),
            ("", Family::Other),
        ] {
            assert_eq!(Family::from_id(id), fam, "{id}");
        }
    }

    #[test]
    fn detect_on_roots() {
        let dir = std::env::temp_dir().join(format!("xx-distro-{}", std::process::id()));
        let etc = dir.join("etc");
        fs::create_dir_all(&etc).unwrap();
        assert_eq!(Distro::detect(&dir).id, "");
        fs::write(
            etc.join("redhat-release"),
            "Rocky Linux release 9.3 (Blue Onyx)\n",
        )
        .unwrap();
        assert_eq!(Distro::detect(&dir).id, "rocky");
        fs::write(etc.join("alpine-release"), "3.20.0\n").unwrap();
        let d = Distro::detect(&dir);
        assert_eq!((d.id.as_str(), d.alpine_release), ("alpine", true));
        fs::write(etc.join("os-release"), "ID=alpine\nVERSION_ID=3.20.0\n").unwrap();
        let d = Distro::detect(&dir);
        assert_eq!(
            (d.id.as_str(), d.version_id.as_str(), d.has_os_release),
            ("alpine", "3.20.0", true)
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
