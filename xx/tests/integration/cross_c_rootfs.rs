//! Real C/C++ cross-compilation, as a Dockerfile build stage does it: inside
//! a debootstrapped Debian bookworm amd64 root with clang and lld, with the
//! static xx added, `xx-apt-get install xx-c-essentials` then `xx-clang`, for
//! seven target platforms. Every binary must pass `xx-verify` and run (QEMU via
//! binfmt_misc) printing the machine it runs on. One prepared sandbox serves
//! all steps, in order, to keep downloads and time down.

use crate::support::{Sandbox, base_rootfs, binfmt_ready, repo_dir, require};

/// (TARGETPLATFORM, command prefix to run it with, `uname -m` it must report).
const TARGETS: &[(&str, &str, &str)] = &[
    ("linux/arm64", "", "aarch64"),
    ("linux/arm/v7", "", "armv7l"),
    // An ARMv5 CPU (ARM926EJ-S) proves the armel binary needs nothing newer.
    ("linux/arm/v5", "env QEMU_CPU=arm926", "armv5tel"),
    // i386 runs natively on x86_64; a 32-bit personality makes uname say so.
    ("linux/386", "setarch i686", "i686"),
    ("linux/ppc64le", "", "ppc64le"),
    ("linux/s390x", "", "s390x"),
    // Debian 12 has no riscv64 archive: xx-c-essentials brings the
    // `-riscv64-cross` packages, whose loader lives under /usr/riscv64-linux-gnu.
    (
        "linux/riscv64",
        "env QEMU_LD_PREFIX=/usr/riscv64-linux-gnu",
        "riscv64",
    ),
];

#[test]
fn c_and_cxx_cross_builds_run_under_qemu() {
    if !require(
        binfmt_ready(&["aarch64", "arm", "ppc64le", "s390x", "riscv64"]),
        "QEMU binfmt handlers (F flag) missing: run scripts/setup-binfmt.sh",
    ) {
        return;
    }
    let Some(rootfs) = base_rootfs("amd64", &["clang", "lld"]) else {
        return;
    };
    let sb = Sandbox::new("cross-c", &rootfs);
    let src = repo_dir().join("testdata/hello-c");
    for f in ["hello.c", "hello.cc", "zlib.c"] {
        sb.add(&src.join(f), &format!("/src/{f}"));
    }

    for (platform, runner, machine) in TARGETS {
        let name = platform.replace('/', "-");
        // Only the usual line, for every target: where lld 14 cannot link
        // (s390x, riscv64), xx-c-essentials brings the target's GNU ld too.
        let run = format!("{runner} /out/{name}");
        let script = format!(
            r#"set -e
xx-apt-get install -y -q xx-c-essentials >/tmp/apt-{name}.log 2>&1 || {{ tail -40 /tmp/apt-{name}.log; exit 1; }}
xx-clang -O2 -o /out/{name} /src/hello.c
xx-verify /out/{name}
{run}
"#
        );
        let vars = [("TARGETPLATFORM", *platform)];
        let out = sb.run_ok(&format!("mkdir -p /out\n{script}"), &vars);
        assert_eq!(
            out.trim(),
            format!("hello from C on {machine}"),
            "{platform}"
        );

        // The binary is really for that platform, checked from the host too.
        let report = xx::verify::verify_path(
            &sb.upper(&format!("/out/{name}")),
            &xx::verify::Expectation::new(platform.parse().unwrap()),
            &xx::verify::Options::default(),
        );
        assert!(report.ok, "{platform}: {}", report.failure_line());
    }

    // s390x and riscv64 are linked with GNU ld, everything else with lld.
    let cfg = sb.run_ok(
        "cat /usr/bin/s390x-linux-gnu.cfg /usr/bin/riscv64-linux-gnu.cfg /usr/bin/aarch64-linux-gnu.cfg",
        &[],
    );
    assert!(
        cfg.contains("--target=s390x-linux-gnu -fuse-ld=/usr/bin/s390x-linux-gnu-ld"),
        "{cfg}"
    );
    assert!(
        cfg.contains("--target=riscv64-linux-gnu -fuse-ld=/usr/bin/riscv64-linux-gnu-ld"),
        "{cfg}"
    );
    assert!(
        cfg.contains("--target=aarch64-linux-gnu -fuse-ld=lld"),
        "{cfg}"
    );

    // C++ for arm64 and arm/v7.
    for (platform, machine) in [("linux/arm64", "aarch64"), ("linux/arm/v7", "armv7l")] {
        let name = platform.replace('/', "-");
        let script = format!(
            r#"set -e
xx-apt-get install -y -q xx-cxx-essentials >/tmp/apt-cxx.log 2>&1 || {{ tail -40 /tmp/apt-cxx.log; exit 1; }}
xx-clang++ -O2 -o /out/cxx-{name} /src/hello.cc
xx-verify /out/cxx-{name}
/out/cxx-{name}
"#
        );
        let out = sb.run_ok(&script, &[("TARGETPLATFORM", platform)]);
        assert_eq!(
            out.trim(),
            format!("hello from C++ on {machine}"),
            "{platform}"
        );
    }

    // zlib through the target's pkg-config, for arm64.
    let script = r#"set -e
xx-apt-get install -y -q zlib1g-dev pkg-config >/tmp/apt-zlib.log 2>&1 || { tail -40 /tmp/apt-zlib.log; exit 1; }
PKGCONF="$(xx-info)-pkg-config"
echo "pkg-config: $PKGCONF $($PKGCONF --libs zlib)" >&2
xx-clang -O2 -o /out/zlib /src/zlib.c $($PKGCONF --cflags --libs zlib)
xx-verify --root / /out/zlib
/out/zlib
"#;
    let out = sb.run_ok(script, &[("TARGETPLATFORM", "linux/arm64")]);
    assert!(
        out.starts_with("zlib 1.2.13") && out.contains("round trip ok"),
        "{out}"
    );
    let report = xx::verify::verify_path(
        &sb.upper("/out/zlib"),
        &xx::verify::Expectation::new("linux/arm64".parse().unwrap()),
        &xx::verify::Options::default(),
    );
    assert!(report.needed.iter().any(|n| n == "libz.so.1"), "{report:?}");
}

/// The special flags, wrappers and errors of xx-clang, in the same kind of root.
#[test]
fn xx_clang_flags_and_wrappers() {
    let Some(rootfs) = base_rootfs("amd64", &["clang", "lld"]) else {
        return;
    };
    let sb = Sandbox::new("cc-flags", &rootfs);
    let arm64 = [("TARGETPLATFORM", "linux/arm64")];
    assert_eq!(
        sb.run_ok("xx-clang --print-target-triple", &arm64).trim(),
        "aarch64-linux-gnu"
    );
    assert_eq!(sb.run_ok("xx-clang --print-sysroot", &arm64).trim(), "/");
    let defines = sb.run_ok("xx-clang --print-cmake-defines", &arm64);
    assert!(
        defines.contains("-DCMAKE_C_COMPILER_TARGET=aarch64-linux-gnu"),
        "{defines}"
    );
    let toolchain = sb.run_ok("xx-clang --print-cmake-toolchain-file", &arm64);
    assert!(
        toolchain.contains("set(CMAKE_SYSTEM_PROCESSOR aarch64)"),
        "{toolchain}"
    );
    assert!(
        toolchain.contains("set(CMAKE_C_COMPILER /usr/bin/aarch64-linux-gnu-clang)"),
        "{toolchain}"
    );

    // Setup wrote the wrappers; they call the real clang with the cfg.
    let wrapper = sb.run_ok(
        "cat /usr/bin/aarch64-linux-gnu-clang; aarch64-linux-gnu-clang --version | head -1",
        &[],
    );
    assert!(
        wrapper.contains("exec /usr/bin/clang --config /usr/bin/aarch64-linux-gnu.cfg"),
        "{wrapper}"
    );
    assert!(
        wrapper.contains("Target: aarch64-unknown-linux-gnu") || wrapper.contains("clang version"),
        "{wrapper}"
    );

    // An explicit target, without TARGETPLATFORM.
    assert_eq!(
        sb.run_ok(
            "xx-clang --target=powerpc64le-linux-gnu --print-target-triple",
            &[]
        )
        .trim(),
        "powerpc64le-linux-gnu"
    );

    // --wrap makes plain clang (via /usr/local/bin/clang) target TARGETPLATFORM.
    let out = sb.run_ok("xx-clang --wrap && clang --print-target-triple; xx-clang --unwrap; test ! -e /.xx-cc-autowrap && echo unwrapped", &arm64);
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        ["aarch64-linux-gnu", "unwrapped"],
        "{out}"
    );

    // riscv64 needs GNU ld, which is not installed: the error names the package.
    let out = sb.run(
        "xx-clang --setup-target-triple",
        &[("TARGETPLATFORM", "linux/riscv64")],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("binutils-riscv64-linux-gnu"), "{err}");

    // Without clang, a cross gcc is used instead (beyond upstream).
    let out = sb.run_ok(
        "rm /usr/bin/clang /usr/bin/clang++ && \
         printf '#!/bin/sh\\necho fake-gcc \"$@\"\\n' > /usr/bin/aarch64-linux-gnu-gcc && chmod +x /usr/bin/aarch64-linux-gnu-gcc && \
         xx-clang --target=aarch64-linux-gnu -o x x.c",
        &arm64,
    );
    assert_eq!(out.trim(), "fake-gcc -o x x.c");
}

/// xx-apt's skip rules and source-list helpers, in a real Debian root.
#[test]
fn xx_apt_rules() {
    let Some(rootfs) = base_rootfs("amd64", &["clang", "lld"]) else {
        return;
    };
    let sb = Sandbox::new("apt-rules", &rootfs);
    for (platform, why) in [
        (
            "linux/mips64le",
            "skipping packages installation on mips64le",
        ),
        ("linux/riscv64", "riscv64 requires debian 13+"),
    ] {
        let out = sb.run(
            "xx-apt-get install -y zlib1g-dev",
            &[("TARGETPLATFORM", platform)],
        );
        assert!(out.status.success(), "{platform}: {out:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(why),
            "{platform}: {out:?}"
        );
    }
    let out = sb.run_ok(
        "xx-apt --print-source-file; cp /etc/apt/sources.list /tmp/s.list; \
         xx-apt --fix-source-file /tmp/s.list amd64; cat /tmp/s.list",
        &[],
    );
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("/etc/apt/sources.list"));
    assert!(out.contains("deb [arch=amd64] "), "{out}");
    // apt-get update runs when xx-apt changed the architectures, not on
    // every call (upstream updates every time).
    let arm64 = [("TARGETPLATFORM", "linux/arm64")];
    let first = sb.run("xx-apt-get -s install zlib1g-dev", &arm64);
    let again = sb.run("xx-apt-get -s install zlib1g-dev", &arm64);
    assert!(
        first.status.success() && again.status.success(),
        "{first:?} {again:?}"
    );
    let updates = |o: &std::process::Output| {
        String::from_utf8_lossy(&o.stderr)
            .lines()
            .filter(|l| *l == "+ apt-get update")
            .count()
    };
    assert_eq!(
        (updates(&first), updates(&again)),
        (1, 0),
        "{first:?} {again:?}"
    );
    // A command that is not about packages goes straight to apt-get.
    let out = sb.run_ok(
        "xx-apt-get --version | head -1",
        &[("TARGETPLATFORM", "linux/arm64")],
    );
    assert!(out.starts_with("apt "), "{out}");
}
