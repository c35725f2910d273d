//! `xx-info` as users run it: the static binary, reached through the
//! `xx-info` symlink, inside chroots that hold nothing else but an os-release
//! (Debian, Ubuntu, Alpine, Fedora, Rocky, none). Expected values are typed
//! from upstream xx's documented behaviour, not computed from our table, so the table is checked.

use crate::support::{Chroot, is_root, require};

struct DistroCase {
    tag: &'static str,
    files: &'static [(&'static str, &'static str)],
    vendor: &'static str,
    os_version: &'static str,
    /// Which triple column of the expectations applies.
    triples: Col,
    /// Which package-arch column applies.
    pkg: Pkg,
}

#[derive(Clone, Copy)]
enum Col {
    Gnu,
    Alpine,
    Unknown,
}

#[derive(Clone, Copy)]
enum Pkg {
    Debian,
    Alpine,
    Rhel,
    DockerArch,
}

const DISTROS: &[DistroCase] = &[
    DistroCase {
        tag: "debian",
        files: &[(
            "etc/os-release",
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nID=debian\n",
        )],
        vendor: "debian",
        os_version: "12",
        triples: Col::Gnu,
        pkg: Pkg::Debian,
    },
    DistroCase {
        tag: "ubuntu",
        files: &[(
            "etc/os-release",
            "PRETTY_NAME=\"Ubuntu 24.04.1 LTS\"\nNAME=\"Ubuntu\"\nVERSION_ID=\"24.04\"\nVERSION=\"24.04.1 LTS (Noble Numbat)\"\nID=ubuntu\nID_LIKE=debian\n",
        )],
        vendor: "ubuntu",
        os_version: "24.04",
        triples: Col::Gnu,
        pkg: Pkg::Debian,
    },
    DistroCase {
        tag: "alpine",
        files: &[
            (
                "etc/os-release",
                "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME=\"Alpine Linux v3.20\"\n",
            ),
            ("etc/alpine-release", "3.20.3\n"),
        ],
        vendor: "alpine",
        os_version: "3.20.3",
        triples: Col::Alpine,
        pkg: Pkg::Alpine,
    },
    DistroCase {
        tag: "fedora",
        files: &[
            (
                "etc/os-release",
                "NAME=\"Fedora Linux\"\nVERSION=\"40 (Container Image)\"\nID=fedora\nVERSION_ID=40\n",
            ),
            ("etc/redhat-release", "Fedora release 40 (Forty)\n"),
        ],
        vendor: "fedora",
        os_version: "40",
        triples: Col::Gnu,
        pkg: Pkg::Rhel,
    },
    DistroCase {
        tag: "rocky",
        files: &[
            (
                "etc/os-release",
                "NAME=\"Rocky Linux\"\nVERSION=\"9.4 (Blue Onyx)\"\nID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.4\"\n",
            ),
            (
                "etc/redhat-release",
                "Rocky Linux release 9.4 (Blue Onyx)\n",
            ),
        ],
        vendor: "rocky",
        os_version: "9.4",
        triples: Col::Gnu,
        pkg: Pkg::Rhel,
    },
    DistroCase {
        tag: "none",
        files: &[],
        vendor: "unknown",
        os_version: "",
        triples: Col::Unknown,
        pkg: Pkg::DockerArch,
    },
];

/// One Linux platform: upstream's arch names and C triples.
struct PlatformCase {
    platform: &'static str,
    arch: &'static str,
    variant: &'static str,
    march: &'static str,
    debian: &'static str,
    alpine: &'static str,
    rhel: &'static str,
    gnu_triple: &'static str,
    alpine_triple: &'static str,
    unknown_triple: &'static str,
}

#[rustfmt::skip]
const LINUX: &[PlatformCase] = &[
    PlatformCase { platform: "linux/amd64", arch: "amd64", variant: "", march: "x86_64", debian: "amd64", alpine: "x86_64", rhel: "x86_64", gnu_triple: "x86_64-linux-gnu", alpine_triple: "x86_64-alpine-linux-musl", unknown_triple: "x86_64-unknown-linux-gnu" },
    PlatformCase { platform: "linux/amd64/v2", arch: "amd64", variant: "v2", march: "x86_64", debian: "amd64", alpine: "x86_64", rhel: "x86_64", gnu_triple: "x86_64-linux-gnu", alpine_triple: "x86_64-alpine-linux-musl", unknown_triple: "x86_64-unknown-linux-gnu" },
    PlatformCase { platform: "linux/amd64/v4", arch: "amd64", variant: "v4", march: "x86_64", debian: "amd64", alpine: "x86_64", rhel: "x86_64", gnu_triple: "x86_64-linux-gnu", alpine_triple: "x86_64-alpine-linux-musl", unknown_triple: "x86_64-unknown-linux-gnu" },
    PlatformCase { platform: "linux/arm64", arch: "arm64", variant: "", march: "aarch64", debian: "arm64", alpine: "aarch64", rhel: "aarch64", gnu_triple: "aarch64-linux-gnu", alpine_triple: "aarch64-alpine-linux-musl", unknown_triple: "aarch64-unknown-linux-gnu" },
    PlatformCase { platform: "linux/arm", arch: "arm", variant: "v7", march: "armv7l", debian: "armhf", alpine: "armv7", rhel: "armv7hl", gnu_triple: "arm-linux-gnueabihf", alpine_triple: "armv7-alpine-linux-musleabihf", unknown_triple: "arm-unknown-linux-gnueabihf" },
    PlatformCase { platform: "linux/arm/v7", arch: "arm", variant: "v7", march: "armv7l", debian: "armhf", alpine: "armv7", rhel: "armv7hl", gnu_triple: "arm-linux-gnueabihf", alpine_triple: "armv7-alpine-linux-musleabihf", unknown_triple: "arm-unknown-linux-gnueabihf" },
    PlatformCase { platform: "linux/arm/v8", arch: "arm", variant: "v8", march: "armv7l", debian: "armhf", alpine: "armv7", rhel: "armv7hl", gnu_triple: "arm-linux-gnueabihf", alpine_triple: "armv7-alpine-linux-musleabihf", unknown_triple: "arm-unknown-linux-gnueabihf" },
    PlatformCase { platform: "linux/arm/v6", arch: "arm", variant: "v6", march: "armv6l", debian: "armel", alpine: "armhf", rhel: "armv6hl", gnu_triple: "arm-linux-gnueabi", alpine_triple: "armv6-alpine-linux-musleabihf", unknown_triple: "arm-unknown-linux-gnueabi" },
    PlatformCase { platform: "linux/arm/v5", arch: "arm", variant: "v5", march: "armv5l", debian: "armel", alpine: "armel", rhel: "armv5tel", gnu_triple: "arm-linux-gnueabi", alpine_triple: "armv5-alpine-linux-musleabi", unknown_triple: "arm-unknown-linux-gnueabi" },
    PlatformCase { platform: "linux/386", arch: "386", variant: "", march: "i386", debian: "i386", alpine: "x86", rhel: "i386", gnu_triple: "i686-linux-gnu", alpine_triple: "i586-alpine-linux-musl", unknown_triple: "i686-unknown-linux-gnu" },
    PlatformCase { platform: "linux/ppc64le", arch: "ppc64le", variant: "", march: "ppc64le", debian: "ppc64el", alpine: "ppc64le", rhel: "ppc64le", gnu_triple: "powerpc64le-linux-gnu", alpine_triple: "powerpc64le-alpine-linux-musl", unknown_triple: "powerpc64le-unknown-linux-gnu" },
    PlatformCase { platform: "linux/s390x", arch: "s390x", variant: "", march: "s390x", debian: "s390x", alpine: "s390x", rhel: "s390x", gnu_triple: "s390x-linux-gnu", alpine_triple: "s390x-alpine-linux-musl", unknown_triple: "s390x-unknown-linux-gnu" },
    PlatformCase { platform: "linux/riscv64", arch: "riscv64", variant: "", march: "riscv64", debian: "riscv64", alpine: "riscv64", rhel: "riscv64", gnu_triple: "riscv64-linux-gnu", alpine_triple: "riscv64-alpine-linux-musl", unknown_triple: "riscv64-unknown-linux-gnu" },
    PlatformCase { platform: "linux/loong64", arch: "loong64", variant: "", march: "loongarch64", debian: "loong64", alpine: "loongarch64", rhel: "loongarch64", gnu_triple: "loongarch64-linux-gnu", alpine_triple: "loongarch64-alpine-linux-musl", unknown_triple: "loongarch64-unknown-linux-gnu" },
    PlatformCase { platform: "linux/mips", arch: "mips", variant: "", march: "mips", debian: "mips", alpine: "mips", rhel: "mips", gnu_triple: "mips-linux-gnu", alpine_triple: "mips-alpine-linux-musl", unknown_triple: "mips-unknown-linux-gnu" },
    PlatformCase { platform: "linux/mipsle/softfloat", arch: "mipsle", variant: "softfloat", march: "mipsle", debian: "mipsel", alpine: "mipsle", rhel: "mipsel", gnu_triple: "mipsel-linux-gnu", alpine_triple: "mipsel-alpine-linux-musl", unknown_triple: "mipsel-unknown-linux-gnu" },
    PlatformCase { platform: "linux/mips64", arch: "mips64", variant: "", march: "mips64", debian: "mips64", alpine: "mips64", rhel: "mips64", gnu_triple: "mips64-linux-gnuabi64", alpine_triple: "mips64-alpine-linux-muslabi64", unknown_triple: "mips64-unknown-linux-gnuabi64" },
    PlatformCase { platform: "linux/mips64le", arch: "mips64le", variant: "", march: "mips64le", debian: "mips64el", alpine: "mips64le", rhel: "mips64el", gnu_triple: "mips64el-linux-gnuabi64", alpine_triple: "mips64el-alpine-linux-muslabi64", unknown_triple: "mips64el-unknown-linux-gnuabi64" },
];

fn can_chroot() -> bool {
    require(is_root(), "xx-info chroot tests need root (chroot(2))")
}

/// Every Linux platform on every distro: the `env` block, the single
/// commands, `is-cross` and `sysroot`.
#[test]
fn linux_platforms_on_every_distro() {
    if !can_chroot() {
        return;
    }
    for d in DISTROS {
        let root = Chroot::new(d.tag, d.files);
        for p in LINUX {
            let vars = [("TARGETPLATFORM", p.platform)];
            let triple = match d.triples {
                Col::Gnu => p.gnu_triple,
                Col::Alpine => p.alpine_triple,
                Col::Unknown => p.unknown_triple,
            };
            let pkg = match d.pkg {
                Pkg::Debian => p.debian,
                Pkg::Alpine => p.alpine,
                Pkg::Rhel => p.rhel,
                Pkg::DockerArch => p.arch,
            };
            let libc = if d.tag == "alpine" { "musl" } else { "gnu" };
            let want_env = format!(
                "XX_OS=linux\nXX_OS_VERSION={}\nXX_ARCH={}\nXX_MARCH={}\nXX_VENDOR={}\nXX_PKG_ARCH={pkg}\nXX_TRIPLE={triple}\nXX_LIBC={libc}\nTARGETOS=linux\nTARGETARCH={}\nTARGETVARIANT={}",
                d.os_version, p.arch, p.march, d.vendor, p.arch, p.variant
            );
            let ctx = format!("{} on {}", p.platform, d.tag);
            assert_eq!(root.stdout("xx-info", &["env"], &vars), want_env, "{ctx}");
            assert_eq!(
                root.stdout("xx-info", &[], &vars),
                triple,
                "{ctx}: no command"
            );
            assert_eq!(root.stdout("xx-info", &["triple"], &vars), triple, "{ctx}");
            assert_eq!(root.stdout("xx-info", &["pkg-arch"], &vars), pkg, "{ctx}");
            assert_eq!(
                root.stdout("xx-info", &["debian-arch"], &vars),
                p.debian,
                "{ctx}"
            );
            assert_eq!(
                root.stdout("xx-info", &["alpine-arch"], &vars),
                p.alpine,
                "{ctx}"
            );
            assert_eq!(
                root.stdout("xx-info", &["rhel-arch"], &vars),
                p.rhel,
                "{ctx}"
            );
            assert_eq!(root.stdout("xx-info", &["march"], &vars), p.march, "{ctx}");
            assert_eq!(
                root.stdout("xx-info", &["variant"], &vars),
                p.variant,
                "{ctx}"
            );
            assert_eq!(
                root.stdout("xx-info", &["vendor"], &vars),
                d.vendor,
                "{ctx}"
            );
            assert_eq!(
                root.stdout("xx-info", &["os-version"], &vars),
                d.os_version,
                "{ctx}"
            );

            // This machine is x86_64: only amd64 is native.
            let native = p.arch == "amd64";
            let cross = root.run("xx-info", &["is-cross"], &vars);
            assert_eq!(
                cross.status.code(),
                Some(if native { 1 } else { 0 }),
                "{ctx}: is-cross"
            );
            assert!(cross.stdout.is_empty(), "{ctx}: is-cross prints nothing");

            let sysroot = if d.tag == "alpine" && !native {
                format!("/{triple}/")
            } else {
                "/".to_string()
            };
            assert_eq!(
                root.stdout("xx-info", &["sysroot"], &vars),
                sysroot,
                "{ctx}"
            );
        }
    }
}

/// windows, darwin and other OSes (upstream xx-info's quirks).
#[test]
fn other_operating_systems() {
    if !can_chroot() {
        return;
    }
    let debian = Chroot::new("debian-os", DISTROS[0].files);
    let alpine = Chroot::new("alpine-os", DISTROS[2].files);
    for root in [&debian, &alpine] {
        for (platform, triple, march, libc) in [
            ("windows/amd64", "x86_64-w64-mingw32", "x86_64", "mingw32"),
            ("windows/arm64", "aarch64-w64-mingw32", "aarch64", "mingw32"),
            ("windows/arm", "armv7-w64-mingw32", "armv7l", "mingw32"),
            ("windows/386", "i686-w64-mingw32", "i386", "mingw32"),
        ] {
            let vars = [("TARGETPLATFORM", platform)];
            assert_eq!(
                root.stdout("xx-info", &["triple"], &vars),
                triple,
                "{platform}"
            );
            assert_eq!(
                root.stdout("xx-info", &["march"], &vars),
                march,
                "{platform}"
            );
            assert_eq!(root.stdout("xx-info", &["libc"], &vars), libc, "{platform}");
            assert_eq!(
                root.run("xx-info", &["is-cross"], &vars).status.code(),
                Some(0)
            );
            let env = root.stdout("xx-info", &["env"], &vars);
            assert!(
                !env.contains("XX_PKG_ARCH="),
                "{platform}: no pkg arch off Linux: {env}"
            );
        }
        let darwin = [("TARGETPLATFORM", "darwin/amd64")];
        assert_eq!(
            root.stdout("xx-info", &[], &darwin),
            "x86_64-apple-macos10.6"
        );
        assert_eq!(root.stdout("xx-info", &["vendor"], &darwin), "apple");
        assert_eq!(
            root.stdout("xx-info", &["sysroot"], &darwin),
            "/xx-sdk/MacOSX11.1.sdk/"
        );
        let darwin_arm = [("TARGETPLATFORM", "darwin/arm64")];
        assert_eq!(
            root.stdout("xx-info", &[], &darwin_arm),
            "arm64-apple-macos11.0"
        );
        assert_eq!(root.stdout("xx-info", &["march"], &darwin_arm), "arm64");
        let min = [
            ("TARGETPLATFORM", "darwin/amd64"),
            ("MACOSX_VERSION_MIN", "10.15"),
        ];
        assert_eq!(root.stdout("xx-info", &[], &min), "x86_64-apple-macos10.15");
        // freebsd keeps os/arch but gets a Linux triple (upstream quirk, kept).
        let bsd = [("TARGETPLATFORM", "freebsd/amd64")];
        assert_eq!(root.stdout("xx-info", &["os"], &bsd), "freebsd");
        assert!(root.stdout("xx-info", &[], &bsd).starts_with("x86_64-"));
    }
    // The darwin sysroot is the first SDK found under /xx-sdk.
    let sdk = Chroot::new(
        "darwin-sdk",
        &[("xx-sdk/MacOSX14.0.sdk/SDKSettings.json", "{}")],
    );
    let darwin = [("TARGETPLATFORM", "darwin/arm64")];
    assert_eq!(
        sdk.stdout("xx-info", &["sysroot"], &darwin),
        "/xx-sdk/MacOSX14.0.sdk/"
    );
}

/// Where the target comes from, and the environment overrides.
#[test]
fn inputs_and_overrides() {
    if !can_chroot() {
        return;
    }
    let debian = Chroot::new("debian-in", DISTROS[0].files);
    let alpine = Chroot::new("alpine-in", DISTROS[2].files);

    // No target at all: the host (this machine is x86_64).
    assert_eq!(debian.stdout("xx-info", &["arch"], &[]), "amd64");
    assert_eq!(debian.stdout("xx-info", &["os"], &[]), "linux");
    assert_eq!(debian.stdout("xx-info", &["march"], &[]), "x86_64");
    assert_eq!(
        debian.run("xx-info", &["is-cross"], &[]).status.code(),
        Some(1)
    );

    // TARGETOS/TARGETARCH/TARGETVARIANT, TARGETPAIR, and TARGETPLATFORM winning.
    let parts = [
        ("TARGETOS", "linux"),
        ("TARGETARCH", "arm"),
        ("TARGETVARIANT", "v6"),
    ];
    assert_eq!(debian.stdout("xx-info", &[], &parts), "arm-linux-gnueabi");
    assert_eq!(
        debian.stdout("xx-info", &["variant"], &[("TARGETARCH", "arm")]),
        "v7"
    );
    assert_eq!(
        debian.stdout("xx-info", &["variant"], &[("TARGETARCH", "amd64")]),
        ""
    );
    let pair = [("TARGETPAIR", "linux-armv7")];
    assert_eq!(debian.stdout("xx-info", &["arch"], &pair), "arm");
    assert_eq!(debian.stdout("xx-info", &[], &pair), "arm-linux-gnueabihf");
    let both = [
        ("TARGETPAIR", "linux-arm64"),
        ("TARGETPLATFORM", "linux/s390x"),
    ];
    assert_eq!(debian.stdout("xx-info", &["arch"], &both), "s390x");
    let foo = [("TARGETPLATFORM", "foo/bar")];
    assert_eq!(debian.stdout("xx-info", &["os"], &foo), "foo");
    assert_eq!(debian.stdout("xx-info", &["arch"], &foo), "bar");

    // Overrides.
    let arm = |extra: (&'static str, &'static str)| [("TARGETPLATFORM", "linux/arm"), extra];
    assert_eq!(
        debian.stdout("xx-info", &[], &arm(("ARM_TARGET_ARCH", "armv7"))),
        "armv7-linux-gnueabihf"
    );
    assert_eq!(
        debian.stdout("xx-info", &["pkg-arch"], &arm(("ARM_TARGET_ARCH", "armv7"))),
        "armhf"
    );
    assert_eq!(
        alpine.stdout("xx-info", &[], &arm(("ARM_TARGET_ARCH", "arm"))),
        "arm-alpine-linux-musleabihf"
    );
    let rv = [
        ("TARGETPLATFORM", "linux/riscv64"),
        ("RISCV64_TARGET_ARCH", "riscv64gc"),
        ("XX_VENDOR", "unknown"),
    ];
    assert_eq!(
        debian.stdout("xx-info", &[], &rv),
        "riscv64gc-unknown-linux-gnu"
    );
    let libc = [("TARGETPLATFORM", "linux/arm64"), ("XX_LIBC", "gnu")];
    assert_eq!(
        alpine.stdout("xx-info", &[], &libc),
        "aarch64-alpine-linux-gnu"
    );
    assert_eq!(
        debian.stdout("xx-info", &["libc"], &[("XX_LIBC", "musl")]),
        "musl"
    );
    let vendor = [("TARGETPLATFORM", "linux/arm64"), ("XX_VENDOR", "foo")];
    assert_eq!(
        debian.stdout("xx-info", &[], &vendor),
        "aarch64-foo-linux-gnu"
    );
    assert_eq!(debian.stdout("xx-info", &["pkg-arch"], &vendor), "arm64");
}

/// Commands, help and errors, and the other ways to invoke the binary.
#[test]
fn commands_and_errors() {
    if !can_chroot() {
        return;
    }
    let root = Chroot::new("debian-cmd", DISTROS[0].files);

    let out = root.run("xx-info", &["something"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "unknown command something\n"
    );

    let out = root.run("xx-info", &["--help"], &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Usage: xx-info [COMMAND]"));

    // Unknown architectures answer os/arch, but not the triple (upstream master).
    let riscv32 = [("TARGETPLATFORM", "linux/riscv32")];
    assert_eq!(root.stdout("xx-info", &["os"], &riscv32), "linux");
    assert_eq!(root.stdout("xx-info", &["arch"], &riscv32), "riscv32");
    for cmd in ["triple", "env"] {
        let out = root.run("xx-info", &[cmd], &riscv32);
        assert_eq!(out.status.code(), Some(1), "{cmd}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("unsupported target: os=linux arch=riscv32 variant="),
            "{cmd}: {err}"
        );
    }

    // `xx info ...` and `xx xx-info ...` are the same helper.
    let vars = [("TARGETPLATFORM", "linux/arm64")];
    assert_eq!(
        root.stdout("xx", &["info", "triple"], &vars),
        "aarch64-linux-gnu"
    );
    assert_eq!(
        root.stdout("xx", &["xx-info", "debian-arch"], &vars),
        "arm64"
    );

    // An unknown helper is a usage error that points at --help.
    let out = root.run("xx", &["frobnicate"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown helper \"frobnicate\""));
}
