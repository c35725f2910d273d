//! The xx image, built by mxbuild from images/xx/Dockerfile for three
//! platforms (xx compiled natively, then cross-compiled by itself with
//! xx-cargo), verified static for each platform, run under QEMU, and then
//! used the way users use it: `COPY --from=xx / /` in hello-c's Dockerfile.

use std::path::Path;

use testkit::require;

use crate::support::mxbuild::{mx, repo, text};
use crate::support::shared_store;

#[test]
fn xx_image_for_three_platforms_then_used_by_hello_c() {
    // It builds (and tags `xx`) in the shared test store: alone in its own
    // binary once, now beside the other build tests, so it takes their turn.
    let _g = shared_store();
    // SAFETY: geteuid has no preconditions.
    if !require(unsafe { libc::geteuid() } == 0, "mxbuild build needs root") {
        return;
    }
    let have = mx(&["image", "inspect", "debian:bookworm"]);
    if !require(
        have.status.success() && text(&have).contains("linux/arm/v7"),
        "debian:bookworm (amd64, arm64, arm/v7) is not in the test store (run scripts/base-images.sh)",
    ) {
        return;
    }
    // crates.io through this machine's TLS proxy needs the host's CA bundle.
    let ca = "/etc/ssl/certs/ca-certificates.crt";
    let mut args = vec![
        "build",
        "--platform",
        "linux/amd64,linux/arm64,linux/arm/v7",
        "-t",
        "xx",
        "-f",
        "images/xx/Dockerfile",
        "--verify",
        "strict",
        "--smoke-test",
        "xx-info triple",
    ];
    let secret = format!("id=cacert,src={ca}");
    if Path::new(ca).exists() {
        args.extend(["--secret", &secret]);
    }
    args.push(".");
    let o = mx(&args);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    // Each platform's xx is a static binary for that platform, and runs there.
    // (arm/v7 runs on its oldest core, which the line names.)
    for (platform, triple) in [
        ("linux/amd64", "x86_64-unknown-linux-gnu"),
        ("linux/arm64", "aarch64-unknown-linux-gnu"),
        (
            "linux/arm/v7 (QEMU CPU cortex-a7)",
            "arm-unknown-linux-gnueabihf",
        ),
    ] {
        assert!(
            out.contains(&format!(
                "== {platform}: `xx-info triple` exited 0\n{triple}"
            )),
            "{out}"
        );
    }
    assert!(
        out.contains("linux/arm/v7  /usr/bin/xx: ELF 32-bit LSB ARM, ARMv7"),
        "{out}"
    );
    assert!(!out.contains("MISMATCH"), "{out}");
    let v = mx(&["verify", "xx"]);
    assert!(v.status.success(), "{}", text(&v));

    // Users' Dockerfiles take the helpers from it with COPY --from=xx / /.
    let ctx = repo().join("testdata/hello-c");
    let o = mx(&[
        "build",
        "--platform",
        "linux/amd64,linux/arm64,linux/arm/v7",
        "--verify",
        "strict",
        "--smoke-test",
        "hello",
        ctx.to_str().unwrap(),
    ]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    for arch in ["x86_64", "aarch64", "armv7l"] {
        assert!(out.contains(&format!("hello from C on {arch}")), "{out}");
    }
}
