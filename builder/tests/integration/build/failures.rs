//! Builds that fail or are killed: the error names file, line, platform and
//! output; a missing emulator stops the build before anything runs; a
//! SIGKILLed build leaves a consistent store.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use testkit::require;

use super::Scenario;
use crate::support::mxbuild::{mx, mx_ok, ok, store, text};

#[test]
fn failing_run_names_file_line_platform_and_output() {
    let Some(s) = Scenario::start("fail") else {
        return;
    };
    let t = s.dir.path();
    fs::write(
        t.join("Dockerfile"),
        "FROM debian:bookworm\nRUN echo preparing\nRUN echo \"about to fail on $(uname -m)\" && exit 3\n",
    )
    .unwrap();
    let o = mx(&[
        "build",
        "--no-cache",
        "--platform",
        "linux/arm64",
        t.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let e = text(&o);
    assert!(
        e.contains("Dockerfile:3: RUN failed for linux/arm64 (exit code 3)"),
        "{e}"
    );
    assert!(e.contains("| about to fail on aarch64"), "{e}");
    assert!(e.contains("command: /bin/sh -c echo"), "{e}");
}

#[test]
fn unregistered_emulator_fails_before_anything_runs() {
    // Debian's qemu-user-static registers no big-endian arm64 handler.
    let Some(s) = Scenario::start("emu").filter(|_| {
        require(
            !Path::new("/proc/sys/fs/binfmt_misc/qemu-aarch64_be").exists(),
            "this host can run linux/arm64be, so it cannot show the missing-emulator error",
        )
    }) else {
        return;
    };
    let t = s.dir.path();
    fs::write(
        t.join("Dockerfile"),
        "FROM scratch\nCOPY Dockerfile /\nRUN [\"/never\"]\n",
    )
    .unwrap();
    let o = mx(&[
        "build",
        "--platform",
        "linux/amd64,linux/arm64be",
        t.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let e = text(&o);
    assert!(
        e.contains("linux/arm64be")
            && e.contains("binfmt")
            && e.contains("mxbuild binfmt --install"),
        "{e}"
    );
    assert!(
        e.contains("nothing was run") && !e.contains("COPY Dockerfile"),
        "{e}"
    );
}

#[test]
fn killed_build_leaves_a_consistent_store() {
    let Some(s) = Scenario::start("kill") else {
        return;
    };
    let t = s.dir.path();
    let token = format!("{}-{:?}", std::process::id(), Instant::now());
    fs::write(
        t.join("Dockerfile"),
        format!("FROM debian:bookworm\nRUN echo {token} > /a && dd if=/dev/zero of=/big bs=1M count=20 2>/dev/null && echo started && sleep 600\n"),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mxbuild"))
        .args(["build", "--progress", "plain", t.to_str().unwrap()])
        .env("MXBUILD_ROOT", store())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the RUN is running inside its container, then SIGKILL mxbuild.
    let mut err = child.stderr.take().unwrap();
    let mut seen = String::new();
    let start = Instant::now();
    while !seen.contains("| started") {
        let mut buf = [0u8; 4096];
        let n = std::io::Read::read(&mut err, &mut buf).unwrap();
        assert!(
            n > 0 && start.elapsed() < Duration::from_secs(120),
            "build ended early: {seen}"
        );
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    // SAFETY: kill on our own child's pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    let _ = child.wait();

    // No mount of the store is visible on the host.
    let mounts = fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mounts.contains(store().to_str().unwrap()),
        "stray mounts:\n{mounts}"
    );

    // The same Dockerfile, now finishing quickly, builds; the stale container is cleaned up.
    fs::write(
        t.join("Dockerfile"),
        format!("FROM debian:bookworm\nRUN echo {token} > /a\n"),
    )
    .unwrap();
    let log = mx_ok(&["build", "--progress", "plain", t.to_str().unwrap()]);
    assert!(log.contains("cleaned up 1 container"), "{log}");
    let ps = ok(Command::new("ps").args(["-eo", "args"]));
    assert!(
        !ps.lines().any(|l| l.starts_with("sleep 600")),
        "the killed build's process still runs"
    );
    // Every blob in the store hashes to its name.
    for e in fs::read_dir(store().join("blobs/sha256")).unwrap() {
        let p = e.unwrap().path();
        let sum = ok(Command::new("sha256sum").arg(&p));
        assert_eq!(
            &sum[..64],
            p.file_name().unwrap().to_str().unwrap(),
            "corrupt blob {}",
            p.display()
        );
    }
}
