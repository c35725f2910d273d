//! Emulated steps run on the device's CPU, not QEMU's maximum: an ARMv7
//! binary in a `linux/arm/v6` image must fail in a RUN step and in the smoke
//! test with "Illegal instruction", naming the CPU emulated (an ARM1176, the
//! Raspberry Pi Zero's), while the ARMv6 build of the same program runs.
//! A program QEMU kills for a signal must end the step even as the
//! container's first process (qemu-user's kill(2) of itself is ignored for
//! a PID namespace's init, so emulated steps run under tini).

use std::fs;

use super::Scenario;
use crate::support::mxbuild::{mx, repo, text};

#[test]
fn armv7_code_in_an_armv6_image_dies_like_on_a_pi_zero() {
    let Some(s) = Scenario::start("qemu-cpu") else {
        return;
    };
    let t = s.dir.path();
    let elf = repo().join("testdata/elf");
    fs::copy(
        elf.join("linux-armv7-musleabihf-static"),
        t.join("hello-v7"),
    )
    .unwrap();
    fs::copy(
        elf.join("linux-armv6-musleabihf-static"),
        t.join("hello-v6"),
    )
    .unwrap();

    // The ARMv6 build runs in a RUN step and in the smoke test.
    fs::write(
        t.join("Dockerfile"),
        "FROM debian:bookworm\nCOPY hello-v6 /hello\nRUN /hello\n",
    )
    .unwrap();
    let o = mx(&[
        "build",
        "--no-cache",
        "--platform",
        "rpi-zero",
        "--smoke-test",
        "/hello",
        t.to_str().unwrap(),
    ]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(
        out.contains("== linux/arm/v6 (QEMU CPU arm1176): `/hello` exited 0"),
        "{out}"
    );

    // The ARMv7 build: the RUN step fails as on the device, naming the CPU.
    fs::write(
        t.join("Dockerfile"),
        "FROM debian:bookworm\nCOPY hello-v7 /hello\nRUN /hello\n",
    )
    .unwrap();
    let o = mx(&[
        "build",
        "--no-cache",
        "--platform",
        "linux/arm/v6",
        t.to_str().unwrap(),
    ]);
    let out = text(&o);
    assert!(!o.status.success(), "{out}");
    assert!(
        out.contains(
            "Dockerfile:3: RUN failed for linux/arm/v6 under QEMU, emulating a arm1176 CPU (exit code 132: Illegal instruction)"
        ),
        "{out}"
    );

    // Exec form in a scratch image: no shell, the program is the step's
    // only process; it must still die, not hang.
    fs::write(
        t.join("Dockerfile"),
        "FROM scratch\nCOPY hello-v7 /hello\nRUN [\"/hello\"]\n",
    )
    .unwrap();
    let o = mx(&[
        "build",
        "--no-cache",
        "--platform",
        "linux/arm/v6",
        t.to_str().unwrap(),
    ]);
    let out = text(&o);
    assert!(
        out.contains("Dockerfile:3: RUN failed for linux/arm/v6 under QEMU, emulating a arm1176 CPU (exit code 132: Illegal instruction)"),
        "{out}"
    );

    // Without the RUN, the smoke test catches it.
    fs::write(
        t.join("Dockerfile"),
        "FROM debian:bookworm\nCOPY hello-v7 /hello\n",
    )
    .unwrap();
    let o = mx(&[
        "build",
        "--no-cache",
        "--platform",
        "linux/arm/v6",
        "--verify",
        "off",
        "--smoke-test",
        "/hello",
        t.to_str().unwrap(),
    ]);
    let out = text(&o);
    assert!(!o.status.success(), "{out}");
    assert!(
        out.contains(
            "== linux/arm/v6 (QEMU CPU arm1176): `/hello` exited 132: Illegal instruction"
        ),
        "{out}"
    );

    // The same binary for linux/arm/v7 runs on its Cortex-A7.
    let o = mx(&[
        "build",
        "--no-cache",
        "--platform",
        "linux/arm/v7",
        "--smoke-test",
        "/hello",
        t.to_str().unwrap(),
    ]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(
        out.contains("== linux/arm/v7 (QEMU CPU cortex-a7): `/hello` exited 0"),
        "{out}"
    );
}
