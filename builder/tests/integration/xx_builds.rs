//! What users came for, end to end: real multi-platform builds in the xx
//! style (compilers native on $BUILDPLATFORM, only the final RUN emulated),
//! every binary verified, a smoke test printing each platform's output, a
//! wrong Dockerfile caught by verification, and `mxbuild verify` on an image
//! built by buildah. The xx helpers come in as `--build-context xx=DIR`
//! holding this workspace's static `xx` (the images/xx build is tested in
//! xx_image.rs).

use std::fs;
use std::path::Path;
use std::process::Command;

use testkit::require;

use crate::support::mxbuild::{mx, repo, text, tool};
use crate::support::{TempDir, shared_store, tmp};

fn ready() -> bool {
    // SAFETY: geteuid has no preconditions.
    if !require(unsafe { libc::geteuid() } == 0, "mxbuild build needs root") {
        return false;
    }
    if !require(
        tool("runc"),
        "runc is needed (scripts/setup.sh installs it)",
    ) {
        return false;
    }
    let have = mx(&["image", "inspect", "debian:bookworm"]);
    let t = text(&have);
    require(
        have.status.success() && t.contains("linux/arm64") && t.contains("linux/arm/v7"),
        "debian:bookworm (amd64, arm64, arm/v7) is not in the test store (run scripts/base-images.sh)",
    )
}

/// A directory holding usr/bin/xx (static) and its helper links.
fn xx_context() -> Option<TempDir> {
    let bin = Path::new(env!("CARGO_BIN_EXE_mxbuild")).with_file_name("xx");
    if !require(
        bin.is_file(),
        "the xx binary is not built (cargo build -p xx; scripts/test.sh does)",
    ) {
        return None;
    }
    let dir = tmp("xx-context");
    fs::create_dir_all(dir.join("usr/bin")).unwrap();
    // A hard link, not a copy: tests of every topic share this process, and
    // one forking while the copy's write fd is open would make running it
    // fail with ETXTBSY ("Text file busy").
    if fs::hard_link(&bin, dir.join("usr/bin/xx")).is_err() {
        fs::copy(&bin, dir.join("usr/bin/xx")).unwrap();
    }
    let o = Command::new(dir.join("usr/bin/xx"))
        .arg("install-links")
        .arg(dir.join("usr/bin"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    Some(dir)
}

const THREE: &str = "linux/amd64,linux/arm64,linux/arm/v7";

/// `mxbuild build --platform P --build-context xx=XX --verify strict
/// --smoke-test SMOKE CTX`: must succeed; returns its output.
fn build_xx_way(platforms: &str, xx: &Path, smoke: &str, ctx: &Path) -> String {
    build_xx_way_with(platforms, xx, smoke, ctx, &[])
}

fn build_xx_way_with(
    platforms: &str,
    xx: &Path,
    smoke: &str,
    ctx: &Path,
    extra: &[&str],
) -> String {
    let xx_ctx = format!("xx={}", xx.display());
    let mut args = vec![
        "build",
        "--platform",
        platforms,
        "--build-context",
        &xx_ctx,
        "--verify",
        "strict",
        "--smoke-test",
        smoke,
    ];
    args.extend_from_slice(extra);
    args.push(ctx.to_str().unwrap());
    let o = mx(&args);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    out
}

#[test]
fn hello_c_for_three_platforms_is_verified_and_runs_everywhere() {
    let _g = shared_store();
    if !ready() {
        return;
    }
    let Some(xx) = xx_context() else { return };
    let ctx = repo().join("testdata/hello-c");
    // The plan: compiles native, only the final RUNs (arm64, arm/v7) emulated.
    let plan = mx(&[
        "plan",
        "--format",
        "json",
        "--platform",
        THREE,
        "--build-context",
        &format!("xx={}", xx.display()),
        ctx.to_str().unwrap(),
    ]);
    let p: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    for i in p["instances"].as_array().unwrap() {
        for s in i["steps"].as_array().unwrap() {
            let compiles = s["text"].as_str().unwrap().contains("xx-clang");
            assert!(
                !(compiles && s["emulated"] == true),
                "a compile runs under QEMU: {s}"
            );
        }
    }
    assert_eq!(p["summary"]["runs_emulated"], 2, "{}", text(&plan));

    let out = build_xx_way(THREE, &xx, "hello", &ctx);
    for arch in ["x86_64", "aarch64", "armv7l"] {
        assert!(out.contains(&format!("hello from C on {arch}")), "{out}");
    }
    assert!(
        out.contains(
            "linux/arm/v7  /usr/local/bin/hello: ELF 32-bit LSB ARM, ARMv7 (v7), hard-float"
        ),
        "{out}"
    );
    assert!(!out.contains("MISMATCH"), "{out}");
}

#[test]
fn hello_c_for_arm_v5_and_a_pi_zero_on_debian_armel() {
    let _g = shared_store();
    if !ready() {
        return;
    }
    let have = text(&mx(&["image", "inspect", "debian:bookworm"]));
    if !require(
        have.contains("linux/arm/v5"),
        "debian:bookworm has no linux/arm/v5 (run scripts/base-images.sh)",
    ) {
        return;
    }
    let Some(xx) = xx_context() else { return };
    let ctx = repo().join("testdata/hello-c");
    let out = build_xx_way("linux/arm/v5", &xx, "hello", &ctx);
    assert!(
        out.contains(
            "linux/arm/v5  /usr/local/bin/hello: ELF 32-bit LSB ARM, ARMv5 (v5TE), soft-float"
        ),
        "xx-clang targets armel (ARMv5TE, soft-float): {out}"
    );
    assert!(out.contains("hello from C on arm"), "{out}");
    // Debian's armel libnettle carries ARMv6/VFP code behind run-time checks: a note.
    assert!(
        out.contains("note linux/arm/v5") && out.contains("libnettle"),
        "{out}"
    );

    // A Raspberry Pi Zero (linux/arm/v6): there is no v6 debian:bookworm, so
    // the v5 (armel) one is taken, never the v7 one, as docker does.
    let out = build_xx_way("rpi-zero", &xx, "hello", &ctx);
    assert!(
        out.contains(
            "linux/arm/v6  /usr/local/bin/hello: ELF 32-bit LSB ARM, ARMv5 (v5TE), soft-float"
        ),
        "{out}"
    );
    assert!(
        out.contains("/lib/ld-linux.so.3"),
        "the armel loader, not armhf's: {out}"
    );
}

#[test]
fn hello_rust_for_three_platforms_is_verified_and_runs_everywhere() {
    let _g = shared_store();
    if !ready() {
        return;
    }
    let Some(xx) = xx_context() else { return };
    let ctx = repo().join("testdata/hello-rust");
    // The demo's image, with its SBOM (the check: Debian packages
    // with versions and the crates of hello-rust, valid SPDX 2.3).
    let t = tmp("hello-rust-sbom");
    let layout = t.path().join("layout");
    let oci = format!("type=oci,dest={}", layout.display());
    let out = build_xx_way_with(THREE, &xx, "hello-rust", &ctx, &["--sbom=true", "-o", &oci]);
    for (arch, bits) in [("x86_64", 64), ("aarch64", 64), ("arm", 32)] {
        assert!(
            out.contains(&format!("hello from Rust on {arch} ({bits}-bit, glibc)")),
            "{out}"
        );
    }
    assert!(
        out.contains("/usr/local/bin/hello-rust: ELF 32-bit LSB ARM, ARMv7"),
        "{out}"
    );
    if !require(
        tool("pyspdxtools"),
        "pyspdxtools is needed (scripts/setup.sh installs it)",
    ) {
        return;
    }
    let o = mx(&["sbom", &format!("oci-layout://{}", layout.display())]);
    assert!(o.status.success(), "{}", text(&o));
    let sbom: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for (platform, arch) in [
        ("linux/amd64", "amd64"),
        ("linux/arm64", "arm64"),
        ("linux/arm/v7", "armhf"),
    ] {
        let v = &sbom[platform];
        crate::support::spdx::assert_valid(t.path(), arch, &v["SPDX"]);
        let pkgs = crate::support::spdx::packages(&v["SPDX"]);
        assert!(
            pkgs.iter().any(|p| p.0 == "libc6"
                && p.1.starts_with("2.36-")
                && p.2.contains(&format!("arch={arch}"))),
            "{platform}: {pkgs:?}"
        );
        let stage = &v["AdditionalSPDXs"][0];
        crate::support::spdx::assert_valid(t.path(), &format!("{arch}-build"), stage);
        assert!(
            crate::support::spdx::packages(stage)
                .iter()
                .any(|p| p.2 == "pkg:cargo/hello-rust@0.1.0"),
            "{platform}: the build stage's Cargo.lock"
        );
    }
}

#[test]
fn a_build_platform_binary_in_target_images_is_caught() {
    let _g = shared_store();
    if !ready() {
        return;
    }
    let ctx = repo().join("testdata/hello-c");
    let file = ctx.join("wrong.Dockerfile");
    let o = mx(&[
        "build",
        "--platform",
        "linux/amd64,linux/arm64,linux/arm/v7",
        "--verify",
        "strict",
        "-f",
        file.to_str().unwrap(),
        ctx.to_str().unwrap(),
    ]);
    let out = text(&o);
    assert!(!o.status.success(), "{out}");
    assert!(
        out.contains("verification failed") && out.contains("wrong.Dockerfile"),
        "{out}"
    );
    assert!(
        out.contains("linux/arm64, linux/arm/v7"),
        "names every bad platform: {out}"
    );
    assert!(out.contains("/usr/local/bin/hello: linux/amd64"), "{out}");
    // warn mode reports the same and still succeeds.
    let o = mx(&[
        "build",
        "--platform",
        "linux/arm64",
        "--verify",
        "warn",
        "-f",
        file.to_str().unwrap(),
        ctx.to_str().unwrap(),
    ]);
    assert!(
        o.status.success() && text(&o).contains("warning: verification"),
        "{}",
        text(&o)
    );
}

#[test]
fn mxbuild_verify_checks_an_image_built_by_buildah() {
    let _g = shared_store();
    // SAFETY: geteuid has no preconditions.
    if !require(
        unsafe { libc::geteuid() } == 0,
        "buildah and mxbuild verify need root",
    ) || !require(
        tool("buildah") && tool("runc"),
        "buildah and runc are needed (scripts/setup.sh installs them)",
    ) {
        return;
    }
    let t = tmp("xx-buildah");
    // Tiny real binaries from the xx-verify fixtures, one per platform.
    let elf = repo().join("testdata/elf");
    fs::copy(elf.join("linux-amd64-static"), t.join("hello-amd64")).unwrap();
    fs::copy(elf.join("linux-arm64-static"), t.join("hello-arm64")).unwrap();
    fs::write(
        t.join("Containerfile"),
        "FROM scratch\nARG TARGETARCH\nCOPY hello-${TARGETARCH} /hello\n",
    )
    .unwrap();
    fs::write(
        t.join("Wrongfile"),
        "FROM scratch\nCOPY hello-amd64 /hello\n",
    )
    .unwrap();
    // buildah in a storage of its own under the test's directory: nothing
    // is left in (or taken from) the host's.
    let buildah = || {
        let mut c = Command::new("buildah");
        c.arg("--root")
            .arg(t.join("buildah/root"))
            .arg("--runroot")
            .arg(t.join("buildah/run"))
            .args(["--storage-driver", "overlay"]);
        c
    };
    for (file, name) in [("Containerfile", "good"), ("Wrongfile", "bad")] {
        let manifest = format!("mxbuild-test-{name}-{}", std::process::id());
        let o = buildah()
            .args([
                "build",
                "--runtime",
                "runc",
                "--pull=never",
                "--platform",
                "linux/amd64,linux/arm64",
                "--manifest",
                &manifest,
                "-f",
            ])
            .arg(t.join(file))
            .arg(&t)
            .output()
            .unwrap();
        assert!(o.status.success(), "buildah build: {}", text(&o));
        let layout = t.join(format!("{name}-layout"));
        let o = buildah()
            .args(["manifest", "push", "--all", &manifest])
            .arg(format!("oci:{}:latest", layout.display()))
            .output()
            .unwrap();
        assert!(o.status.success(), "buildah manifest push: {}", text(&o));
        let _ = buildah().args(["manifest", "rm", &manifest]).output();
        let v = mx(&[
            "verify",
            &format!("oci-layout://{}:latest", layout.display()),
        ]);
        let out = text(&v);
        if name == "good" {
            assert!(v.status.success(), "{out}");
            assert!(
                out.contains("linux/arm64")
                    && out.contains("ok  linux/arm64")
                    && out.contains("/hello"),
                "{out}"
            );
        } else {
            assert_eq!(v.status.code(), Some(1), "{out}");
            assert!(
                out.contains("/hello: linux/amd64") && out.contains("but target is linux/arm64"),
                "{out}"
            );
        }
    }
}
