//! `xx-verify --root`: what a dynamic binary needs from the root it will
//! run in, on fixtures built here with the host's gcc and g++ (Debian 12):
//! a binary needing a newer GLIBC_ (and GLIBCXX_) version than the root's
//! libc.so.6 (libstdc++.so.6) defines, made with a version script; a glibc
//! binary whose loader name leads to musl's loader (as Alpine's gcompat
//! sets it up); a musl binary in a glibc root; a `$ORIGIN` RUNPATH that
//! resolves, and the same library missing. `--max-glibc auto` reads the
//! limit from the root.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::{TempDir, tmp};

fn sh(dir: &Path, script: &str) {
    let out = Command::new("sh")
        .arg("-ec")
        .arg(script)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{script}: {out:?}");
}

fn verify(args: &[&str], root: &Path, file: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xx"))
        .arg("verify")
        .args(["--platform", "linux/amd64", "--root"])
        .arg(root)
        .args(args)
        .arg(file)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A root with the host's loader, and the given libc.so.6 and libstdc++.so.6.
fn root_with(dir: &Path, name: &str, libc: &Path, libstdcxx: Option<&Path>) -> PathBuf {
    let root = dir.join(name);
    let lib = root.join("lib/x86_64-linux-gnu");
    fs::create_dir_all(&lib).unwrap();
    fs::create_dir_all(root.join("lib64")).unwrap();
    fs::copy(
        "/lib64/ld-linux-x86-64.so.2",
        root.join("lib64/ld-linux-x86-64.so.2"),
    )
    .unwrap();
    fs::copy(libc, lib.join("libc.so.6")).unwrap();
    for extra in ["libm.so.6", "libgcc_s.so.1"] {
        let host = Path::new("/lib/x86_64-linux-gnu").join(extra);
        if host.exists() {
            fs::copy(&host, lib.join(extra)).unwrap();
        }
    }
    if let Some(cxx) = libstdcxx {
        fs::copy(cxx, lib.join("libstdc++.so.6")).unwrap();
    }
    root
}

fn fixtures() -> Option<TempDir> {
    let host_ok = Path::new("/lib64/ld-linux-x86-64.so.2").exists()
        && Path::new("/lib/x86_64-linux-gnu/libstdc++.so.6").exists();
    let tools = ["gcc", "g++"]
        .iter()
        .all(|t| Command::new(t).arg("--version").output().is_ok());
    if !testkit::require(
        host_ok && tools,
        "needs an x86-64 Debian host with gcc, g++ and libstdc++ (scripts/setup.sh)",
    ) {
        return None;
    }
    let dir = tmp("verify-abi");
    sh(
        dir.path(),
        r#"
printf '#include <stdio.h>\nint main(void){puts("hi");return 0;}\n' > hello.c
gcc -o hello hello.c
printf '#include <iostream>\n#include <string>\nint main(){std::string s("hi");std::cout<<s<<std::endl;return 0;}\n' > hello.cc
g++ -o hello-cxx hello.cc
# An old glibc and libstdc++: only the versions a version script defines.
echo 'int xx_dummy(void){return 0;}' > dummy.c
printf 'GLIBC_2.2.5 { global: *; };\nGLIBC_2.17 { } GLIBC_2.2.5;\n' > libc.map
gcc -shared -o old-libc.so.6 -Wl,--version-script=libc.map -Wl,-soname,libc.so.6 dummy.c
printf 'GLIBCXX_3.4 { global: *; };\nGLIBCXX_3.4.20 { } GLIBCXX_3.4;\nCXXABI_1.3 { } GLIBCXX_3.4.20;\n' > cxx.map
gcc -shared -o old-libstdc++.so.6 -Wl,--version-script=cxx.map -Wl,-soname,libstdc++.so.6 dummy.c
# A program finding its library through $ORIGIN.
mkdir -p app/bin app/lib
echo 'int f(void){return 1;}' > f.c
gcc -shared -o app/lib/libf.so f.c
printf 'int f(void);\nint main(void){return f()-1;}\n' > m.c
gcc -o app/bin/m m.c -Lapp/lib -lf -Wl,-rpath,'$ORIGIN/../lib'
"#,
    );
    Some(dir)
}

#[test]
fn symbol_versions_loader_family_and_origin() {
    let Some(dir) = fixtures() else { return };
    let d = dir.path();
    let host_libc = Path::new("/lib/x86_64-linux-gnu/libc.so.6");
    let host_cxx = Path::new("/lib/x86_64-linux-gnu/libstdc++.so.6");

    // The host's own libraries: everything resolves and every version is defined.
    let good = root_with(d, "good", host_libc, Some(host_cxx));
    for bin in ["hello", "hello-cxx"] {
        let o = verify(&[], &good, &d.join(bin));
        assert!(o.status.success(), "{bin}: {}", stderr(&o));
    }
    let o = verify(&["--max-glibc", "auto"], &good, &d.join("hello"));
    assert!(o.status.success(), "{}", stderr(&o));

    // An older glibc and libstdc++ than the binaries were built against.
    let old = root_with(
        d,
        "old",
        &d.join("old-libc.so.6"),
        Some(&d.join("old-libstdc++.so.6")),
    );
    let o = verify(&[], &old, &d.join("hello"));
    assert!(!o.status.success());
    assert!(stderr(&o).contains("needs GLIBC_2.34, "), "{}", stderr(&o));
    assert!(stderr(&o).contains("'s glibc is 2.17"), "{}", stderr(&o));
    let o = verify(&[], &old, &d.join("hello-cxx"));
    let e = stderr(&o);
    assert!(
        e.contains("needs GLIBCXX_3.4.")
            && e.contains("(libstdc++.so.6)")
            && e.contains("'s libstdc++ is 3.4.20"),
        "{e}"
    );
    // --max-glibc auto takes the root's version as the limit.
    let o = verify(&["--max-glibc", "auto", "--json"], &old, &d.join("hello"));
    let e = stderr(&o);
    assert!(e.contains("newer than --max-glibc 2.17"), "{e}");
    let o = verify(&["--max-glibc", "auto"], &d.join("app"), &d.join("hello"));
    assert!(
        stderr(&o).contains("--max-glibc auto: no glibc"),
        "{}",
        stderr(&o)
    );

    // glibc's loader name leading to musl's loader (Alpine + gcompat).
    let gcompat = d.join("gcompat");
    fs::create_dir_all(gcompat.join("lib64")).unwrap();
    fs::create_dir_all(gcompat.join("lib")).unwrap();
    fs::copy(host_libc, gcompat.join("lib/ld-musl-x86_64.so.1")).unwrap();
    std::os::unix::fs::symlink(
        "/lib/ld-musl-x86_64.so.1",
        gcompat.join("lib64/ld-linux-x86-64.so.2"),
    )
    .unwrap();
    let o = verify(&[], &gcompat, &d.join("hello"));
    assert!(
        stderr(&o).contains("that loader is musl's (ld-musl-x86_64.so.1)"),
        "{}",
        stderr(&o)
    );

    // A musl binary in a glibc root: its loader is not there.
    let musl =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/elf/linux-amd64-musl-dynamic");
    let o = verify(&[], &good, &musl);
    assert!(
        stderr(&o).contains("needs the dynamic loader /lib/ld-musl-x86_64.so.1, which is missing"),
        "{}",
        stderr(&o)
    );

    // $ORIGIN/../lib resolves inside the root; without the library it fails.
    let app_root = root_with(d, "app-root", host_libc, None);
    let _ = fs::remove_dir_all(app_root.join("app"));
    sh(d, "cp -a app app-root/app");
    let o = verify(&[], &app_root, &app_root.join("app/bin/m"));
    assert!(o.status.success(), "{}", stderr(&o));
    fs::remove_file(app_root.join("app/lib/libf.so")).unwrap();
    let o = verify(&[], &app_root, &app_root.join("app/bin/m"));
    let e = stderr(&o);
    assert!(
        e.contains("needs libf.so not found") && e.contains("/app/bin/../lib"),
        "{e}"
    );
}

/// A hostile root: the library a binary needs is a FIFO, or a symlink loop.
/// Verification reports or skips it; it never opens the FIFO (which would
/// block forever) or follows the loop.
#[test]
fn hostile_libraries_are_not_opened() {
    let Some(dir) = fixtures() else { return };
    let d = dir.path();
    let root = d.join("hostile");
    let lib = root.join("lib/x86_64-linux-gnu");
    fs::create_dir_all(&lib).unwrap();
    fs::create_dir_all(root.join("lib64")).unwrap();
    fs::copy(
        "/lib64/ld-linux-x86-64.so.2",
        root.join("lib64/ld-linux-x86-64.so.2"),
    )
    .unwrap();
    let fifo = lib.join("libc.so.6");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo on a path we own; no memory is shared.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    std::os::unix::fs::symlink("libstdc++.so.6", lib.join("libstdc++.so.6")).unwrap();
    let started = std::time::Instant::now();
    for bin in ["hello", "hello-cxx"] {
        let o = verify(&[], &root, &d.join(bin));
        assert!(
            started.elapsed().as_secs() < 20,
            "{bin}: verification blocked"
        );
        let _ = o.status;
    }
}
