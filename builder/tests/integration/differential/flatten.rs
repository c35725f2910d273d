//! An OCI image layout read back as the filesystem a container would see:
//! every layer applied in order (whiteouts and opaque directories honoured,
//! hard links kept as groups), without writing anything to disk. Both
//! builders' results go through this one reader, so a difference it shows
//! is a difference in the images, not in how they were unpacked.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::Read;
use std::path::Path;

use mxbuild::image::compress::Compression;
use sha2::{Digest as _, Sha256};

/// One path of a flattened filesystem: what the comparison looks at.
/// Compared through its `Display` form, which leaves the inode out.
#[derive(Debug, Clone)]
pub struct Entry {
    /// `dir`, `file`, `symlink`, `char`, `block`, `fifo`.
    pub kind: &'static str,
    /// Permission bits with setuid/setgid/sticky.
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    /// sha256 of a regular file's bytes.
    pub content: Option<String>,
    /// A symlink's target.
    pub link: Option<String>,
    /// The other paths sharing this file's inode, sorted (hard links).
    pub hardlinks: Vec<String>,
    /// Stand-in for the inode while layers are applied.
    inode: u64,
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {:04o} {}:{}",
            self.kind, self.mode, self.uid, self.gid
        )?;
        if let Some(c) = &self.content {
            write!(f, " sha256:{}", c.get(..12).unwrap_or(c))?;
        }
        if let Some(l) = &self.link {
            write!(f, " -> {l}")?;
        }
        if !self.hardlinks.is_empty() {
            write!(f, " hardlinked with {}", self.hardlinks.join(", "))?;
        }
        Ok(())
    }
}

/// A flattened filesystem, by absolute path (the root itself left out).
pub type Tree = BTreeMap<String, Entry>;

/// One platform's image from a layout: its filesystem and its config.
pub struct Image {
    pub tree: Tree,
    /// The image config's `config` object (Env, Cmd, ...).
    pub config: serde_json::Value,
    /// The layers' diff_ids, base first.
    pub diff_ids: Vec<String>,
}

fn json(path: &Path) -> serde_json::Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn blob(layout: &Path, digest: &str) -> std::path::PathBuf {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    layout.join("blobs/sha256").join(hex)
}

/// The linux/amd64 manifest of a layout, following nested indexes.
fn manifest(layout: &Path) -> serde_json::Value {
    let mut doc = json(&layout.join("index.json"));
    loop {
        let Some(list) = doc["manifests"].as_array() else {
            return doc;
        };
        let pick = list
            .iter()
            .find(|m| m["platform"]["architecture"] == "amd64")
            .or_else(|| list.first())
            .unwrap_or_else(|| panic!("{}: empty index", layout.display()));
        let digest = pick["digest"].as_str().unwrap();
        doc = json(&blob(layout, digest));
    }
}

/// Reads the image in `layout`. When its first layers are `base`'s, the
/// base's tree is reused instead of reading them again.
pub fn read(layout: &Path, base: Option<&Image>) -> Image {
    let m = manifest(layout);
    let config = json(&blob(layout, m["config"]["digest"].as_str().unwrap()));
    let diff_ids: Vec<String> = config["rootfs"]["diff_ids"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|d| d.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let layers: Vec<String> = m["layers"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|l| l["digest"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let mut fs = Applier::default();
    let mut skip = 0;
    if let Some(b) = base.filter(|b| diff_ids.starts_with(&b.diff_ids)) {
        fs.tree = b.tree.clone();
        fs.next_inode = 1 << 40;
        skip = b.diff_ids.len();
    }
    for digest in layers.iter().skip(skip) {
        let r = Compression::open_decompressed(&blob(layout, digest)).unwrap();
        fs.apply(r);
    }
    Image {
        tree: fs.finish(),
        config: config["config"].clone(),
        diff_ids,
    }
}

/// Applies layer tars to a tree.
#[derive(Default)]
struct Applier {
    tree: Tree,
    next_inode: u64,
}

impl Applier {
    fn apply(&mut self, r: Box<dyn Read>) {
        let mut ar = tar::Archive::new(r);
        for e in ar.entries().unwrap() {
            let mut e = e.unwrap();
            let raw = String::from_utf8_lossy(&e.path_bytes()).into_owned();
            let Some(path) = clean(&raw) else { continue };
            let (parent, name) = path.rsplit_once('/').unwrap_or(("", &path));
            if name == ".wh..wh..opq" {
                self.remove_under(parent);
                continue;
            }
            if let Some(gone) = name.strip_prefix(".wh.") {
                let victim = format!("{parent}/{gone}");
                self.remove_under(&victim);
                self.tree.remove(&victim);
                continue;
            }
            let h = e.header().clone();
            let entry = self.entry(&mut e, &h);
            if entry.kind != "dir" {
                self.remove_under(&path);
            }
            self.tree.insert(path, entry);
        }
    }

    fn entry(&mut self, e: &mut tar::Entry<'_, Box<dyn Read>>, h: &tar::Header) -> Entry {
        use tar::EntryType as T;
        let kind = match h.entry_type() {
            T::Directory => "dir",
            T::Symlink => "symlink",
            T::Char => "char",
            T::Block => "block",
            T::Fifo => "fifo",
            _ => "file",
        };
        if h.entry_type() == T::Link {
            let target = e
                .link_name_bytes()
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .and_then(|t| clean(&t))
                .unwrap_or_default();
            if let Some(t) = self.tree.get(&target) {
                return t.clone();
            }
        }
        self.next_inode += 1;
        let content = (kind == "file").then(|| {
            let mut hash = Sha256::new();
            std::io::copy(e, &mut hash).unwrap();
            format!("{:x}", hash.finalize())
        });
        let link = (kind == "symlink").then(|| {
            e.link_name_bytes()
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default()
        });
        Entry {
            kind,
            mode: h.mode().unwrap_or(0) & 0o7777,
            uid: h.uid().unwrap_or(0),
            gid: h.gid().unwrap_or(0),
            content,
            link,
            hardlinks: Vec::new(),
            inode: self.next_inode,
        }
    }

    /// Removes everything strictly beneath `dir`.
    fn remove_under(&mut self, dir: &str) {
        let prefix = format!("{dir}/");
        let doomed: Vec<String> = self
            .tree
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(k, _)| k.clone())
            .collect();
        for k in doomed {
            self.tree.remove(&k);
        }
    }

    /// The tree with hard-link groups filled in.
    fn finish(self) -> Tree {
        let mut tree = self.tree;
        for e in tree.values_mut() {
            e.hardlinks.clear();
        }
        let mut groups: HashMap<u64, Vec<String>> = HashMap::new();
        for (p, e) in &tree {
            if e.kind == "file" {
                groups.entry(e.inode).or_default().push(p.clone());
            }
        }
        for paths in groups.values().filter(|g| g.len() > 1) {
            for p in paths {
                if let Some(e) = tree.get_mut(p) {
                    e.hardlinks = paths.iter().filter(|o| *o != p).cloned().collect();
                }
            }
        }
        tree
    }
}

/// `./a/b/` -> `/a/b`; None for the root.
fn clean(raw: &str) -> Option<String> {
    let parts: Vec<&str> = raw
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    (!parts.is_empty()).then(|| format!("/{}", parts.join("/")))
}
