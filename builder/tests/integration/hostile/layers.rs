//! Hostile layers, images and contexts (SECURITY.md): each attack that once
//! reached the host or poisoned the store, built with real tars and OCI
//! layouts and run through the real `mxbuild` binary. Every test asserts the
//! clear error AND that nothing outside the store or output changed.

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tar::EntryType::{Block, Directory, Fifo, Regular};
use testkit::require;

use crate::support::layout::{diff_id, raw_tar, raw_tar_with_modes, write_layout};
use crate::support::mxbuild::{build_ready, mx, mx_in, store, text, tool};
use crate::support::{shared_store, tmp};

/// Root, runc and debian:bookworm: what these builds need.
fn can_build() -> bool {
    build_ready(&["runc"])
}

/// A directory with a canary file beside the place a test writes to.
fn canary(dir: &Path) -> PathBuf {
    let c = dir.join("canary");
    fs::create_dir_all(&c).unwrap();
    fs::write(c.join("keep"), "must survive").unwrap();
    c
}

fn canary_intact(c: &Path) {
    assert_eq!(
        fs::read_to_string(c.join("keep")).unwrap(),
        "must survive",
        "the canary beside the output was touched"
    );
}

/// The names of a store's snapshots (to see that none vanished).
fn snapshot_names(store: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(store.join("snapshots"))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// `mxbuild build -o type=local,dest=OUT CTX` on the test store.
fn build_local(ctx: &Path, out: &Path) -> Output {
    mx(&[
        "build",
        "-o",
        &format!("type=local,dest={}", out.display()),
        ctx.to_str().unwrap(),
    ])
}

fn context(t: &Path, df: &str) -> PathBuf {
    let c = t.join("ctx");
    fs::create_dir_all(&c).unwrap();
    fs::write(c.join("Dockerfile"), df).unwrap();
    c
}

/// Attack 1: a context file named `.wh...` COPYed into a layer would be
/// read back as a whiteout of `..` and delete everything beside the output.
#[test]
fn context_file_named_like_a_whiteout_is_refused() {
    let _g = shared_store();
    if !can_build() {
        return;
    }
    let t = tmp("hostile-ctx-whiteout");
    let keep = canary(&t);
    for name in [".wh...", ".wh..", ".wh.", ".wh.etc"] {
        let ctx = context(&t, "FROM scratch\nCOPY . /\n");
        fs::write(ctx.join(name), "x").unwrap();
        let out = t.join("out");
        let o = build_local(&ctx, &out);
        let msg = text(&o);
        assert!(!o.status.success(), "{name}: built:\n{msg}");
        assert!(
            msg.contains("reserved for layer whiteouts") && msg.contains(name),
            "{name}: {msg}"
        );
        canary_intact(&keep);
        fs::remove_file(ctx.join(name)).unwrap();
    }
}

/// Attack 1, from a RUN step: a file the step creates is refused the same way.
#[test]
fn run_step_creating_a_whiteout_name_is_refused() {
    let _g = shared_store();
    if !can_build() {
        return;
    }
    let t = tmp("hostile-run-whiteout");
    let keep = canary(&t);
    let ctx = context(&t, "FROM debian:bookworm\nRUN touch /.wh..\n");
    let out = t.join("out");
    let o = build_local(&ctx, &out);
    let msg = text(&o);
    assert!(!o.status.success(), "built:\n{msg}");
    assert!(msg.contains("reserved for layer whiteouts"), "{msg}");
    canary_intact(&keep);
}

/// Attack 2: an image whose layer carries `.wh...` (a whiteout of the
/// snapshot directory's parent) used in verify and FROM: refused, naming
/// the layer and the entry; every snapshot of the store survives.
#[test]
fn image_layer_with_hostile_whiteouts_is_refused() {
    let _g = shared_store();
    if !can_build() {
        return;
    }
    let t = tmp("hostile-image-whiteout");
    let keep = canary(&t);
    let before = snapshot_names(&store());
    for (tag, name) in [
        ("dotdot", &b".wh..."[..]),
        ("root", b".wh."),
        ("aufs", b".wh..wh.plnk"),
    ] {
        let layout = t.join(format!("layout-{tag}"));
        let layer = raw_tar(&[(b"etc", Directory, b"", b""), (name, Regular, b"", b"")]);
        write_layout(&layout, std::slice::from_ref(&layer), None);
        let o = mx(&["verify", &format!("oci-layout://{}", layout.display())]);
        let msg = text(&o);
        assert!(!o.status.success(), "{tag}: verify passed:\n{msg}");
        let shown = String::from_utf8_lossy(name).into_owned();
        assert!(
            msg.contains("refusing layer") && msg.contains(&shown),
            "{tag}: {msg}"
        );
        assert!(
            msg.contains(&diff_id(&layer)[..14]) || msg.contains("layer sha256:"),
            "{tag}: {msg}"
        );
        let ctx = context(&t, "FROM evil\nRUN true\n");
        let o = mx(&[
            "build",
            "--build-context",
            &format!("evil=oci-layout://{}", layout.display()),
            ctx.to_str().unwrap(),
        ]);
        assert!(!o.status.success(), "{tag}: build passed:\n{}", text(&o));
        assert!(text(&o).contains("refusing layer"), "{tag}: {}", text(&o));
    }
    let after = snapshot_names(&store());
    for s in &before {
        assert!(after.contains(s), "snapshot {s} vanished");
    }
    assert!(!after.iter().any(|s| s.starts_with(".tmp-")), "{after:?}");
    canary_intact(&keep);
    // The store still works: a build from its base image.
    let ctx = context(&t, "FROM debian:bookworm\nRUN test -x /bin/sh\n");
    let o = mx(&["build", ctx.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
}

/// Attack 3: an image whose config claims another image's diff_id but ships
/// its own layer must not plant its files under that id: the forgery is
/// refused, and the honest image later gets its own files.
#[test]
fn forged_diff_id_never_becomes_a_snapshot() {
    let _g = shared_store();
    if !can_build() {
        return;
    }
    let t = tmp("hostile-forged");
    let private = t.join("store");
    let good = raw_tar(&[(b"who", Regular, b"", b"good\n")]);
    let evil = raw_tar(&[(b"who", Regular, b"", b"evil\n")]);
    write_layout(&t.join("good"), std::slice::from_ref(&good), None);
    write_layout(&t.join("evil"), &[evil], Some(vec![diff_id(&good)]));
    let o = mx_in(
        &private,
        &[
            "verify",
            &format!("oci-layout://{}", t.join("evil").display()),
        ],
    );
    let msg = text(&o);
    assert!(!o.status.success(), "forgery verified:\n{msg}");
    assert!(
        msg.contains("rootfs.diff_ids") && msg.contains(&diff_id(&good)),
        "{msg}"
    );
    assert!(
        !snapshot_names(&private)
            .iter()
            .any(|s| s.starts_with("base-") || s.starts_with(".tmp")),
        "{:?}",
        snapshot_names(&private)
    );
    // The honest image, built from in the same store, has its own content.
    let ctx = context(&t, "FROM good\n");
    let out = t.join("out");
    let o = mx_in(
        &private,
        &[
            "build",
            "--build-context",
            &format!("good=oci-layout://{}", t.join("good").display()),
            "-o",
            &format!("type=local,dest={}", out.display()),
            ctx.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(fs::read_to_string(out.join("who")).unwrap(), "good\n");
}

/// Attack 4: the store is 0700, so a setuid file a build left in a
/// snapshot cannot be reached by another user.
#[test]
fn store_is_private_to_its_owner() {
    let _g = shared_store();
    if !can_build() || !require(tool("setpriv"), "setpriv (util-linux) is needed") {
        return;
    }
    let t = tmp("hostile-perms");
    let ctx = context(
        &t,
        "FROM debian:bookworm\nRUN cp /bin/id /usr/local/bin/suid-id && chmod 4755 /usr/local/bin/suid-id\n",
    );
    let o = mx(&["build", ctx.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let mode = fs::metadata(store()).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "store root is {mode:o}");
    let snaps = store().join("snapshots");
    let o = Command::new("setpriv")
        .args([
            "--reuid",
            "65534",
            "--regid",
            "65534",
            "--clear-groups",
            "ls",
        ])
        .arg(&snaps)
        .output()
        .unwrap();
    assert!(
        !o.status.success(),
        "uid 65534 could list {}",
        snaps.display()
    );
}

/// Attack 5: `-o type=local` of an image with a block device, a FIFO, a
/// setuid-root file and a file capability writes none of them on the host.
#[test]
fn local_export_creates_no_devices_and_no_setuid_files() {
    let _g = shared_store();
    if !can_build() {
        return;
    }
    let t = tmp("hostile-export");
    let layer = raw_tar_with_modes(
        &[
            (b"sda", Block, b"", b""),
            (b"pipe", Fifo, b"", b""),
            (b"suid", Regular, b"", b"#!/bin/sh\nid\n"),
            (b"sgid", Regular, b"", b"x"),
            (b"plain", Regular, b"", b"plain\n"),
        ],
        &[0o600, 0o600, 0o4755, 0o2755, 0o644],
    );
    write_layout(&t.join("evil"), &[layer], None);
    let ctx = context(&t, "FROM evil\n");
    let out = t.join("out");
    let o = mx(&[
        "build",
        "--build-context",
        &format!("evil=oci-layout://{}", t.join("evil").display()),
        "-o",
        &format!("type=local,dest={}", out.display()),
        ctx.to_str().unwrap(),
    ]);
    let msg = text(&o);
    assert!(o.status.success(), "{msg}");
    assert!(!out.join("sda").exists() && fs::symlink_metadata(out.join("sda")).is_err());
    assert!(fs::symlink_metadata(out.join("pipe")).is_err());
    assert_eq!(
        fs::metadata(out.join("suid")).unwrap().mode() & 0o7777,
        0o755
    );
    assert_eq!(
        fs::metadata(out.join("sgid")).unwrap().mode() & 0o7777,
        0o755
    );
    assert_eq!(fs::read_to_string(out.join("plain")).unwrap(), "plain\n");
    let warning: Vec<&str> = msg.lines().filter(|l| l.contains("local export")).collect();
    assert_eq!(warning.len(), 1, "{msg}");
    assert!(
        warning[0].contains("2 device node(s) or FIFO(s)") && warning[0].contains("2 file(s)"),
        "{msg}"
    );
    // Nothing of the kind anywhere under the output.
    for e in walk(&out) {
        let m = fs::symlink_metadata(&e).unwrap();
        let ft = m.file_type();
        assert!(
            !(ft.is_block_device() || ft.is_char_device() || ft.is_fifo()),
            "{e:?}"
        );
        assert_eq!(m.mode() & 0o6000, 0, "{e:?}");
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if e.file_type().unwrap().is_dir() {
            out.extend(walk(&p));
        }
        out.push(p);
    }
    out
}

/// Attack 12: a gzip bomb that fills the store's filesystem fails with the
/// disk error and leaves no half-unpacked snapshot behind (a 48 MiB tmpfs
/// stands in for a full disk).
#[test]
fn layer_that_fills_the_disk_leaves_no_partial_snapshot() {
    let _g = shared_store();
    if !can_build() {
        return;
    }
    let t = tmp("hostile-bomb");
    let small = t.join("small");
    fs::create_dir_all(&small).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=48m", "tmpfs"])
        .arg(&small)
        .status()
        .unwrap();
    assert!(mounted.success());
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(&self.0).status();
        }
    }
    let _u = Unmount(small.clone());
    let zeros = vec![0u8; 96 << 20];
    let layer = raw_tar(&[(b"bomb", Regular, b"", &zeros)]);
    write_layout(&t.join("bomb"), &[layer], None);
    let private = small.join("store");
    let o = mx_in(
        &private,
        &[
            "verify",
            &format!("oci-layout://{}", t.join("bomb").display()),
        ],
    );
    let msg = text(&o);
    assert!(!o.status.success(), "{msg}");
    assert!(msg.to_lowercase().contains("no space"), "{msg}");
    let left = snapshot_names(&private);
    assert!(left.is_empty(), "left behind: {left:?}");
    let work: Vec<_> = fs::read_dir(private.join("work"))
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(work.is_empty(), "left in work/: {work:?}");
}

/// A stage with several RUN steps that change nothing, then real ones:
/// builds (identical empty layers never reach overlayfs twice), records
/// every RUN as a layer as BuildKit does, and verifies.
#[test]
fn no_op_run_steps_do_not_break_later_steps() {
    let _g = shared_store();
    if !can_build() {
        return;
    }
    let t = tmp("hostile-noop");
    let ctx = context(
        &t,
        "FROM debian:bookworm\nRUN true\nRUN true\nRUN test -d /etc\nRUN echo hi > /hi\nCOPY f /f\nRUN cat /hi /f\n",
    );
    fs::write(ctx.join("f"), "f\n").unwrap();
    let oci = t.join("img");
    let o = mx(&[
        "build",
        "--no-cache",
        "--verify",
        "strict",
        "-o",
        &format!("type=oci,dest={}", oci.display()),
        ctx.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let o = mx(&["verify", &format!("oci-layout://{}", oci.display())]);
    assert!(o.status.success(), "{}", text(&o));
    // The config: one layer per RUN and COPY, none marked empty.
    let out = Command::new("skopeo")
        .args(["inspect", "--config", &format!("oci:{}", oci.display())])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let cfg: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let hist = cfg["history"].as_array().unwrap();
    let steps: Vec<_> = hist
        .iter()
        .filter(|h| {
            h["created_by"]
                .as_str()
                .unwrap_or("")
                .ends_with("# buildkit")
        })
        .collect();
    assert_eq!(steps.len(), 6, "{hist:?}");
    assert!(steps.iter().all(|h| h["empty_layer"] != true), "{hist:?}");
    let diff_ids = cfg["rootfs"]["diff_ids"].as_array().unwrap();
    // The four RUNs that write nothing made the same, empty layer (a tar of two zero blocks).
    let empty = diff_id(&[0u8; 1024]);
    assert_eq!(
        diff_ids.iter().filter(|d| **d == empty).count(),
        4,
        "{diff_ids:?}"
    );
}
