//! Content hashes of COPY/ADD sources in the build context: which files a
//! source names (a path, a directory tree, or a glob), minus what
//! `.dockerignore` excludes, and their names, modes and bytes.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::dockerfile::ignore::{self, IgnoreMatcher};

/// `sha256:<hex>` over every file the sources select (URLs and missing paths
/// contribute their names, so the key still changes when they change).
pub fn hash_sources(context: &Path, sources: &[String]) -> String {
    let ignore = ignore::load_for(context, &context.join("Dockerfile"))
        .ok()
        .flatten();
    let mut files = Vec::new();
    for src in sources {
        if src.contains("://") {
            files.push((src.clone(), None));
            continue;
        }
        let rel = src
            .trim_start_matches("./")
            .trim_start_matches('/')
            .trim_end_matches('/');
        if rel.contains(['*', '?', '[']) {
            let Ok(pattern) = IgnoreMatcher::from_patterns(&[rel]) else {
                files.push((src.clone(), None));
                continue;
            };
            walk(context, Path::new(""), &mut |p| {
                if pattern.is_excluded(p) {
                    files.push((p.to_string(), Some(context.join(p))));
                }
            });
        } else if rel.is_empty() || rel == "." {
            walk(context, Path::new(""), &mut |p| {
                files.push((p.to_string(), Some(context.join(p))))
            });
        } else {
            let path = context.join(rel);
            if path.is_dir() {
                walk(context, Path::new(rel), &mut |p| {
                    files.push((p.to_string(), Some(context.join(p))))
                });
            } else {
                files.push((rel.to_string(), path.is_file().then_some(path)));
            }
        }
    }
    files.retain(|(name, _)| ignore.as_ref().is_none_or(|m| !m.is_excluded(name)));
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
                } else if let Ok(bytes) = fs::read(&p) {
                    h.update((bytes.len() as u64).to_le_bytes());
                    h.update(&bytes);
                }
            }
        }
    }
    let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// Calls `f` with every file under `root/dir`, relative to `root`, `/`-separated.
fn walk(root: &Path, dir: &Path, f: &mut dyn FnMut(&str)) {
    let Ok(entries) = fs::read_dir(root.join(dir)) else {
        return;
    };
    let mut names: Vec<PathBuf> = entries.flatten().map(|e| dir.join(e.file_name())).collect();
    names.sort();
    for rel in names {
        let full = root.join(&rel);
        let Some(text) = rel.to_str() else { continue };
        if full.is_dir() && !full.is_symlink() {
            walk(root, &rel, f);
        } else {
            f(text);
        }
    }
}
