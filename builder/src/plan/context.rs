//! Content hashes of what COPY/ADD sources and context bind mounts read:
//! which files a source names (a path, a directory tree, or a glob) and
//! their names, modes and bytes.
//!
//! The root is the context as the build's steps see it: a build passes the
//! filtered tree (`engine::contexts`), so ignored files are simply absent and
//! no ignore file is read here (re-reading `<root>/.dockerignore` would apply
//! the wrong file when a `<Dockerfile>.dockerignore` was used). Paths resolve
//! the way COPY resolves them: symlinks are followed inside the root only,
//! and entries inside a directory are hashed as they are (a symlink by its
//! target text), so the key changes exactly when what a step copies does.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::fsutil;

/// `sha256:<hex>` over every file the sources select (URLs and missing paths
/// contribute their names, so the key still changes when they change).
pub fn hash_sources(root: &Path, sources: &[String]) -> String {
    let mut files: Vec<(String, Option<PathBuf>)> = Vec::new();
    for src in sources {
        if src.contains("://") {
            files.push((src.clone(), None));
            continue;
        }
        let Ok(rel) = fsutil::source_rel(src) else {
            files.push((src.clone(), None));
            continue;
        };
        let matched = if fsutil::has_glob(&rel) {
            fsutil::expand_glob(root, &rel)
        } else {
            vec![rel]
        };
        if matched.is_empty() {
            files.push((src.clone(), None));
        }
        for rel in matched {
            let Ok(path) = fsutil::resolve(root, &rel) else {
                files.push((rel, None));
                continue;
            };
            match fs::symlink_metadata(&path) {
                Ok(m) if m.is_dir() => {
                    files.push((rel.clone(), None));
                    walk(&path, &rel, &mut |name, p| files.push((name, Some(p))));
                }
                Ok(_) => files.push((rel, Some(path))),
                Err(_) => files.push((rel, None)),
            }
        }
    }
    files.sort();
    files.dedup();
    let mut h = Sha256::new();
    for (name, path) in files {
        h.update((name.len() as u64).to_le_bytes());
        h.update(name.as_bytes());
        if let Some(p) = path {
            if let Ok(meta) = fs::symlink_metadata(&p) {
                h.update(meta.permissions().mode().to_le_bytes());
                if meta.file_type().is_symlink() {
                    if let Ok(t) = fs::read_link(&p) {
                        h.update(t.to_string_lossy().as_bytes());
                    }
                } else if meta.is_file() {
                    h.update(meta.len().to_le_bytes());
                    if let Ok(mut f) = fs::File::open(&p) {
                        let _ = std::io::copy(&mut f, &mut h);
                    }
                }
            }
        }
    }
    let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// Calls `f` with every entry under directory `dir` (named `name/…`, or
/// bare at the root), never following symlinks.
fn walk(dir: &Path, name: &str, f: &mut dyn FnMut(String, PathBuf)) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut names: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for n in names {
        let child = if name.is_empty() {
            n.clone()
        } else {
            format!("{name}/{n}")
        };
        let full = dir.join(&n);
        let is_dir = fs::symlink_metadata(&full).is_ok_and(|m| m.is_dir());
        f(child.clone(), full.clone());
        if is_dir {
            walk(&full, &child, f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlinks_resolve_inside_the_root_and_content_counts() {
        let t = std::env::temp_dir().join(format!("mx-hash-{}", std::process::id()));
        let _ = fs::remove_dir_all(&t);
        fs::create_dir_all(t.join("d")).unwrap();
        fs::write(t.join("d/a.txt"), "one").unwrap();
        std::os::unix::fs::symlink("d", t.join("dirlink")).unwrap();
        std::os::unix::fs::symlink("/", t.join("hostroot")).unwrap();
        std::os::unix::fs::symlink("missing", t.join("dangling")).unwrap();
        let srcs = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let via_link = hash_sources(&t, &srcs(&["dirlink/"]));
        // `/` in the context is the context root, not the host's.
        let before = hash_sources(&t, &srcs(&["hostroot/"]));
        let dangling = hash_sources(&t, &srcs(&["dangling"]));
        fs::write(t.join("d/a.txt"), "two").unwrap();
        assert_ne!(via_link, hash_sources(&t, &srcs(&["dirlink/"])));
        assert_ne!(before, hash_sources(&t, &srcs(&["hostroot/"])));
        assert_eq!(dangling, hash_sources(&t, &srcs(&["dangling"])));
        assert_ne!(
            hash_sources(&t, &srcs(&["d/*.txt"])),
            hash_sources(&t, &srcs(&["d/*.md"]))
        );
        fs::remove_dir_all(&t).unwrap();
    }
}
