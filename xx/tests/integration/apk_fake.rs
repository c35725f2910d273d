//! xx-apk in a fake Alpine root: a chroot with busybox, an Alpine
//! os-release, and a stand-in `apk` that records its arguments and makes the
//! files a real install would. No Alpine mirror is reachable here, so this
//! checks what xx-apk asks apk to do and what it does around it.

use std::path::Path;

use crate::support::{Chroot, is_root, require};

const FAKE_APK: &str = r#"#!/bin/sh
# Stand-in apk: logs its arguments; does the filesystem part of an install.
echo "apk $*" >> /apk.log
root=/
prev=
pkgs=
seen_add=
for a in "$@"; do
  case "$prev" in --root|-p) root="$a" ;; esac
  case "$a" in
    add) seen_add=1 ;;
    -*) ;;
    *) [ -n "$seen_add" ] && [ "$prev" != "--root" ] && [ "$prev" != "-p" ] && pkgs="$pkgs $a" ;;
  esac
  prev="$a"
done
case " $* " in
  *" fail-me "*) exit 3 ;;
  *" --initdb "*) mkdir -p "$root/etc/apk/keys"; touch "$root/etc/apk/keys/alpine.rsa.pub"; exit 0 ;;
  *" info -qL compiler-rt "*)
    echo "usr/lib/clang/17/lib/linux/libclang_rt.builtins-aarch64.a"
    echo "usr/share/licenses/compiler-rt/LICENSE"
    exit 0 ;;
esac
if [ -n "$seen_add" ]; then
  mkdir -p "$root/usr/bin" "$root/usr/lib/installed"
  touch "$root/usr/bin/target-tool"
  for p in $pkgs; do touch "$root/usr/lib/installed/$p"; done
  case "$pkgs " in *" compiler-rt "*)
    mkdir -p "$root/usr/lib/clang/17/lib/linux"
    touch "$root/usr/lib/clang/17/lib/linux/libclang_rt.builtins-aarch64.a" ;;
  esac
  case "$pkgs " in *" rust-stdlib "*) mkdir -p "$root/usr/lib/rustlib/aarch64-alpine-linux-musl/lib" ;; esac
fi
exit 0
"#;

fn alpine_root(tag: &str) -> Option<Chroot> {
    if !require(is_root(), "xx-apk chroot tests need root (chroot(2))") {
        return None;
    }
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .find(|p| Path::new(p).exists());
    if !require(
        busybox.is_some(),
        "busybox-static is not installed (scripts/setup.sh installs it)",
    ) {
        return None;
    }
    let root = Chroot::new(
        tag,
        &[
            (
                "etc/os-release",
                "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.19.1\n",
            ),
            ("etc/alpine-release", "3.19.1\n"),
            (
                "etc/apk/repositories",
                "https://mirror.test/alpine/v3.19/main\nhttps://mirror.test/alpine/v3.19/community\n",
            ),
            ("usr/sbin/apk", FAKE_APK),
            ("etc/apk/cache/.keep", ""),
            ("usr/lib/rustlib/.keep", ""),
        ],
    );
    let dir = root.dir.path();
    std::fs::create_dir_all(dir.join("bin")).unwrap();
    crate::support::link_or_copy(Path::new(busybox.unwrap()), &dir.join("bin/busybox"));
    std::fs::set_permissions(
        dir.join("usr/sbin/apk"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("dev")).unwrap();
    let dev_null = std::ffi::CString::new(dir.join("dev/null").to_str().unwrap()).unwrap();
    // SAFETY: mknod with a valid C string; creates the /dev/null character device (1, 3).
    let rc = unsafe {
        libc::mknod(
            dev_null.as_ptr(),
            libc::S_IFCHR | 0o666,
            libc::makedev(1, 3),
        )
    };
    assert_eq!(rc, 0, "mknod /dev/null");
    let out = root.run_abs("/bin/busybox", &["--install", "-s", "/bin"]);
    assert!(out.status.success(), "{out:?}");
    Some(root)
}

fn log(root: &Chroot) -> String {
    std::fs::read_to_string(root.dir.path().join("apk.log")).unwrap_or_default()
}

#[test]
fn cross_root_setup_and_install() {
    let Some(root) = alpine_root("apk-arm64") else {
        return;
    };
    let arm64 = [("TARGETPLATFORM", "linux/arm64")];
    let out = root.sh("xx-apk add xx-c-essentials zlib-dev", &arm64);
    assert!(out.status.success(), "{out:?}");
    let t = root.dir.path().join("aarch64-alpine-linux-musl");
    let l = log(&root);
    assert!(l.contains("apk add --no-cache --initdb -p /aarch64-alpine-linux-musl --allow-untrusted alpine-keys"), "{l}");
    assert!(
        l.contains("apk --root /aarch64-alpine-linux-musl add musl-dev gcc zlib-dev"),
        "{l}"
    );
    assert_eq!(
        std::fs::read_to_string(t.join("etc/apk/arch")).unwrap(),
        "aarch64\n"
    );
    assert!(
        std::fs::read_to_string(t.join("etc/apk/repositories"))
            .unwrap()
            .contains("v3.19/main")
    );
    assert!(t.join(".xx-setup").exists());
    assert_eq!(
        std::fs::read_link(t.join("etc/apk/cache")).unwrap(),
        Path::new("/etc/apk/cache/_aarch64")
    );
    assert!(t.join("usr/lib/installed/zlib-dev").exists());
    // Target binaries are removed (upstream's removal never worked).
    assert!(!t.join("usr/bin/target-tool").exists());
    assert!(t.join("usr/bin").is_dir());

    // Setup happens once; XX_APK_KEEP_BINARIES keeps target binaries.
    let out = root.sh(
        "xx-apk add file",
        &[
            ("TARGETPLATFORM", "linux/arm64"),
            ("XX_APK_KEEP_BINARIES", "1"),
        ],
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(log(&root).matches("--initdb").count(), 1);
    assert!(t.join("usr/bin/target-tool").exists());

    // compiler-rt files are linked back into clang's own tree; rust-stdlib too.
    let out = root.sh("xx-apk add compiler-rt rust-stdlib", &arm64);
    assert!(out.status.success(), "{out:?}");
    let rt = root
        .dir
        .path()
        .join("usr/lib/clang/17/lib/linux/libclang_rt.builtins-aarch64.a");
    assert_eq!(
        std::fs::read_link(&rt).unwrap(),
        Path::new(
            "/aarch64-alpine-linux-musl/usr/lib/clang/17/lib/linux/libclang_rt.builtins-aarch64.a"
        )
    );
    assert!(
        std::fs::symlink_metadata(
            root.dir
                .path()
                .join("usr/share/licenses/compiler-rt/LICENSE")
        )
        .is_err()
    );
    assert_eq!(
        std::fs::read_link(
            root.dir
                .path()
                .join("usr/lib/rustlib/aarch64-alpine-linux-musl")
        )
        .unwrap(),
        Path::new("/aarch64-alpine-linux-musl/usr/lib/rustlib/aarch64-alpine-linux-musl")
    );

    // XX_VENDOR does not change the package root; clean removes it.
    let out = root.sh(
        "xx-apk add zstd",
        &[("TARGETPLATFORM", "linux/arm64"), ("XX_VENDOR", "debian")],
    );
    assert!(out.status.success(), "{out:?}");
    assert!(log(&root).contains("apk --root /aarch64-alpine-linux-musl add zstd"));
    let out = root.sh("xx-apk clean", &arm64);
    assert!(out.status.success(), "{out:?}");
    assert!(!t.exists());
}

#[test]
fn native_skips_and_errors() {
    let Some(root) = alpine_root("apk-misc") else {
        return;
    };
    // Native: straight to apk on /, no cross root.
    let out = root.sh("xx-apk add curl", &[("TARGETPLATFORM", "linux/amd64")]);
    assert!(out.status.success(), "{out:?}");
    assert!(
        log(&root).contains("apk --root / add curl"),
        "{}",
        log(&root)
    );
    assert!(!log(&root).contains("--initdb"));

    for (platform, what) in [("windows/amd64", "windows"), ("linux/mips64le", "mips64le")] {
        let out = root.sh("xx-apk add curl", &[("TARGETPLATFORM", platform)]);
        assert!(out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stderr)
                .contains(&format!("skipping packages installation on {what}"))
        );
    }

    // riscv64 on Alpine < 3.20 gets the 3.20 repositories, same mirror.
    let out = root.sh("xx-apk setup", &[("TARGETPLATFORM", "linux/riscv64")]);
    assert!(out.status.success(), "{out:?}");
    let repos = std::fs::read_to_string(
        root.dir
            .path()
            .join("riscv64-alpine-linux-musl/etc/apk/repositories"),
    )
    .unwrap();
    assert_eq!(
        repos,
        "https://mirror.test/alpine/v3.20/main\nhttps://mirror.test/alpine/v3.20/community\n"
    );

    // apk's failure is xx-apk's failure.
    let out = root.sh("xx-apk add fail-me", &[("TARGETPLATFORM", "linux/arm64")]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
}
