//! Local image references: a name (already normalised by the caller, e.g.
//! `docker.io/library/debian:bookworm`) maps to the digest of an image index
//! in the blob store. One small file per name under `<root>/refs/`, written
//! to a temp file and renamed, so a reader sees the old or the new digest,
//! never half of one, and two processes updating different names never
//! contend.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::digest::Digest;
use super::error::StoreError;

/// The reference table of a store.
#[derive(Debug, Clone)]
pub struct Refs {
    dir: PathBuf,
}

/// Encodes a name into one file name: bytes outside `[A-Za-z0-9._-]` become
/// `%XX`, so `/` and `:` are safe and the mapping is reversible.
fn encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn decode(file: &str) -> Option<String> {
    let bytes = file.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = file.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

impl Refs {
    /// Opens (creating) the reference directory under the store root.
    pub fn open(store_root: &Path) -> io::Result<Refs> {
        let dir = store_root.join("refs");
        fs::create_dir_all(&dir)?;
        Ok(Refs { dir })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(encode(name))
    }

    /// The index digest `name` points to, if any.
    pub fn get(&self, name: &str) -> Result<Option<Digest>, StoreError> {
        match fs::read_to_string(self.path(name)) {
            Ok(s) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|source| StoreError::DamagedRef {
                    name: name.to_string(),
                    source,
                }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Points `name` at `index` (atomically replacing any previous target).
    pub fn set(&self, name: &str, index: &Digest) -> io::Result<()> {
        let tmp = self
            .dir
            .join(format!(".tmp-{}-{}", std::process::id(), encode(name)));
        {
            let mut f = fs::File::create(&tmp)?;
            writeln!(f, "{index}")?;
            f.sync_all()?;
        }
        fs::rename(&tmp, self.path(name))
    }

    /// Removes `name`; says whether it existed.
    pub fn remove(&self, name: &str) -> io::Result<bool> {
        match fs::remove_file(self.path(name)) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Every reference, sorted by name. Damaged entries are reported as errors.
    pub fn list(&self) -> Result<Vec<(String, Digest)>, StoreError> {
        let mut out = Vec::new();
        for e in fs::read_dir(&self.dir)? {
            let file = e?.file_name();
            let Some(file) = file.to_str() else { continue };
            if file.starts_with(".tmp-") {
                continue;
            }
            let Some(name) = decode(file) else { continue };
            if let Some(d) = self.get(&name)? {
                out.push((name, d));
            }
        }
        out.sort();
        Ok(out)
    }

    /// Removes temp files left by killed writers (prune).
    pub fn clean_tmp(&self) -> io::Result<usize> {
        let mut n = 0;
        for e in fs::read_dir(&self.dir)? {
            let e = e?;
            if e.file_name().to_string_lossy().starts_with(".tmp-") {
                fs::remove_file(e.path())?;
                n += 1;
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_file_names() {
        for n in [
            "docker.io/library/debian:bookworm",
            "127.0.0.1:5000/a/b:v1",
            "x%y",
            "ünïcode/ok:1",
        ] {
            let f = encode(n);
            assert!(!f.contains('/') && !f.contains(':'), "{f}");
            assert_eq!(decode(&f).as_deref(), Some(n));
        }
        assert_eq!(decode("%G0"), None);
        assert_eq!(decode("%4"), None);
    }

    #[test]
    fn set_get_list_remove() {
        let dir = std::env::temp_dir().join(format!("mxbuild-refs-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let refs = Refs::open(&dir).unwrap();
        let a = Digest::of(b"a");
        let b = Digest::of(b"b");
        assert_eq!(refs.get("n:1").unwrap(), None);
        refs.set("n:1", &a).unwrap();
        refs.set("m/x:2", &b).unwrap();
        refs.set("n:1", &b).unwrap();
        assert_eq!(refs.get("n:1").unwrap(), Some(b.clone()));
        assert_eq!(
            refs.list().unwrap(),
            vec![("m/x:2".to_string(), b.clone()), ("n:1".to_string(), b)]
        );
        assert!(refs.remove("n:1").unwrap());
        assert!(!refs.remove("n:1").unwrap());
        fs::write(dir.join("refs/bad"), "nonsense").unwrap();
        assert!(refs.get("bad").is_err());
        fs::remove_dir_all(&dir).unwrap();
    }
}
