//! What a tar entry's name means once it is applied: the root itself, a
//! path below the root, a whiteout or an opaque marker. Names are bytes and
//! stay bytes (two files whose names differ only in non-UTF-8 bytes stay two
//! files). A leading `/` is dropped, as containerd and docker read such names
//! (relative to the root). Everything that could reach outside the root, or
//! that a layer writer would never produce, is refused here, before anything
//! is written: `..`, whiteouts of `.`, `..` or nothing (`.wh.`,
//! `.wh..`, `.wh...`), AUFS metadata other than the opaque marker, and
//! whiteout names used as directories.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// The prefix of a whiteout's name (OCI image spec, "Whiteouts").
pub const WHITEOUT: &[u8] = b".wh.";
/// The opaque marker: everything the lower layers put in this directory is hidden.
pub const OPAQUE: &[u8] = b".wh..wh..opq";
/// AUFS metadata names start with this; only [`OPAQUE`] is meaningful.
const META: &[u8] = b".wh..wh.";

/// A checked entry name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryName {
    /// `.` or `./`: the root directory itself.
    Root,
    /// A path below the root (relative, normal components only).
    Path(PathBuf),
    /// `.wh.NAME`: delete `parent/NAME`.
    Whiteout {
        /// The directory (relative, may be empty).
        parent: PathBuf,
        /// The one normal component it hides.
        name: Vec<u8>,
    },
    /// `.wh..wh..opq`: hide what lower layers put in `parent`.
    Opaque {
        /// The directory (relative, may be empty).
        parent: PathBuf,
    },
}

/// Why a name is refused.
pub type Refusal = &'static str;

/// Classifies `raw` (a tar name) or says why it is refused.
pub fn classify(raw: &[u8]) -> Result<EntryName, Refusal> {
    let parts: Vec<&[u8]> = raw
        .split(|&b| b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
        .collect();
    let Some((last, dirs)) = parts.split_last() else {
        return Ok(EntryName::Root);
    };
    let mut parent = PathBuf::new();
    for d in dirs {
        check_component(d)?;
        if d.starts_with(WHITEOUT) {
            return Err("uses a whiteout name as a directory");
        }
        parent.push(OsStr::from_bytes(d));
    }
    check_component(last)?;
    if *last == OPAQUE {
        return Ok(EntryName::Opaque { parent });
    }
    if last.starts_with(META) {
        return Err("is AUFS metadata (only .wh..wh..opq is a valid marker)");
    }
    if let Some(hidden) = last.strip_prefix(WHITEOUT) {
        if hidden.is_empty() || hidden == b"." || hidden == b".." {
            return Err("is a whiteout of nothing, `.` or `..`");
        }
        return Ok(EntryName::Whiteout {
            parent,
            name: hidden.to_vec(),
        });
    }
    parent.push(OsStr::from_bytes(last));
    Ok(EntryName::Path(parent))
}

fn check_component(c: &[u8]) -> Result<(), Refusal> {
    if c == b".." {
        return Err("contains `..`");
    }
    Ok(())
}

/// A link target inside the root (hardlinks): must be a plain path.
pub fn link_target(raw: &[u8]) -> Result<PathBuf, Refusal> {
    match classify(raw)? {
        EntryName::Path(p) => Ok(p),
        EntryName::Root => Err("is a hardlink to the root itself"),
        EntryName::Whiteout { .. } | EntryName::Opaque { .. } => {
            Err("is a hardlink to a whiteout name")
        }
    }
}

/// A name for messages: printable ASCII kept, other bytes as `\xNN`.
pub fn shown(raw: &[u8]) -> String {
    raw.escape_ascii().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(s: &str) -> EntryName {
        EntryName::Path(PathBuf::from(s))
    }

    #[test]
    fn plain_names_and_the_root() {
        assert_eq!(classify(b"./usr/bin/"), Ok(path("usr/bin")));
        assert_eq!(classify(b"a//b/./c"), Ok(path("a/b/c")));
        assert_eq!(classify(b"."), Ok(EntryName::Root));
        assert_eq!(classify(b"./"), Ok(EntryName::Root));
        assert_eq!(classify(b"..."), Ok(path("...")));
        assert_eq!(classify(b"/etc/passwd"), Ok(path("etc/passwd")));
        assert_eq!(classify(b"/"), Ok(EntryName::Root));
        assert_eq!(classify(b"a/.whx"), Ok(path("a/.whx")));
    }

    #[test]
    fn non_utf8_names_stay_bytes() {
        let EntryName::Path(p) = classify(b"caf\xe9").unwrap() else {
            panic!()
        };
        assert_eq!(p.as_os_str().as_bytes(), b"caf\xe9");
        assert_ne!(classify(b"caf\xe9"), classify(b"caf\xe8"));
    }

    #[test]
    fn whiteouts_hide_one_normal_component() {
        assert_eq!(
            classify(b"etc/.wh.passwd"),
            Ok(EntryName::Whiteout {
                parent: "etc".into(),
                name: b"passwd".to_vec()
            })
        );
        assert_eq!(
            classify(b"./var/.wh..wh..opq"),
            Ok(EntryName::Opaque {
                parent: "var".into()
            })
        );
        assert_eq!(
            classify(b".wh..wh..opq"),
            Ok(EntryName::Opaque {
                parent: PathBuf::new()
            })
        );
    }

    #[test]
    fn hostile_names_are_refused() {
        for bad in [
            &b".wh.."[..],
            b".wh...",
            b".wh.",
            b"a/.wh.",
            b"a/.wh..",
            b"a/.wh...",
            b".wh..wh.plnk",
            b".wh..wh.aufs",
            b"../x",
            b"a/../../x",
            b".wh.d/file",
            b"x/.wh..wh..opq/y",
        ] {
            assert!(classify(bad).is_err(), "{}", shown(bad));
        }
    }

    #[test]
    fn link_targets_are_plain_paths() {
        assert_eq!(link_target(b"./bin/sh"), Ok(PathBuf::from("bin/sh")));
        assert!(link_target(b".").is_err());
        assert!(link_target(b"a/.wh.b").is_err());
        assert!(link_target(b"../etc/shadow").is_err());
    }
}
