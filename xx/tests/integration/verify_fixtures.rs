//! xx-verify against real binaries built by scripts/make-elf-fixtures.sh
//! (testdata/elf/FIXTURES.md says how each was made). Every fixture is
//! checked against every platform: it must be accepted by exactly the ones
//! listed for it and rejected by all others.

use std::path::{Path, PathBuf};
use std::process::Command;

use xx::platform::Platform;
use xx::verify::{self, Expectation, Options};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/elf")
        .join(name)
}

/// Every platform a fixture is tried against.
const PLATFORMS: &[&str] = &[
    "linux/amd64",
    "linux/arm64",
    "linux/arm/v5",
    "linux/arm/v6",
    "linux/arm/v7",
    "linux/arm/v8",
    "linux/386",
    "linux/ppc64le",
    "linux/s390x",
    "linux/riscv64",
    "linux/loong64",
    "linux/mips",
    "linux/mipsle",
    "linux/mips64",
    "linux/mips64le",
    "linux/ppc64",
    "linux/armbe",
    "linux/arm64be",
    "windows/amd64",
    "windows/386",
    "windows/arm64",
    "darwin/amd64",
    "darwin/arm64",
    "freebsd/amd64",
];

/// Fixture -> the platforms that must accept it (all others must reject it).
const ACCEPTS: &[(&str, &[&str])] = &[
    ("linux-amd64-gnu-dynamic", &["linux/amd64"]),
    ("linux-arm64-gnu-dynamic", &["linux/arm64"]),
    // Debian armhf: ARMv7 hard-float. Not for a Pi Zero (v6), not for armel (v5).
    (
        "linux-armv7-gnueabihf-dynamic",
        &["linux/arm/v7", "linux/arm/v8"],
    ),
    (
        "linux-armv7-gnueabihf-neon-dynamic",
        &["linux/arm/v7", "linux/arm/v8"],
    ),
    // Debian armel: ARMv5TE soft-float runs on v5 and v6; armhf userlands cannot load it.
    (
        "linux-armv5-gnueabi-dynamic",
        &["linux/arm/v5", "linux/arm/v6"],
    ),
    // ARMv7 code with a soft-float ABI: too new for v5/v6, wrong ABI for v7 dynamic.
    ("linux-armv7-gnueabi-dynamic", &[]),
    // ARMv6 with VFPv2 (softfp): fine on a Pi 1 (v6); v5 has no VFP; armhf needs hard-float.
    ("linux-armv6-gnueabi-vfp-dynamic", &["linux/arm/v6"]),
    ("linux-386-gnu-dynamic", &["linux/386"]),
    ("linux-ppc64le-gnu-dynamic", &["linux/ppc64le"]),
    ("linux-s390x-gnu-dynamic", &["linux/s390x"]),
    ("linux-amd64-static", &["linux/amd64"]),
    ("linux-amd64-static-pie", &["linux/amd64"]),
    ("linux-arm64-static", &["linux/arm64"]),
    ("linux-arm64-musl-static", &["linux/arm64"]),
    // The Raspberry Pi Zero binary: ARMv6 hard-float, static, so it also runs on v7/v8.
    (
        "linux-armv6-musleabihf-static",
        &["linux/arm/v6", "linux/arm/v7", "linux/arm/v8"],
    ),
    (
        "linux-armv7-musleabihf-static",
        &["linux/arm/v7", "linux/arm/v8"],
    ),
    ("linux-riscv64-musl-static", &["linux/riscv64"]),
    ("linux-loong64-musl-static", &["linux/loong64"]),
    ("linux-mips-musl-static", &["linux/mips"]),
    ("linux-mipsle-musl-static", &["linux/mipsle"]),
    ("linux-mips64-musl-static", &["linux/mips64"]),
    ("linux-mips64le-musl-static", &["linux/mips64le"]),
    ("linux-ppc64-musl-static", &["linux/ppc64"]),
    ("linux-s390x-musl-static", &["linux/s390x"]),
    ("linux-armbe-static", &["linux/armbe"]),
    ("linux-arm64be-static", &["linux/arm64be"]),
    ("linux-amd64-musl-dynamic", &["linux/amd64"]),
    ("freebsd-amd64", &["freebsd/amd64"]),
    ("windows-amd64.exe", &["windows/amd64"]),
    ("windows-386.exe", &["windows/386"]),
    ("windows-arm64.exe", &["windows/arm64"]),
    ("darwin-amd64", &["darwin/amd64"]),
    ("darwin-arm64", &["darwin/arm64"]),
    ("darwin-universal", &["darwin/amd64", "darwin/arm64"]),
    ("not-a-binary.txt", &[]),
    ("truncated-elf", &[]),
];

fn expect(p: &str) -> Expectation {
    Expectation::new(p.parse::<Platform>().unwrap())
}

#[test]
fn every_fixture_against_every_platform() {
    let mut failures = Vec::new();
    for (name, accepts) in ACCEPTS {
        let path = fixture(name);
        assert!(
            path.is_file(),
            "missing fixture {name}: run scripts/make-elf-fixtures.sh"
        );
        for p in PLATFORMS {
            let report = verify::verify_path(&path, &expect(p), &Options::default());
            let want = accepts.contains(p);
            if report.ok != want {
                failures.push(format!(
                    "{name} for {p}: got ok={} want {want}: {}",
                    report.ok,
                    report.failure_line()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn detected_platforms_and_facts() {
    for (name, platform, linkage) in [
        ("linux-arm64-gnu-dynamic", "linux/arm64", "dynamic"),
        ("linux-armv7-gnueabihf-dynamic", "linux/arm/v7", "dynamic"),
        ("linux-armv5-gnueabi-dynamic", "linux/arm/v5", "dynamic"),
        ("linux-armv6-musleabihf-static", "linux/arm/v6", "static"),
        ("linux-amd64-static-pie", "linux/amd64", "static-pie"),
        ("linux-mips64le-musl-static", "linux/mips64le", "static"),
        ("freebsd-amd64", "freebsd/amd64", "dynamic"),
    ] {
        let r = verify::verify_path(&fixture(name), &expect("linux/amd64"), &Options::default());
        assert_eq!(r.platform.as_deref(), Some(platform), "{name}: {r:?}");
        assert_eq!(r.linkage.as_deref(), Some(linkage), "{name}: {r:?}");
    }
    let r = verify::verify_path(
        &fixture("windows-arm64.exe"),
        &expect("linux/amd64"),
        &Options::default(),
    );
    assert_eq!(r.platform.as_deref(), Some("windows/arm64"));
    let r = verify::verify_path(
        &fixture("darwin-universal"),
        &expect("linux/amd64"),
        &Options::default(),
    );
    assert_eq!(r.platform.as_deref(), Some("darwin/amd64+arm64"));
}

/// The message the issue asks for: what the file is, what was expected.
#[test]
fn pi_zero_gets_an_armv7_binary() {
    let r = verify::verify_path(
        &fixture("linux-armv7-gnueabihf-dynamic"),
        &expect("linux/arm/v6"),
        &Options::default(),
    );
    assert!(!r.ok);
    let line = r.failure_line();
    assert!(
        line.contains("linux/arm/v7 (ELF 32-bit LSB ARM, ARMv7 (v7), hard-float"),
        "{line}"
    );
    assert!(line.contains("but target is linux/arm/v6"), "{line}");
    assert!(
        line.contains("newer than the ARMv6 CPU of linux/arm/v6"),
        "{line}"
    );
}

#[test]
fn float_abi_rules() {
    let soft_v5 = verify::verify_path(
        &fixture("linux-armv5-gnueabi-dynamic"),
        &expect("linux/arm/v7"),
        &Options::default(),
    );
    assert!(
        soft_v5
            .problems
            .iter()
            .any(|p| p.contains("soft-float and dynamically linked")),
        "{soft_v5:?}"
    );
    let hard_v6 = verify::verify_path(
        &fixture("linux-armv6-musleabihf-static"),
        &expect("linux/arm/v5"),
        &Options::default(),
    );
    assert!(
        hard_v6.problems.iter().any(|p| p.contains("is hard-float")),
        "{hard_v6:?}"
    );
    let vfp = verify::verify_path(
        &fixture("linux-armv7-gnueabihf-neon-dynamic"),
        &expect("linux/arm/v6"),
        &Options::default(),
    );
    assert!(
        vfp.problems.iter().any(|p| p.contains("VFPv3 or newer")),
        "{vfp:?}"
    );
}

#[test]
fn static_rule() {
    let opts = Options {
        require_static: true,
        ..Options::default()
    };
    for ok in ["linux-amd64-static", "linux-amd64-static-pie"] {
        assert!(
            verify::verify_path(&fixture(ok), &expect("linux/amd64"), &opts).ok,
            "{ok}"
        );
    }
    let r = verify::verify_path(
        &fixture("linux-amd64-gnu-dynamic"),
        &expect("linux/amd64"),
        &opts,
    );
    assert!(
        r.problems.iter().any(
            |p| p.contains("is not statically linked (interpreter /lib64/ld-linux-x86-64.so.2")
        ),
        "{r:?}"
    );
    // --static means nothing for PE files (upstream checks only linux and freebsd).
    assert!(
        verify::verify_path(
            &fixture("windows-amd64.exe"),
            &expect("windows/amd64"),
            &opts
        )
        .ok
    );
}

fn make_root(tag: &str, files: &[&str], links: &[(&str, &str)]) -> crate::support::TempDir {
    let dir = crate::support::tmp(tag);
    for f in files {
        let p = dir.path().join(f.trim_start_matches('/'));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, "").unwrap();
    }
    for (link, target) in links {
        let p = dir.path().join(link.trim_start_matches('/'));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(target, p).unwrap();
    }
    dir
}

#[test]
fn root_checks_loader_and_libraries() {
    // A merged-/usr Debian arm64 root: /lib -> usr/lib, loader via a relative link.
    let debian = make_root(
        "root-debian",
        &[
            "/usr/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1",
            "/usr/lib/aarch64-linux-gnu/libc.so.6",
        ],
        &[
            ("/lib", "usr/lib"),
            (
                "/usr/lib/ld-linux-aarch64.so.1",
                "aarch64-linux-gnu/ld-linux-aarch64.so.1",
            ),
        ],
    );
    let with_root = |root: &Path| Options {
        root: Some(root.to_path_buf()),
        ..Options::default()
    };
    let bin = fixture("linux-arm64-gnu-dynamic");
    let r = verify::verify_path(&bin, &expect("linux/arm64"), &with_root(debian.path()));
    assert!(r.ok, "{r:?}");

    // The loader is there but libc is not.
    let no_libc = make_root(
        "root-nolibc",
        &["/usr/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1"],
        &[
            ("/lib", "usr/lib"),
            (
                "/usr/lib/ld-linux-aarch64.so.1",
                "aarch64-linux-gnu/ld-linux-aarch64.so.1",
            ),
        ],
    );
    let r = verify::verify_path(&bin, &expect("linux/arm64"), &with_root(no_libc.path()));
    assert!(
        r.problems
            .iter()
            .any(|p| p.contains("needs libc.so.6 not found")),
        "{r:?}"
    );

    // A glibc binary copied into an Alpine image: no glibc loader there.
    let alpine = make_root(
        "root-alpine",
        &["/lib/ld-musl-aarch64.so.1", "/etc/alpine-release"],
        &[],
    );
    let r = verify::verify_path(&bin, &expect("linux/arm64"), &with_root(alpine.path()));
    assert!(
        r.problems
            .iter()
            .any(|p| p
                .contains("needs the dynamic loader /lib/ld-linux-aarch64.so.1, which is missing")),
        "{r:?}"
    );

    // A musl binary in an Alpine root finds its loader and libc.so.
    let alpine64 = make_root(
        "root-alpine64",
        &["/lib/ld-musl-x86_64.so.1", "/usr/lib/libc.so"],
        &[],
    );
    let r = verify::verify_path(
        &fixture("linux-amd64-musl-dynamic"),
        &expect("linux/amd64"),
        &with_root(alpine64.path()),
    );
    assert!(r.ok, "{r:?}");

    // Static binaries need nothing from the root.
    let empty = make_root("root-empty", &[], &[]);
    let r = verify::verify_path(
        &fixture("linux-arm64-musl-static"),
        &expect("linux/arm64"),
        &with_root(empty.path()),
    );
    assert!(r.ok, "{r:?}");
}

#[test]
fn verify_in_an_image_root() {
    let root = make_root(
        "image",
        &[
            "/usr/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1",
            "/usr/lib/aarch64-linux-gnu/libc.so.6",
        ],
        &[
            ("/lib", "usr/lib"),
            (
                "/usr/lib/ld-linux-aarch64.so.1",
                "aarch64-linux-gnu/ld-linux-aarch64.so.1",
            ),
            ("/usr/local/bin/hello", "/opt/app/hello"),
        ],
    );
    std::fs::create_dir_all(root.path().join("opt/app")).unwrap();
    std::fs::copy(
        fixture("linux-arm64-gnu-dynamic"),
        root.path().join("opt/app/hello"),
    )
    .unwrap();
    let r = verify::verify_in_root(
        root.path(),
        "/usr/local/bin/hello",
        &expect("linux/arm64"),
        &Options::default(),
    );
    assert!(r.ok, "{r:?}");
    let r = verify::verify_in_root(
        root.path(),
        "/usr/local/bin/hello",
        &expect("linux/arm/v7"),
        &Options::default(),
    );
    assert!(!r.ok);
    let r = verify::verify_in_root(
        root.path(),
        "/nope",
        &expect("linux/arm64"),
        &Options::default(),
    );
    assert_eq!(r.error.as_deref(), Some("file not found: /nope"));
}

#[test]
fn max_glibc() {
    let bin = fixture("linux-amd64-gnu-dynamic");
    let r = verify::verify_path(&bin, &expect("linux/amd64"), &Options::default());
    let have = r
        .max_glibc
        .clone()
        .expect("a glibc binary requires some GLIBC_ version");
    let limit = |s: &str| Options {
        max_glibc: Some({
            let (a, b) = s.split_once('.').unwrap();
            (a.parse().unwrap(), b.parse().unwrap())
        }),
        ..Options::default()
    };
    let r = verify::verify_path(&bin, &expect("linux/amd64"), &limit("2.17"));
    assert!(
        r.problems.iter().any(|p| p.contains(&format!(
            "requires GLIBC_{have}, newer than --max-glibc 2.17"
        ))),
        "{r:?}"
    );
    assert!(verify::verify_path(&bin, &expect("linux/amd64"), &limit("2.99")).ok);
}

/// The command line: exit codes, messages, several files, --json, bad input.
#[test]
fn cli() {
    let xx = env!("CARGO_BIN_EXE_xx");
    let run = |platform: &str, args: &[&str]| {
        let out = Command::new(xx)
            .arg("verify")
            .args(args)
            .env_clear()
            .env("TARGETPLATFORM", platform)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let f = |n: &str| fixture(n).display().to_string();

    let (code, out, err) = run(
        "linux/arm64",
        &[&f("linux-arm64-gnu-dynamic"), &f("linux-arm64-musl-static")],
    );
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (Some(0), "", ""),
        "success is silent"
    );

    let (code, _, err) = run(
        "linux/arm64",
        &[
            &f("linux-arm64-musl-static"),
            &f("linux-amd64-static"),
            &f("not-a-binary.txt"),
        ],
    );
    assert_eq!(code, Some(1));
    assert!(
        err.contains("linux-amd64-static: linux/amd64")
            && err.contains("does not match expected target architecture arm64"),
        "{err}"
    );
    assert!(
        err.contains("not-a-binary.txt: not an executable binary (text)"),
        "{err}"
    );
    assert!(
        !err.contains("linux-arm64-musl-static:"),
        "a passing file is not reported: {err}"
    );

    let (code, _, err) = run("linux/s390x", &[&f("linux-ppc64-musl-static")]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("does not match expected target architecture s390x"),
        "{err}"
    );

    let (code, _, err) = run("linux/amd64", &["--static", &f("linux-amd64-gnu-dynamic")]);
    assert_eq!(code, Some(1));
    assert!(err.contains("is not statically linked"), "{err}");
    let out = Command::new(xx)
        .args(["verify", &f("linux-amd64-gnu-dynamic")])
        .env_clear()
        .env("TARGETPLATFORM", "linux/amd64")
        .env("XX_VERIFY_STATIC", "1")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "XX_VERIFY_STATIC=1 works like --static"
    );

    let (code, out, _) = run(
        "linux/arm/v6",
        &["--json", &f("linux-armv7-gnueabihf-dynamic")],
    );
    assert_eq!(code, Some(1));
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json[0]["ok"], false);
    assert_eq!(json[0]["platform"], "linux/arm/v7");
    assert_eq!(json[0]["target"], "linux/arm/v6");
    assert_eq!(json[0]["interpreter"], "/lib/ld-linux-armhf.so.3");

    let (code, _, _) = run(
        "linux/amd64",
        &["--platform", "linux/arm64", &f("linux-arm64-static")],
    );
    assert_eq!(code, Some(0), "--platform overrides the environment");

    // Bad input: clear messages, exit 1, never a panic.
    let dir = std::env::temp_dir();
    let (code, _, err) = run(
        "linux/arm64",
        &[
            &f("truncated-elf"),
            "/definitely/missing",
            dir.to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(1));
    assert!(err.contains("truncated-elf: truncated ELF file"), "{err}");
    assert!(err.contains("/definitely/missing: file not found"), "{err}");
    assert!(err.contains("is a directory"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    // Upstream's flag handling.
    let (code, _, err) = run("linux/amd64", &[]);
    assert_eq!(code, Some(1));
    assert!(err.contains("Usage: xx-verify"), "{err}");
    let (code, _, err) = run("linux/amd64", &["--help"]);
    assert_eq!(code, Some(1), "upstream exits 1 on --help");
    assert!(err.contains("Usage: xx-verify"));
    let (code, _, err) = run("linux/amd64", &["-x", &f("linux-amd64-static")]);
    assert_eq!((code, err.trim()), (Some(1), "invalid flag -x"));
    let (code, _, _) = run("linux/amd64", &["--setup"]);
    assert_eq!(code, Some(0), "--setup alone has nothing to do");
    let (code, _, err) = run(
        "linux/amd64",
        &["--max-glibc", "two", &f("linux-amd64-static")],
    );
    assert_eq!(code, Some(1));
    assert!(err.contains("--max-glibc wants MAJOR.MINOR"), "{err}");
    let (code, _, err) = run("linux/riscv32", &[&f("linux-amd64-static")]);
    assert_eq!(code, Some(1));
    assert!(err.contains("unsupported target"), "{err}");
    // wasi/wasm is a target: an ELF file is not a WebAssembly module.
    let (code, _, err) = run("wasi/wasm", &[&f("linux-amd64-static")]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("does not match expected target OS wasi"),
        "{err}"
    );
}

/// Corrupted binaries (bytes flipped in the headers, cut at every length of
/// the first 4 KiB) give a report or an error, never a panic.
#[test]
fn corrupted_binaries_never_panic() {
    let dir = crate::support::tmp("corrupt");
    let path = dir.path().join("bin");
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut checked = 0;
    for (name, _) in ACCEPTS {
        let original = std::fs::read(fixture(name)).unwrap();
        for cut in (0..original.len().min(4096)).step_by(61) {
            std::fs::write(&path, &original[..cut]).unwrap();
            let _ = verify::verify_path(&path, &expect("linux/arm/v7"), &Options::default());
            checked += 1;
        }
        for _ in 0..150 {
            let mut bytes = original.clone();
            for _ in 0..1 + next() % 8 {
                // Mostly the first 512 bytes, where the headers are.
                let span = if next() % 4 == 0 {
                    bytes.len()
                } else {
                    bytes.len().min(512)
                };
                let at = (next() as usize) % span.max(1);
                if let Some(b) = bytes.get_mut(at) {
                    *b = next() as u8;
                }
            }
            std::fs::write(&path, &bytes).unwrap();
            let root = Options {
                root: Some(dir.path().to_path_buf()),
                require_static: true,
                max_glibc: Some((2, 17)),
                max_glibc_auto: false,
            };
            let _ = verify::verify_path(&path, &expect("linux/arm64"), &root);
            checked += 1;
        }
    }
    assert!(checked > 5000, "{checked}");
}
