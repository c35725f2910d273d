//! Looking up files inside a root filesystem the way its own dynamic loader
//! would, without ever leaving it: symlinks are followed *inside* the root
//! (an absolute link target starts again at the root, `..` stops there), so
//! checking an image's `/lib/ld-linux-aarch64.so.1 -> aarch64-linux-gnu/...`
//! never touches the host's files.
//!
//! The root is untrusted (an image a build made): the loader configuration
//! is read only from regular files ([`super::open`]: a FIFO or `/dev/zero`
//! named as `ld.so.conf` or an include is skipped, never read), each file to
//! at most [`MAX_CONF_FILE`], and one lookup reads at most
//! [`MAX_CONF_FILES`] files and keeps at most [`MAX_CONF_DIRS`] directories,
//! so `include` fan-out (every file including the whole directory again)
//! cannot make it read forever.

use std::ffi::OsString;
use std::fs;
use std::path::{Component, Path, PathBuf};

/// Symlinks followed for one lookup before giving up (Linux uses 40).
const MAX_SYMLINKS: usize = 40;
/// `include` depth in ld.so.conf before giving up on a loop.
const MAX_INCLUDE_DEPTH: usize = 8;
/// The largest loader configuration file read (Debian's are a few hundred
/// bytes; a few MiB leaves room for anything real).
pub const MAX_CONF_FILE: u64 = 4 << 20;
/// Configuration files read for one ld.so.conf lookup.
pub const MAX_CONF_FILES: usize = 256;
/// Library directories taken from ld.so.conf (real ones list a handful).
pub const MAX_CONF_DIRS: usize = 4096;

/// A directory that stands for `/`.
#[derive(Debug, Clone)]
pub struct RootFs {
    root: PathBuf,
}

impl RootFs {
    /// A root at `root` (a host path).
    pub fn new(root: &Path) -> RootFs {
        RootFs {
            root: root.to_path_buf(),
        }
    }

    /// The host path of `path` (absolute, as seen inside the root) after
    /// following every symlink inside the root, if it exists.
    pub fn resolve(&self, path: &str) -> Option<PathBuf> {
        let mut pending: Vec<OsString> = components(Path::new(path));
        pending.reverse();
        let mut current: Vec<OsString> = Vec::new();
        let mut links = 0;
        while let Some(part) = pending.pop() {
            if part == ".." {
                current.pop();
                continue;
            }
            let mut candidate = self.root.clone();
            candidate.extend(&current);
            candidate.push(&part);
            let meta = fs::symlink_metadata(&candidate).ok()?;
            if meta.file_type().is_symlink() {
                links += 1;
                if links > MAX_SYMLINKS {
                    return None;
                }
                let target = fs::read_link(&candidate).ok()?;
                if target.is_absolute() {
                    current.clear();
                }
                let mut parts = components(&target);
                parts.reverse();
                pending.extend(parts);
            } else {
                current.push(part);
            }
        }
        let mut out = self.root.clone();
        out.extend(&current);
        out.exists().then_some(out)
    }

    /// The directories listed by `/etc/ld.so.conf` and its includes (glibc),
    /// within the limits above.
    pub fn ld_so_conf_dirs(&self) -> Vec<String> {
        let mut dirs = Vec::new();
        let mut files = 0;
        self.read_ld_so_conf("/etc/ld.so.conf", 0, &mut files, &mut dirs);
        dirs
    }

    fn read_ld_so_conf(&self, path: &str, depth: usize, files: &mut usize, dirs: &mut Vec<String>) {
        if depth > MAX_INCLUDE_DEPTH || *files >= MAX_CONF_FILES || dirs.len() >= MAX_CONF_DIRS {
            return;
        }
        let Some(host) = self.resolve(path) else {
            return;
        };
        *files += 1;
        // Resolved inside the root: the last component is not followed again.
        let Some(bytes) = super::open::read_small(&host, false, MAX_CONF_FILE) else {
            return;
        };
        let text = String::from_utf8_lossy(&bytes);
        for line in text.lines() {
            if dirs.len() >= MAX_CONF_DIRS {
                return;
            }
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            if let Some(pattern) = line.strip_prefix("include") {
                for pattern in pattern.split_whitespace() {
                    for file in self.glob_last(pattern, path) {
                        self.read_ld_so_conf(&file, depth + 1, files, dirs);
                    }
                }
            } else {
                for dir in line.split([':', ',', ' ', '\t']).filter(|d| !d.is_empty()) {
                    if dirs.len() < MAX_CONF_DIRS {
                        dirs.push(dir.to_string());
                    }
                }
            }
        }
    }

    /// Expands a pattern whose last component may hold `*` (ld.so.conf's
    /// `include /etc/ld.so.conf.d/*.conf`), sorted like the shell does.
    fn glob_last(&self, pattern: &str, relative_to: &str) -> Vec<String> {
        let pattern = if pattern.starts_with('/') {
            pattern.to_string()
        } else {
            let base = Path::new(relative_to).parent().unwrap_or(Path::new("/"));
            format!("{}/{pattern}", base.display())
        };
        let (dir, file_pat) = pattern.rsplit_once('/').unwrap_or(("", &pattern));
        let dir = if dir.is_empty() { "/" } else { dir };
        if !file_pat.contains('*') {
            return vec![pattern.clone()];
        }
        let Some(host_dir) = self.resolve(dir) else {
            return Vec::new();
        };
        let mut out: Vec<String> = fs::read_dir(host_dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|name| star_match(file_pat, name))
            .map(|name| format!("{}/{name}", dir.trim_end_matches('/')))
            .collect();
        out.sort();
        out
    }
}

/// The path's normal components and `..`s (root and `.` dropped).
fn components(path: &Path) -> Vec<OsString> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_os_string()),
            Component::ParentDir => Some(OsString::from("..")),
            _ => None,
        })
        .collect()
}

/// Matches `*` (any run of characters) against a name; no other wildcards.
fn star_match(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if parts.len() == 1 {
        return pattern == name;
    }
    if !name.starts_with(first) || !name[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn tmp(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("xx-rootfs-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn symlinks_stay_inside_the_root() {
        let root = tmp("links");
        fs::create_dir_all(root.join("usr/lib/aarch64-linux-gnu")).unwrap();
        fs::write(
            root.join("usr/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1"),
            "x",
        )
        .unwrap();
        symlink("usr/lib", root.join("lib")).unwrap();
        symlink(
            "aarch64-linux-gnu/ld-linux-aarch64.so.1",
            root.join("usr/lib/ld-linux-aarch64.so.1"),
        )
        .unwrap();
        // Absolute and escaping links are re-rooted, not followed on the host.
        symlink("/etc/passwd", root.join("abs")).unwrap();
        symlink("../../../../../../etc/hostname", root.join("up")).unwrap();
        symlink("loop", root.join("loop")).unwrap();
        let fs_ = RootFs::new(&root);
        assert_eq!(
            fs_.resolve("/lib/ld-linux-aarch64.so.1"),
            Some(root.join("usr/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1"))
        );
        assert_eq!(
            fs_.resolve("/abs"),
            None,
            "host /etc/passwd must not be seen"
        );
        assert_eq!(fs_.resolve("/up"), None);
        assert_eq!(fs_.resolve("/loop"), None);
        assert_eq!(fs_.resolve("/missing"), None);
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn ld_so_conf_with_includes() {
        let root = tmp("conf");
        fs::create_dir_all(root.join("etc/ld.so.conf.d")).unwrap();
        fs::write(
            root.join("etc/ld.so.conf"),
            "# c\ninclude /etc/ld.so.conf.d/*.conf\n/opt/lib\n",
        )
        .unwrap();
        fs::write(root.join("etc/ld.so.conf.d/b.conf"), "/usr/lib/b\n").unwrap();
        fs::write(
            root.join("etc/ld.so.conf.d/a.conf"),
            "/usr/local/lib\ninclude /etc/ld.so.conf\n",
        )
        .unwrap();
        fs::write(root.join("etc/ld.so.conf.d/skip.txt"), "/nope\n").unwrap();
        let dirs = RootFs::new(&root).ld_so_conf_dirs();
        assert_eq!(dirs.first().map(String::as_str), Some("/usr/local/lib"));
        assert!(dirs.contains(&"/usr/lib/b".to_string()));
        assert!(dirs.contains(&"/opt/lib".to_string()));
        assert!(!dirs.contains(&"/nope".to_string()));
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn stars() {
        assert!(star_match("*.conf", "a.conf"));
        assert!(!star_match("*.conf", "a.txt"));
        assert!(star_match("x*y*z", "xaybz"));
        assert!(star_match("lib", "lib"));
    }
}
