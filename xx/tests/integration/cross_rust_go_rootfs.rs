//! Rust and Go cross builds as a build stage does them: a debootstrapped
//! Debian bookworm amd64 root with Debian's rustc-web/cargo-web, golang-go,
//! clang, lld and pkg-config, plus the static xx. Each binary must pass
//! xx-verify and run under QEMU. The tests take turns (one lock): each is a
//! real compile, and the machine has two cores.

use std::path::Path;
use std::sync::Mutex;

use crate::support::{Sandbox, base_rootfs, binfmt_ready, repo_dir, require};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

const PACKAGES: &[&str] = &[
    "clang",
    "lld",
    "pkg-config",
    "golang-go",
    "rustc-web",
    "cargo-web",
    "rust-web-src",
    "python3-pip",
];

fn sandbox(tag: &str) -> Option<Sandbox> {
    if !require(
        binfmt_ready(&["aarch64", "arm", "ppc64le", "s390x", "riscv64"]),
        "QEMU binfmt handlers (F flag) missing: run scripts/setup-binfmt.sh",
    ) {
        return None;
    }
    let rootfs = base_rootfs("amd64", PACKAGES)?;
    let sb = Sandbox::new(tag, &rootfs);
    for dir in ["hello-rust", "rust-openssl", "hello-go", "hello-cgo"] {
        copy_tree(
            &repo_dir().join("testdata").join(dir),
            &sb,
            &format!("/src/{dir}"),
        );
    }
    Some(sb)
}

fn copy_tree(src: &Path, sb: &Sandbox, dest: &str) {
    for entry in std::fs::read_dir(src).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == "target" {
            continue;
        }
        let to = format!("{dest}/{name}");
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), sb, &to);
        } else {
            sb.add(&entry.path(), &to);
        }
    }
}

/// xx-cargo for arm64 and arm/v7 with std installed by xx-cargo itself, then
/// an openssl-sys crate (no vendoring) against the target's libssl.
#[test]
fn xx_cargo_builds_verifies_and_runs() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let Some(sb) = sandbox("xx-cargo") else {
        return;
    };
    for (platform, arch) in [("linux/arm64", "aarch64"), ("linux/arm/v7", "arm")] {
        let script = r#"set -e
cd /src/hello-rust
xx-cargo build --release --locked 2>/tmp/cargo.log || { tail -60 /tmp/cargo.log; exit 1; }
grep 'verified for' /tmp/cargo.log >&2
dir=$(xx-cargo --print-target-dir --release)
xx-verify "$dir/hello-rust"
"$dir/hello-rust"
echo "triple=$(xx-cargo --print-target-triple)"
"#;
        let out = sb.run_ok(script, &[("TARGETPLATFORM", platform)]);
        let bits = if arch == "aarch64" { 64 } else { 32 };
        assert!(
            out.contains(&format!("hello from Rust on {arch} ({bits}-bit, glibc)")),
            "{platform}: {out}"
        );
        let want = if arch == "aarch64" {
            "aarch64-unknown-linux-gnu"
        } else {
            "armv7-unknown-linux-gnueabihf"
        };
        assert!(out.contains(&format!("triple={want}")), "{platform}: {out}");
    }

    // openssl-sys finds the arm64 libssl through <rust-triple>-pkg-config (upstream #94/#107).
    let script = r#"set -e
xx-apt-get install -y -q libssl-dev pkg-config >/tmp/apt.log 2>&1 || { tail -40 /tmp/apt.log; exit 1; }
cd /src/rust-openssl
xx-cargo build --release --locked 2>/tmp/cargo.log || { tail -60 /tmp/cargo.log; exit 1; }
dir=$(xx-cargo --print-target-dir --release)
xx-verify --root / "$dir/rust-openssl"
"$dir/rust-openssl"
"#;
    let out = sb.run_ok(script, &[("TARGETPLATFORM", "linux/arm64")]);
    assert!(
        out.contains("linked OpenSSL 3.0") && out.contains("on aarch64"),
        "{out}"
    );
    let report = xx::verify::verify_path(
        &sb.upper("/src/rust-openssl/target/aarch64-unknown-linux-gnu/release/rust-openssl"),
        &xx::verify::Expectation::new("linux/arm64".parse().unwrap()),
        &xx::verify::Options::default(),
    );
    assert!(
        report.ok && report.needed.iter().any(|n| n.starts_with("libcrypto.so")),
        "{report:?}"
    );
}

/// `xx-cargo install` of a real crates.io crate, as a new user tries it: cargo
/// builds in a temporary directory it deletes, so xx-cargo must verify the
/// installed copy under `--root`, not the build output.
#[test]
fn xx_cargo_install_from_crates_io() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let Some(sb) = sandbox("xx-cargo-install") else {
        return;
    };
    let script = r#"set -e
xx-cargo install --locked --root /out hexyl@0.14.0 2>/tmp/install.log || { tail -60 /tmp/install.log; exit 1; }
grep 'verified for' /tmp/install.log
grep '^+ .*cargo install' /tmp/install.log | head -1
# The one-time setup marker names the whole triple (upstream: only the arch).
test -e /.xx-cargo.aarch64-unknown-linux-gnu && echo marker-by-triple
xx-verify /out/bin/hexyl
printf 'xx' | /out/bin/hexyl --plain
"#;
    let vars = [("TARGETPLATFORM", "linux/arm64"), ("XX_DEBUG_CARGO", "1")];
    let out = sb.run_ok(script, &vars);
    assert!(out.contains("78 78"), "hexyl under QEMU printed: {out}");
    assert!(out.contains("marker-by-triple"), "{out}");
    assert!(
        out.contains("/out/bin/hexyl verified for linux/arm64"),
        "the installed copy is what was checked: {out}"
    );
    assert!(
        out.contains("--target=aarch64-unknown-linux-gnu"),
        "XX_DEBUG_CARGO shows the cargo command: {out}"
    );

    // wasi: Rust's wasm32-wasip1. Debian packages no std for it: the error
    // says what to do; with XX_CARGO_BUILD_STD the sources are enough.
    let wasi = [("TARGETPLATFORM", "wasi/wasm")];
    let out = sb.run("cd /src/hello-rust && xx-cargo build", &wasi);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("rustup target add wasm32-wasip1"), "{err}");
    let out = sb.run_ok("XX_CARGO_BUILD_STD=1 xx-cargo --print-target-triple", &wasi);
    assert_eq!(out.trim(), "wasm32-wasip1");
    let report = xx::verify::verify_path(
        &sb.upper("/out/bin/hexyl"),
        &xx::verify::Expectation::new("linux/arm64".parse().unwrap()),
        &xx::verify::Options::default(),
    );
    assert!(report.ok, "{report:?}");
}

/// xx-go for seven platforms (pure Go), and cgo for arm64 and arm/v7.
#[test]
fn xx_go_builds_verifies_and_runs() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let Some(sb) = sandbox("xx-go") else { return };
    for (platform, goarch, runner) in [
        ("linux/arm64", "arm64", ""),
        ("linux/arm/v6", "arm", "env QEMU_CPU=arm1176"),
        ("linux/arm/v7", "arm", ""),
        ("linux/386", "386", ""),
        ("linux/ppc64le", "ppc64le", ""),
        ("linux/s390x", "s390x", ""),
        ("linux/riscv64", "riscv64", ""),
    ] {
        let name = platform.replace('/', "-");
        let script = format!(
            r#"set -e
cd /src/hello-go
HOME=/root xx-go build -o /out/{name} .
xx-verify /out/{name}
{runner} /out/{name}
"#
        );
        let out = sb.run_ok(
            &format!("mkdir -p /out\n{script}"),
            &[("TARGETPLATFORM", platform)],
        );
        assert_eq!(
            out.trim(),
            format!("hello from Go on linux/{goarch}"),
            "{platform}"
        );
    }
    // CC and CXX are named, not pathed, as upstream prints them (this root
    // has no llvm-ar, so AR stays go's default).
    let tools = sb.run_ok(
        "cd /src/hello-go && HOME=/root CGO_ENABLED=1 xx-go env CC CXX AR",
        &[("TARGETPLATFORM", "linux/arm64")],
    );
    assert_eq!(
        tools.lines().collect::<Vec<_>>(),
        ["aarch64-linux-gnu-clang", "aarch64-linux-gnu-clang++", "ar"],
        "{tools}"
    );
    for (platform, machine) in [("linux/arm64", "aarch64"), ("linux/arm/v7", "armv7l")] {
        let name = platform.replace('/', "-");
        let script = format!(
            r#"set -e
xx-apt-get install -y -q xx-c-essentials >/tmp/apt.log 2>&1 || {{ tail -40 /tmp/apt.log; exit 1; }}
cd /src/hello-cgo
HOME=/root CGO_ENABLED=1 xx-go build -o /out/cgo-{name} .
xx-verify /out/cgo-{name}
/out/cgo-{name}
"#
        );
        let out = sb.run_ok(&script, &[("TARGETPLATFORM", platform)]);
        assert_eq!(
            out.trim(),
            format!("hello from cgo on {machine}"),
            "{platform}"
        );
    }
    // --wrap makes plain `go` build for the target until --unwrap.
    let out = sb.run_ok(
        "cd /src/hello-go && HOME=/root xx-go --wrap && HOME=/root go env GOARCH GOARM && HOME=/root xx-go --unwrap && HOME=/root go env GOARCH",
        &[("TARGETPLATFORM", "linux/arm/v6")],
    );
    assert_eq!(
        out.split_whitespace().collect::<Vec<_>>(),
        ["arm", "6", "amd64"],
        "{out}"
    );
    // --wrap keeps the MIPS float mode too (upstream drops GOMIPS/GOMIPS64).
    let out = sb.run_ok(
        "cd /src/hello-go && HOME=/root xx-go --wrap && HOME=/root go env GOARCH GOMIPS64 && HOME=/root xx-go --unwrap",
        &[("TARGETPLATFORM", "linux/mips64le/softfloat")],
    );
    assert_eq!(
        out.split_whitespace().collect::<Vec<_>>(),
        ["mips64le", "softfloat"],
        "{out}"
    );
}

/// Raspberry Pi Zero / Pi 1: std for arm-unknown-linux-musleabihf built from
/// Debian's rust-web-src, linked by zig for an ARM1176, run on an emulated ARM1176.
#[test]
fn armv6_rust_for_raspberry_pi_zero() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let Some(sb) = sandbox("xx-cargo-armv6") else {
        return;
    };
    let script = r#"set -e
pip install -q --break-system-packages ziglang >/tmp/pip.log 2>&1 || { tail -20 /tmp/pip.log; exit 1; }
cd /src/hello-rust
HOME=/root xx-cargo build --release --locked 2>/tmp/cargo.log || { tail -60 /tmp/cargo.log; exit 1; }
dir=$(xx-cargo --print-target-dir --release)
echo "dir=$dir"
xx-verify --static "$dir/hello-rust"
QEMU_CPU=arm1176 "$dir/hello-rust"
"#;
    let vars = [
        ("TARGETPLATFORM", "linux/arm/v6"),
        ("XX_CARGO_BUILD_STD", "1"),
    ];
    let out = sb.run_ok(script, &vars);
    assert!(
        out.contains("dir=target/arm-unknown-linux-musleabihf/release"),
        "{out}"
    );
    assert!(
        out.contains("hello from Rust on arm (32-bit, musl)"),
        "{out}"
    );
    let report = xx::verify::verify_path(
        &sb.upper("/src/hello-rust/target/arm-unknown-linux-musleabihf/release/hello-rust"),
        &xx::verify::Expectation::new("linux/arm/v6".parse().unwrap()),
        &xx::verify::Options::default(),
    );
    assert!(report.ok, "{}", report.failure_line());
    assert_eq!(
        report.platform.as_deref(),
        Some("linux/arm/v6"),
        "{report:?}"
    );
}
