//! Mount points the runtime has to create (`/etc/resolv.conf` in an image
//! without one, a cache mount's target) would otherwise end up in the
//! step's layer. They are noted before the run and removed from the diff
//! after it, when they still hold nothing but stubs; so are the copies of
//! their parent directories the stub creation left, when the step did not
//! change them itself.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use crate::fsutil;

/// Owner and mode of a directory: what a copy-up keeps (only times change).
type DirMeta = (u32, u32, u32);

fn dir_meta(p: &Path) -> Option<DirMeta> {
    let m = fs::symlink_metadata(p).ok()?;
    m.is_dir().then(|| (m.mode(), m.uid(), m.gid()))
}

/// The first ancestor of `p` (in-container) that does not exist in `root`.
pub(crate) fn first_missing(root: &Path, p: &str) -> Option<String> {
    let clean = fsutil::clean_abs(p);
    let mut sofar = String::new();
    for part in clean.split('/').filter(|s| !s.is_empty()) {
        sofar.push('/');
        sofar.push_str(part);
        let host = fsutil::resolve(root, &sofar).ok()?;
        if fs::symlink_metadata(&host).is_err() {
            return Some(sofar);
        }
    }
    None
}

/// True if `p` holds only what a runtime creates for mount points: empty
/// files and directories of them.
fn only_stubs(p: &Path) -> bool {
    match fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => fs::read_dir(p)
            .map(|d| d.flatten().all(|e| only_stubs(&e.path())))
            .unwrap_or(false),
        Ok(m) => m.is_file() && m.len() == 0,
        Err(_) => true,
    }
}

/// The stubs of one step.
#[derive(Debug, Default)]
pub(crate) struct Stubs {
    paths: Vec<String>,
    parents: Vec<(String, DirMeta)>,
}

impl Stubs {
    /// Notes mount point `p` if the runtime will have to create it in `root`.
    pub fn note(&mut self, root: &Path, p: &str) {
        self.paths.extend(first_missing(root, p));
    }

    /// Records the existing directories above each stub with their metadata
    /// before the step runs, deepest first. Call once all mounts are noted.
    pub fn seal(&mut self, root: &Path) {
        let mut out: Vec<(String, DirMeta)> = Vec::new();
        for s in &self.paths {
            let mut dir = Path::new(s).parent();
            while let Some(d) = dir {
                let text = d.to_string_lossy().into_owned();
                if text == "/" || text.is_empty() {
                    break;
                }
                let meta = fsutil::resolve(root, &text).ok().and_then(|h| dir_meta(&h));
                if let Some(meta) = meta {
                    if !out.iter().any(|(p, _)| *p == text) {
                        out.push((text, meta));
                    }
                }
                dir = d.parent();
            }
        }
        out.sort_by_key(|(p, _)| std::cmp::Reverse(p.matches('/').count()));
        self.parents = out;
    }

    /// Removes the stubs, then the untouched parent copies, from `upper`.
    /// Otherwise every RUN in an image without `/etc/hosts` would add a
    /// layer holding only `etc/`.
    pub fn remove_from(&self, upper: &Path) {
        for s in &self.paths {
            let p = upper.join(s.trim_start_matches('/'));
            if only_stubs(&p) {
                let _ = if p.is_dir() {
                    fs::remove_dir_all(&p)
                } else {
                    fs::remove_file(&p)
                };
            }
        }
        for (dir, meta) in &self.parents {
            let p = upper.join(dir.trim_start_matches('/'));
            let empty = fs::read_dir(&p).is_ok_and(|mut d| d.next().is_none());
            if empty && dir_meta(&p) == Some(*meta) && !crate::image::layer::is_opaque(&p) {
                let _ = fs::remove_dir(&p);
            }
        }
    }
}
