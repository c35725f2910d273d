//! Layers: a directory goes into the store as a layer and comes back out the
//! same (files, dirs, symlinks, hardlinks, long names, xattrs, FIFOs, modes,
//! mtimes); the same tree gives the same digest; whiteouts delete; and
//! hostile tars are refused without writing outside the root.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use mxbuild::image::compress::Compression;
use mxbuild::image::{extract, layer};
use mxbuild::store::blobs::Blobs;

use crate::support::layout::{RawEntry, raw_tar};
use crate::support::tmp;

fn set_mtime(p: &Path, secs: i64) {
    let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
    let t = libc::timespec {
        tv_sec: secs,
        tv_nsec: 0,
    };
    unsafe {
        libc::utimensat(
            libc::AT_FDCWD,
            c.as_ptr(),
            [t, t].as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
}

fn sample_tree(dir: &Path) {
    fs::create_dir_all(dir.join("etc/app")).unwrap();
    fs::write(dir.join("etc/app/config"), "key=value\n").unwrap();
    fs::write(dir.join("bin"), b"\x7fELF fake").unwrap();
    fs::set_permissions(dir.join("bin"), fs::Permissions::from_mode(0o4755)).unwrap();
    std::os::unix::fs::symlink("etc/app/config", dir.join("link")).unwrap();
    fs::hard_link(dir.join("bin"), dir.join("bin-hardlink")).unwrap();
    let long = "d".repeat(60);
    fs::create_dir_all(dir.join(&long)).unwrap();
    fs::write(dir.join(&long).join("f".repeat(70)), "long name").unwrap();
    let fifo = std::ffi::CString::new(dir.join("fifo").as_os_str().as_encoded_bytes()).unwrap();
    unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) };
    let c =
        std::ffi::CString::new(dir.join("etc/app/config").as_os_str().as_encoded_bytes()).unwrap();
    unsafe {
        libc::setxattr(
            c.as_ptr(),
            c"user.mxbuild".as_ptr(),
            b"yes".as_ptr().cast(),
            3,
            0,
        )
    };
}

#[test]
fn round_trip_keeps_everything() {
    let t = tmp("layers-roundtrip");
    let (src, store, out) = (t.join("src"), t.join("store"), t.join("out"));
    fs::create_dir_all(&src).unwrap();
    fs::create_dir_all(&out).unwrap();
    sample_tree(&src);
    set_mtime(&src.join("bin"), 1_000_000);
    let blobs = Blobs::open(&store).unwrap();
    for compression in [Compression::Gzip, Compression::None, Compression::Zstd] {
        let l = layer::from_dir(
            &src,
            &blobs,
            layer::LayerOptions {
                compression,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(l.media_type, compression.media_type());
        blobs.verify(&l.digest).unwrap();
        let dest = out.join(format!("{compression:?}"));
        fs::create_dir_all(&dest).unwrap();
        let applied = extract::apply(
            fs::File::open(blobs.path(&l.digest)).unwrap(),
            &dest,
            extract::Mode::Layer,
            Some(&l.diff_id),
        )
        .unwrap();
        assert_eq!(applied.diff_id, l.diff_id);
        let stats = applied.stats;
        assert!(stats.entries >= 8, "{stats:?}");
        assert_eq!(
            fs::read_to_string(dest.join("etc/app/config")).unwrap(),
            "key=value\n"
        );
        assert_eq!(
            fs::read_link(dest.join("link")).unwrap(),
            Path::new("etc/app/config")
        );
        let bin = fs::metadata(dest.join("bin")).unwrap();
        assert_eq!(bin.mode() & 0o7777, 0o4755);
        assert_eq!(bin.mtime(), 1_000_000);
        assert_eq!(
            bin.ino(),
            fs::metadata(dest.join("bin-hardlink")).unwrap().ino(),
            "hardlink kept"
        );
        let long = dest.join("d".repeat(60)).join("f".repeat(70));
        assert_eq!(fs::read_to_string(long).unwrap(), "long name");
        assert!(
            fs::symlink_metadata(dest.join("fifo"))
                .unwrap()
                .file_type()
                .is_fifo()
        );
        let c = std::ffi::CString::new(dest.join("etc/app/config").as_os_str().as_encoded_bytes())
            .unwrap();
        let mut v = [0u8; 8];
        let n = unsafe {
            libc::getxattr(
                c.as_ptr(),
                c"user.mxbuild".as_ptr(),
                v.as_mut_ptr().cast(),
                v.len(),
            )
        };
        assert_eq!(
            &v[..n.max(0) as usize],
            b"yes",
            "xattr kept ({compression:?})"
        );
    }
}

use std::os::unix::fs::FileTypeExt;

#[test]
fn same_tree_same_digest_and_source_date_epoch() {
    let t = tmp("layers-determinism");
    let store = Blobs::open(&t.join("store")).unwrap();
    let a = t.join("a");
    fs::create_dir_all(&a).unwrap();
    sample_tree(&a);
    let opts = layer::LayerOptions::default();
    let first = layer::from_dir(&a, &store, opts).unwrap();
    let second = layer::from_dir(&a, &store, opts).unwrap();
    assert_eq!(first, second, "same directory, same layer");
    // A copy made later has newer mtimes: different layer, unless clamped.
    let b = t.join("b");
    fs::create_dir_all(&b).unwrap();
    sample_tree(&b);
    for p in [&a, &b] {
        set_mtime(&p.join("bin"), 2_000_000_000);
    }
    let epoch = layer::LayerOptions {
        epoch: Some(1_700_000_000),
        ..opts
    };
    let la = layer::from_dir(&a, &store, epoch).unwrap();
    let lb = layer::from_dir(&b, &store, epoch).unwrap();
    assert_eq!(
        la.diff_id, lb.diff_id,
        "SOURCE_DATE_EPOCH makes the same content the same layer"
    );
    assert_eq!(la.digest, lb.digest, "and the gzip bytes too");
}

#[test]
fn whiteouts_delete_lower_content() {
    let t = tmp("layers-whiteouts");
    let root = t.join("root");
    fs::create_dir_all(root.join("a")).unwrap();
    fs::write(root.join("a/x"), "x").unwrap();
    fs::write(root.join("a/y"), "y").unwrap();
    fs::write(root.join("b"), "b").unwrap();
    let mut tar = tar::Builder::new(Vec::new());
    for (name, body) in [("a/.wh..wh..opq", ""), ("a/z", "z"), (".wh.b", "")] {
        let mut h = tar::Header::new_ustar();
        h.set_path(name).unwrap();
        h.set_size(body.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append(&h, body.as_bytes()).unwrap();
    }
    let bytes = tar.into_inner().unwrap();
    let stats = extract::apply(&bytes[..], &root, extract::Mode::Layer, None)
        .unwrap()
        .stats;
    assert_eq!(stats.whiteouts, 2);
    let mut names: Vec<_> = fs::read_dir(root.join("a"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names, ["z"]);
    assert!(!root.join("b").exists());
}

#[test]
fn hostile_tars_are_refused_and_write_nothing_outside() {
    use tar::EntryType::{Link, Regular, Symlink};
    let t = tmp("layers-hostile");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("traversal", raw_tar(&[(b"../escaped", Regular, b"", b"x")])),
        (
            "deep traversal",
            raw_tar(&[(b"a/../../escaped", Regular, b"", b"x")]),
        ),
        (
            "whiteout of parent",
            raw_tar(&[(b".wh...", Regular, b"", b"")]),
        ),
        ("whiteout of root", raw_tar(&[(b".wh.", Regular, b"", b"")])),
        (
            "nested whiteout of parent",
            raw_tar(&[(b"a/.wh..", Regular, b"", b"")]),
        ),
        (
            "symlink escape",
            raw_tar(&[
                (b"link", Symlink, b"../outside", b""),
                (b"link/escaped", Regular, b"", b"x"),
            ]),
        ),
        (
            "absolute symlink escape",
            raw_tar(&[
                (b"link", Symlink, b"/", b""),
                (b"link/escaped", Regular, b"", b"x"),
            ]),
        ),
        (
            "hardlink escape",
            raw_tar(&[(b"h", Link, b"../outside/secret", b"")]),
        ),
        (
            "hardlink absolute",
            raw_tar(&[(b"h", Link, b"/etc/passwd", b"")]),
        ),
    ];
    for (what, bytes) in cases {
        let base = t.join(what.replace(' ', "-"));
        let root = base.join("root");
        let outside = base.join("outside");
        fs::create_dir_all(&root).unwrap();
        fs::create_dir_all(&outside).unwrap();
        fs::write(outside.join("secret"), "secret").unwrap();
        let err = extract::apply(&bytes[..], &root, extract::Mode::Layer, None).expect_err(what);
        let msg = err.to_string();
        assert!(
            msg.contains("refusing layer") || msg.contains("cannot apply"),
            "{what}: {msg}"
        );
        let mut left: Vec<_> = fs::read_dir(&base)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        left.sort();
        assert_eq!(
            left,
            ["outside", "root"],
            "{what}: something was written beside the root"
        );
        assert_eq!(fs::read_dir(&outside).unwrap().count(), 1, "{what}");
        assert!(!Path::new("/escaped").exists());
    }
    // A PAX header that claims to be enormous: an error, not an allocation or a panic.
    let mut h = tar::Header::new_ustar();
    h.set_path("pax").unwrap();
    h.set_entry_type(tar::EntryType::XHeader);
    h.set_size(1 << 40);
    h.set_cksum();
    let mut bytes = h.as_bytes().to_vec();
    bytes.extend_from_slice(b"30 path=aaaaaaaaaaaaaaaaaaaaa\n");
    let root = t.join("pax-root");
    fs::create_dir_all(&root).unwrap();
    assert!(extract::apply(&bytes[..], &root, extract::Mode::Layer, None).is_err());
}

/// Attack 14: names are bytes. Two entries whose names differ only in a
/// non-UTF-8 byte stay two files, and a layer made from them keeps both.
#[test]
fn non_utf8_names_are_kept_exactly() {
    use std::os::unix::ffi::OsStrExt;
    let t = tmp("layers-bytes");
    let bytes = raw_tar(&[
        (b"caf\xe9", tar::EntryType::Regular, b"", b"e9"),
        (b"caf\xe8", tar::EntryType::Regular, b"", b"e8"),
    ]);
    let root = t.join("root");
    fs::create_dir_all(&root).unwrap();
    extract::apply(&bytes[..], &root, extract::Mode::Layer, None).unwrap();
    let e9 = root.join(std::ffi::OsStr::from_bytes(b"caf\xe9"));
    let e8 = root.join(std::ffi::OsStr::from_bytes(b"caf\xe8"));
    assert_eq!(fs::read(&e9).unwrap(), b"e9");
    assert_eq!(fs::read(&e8).unwrap(), b"e8");
    // Round trip through a layer, with a long non-UTF-8 name too (PAX path).
    let long = [&b"l".repeat(120)[..], b"\xff"].concat();
    fs::write(root.join(std::ffi::OsStr::from_bytes(&long)), "long").unwrap();
    let blobs = Blobs::open(&t.join("store")).unwrap();
    let l = layer::from_dir(&root, &blobs, Default::default()).unwrap();
    let out = t.join("out");
    fs::create_dir_all(&out).unwrap();
    let f = fs::File::open(blobs.path(&l.digest)).unwrap();
    extract::apply(f, &out, extract::Mode::Layer, Some(&l.diff_id)).unwrap();
    assert_eq!(
        fs::read(out.join(std::ffi::OsStr::from_bytes(b"caf\xe9"))).unwrap(),
        b"e9"
    );
    assert_eq!(
        fs::read(out.join(std::ffi::OsStr::from_bytes(b"caf\xe8"))).unwrap(),
        b"e8"
    );
    assert_eq!(
        fs::read(out.join(std::ffi::OsStr::from_bytes(&long))).unwrap(),
        b"long"
    );
}

/// Attack 14: a GNU sparse entry (made by GNU tar) is materialised with its
/// holes as zeros; the PAX sparse format, which the reader would hand over
/// as a map plus data, is refused with a clear error instead of written wrong.
#[test]
fn sparse_entries_are_materialised_or_refused() {
    let t = tmp("layers-sparse");
    let src = t.join("src");
    fs::create_dir_all(&src).unwrap();
    let mut want = vec![0u8; 3 << 20];
    want[1_000_000..1_000_006].copy_from_slice(b"middle");
    want.extend_from_slice(b"end\n");
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut f = fs::File::create(src.join("sparse")).unwrap();
        f.set_len(3 << 20).unwrap();
        f.seek(SeekFrom::Start(1_000_000)).unwrap();
        f.write_all(b"middle").unwrap();
        f.seek(SeekFrom::Start(3 << 20)).unwrap();
        f.write_all(b"end\n").unwrap();
    }
    for (format, ok) in [("gnu", true), ("posix", false)] {
        let archive = t.join(format!("{format}.tar"));
        let st = std::process::Command::new("tar")
            .args(["--sparse", &format!("--format={format}"), "-cf"])
            .arg(&archive)
            .arg("-C")
            .arg(&src)
            .arg("sparse")
            .status()
            .unwrap();
        assert!(st.success());
        let root = t.join(format!("root-{format}"));
        fs::create_dir_all(&root).unwrap();
        let r = extract::apply(
            fs::File::open(&archive).unwrap(),
            &root,
            extract::Mode::Layer,
            None,
        );
        if ok {
            r.unwrap();
            assert!(
                fs::read(root.join("sparse")).unwrap() == want,
                "{format}: content differs"
            );
        } else {
            let msg = r.expect_err(format).to_string();
            assert!(msg.contains("sparse"), "{msg}");
            assert!(!root.join("sparse").exists());
        }
    }
}

/// A small deterministic PRNG (xorshift64*): the fuzz test needs no crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[(self.next() % v.len() as u64) as usize]
    }
}

/// Every file below `dir` with its bytes (symlinks as their targets).
fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let m = fs::symlink_metadata(&p).unwrap();
            let body = if m.is_dir() {
                stack.push(p.clone());
                b"<dir>".to_vec()
            } else if m.file_type().is_symlink() {
                fs::read_link(&p)
                    .unwrap()
                    .into_os_string()
                    .into_encoded_bytes()
            } else if m.is_file() {
                fs::read(&p).unwrap()
            } else {
                b"<special>".to_vec()
            };
            out.push((p, body));
        }
    }
    out.sort();
    out
}

/// Property: whatever a layer's entries are (random names from a hostile
/// vocabulary, types, whiteouts, links, in every mode), applying it never
/// panics and never writes, deletes or changes anything outside the root.
#[test]
fn fuzzed_layers_never_touch_anything_outside_the_root() {
    use tar::EntryType::*;
    let t = tmp("layers-fuzz");
    let outside = t.join("outside");
    fs::create_dir_all(outside.join("dir")).unwrap();
    fs::write(outside.join("secret"), "secret").unwrap();
    fs::write(outside.join("dir/file"), "file").unwrap();
    let before = tree(&t);
    let parts: &[&[u8]] = &[
        b"a",
        b"b",
        b"..",
        b".",
        b"",
        b".wh.",
        b".wh..",
        b".wh...",
        b".wh.a",
        b".wh.b",
        b".wh..wh..opq",
        b".wh..wh.plnk",
        b"outside",
        b"secret",
        b"\xff",
        b"dir",
    ];
    let links: &[&[u8]] = &[
        b"",
        b"a",
        b"../outside",
        b"../outside/secret",
        b"/",
        b"/etc",
        b"a/../..",
        b"b/c",
        b"../../outside/dir",
        b".wh.a",
    ];
    let kinds = [
        Regular, Directory, Symlink, Link, Fifo, Char, GNUSparse, Regular, Directory,
    ];
    let modes = [
        extract::Mode::Layer,
        extract::Mode::Overlay,
        extract::Mode::Export,
        extract::Mode::Archive,
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for case in 0..400 {
        let n = 1 + rng.next() % 10;
        let mut names: Vec<Vec<u8>> = Vec::new();
        for _ in 0..n {
            let depth = 1 + rng.next() % 3;
            let name: Vec<&[u8]> = (0..depth).map(|_| *rng.pick(parts)).collect();
            names.push(name.join(&b'/'));
        }
        let entries: Vec<RawEntry<'_>> = names
            .iter()
            .map(|name| (&name[..], *rng.pick(&kinds), *rng.pick(links), &b"data"[..]))
            .collect();
        let bytes = raw_tar(&entries);
        let root = t.join("root");
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(&root).unwrap();
        let mode = *rng.pick(&modes);
        let _ = extract::apply(&bytes[..], &root, mode, None);
        let _ = fs::remove_dir_all(&root);
        let now = tree(&t);
        assert_eq!(
            now, before,
            "case {case} ({mode:?}) changed something outside the root: {names:?}"
        );
    }
}
