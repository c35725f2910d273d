//! Image verification of what users hit after "exec format error": a
//! binary needing a newer glibc than the image's (`GLIBC_2.38 not found`),
//! a musl binary in a glibc image, a library missing, and a `$ORIGIN`
//! RUNPATH that resolves. Fixtures are built here with the host's gcc; each
//! gives its verdict in a build with `--verify strict` and in `mxbuild verify`.

use std::fs;
use std::path::Path;
use std::process::Command;

use super::Scenario;
use crate::support::mxbuild::{mx, repo, text};

fn sh(dir: &Path, script: &str) {
    let out = Command::new("sh")
        .arg("-ec")
        .arg(script)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{script}: {out:?}");
}

#[test]
fn glibc_versions_libc_family_libraries_and_origin() {
    let Some(s) = Scenario::start("abi") else {
        return;
    };
    let t = s.dir.path();
    // A program needing GLIBC_2.38 from libc.so.6 (bookworm has 2.36): linked
    // against a stand-in libc.so.6 whose version script defines it.
    sh(
        t,
        r#"
mkdir -p link app/bin app/lib
echo 'void xx_new_symbol(void){}' > newlibc.c
printf 'GLIBC_2.38 { global: xx_new_symbol; };\n' > newlibc.map
gcc -shared -o link/libc.so.6 -Wl,--version-script=newlibc.map -Wl,-soname,libc.so.6 newlibc.c
printf 'void xx_new_symbol(void);\nvoid _start(void){xx_new_symbol();for(;;);}\n' > start.c
gcc -nostdlib -o needs-glibc-2.38 start.c -Llink -l:libc.so.6 -Wl,--dynamic-linker=/lib64/ld-linux-x86-64.so.2
echo 'int f(void){return 1;}' > f.c
gcc -shared -o app/lib/libf.so f.c
printf 'int f(void);\nint main(void){return f()-1;}\n' > m.c
gcc -o app/bin/m m.c -Lapp/lib -lf -Wl,-rpath,'$ORIGIN/../lib'
gcc -o needs-libf m.c -Lapp/lib -lf
"#,
    );
    fs::copy(
        repo().join("testdata/elf/linux-amd64-musl-dynamic"),
        t.join("musl-hello"),
    )
    .unwrap();

    let cases: [(&str, &str, Option<&str>); 4] = [
        (
            "COPY needs-glibc-2.38 /usr/local/bin/new\n",
            "new",
            Some("needs GLIBC_2.38, the image's glibc is 2.36"),
        ),
        (
            "COPY musl-hello /usr/local/bin/musl-hello\n",
            "musl",
            Some(
                "needs the dynamic loader /lib/ld-musl-x86_64.so.1, which is missing in the image",
            ),
        ),
        (
            "COPY needs-libf /usr/local/bin/needs-libf\n",
            "missing",
            Some("needs libf.so not found in the image"),
        ),
        ("COPY app /opt/app\n", "origin", None),
    ];
    for (copy, tag, verdict) in cases {
        fs::write(
            t.join("Dockerfile"),
            format!("FROM debian:bookworm\n{copy}"),
        )
        .unwrap();
        let name = format!("abi-{tag}");
        let o = mx(&[
            "build",
            "--platform",
            "linux/amd64",
            "--verify",
            "strict",
            "-t",
            &name,
            t.to_str().unwrap(),
        ]);
        let out = text(&o);
        match verdict {
            Some(v) => {
                assert!(!o.status.success(), "{tag}: {out}");
                assert!(out.contains(v), "{tag}: {out}");
                assert!(
                    out.contains("glibc 2.36"),
                    "the table names the image's libc: {out}"
                );
            }
            None => assert!(o.status.success(), "{tag}: {out}"),
        }
        // `mxbuild verify` on the same image (warn mode builds it to look at).
        if verdict.is_some() {
            let o = mx(&[
                "build",
                "--platform",
                "linux/amd64",
                "--verify",
                "off",
                "-t",
                &name,
                t.to_str().unwrap(),
            ]);
            assert!(o.status.success(), "{tag}: {}", text(&o));
        }
        let o = mx(&["verify", &name]);
        let out = text(&o);
        match verdict {
            Some(v) => assert!(!o.status.success() && out.contains(v), "{tag}: {out}"),
            None => assert!(o.status.success(), "{tag}: {out}"),
        }
    }
}
