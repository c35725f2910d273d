//! `mxbuild build` end to end with real components: runc, overlayfs, QEMU
//! through binfmt_misc, the debootstrapped `debian:bookworm` images of
//! `scripts/base-images.sh`, and skopeo/umoci reading the result.
//!
//! Builds share the cached test store (`/var/cache/mxbuild-test/store`) and
//! run one at a time (two cores; QEMU steps are CPU-bound).

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use testkit::require;

mod common;
use common::http::HttpServer;
use common::mxbuild::{mx, ok, repo, store, text, tool};
use common::registry::Registry;

static SERIAL: Mutex<()> = Mutex::new(());

fn dockerfiles() -> PathBuf {
    repo().join("testdata/dockerfiles/build")
}

fn mx_ok(args: &[&str]) -> String {
    let o = mx(args);
    assert!(o.status.success(), "mxbuild {args:?} failed:\n{}", text(&o));
    text(&o)
}

/// Root, runc, QEMU handlers and the base images.
fn ready() -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !require(root, "mxbuild build needs root (overlay mounts, runc)") {
        return false;
    }
    if !require(
        tool("runc") && tool("skopeo") && tool("umoci"),
        "runc, skopeo and umoci are needed (scripts/setup.sh installs them)",
    ) {
        return false;
    }
    let flags = fs::read_to_string("/proc/sys/fs/binfmt_misc/qemu-aarch64").unwrap_or_default();
    if !require(
        flags
            .lines()
            .any(|l| l.starts_with("flags:") && l.contains('F')),
        "binfmt_misc handler qemu-aarch64 with the F flag is missing (scripts/setup-binfmt.sh)",
    ) {
        return false;
    }
    let have = mx(&["image", "inspect", "debian:bookworm"]);
    let t = text(&have);
    require(
        have.status.success() && t.contains("linux/amd64") && t.contains("linux/arm64"),
        "debian:bookworm is not in the test store (run scripts/base-images.sh)",
    )
}

fn tmp(tag: &str) -> PathBuf {
    let p =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("build-{tag}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&p);
    fs::create_dir_all(&p).unwrap();
    p
}

/// Unpacks one platform of an OCI layout with skopeo + umoci; returns the rootfs.
fn unpack(t: &Path, layout: &str, arch: &str) -> PathBuf {
    let dir = t.join(format!("u-{arch}"));
    ok(Command::new("skopeo")
        .args([
            "copy",
            "-q",
            "--src-tls-verify=false",
            "--override-arch",
            arch,
            layout,
        ])
        .arg(format!("oci:{}:x", dir.display())));
    let bundle = t.join(format!("b-{arch}"));
    ok(Command::new("umoci")
        .args(["unpack", "--image"])
        .arg(format!("{}:x", dir.display()))
        .arg(&bundle));
    bundle.join("rootfs")
}

fn read(p: PathBuf) -> String {
    fs::read_to_string(&p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .trim()
        .to_string()
}

#[test]
fn build_stage_runs_once_targets_run_emulated_and_rebuild_is_cached() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !ready() {
        return;
    }
    let t = tmp("basic");
    let ctx = dockerfiles().join("basic");
    let out = t.join("basic.oci.tar");
    let dest = format!("type=oci,dest={}", out.display());
    let log = mx_ok(&[
        "build",
        "--no-cache",
        "--progress",
        "plain",
        "--platform",
        "linux/amd64,linux/arm64",
        "-t",
        "test/basic:1",
        "-o",
        &dest,
        ctx.to_str().unwrap(),
    ]);
    // The $BUILDPLATFORM stage ran once, natively, for both targets.
    let build_runs = log
        .lines()
        .filter(|l| l.contains(" build 1/1] RUN"))
        .count();
    assert_eq!(build_runs, 1, "{log}");
    assert!(log.contains("[linux/amd64 build 1/1]"), "{log}");
    let layout = format!("oci-archive:{}:1", out.display());
    let amd = unpack(&t, &layout, "amd64");
    let arm = unpack(&t, &layout, "arm64");
    assert_eq!(read(amd.join("uname")), "x86_64");
    assert_eq!(read(arm.join("uname")), "aarch64");
    assert_eq!(read(arm.join("target")), "linux/arm64");
    assert_eq!(
        read(arm.join("out/built-on")),
        "x86_64",
        "the build stage ran natively"
    );
    let token = read(amd.join("out/token"));
    assert_eq!(token.len(), 32);
    assert_eq!(
        read(arm.join("out/token")),
        token,
        "both targets carry the one build-stage run"
    );
    assert_eq!(read(arm.join("app/hello.txt")), "hello from the context");
    assert!(
        !arm.join("etc/hosts").exists(),
        "the runtime's mount points do not leak into layers"
    );

    // The same build again: everything cached (how fast is bench.sh's
    // business, compared with a peer in the same run, not a fixed limit here).
    let again = mx_ok(&[
        "build",
        "--progress",
        "plain",
        "--platform",
        "linux/amd64,linux/arm64",
        "-t",
        "test/basic:1",
        ctx.to_str().unwrap(),
    ]);
    assert!(again.contains("(0 steps run"), "{again}");

    // --no-cache ignores earlier builds, not this one. A build stage that
    // declares ARG TARGETARCH part-way is one instance per target, sharing
    // the steps before the ARG; with one job the instances run one after
    // the other, and the second still reuses the shared RUN the first ran.
    let split = t.join("split");
    std::fs::create_dir_all(&split).unwrap();
    std::fs::write(
        split.join("Dockerfile"),
        "FROM --platform=$BUILDPLATFORM debian:bookworm AS build\n\
         RUN head -c 16 /dev/urandom | od -An -tx1 > /token\n\
         ARG TARGETARCH\n\
         RUN echo $TARGETARCH > /arch\n\
         FROM debian:bookworm\n\
         COPY --from=build /token /arch /\n",
    )
    .unwrap();
    let serial = mx_ok(&[
        "build",
        "--no-cache",
        "--jobs",
        "1",
        "--progress",
        "plain",
        "--platform",
        "linux/amd64,linux/arm64",
        split.to_str().unwrap(),
    ]);
    let shared_runs = serial
        .lines()
        .filter(|l| l.contains(" build 1/3] RUN head"))
        .count();
    let split_runs = serial
        .lines()
        .filter(|l| l.contains(" build 3/3] RUN echo"))
        .count();
    assert_eq!((shared_runs, split_runs), (1, 2), "{serial}");
}

#[test]
fn every_instruction_and_flag() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !ready() {
        return;
    }
    let t = tmp("all");
    let ctx = dockerfiles().join("all");
    let secret = t.join("token");
    fs::write(&secret, "s3cret-token\n").unwrap();
    let out = t.join("all-oci");
    let meta = t.join("meta.json");
    mx_ok(&[
        "build",
        "--no-cache",
        "--platform",
        "linux/amd64,linux/arm64",
        "--build-arg",
        "GREETING=hey",
        "--secret",
        &format!("id=token,src={}", secret.display()),
        "-o",
        &format!("type=oci,dest={}", out.display()),
        "--metadata-file",
        meta.to_str().unwrap(),
        ctx.to_str().unwrap(),
    ]);
    let m: serde_json::Value = serde_json::from_str(&fs::read_to_string(&meta).unwrap()).unwrap();
    assert!(
        m["containerimage.digest"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    assert_eq!(m["mxbuild.platforms"].as_array().unwrap().len(), 2);
    let layout = format!("oci:{}:latest", out.display());
    for (arch, uname) in [("amd64", "x86_64"), ("arm64", "aarch64")] {
        let r = unpack(&t, &layout, arch);
        let app = r.join("srv/app");
        assert_eq!(read(app.join("uname")), uname);
        assert_eq!(read(app.join("shell")), "/bin/bash", "SHELL applies to RUN");
        assert_eq!(
            read(app.join("whoami")),
            "app\n1234",
            "USER name resolved in the image"
        );
        assert_eq!(
            read(app.join("heredoc.txt")),
            "greeting is hey",
            "COPY heredoc expands ARGs"
        );
        assert_eq!(read(app.join("from-bind")), "inner");
        assert_eq!(read(app.join("tmpfs-mounted")), "1");
        assert_eq!(read(app.join("net-none")), "lo");
        assert_eq!(read(app.join("made-on")), "made on x86_64");
        assert_eq!(read(app.join("a.txt")), "one");
        assert_eq!(
            read(r.join("opt/payload/inside.txt")),
            "in a tarball",
            "ADD extracts a local tar"
        );
        assert_eq!(read(r.join("linked/linked.txt")), "linked");
        // Every run of this step on this machine appended to the cache; only
        // this platform's runs are in it.
        assert_eq!(
            read(app.join("cache-archs")),
            arch,
            "cache mounts are per platform by default"
        );
        assert!(
            !app.join("ignored.txt").exists(),
            ".dockerignore applies to COPY globs"
        );
        // The secret was readable during the RUN and is in no layer.
        assert_eq!(read(app.join("secret-hash")).len(), 16);
        assert!(!r.join("run/secrets/token").exists());
        assert!(
            !r.join("scratch").exists()
                && !r.join("mnt/ctx").exists()
                && !r.join("var/cache/demo").exists()
        );
        use std::os::unix::fs::MetadataExt;
        let a = fs::metadata(app.join("a.txt")).unwrap();
        assert_eq!(
            (a.uid(), a.gid(), a.mode() & 0o777),
            (1234, 1234, 0o640),
            "--chown/--chmod"
        );
    }
    let cfg: serde_json::Value = serde_json::from_str(&ok(Command::new("skopeo").args([
        "inspect",
        "--raw",
        "--config",
        "--override-arch",
        "arm64",
        &layout,
    ])))
    .unwrap();
    let c = &cfg["config"];
    assert_eq!(cfg["architecture"], "arm64");
    assert_eq!(c["User"], "app:app");
    assert_eq!(c["WorkingDir"], "/srv/app");
    assert_eq!(c["Entrypoint"][0], "/bin/cat");
    assert_eq!(c["Cmd"][0], "/srv/app/uname");
    assert!(
        c["Env"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e == "APP_GREETING=hey world")
    );
    assert_eq!(c["Labels"]["org.example.arch"], "arm64");
    assert_eq!(c["Labels"]["org.example.stage"], "base");
    assert!(c["ExposedPorts"]["8080/tcp"].is_object() && c["ExposedPorts"]["53/udp"].is_object());
    assert!(c["Volumes"]["/data"].is_object());
    assert_eq!(c["StopSignal"], "SIGINT");
    assert_eq!(c["Healthcheck"]["Test"][0], "CMD-SHELL");
    assert_eq!(c["Healthcheck"]["Interval"], 30_000_000_000u64);
    assert_eq!(c["OnBuild"][0], "RUN echo child");
    assert_eq!(c["Shell"][0], "/bin/bash");
    assert!(
        cfg["history"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["created_by"] == "EXPOSE 8080 53/udp" && h["empty_layer"] == true)
    );
}

#[test]
fn failing_run_names_file_line_platform_and_output() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !ready() {
        return;
    }
    let t = tmp("fail");
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
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !ready() {
        return;
    }
    // Debian's qemu-user-static registers no big-endian arm64 handler.
    if !require(
        !Path::new("/proc/sys/fs/binfmt_misc/qemu-aarch64_be").exists(),
        "this host can run linux/arm64be, so it cannot show the missing-emulator error",
    ) {
        return;
    }
    let t = tmp("emu");
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
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !ready() {
        return;
    }
    let t = tmp("kill");
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

/// `mxbuild build --platform P -o type=local,dest=DEST CTX`: must succeed.
fn build_local(platforms: &str, ctx: &Path, dest: &Path) -> String {
    mx_ok(&[
        "build",
        "--platform",
        platforms,
        "-o",
        &format!("type=local,dest={}", dest.display()),
        ctx.to_str().unwrap(),
    ])
}

/// Writes `df` as the Dockerfile of a new context directory `t/name`.
fn context_with(t: &Path, name: &str, df: &str) -> PathBuf {
    let dir = t.join(name);
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("Dockerfile"), df).unwrap();
    dir
}

#[test]
fn add_downloads_urls_checks_checksums_and_rebuilds_when_they_change() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !ready() || !require(tool("python3"), "python3 serves the files (http.server)") {
        return;
    }
    let t = tmp("add-url");
    let www = t.join("www");
    fs::create_dir_all(&www).unwrap();
    fs::write(www.join("data.txt"), "v1\n").unwrap();
    // http.server sends Last-Modified from the file's mtime.
    ok(Command::new("touch")
        .args(["-d", "@1700000000"])
        .arg(www.join("data.txt")));
    fs::write(www.join("tool.sh"), "#!/bin/sh\necho tool ran\n").unwrap();
    fs::write(www.join("inner.txt"), "inside\n").unwrap();
    ok(Command::new("tar")
        .arg("-czf")
        .arg(www.join("pkg.tar.gz"))
        .arg("-C")
        .arg(&www)
        .arg("inner.txt"));
    let server = HttpServer::start(&www);
    let v1 = sha256_of(b"v1\n");
    let full = context_with(
        &t,
        "full",
        &format!(
            "FROM debian:bookworm\n\
             ADD {data} /d/\n\
             ADD --checksum={v1} {data} /named.txt\n\
             ADD {pkg} /t/\n\
             ADD --chmod=0755 {tool} /usr/local/bin/\n\
             RUN stat -c '%a %Y' /d/data.txt > /stat && tool.sh > /tool.out\n",
            data = server.url("data.txt"),
            pkg = server.url("pkg.tar.gz"),
            tool = server.url("tool.sh"),
        ),
    );
    let local = t.join("local");
    let dest = format!("type=local,dest={}", local.display());
    let log = mx_ok(&[
        "build",
        "--progress",
        "plain",
        "--platform",
        "linux/amd64,linux/arm64",
        "-o",
        &dest,
        full.to_str().unwrap(),
    ]);
    let downloads = log
        .lines()
        .filter(|l| l.contains("downloading") && l.contains("/data.txt"))
        .count();
    assert_eq!(downloads, 1, "each URL is fetched once per build:\n{log}");
    for p in ["linux_amd64", "linux_arm64"] {
        let root = local.join(p);
        assert_eq!(read(root.join("d/data.txt")), "v1");
        assert_eq!(read(root.join("named.txt")), "v1");
        assert_eq!(
            read(root.join("stat")),
            "600 1700000000",
            "mode 0600 and the server's Last-Modified"
        );
        assert!(
            root.join("t/pkg.tar.gz").is_file(),
            "a downloaded archive is not extracted"
        );
        assert!(!root.join("t/inner.txt").exists());
        assert_eq!(
            read(root.join("tool.out")),
            "tool ran",
            "--chmod=0755 applied"
        );
    }

    // Unchanged on the server: everything cached, and nothing downloaded
    // again (a conditional request, or none at all with --checksum).
    let again = mx_ok(&[
        "build",
        "--progress",
        "plain",
        "--platform",
        "linux/amd64",
        full.to_str().unwrap(),
    ]);
    assert!(again.contains("(0 steps run"), "{again}");
    assert!(!again.contains("downloading"), "{again}");
    assert!(
        again.contains("pkg.tar.gz: not modified since the last build"),
        "{again}"
    );
    assert!(
        again.contains("data.txt: stored by an earlier build (checksum matches)"),
        "{again}"
    );

    // Changed on the server: the step runs again and takes the new content.
    fs::write(www.join("data.txt"), "v2\n").unwrap();
    let changed = context_with(
        &t,
        "changed",
        &format!("FROM debian:bookworm\nADD {} /d/\n", server.url("data.txt")),
    );
    let local2 = t.join("local2");
    build_local("linux/amd64", &changed, &local2);
    assert_eq!(read(local2.join("d/data.txt")), "v2");

    // The old checksum no longer matches: the build fails at the ADD's line.
    let failed = mx(&["build", "--platform", "linux/amd64", full.to_str().unwrap()]);
    let out = text(&failed);
    assert!(!failed.status.success(), "{out}");
    assert!(
        out.contains("Dockerfile:3") && out.contains("checksum mismatch"),
        "{out}"
    );

    // A missing file, a bad checksum, COPY of a URL, ADD of a git URL.
    for (name, df, want) in [
        (
            "missing",
            format!("FROM debian:bookworm\nADD {} /x\n", server.url("nope")),
            "404",
        ),
        (
            "badsum",
            format!(
                "FROM debian:bookworm\nADD --checksum=sha256:1234 {} /x\n",
                server.url("data.txt")
            ),
            "sha256:<64 hex digits>",
        ),
        (
            "copyurl",
            format!("FROM debian:bookworm\nCOPY {} /x\n", server.url("data.txt")),
            "COPY cannot download",
        ),
    ] {
        let dir = context_with(&t, name, &df);
        let o = mx(&["build", "--platform", "linux/amd64", dir.to_str().unwrap()]);
        let out = text(&o);
        assert!(!o.status.success(), "{name}: {out}");
        assert!(
            out.contains(want) && out.contains("Dockerfile:2"),
            "{name}: {out}"
        );
        assert!(!out.contains("panicked"), "{name}: {out}");
    }
}

#[test]
fn onbuild_triggers_run_in_the_child_build_and_are_not_inherited() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !ready() {
        return;
    }
    let t = tmp("onbuild");
    let base = context_with(
        &t,
        "base",
        "FROM debian:bookworm\n\
         ONBUILD COPY hello.txt /from-trigger.txt\n\
         ONBUILD RUN echo \"triggered on $(uname -m)\" > /trig\n",
    );
    mx_ok(&[
        "build",
        "--platform",
        "linux/amd64,linux/arm64",
        "-t",
        "test/onbuild-base:1",
        base.to_str().unwrap(),
    ]);
    let child = context_with(&t, "child", "FROM test/onbuild-base:1\nRUN test -s /trig\n");
    fs::write(child.join("hello.txt"), "from the child's context\n").unwrap();
    // `mxbuild plan` reads the base from the local store: the triggers are steps.
    let plan = mx_ok(&["plan", "--platform", "linux/arm64", child.to_str().unwrap()]);
    assert!(plan.contains("steps: 3 in all"), "{plan}");
    let out = t.join("child.oci.tar");
    mx_ok(&[
        "build",
        "--platform",
        "linux/amd64,linux/arm64",
        "-t",
        "test/onbuild-child:1",
        "-o",
        &format!("type=oci,dest={}", out.display()),
        child.to_str().unwrap(),
    ]);
    let layout = format!("oci-archive:{}:1", out.display());
    let arm = unpack(&t, &layout, "arm64");
    assert_eq!(read(arm.join("trig")), "triggered on aarch64");
    assert_eq!(
        read(arm.join("from-trigger.txt")),
        "from the child's context"
    );
    let config: serde_json::Value = serde_json::from_str(&ok(Command::new("skopeo").args([
        "inspect",
        "--config",
        "--override-arch",
        "arm64",
        &layout,
    ])))
    .unwrap();
    let on_build = &config["config"]["OnBuild"];
    assert!(
        on_build.is_null() || on_build.as_array().is_some_and(|a| a.is_empty()),
        "the child does not pass the triggers on: {config}"
    );

    // A stage's ONBUILD runs in a stage built FROM it.
    let stages = context_with(
        &t,
        "stages",
        "FROM debian:bookworm AS base\n\
         ONBUILD RUN echo stage-trigger > /st\n\
         FROM base\n\
         RUN test -s /st\n",
    );
    let local = t.join("local");
    build_local("linux/amd64", &stages, &local);
    assert_eq!(read(local.join("st")), "stage-trigger");
}

#[test]
fn ssh_mount_forwards_the_agent_and_leaves_nothing_in_the_layer() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !ready()
        || !require(
            tool("ssh-agent") && tool("ssh-add") && tool("ssh-keygen"),
            "openssh-client is needed (scripts/setup.sh installs it)",
        )
    {
        return;
    }
    let t = tmp("ssh");
    ok(Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(t.join("key")));
    let sock = t.join("agent.sock");
    let mut agent = Command::new("ssh-agent")
        .arg("-D")
        .arg("-a")
        .arg(&sock)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !sock.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "ssh-agent did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    ok(Command::new("ssh-add")
        .env("SSH_AUTH_SOCK", &sock)
        .arg("-q")
        .arg(t.join("key")));
    // Asks the agent for its identities (SSH_AGENTC_REQUEST_IDENTITIES = 11)
    // with the perl of Debian's minbase; prints the answer's type and count.
    let ask = r#"perl -MIO::Socket::UNIX -e 'my $s = IO::Socket::UNIX->new(Peer => $ENV{SSH_AUTH_SOCK}) or die "connect: $!"; print $s pack("NC", 1, 11); read($s, my $l, 4); read($s, my $b, unpack("N", $l)); my ($t, $n) = unpack("CN", $b); print "$t $n\n"'"#;
    let ctx = context_with(
        &t,
        "ctx",
        &format!(
            "FROM debian:bookworm\n\
             RUN --mount=type=ssh {ask} > /answer && echo \"$SSH_AUTH_SOCK\" > /sock\n\
             RUN --mount=type=ssh,id=other,target=/ssh/other.sock test ! -e /ssh/other.sock && touch /optional-skipped\n"
        ),
    );
    let local = t.join("local");
    let ssh = format!("default={}", sock.display());
    mx_ok(&[
        "build",
        "--platform",
        "linux/amd64",
        "--ssh",
        &ssh,
        "-o",
        &format!("type=local,dest={}", local.display()),
        ctx.to_str().unwrap(),
    ]);
    assert_eq!(
        read(local.join("answer")),
        "12 1",
        "the agent answered with one key"
    );
    assert_eq!(read(local.join("sock")), "/run/buildkit/ssh_agent.0");
    assert!(local.join("optional-skipped").exists());
    assert!(
        !local.join("run/buildkit").exists() && !local.join("ssh").exists(),
        "mount points do not leak into the image"
    );

    // A required agent that was not given, and a key file instead of a socket.
    let req = context_with(
        &t,
        "req",
        "FROM debian:bookworm\nRUN --mount=type=ssh,required=true true\n",
    );
    let o = mx(&["build", "--platform", "linux/amd64", req.to_str().unwrap()]);
    let out = text(&o);
    assert!(!o.status.success(), "{out}");
    assert!(
        out.contains("Dockerfile:2") && out.contains("--ssh default"),
        "{out}"
    );
    let uid = context_with(
        &t,
        "uid",
        "FROM debian:bookworm\nRUN --mount=type=ssh,uid=1000 true\n",
    );
    let o = mx(&[
        "build",
        "--platform",
        "linux/amd64",
        "--ssh",
        &ssh,
        uid.to_str().unwrap(),
    ]);
    let out = text(&o);
    assert!(
        !o.status.success() && out.contains("Dockerfile:2") && out.contains("uid"),
        "{out}"
    );
    let key = format!("default={}", t.join("key").display());
    let o = mx(&[
        "build",
        "--platform",
        "linux/amd64",
        "--ssh",
        &key,
        req.to_str().unwrap(),
    ]);
    let out = text(&o);
    assert!(!o.status.success() && out.contains("ssh-add"), "{out}");
    let _ = agent.kill();
    let _ = agent.wait();
}

#[test]
fn add_copies_git_sources_at_their_commit() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !ready() || !require(tool("git") && tool("python3"), "git and python3 are needed") {
        return;
    }
    let t = tmp("add-git");
    let work = t.join("work");
    fs::create_dir_all(work.join("sub")).unwrap();
    let git = |dir: &Path, args: &[&str]| {
        ok(Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .env("GIT_AUTHOR_DATE", "@1700000000 +0000")
            .env("GIT_COMMITTER_DATE", "@1700000000 +0000"))
    };
    git(&work, &["init", "-q", "-b", "main"]);
    fs::write(work.join("README"), "v1\n").unwrap();
    fs::write(work.join("sub/tool.sh"), "#!/bin/sh\necho tool from git\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(work.join("sub/tool.sh"), fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::symlink("README", work.join("link")).unwrap();
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-q", "-m", "one"]);
    git(&work, &["tag", "v1"]);
    // A bare copy served over git's "dumb" HTTP protocol by a static file server.
    let www = t.join("www");
    fs::create_dir_all(&www).unwrap();
    let bare = www.join("repo.git");
    ok(Command::new("git")
        .args(["clone", "-q", "--bare"])
        .arg(&work)
        .arg(&bare));
    git(&bare, &["update-server-info"]);
    let server = HttpServer::start(&www);
    let repo_url = server.url("repo.git");
    let ctx = context_with(
        &t,
        "ctx",
        &format!(
            "FROM debian:bookworm\n\
             ADD {repo_url} /src\n\
             ADD {repo_url}#v1:sub /sub/\n\
             RUN stat -c '%a %Y' /src/sub/tool.sh > /stat && /sub/tool.sh > /tool.out && readlink /src/link > /link\n"
        ),
    );
    let local = t.join("local");
    let dest = format!("type=local,dest={}", local.display());
    let build = || {
        mx_ok(&[
            "build",
            "--progress",
            "plain",
            "--platform",
            "linux/amd64",
            "-o",
            &dest,
            ctx.to_str().unwrap(),
        ])
    };
    build();
    assert_eq!(read(local.join("src/README")), "v1");
    assert!(
        !local.join("src/.git").exists(),
        "no .git, as BuildKit without --keep-git-dir"
    );
    assert_eq!(
        read(local.join("stat")),
        "755 1700000000",
        "mode and commit time kept"
    );
    assert_eq!(read(local.join("tool.out")), "tool from git");
    assert_eq!(read(local.join("link")), "README", "symlinks stay symlinks");
    assert!(!local.join("sub/README").exists(), "only the subdirectory");

    // A new commit on the branch: the first ADD runs again and takes it.
    fs::write(work.join("README"), "v2\n").unwrap();
    git(&work, &["commit", "-q", "-am", "two"]);
    git(&work, &["push", "-q", bare.to_str().unwrap(), "main"]);
    git(&bare, &["update-server-info"]);
    let log = build();
    assert!(!log.contains("CACHED ADD"), "the branch moved:\n{log}");
    assert_eq!(read(local.join("src/README")), "v2");
    let again = build();
    assert!(again.contains("(0 steps run"), "{again}");

    for (name, df, want) in [
        ("noref", format!("ADD {repo_url}#nope /x"), "nope"),
        (
            "nosub",
            format!("ADD {repo_url}#v1:missing /x"),
            "is not a directory",
        ),
        (
            "copy",
            format!("COPY {repo_url} /x"),
            "COPY cannot download",
        ),
        (
            "keep",
            format!("ADD --keep-git-dir=true {repo_url} /x"),
            "--keep-git-dir",
        ),
        (
            "inject",
            format!("ADD {repo_url}#--upload-pack=touch${{IFS}}/tmp/pwned /x"),
            "not a valid git reference",
        ),
    ] {
        let dir = context_with(&t, name, &format!("FROM debian:bookworm\n{df}\n"));
        let o = mx(&["build", "--platform", "linux/amd64", dir.to_str().unwrap()]);
        let out = text(&o);
        assert!(!o.status.success(), "{name}: {out}");
        assert!(
            out.contains(want) && out.contains("Dockerfile:2"),
            "{name}: {out}"
        );
    }
}

/// `sha256:<hex>` of `bytes`, with the system's sha256sum.
fn sha256_of(bytes: &[u8]) -> String {
    let f = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("sum-{}", std::process::id()));
    fs::write(&f, bytes).unwrap();
    let out = ok(Command::new("sha256sum").arg(&f));
    let _ = fs::remove_file(&f);
    format!("sha256:{}", out.split_whitespace().next().unwrap())
}

#[test]
fn local_and_docker_outputs() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !ready() {
        return;
    }
    let t = tmp("outputs");
    let ctx = dockerfiles().join("basic");
    let local = t.join("local");
    build_local("linux/amd64,linux/arm64", &ctx, &local);
    assert_eq!(read(local.join("linux_amd64/uname")), "x86_64");
    assert_eq!(read(local.join("linux_arm64/uname")), "aarch64");
    let d = t.join("arm64.docker.tar");
    mx_ok(&[
        "build",
        "--platform",
        "linux/arm64",
        "-t",
        "test/basic-arm64:1",
        "-o",
        &format!("type=docker,dest={}", d.display()),
        ctx.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_str(&ok(
        Command::new("skopeo").args(["inspect", &format!("docker-archive:{}", d.display())])
    ))
    .unwrap();
    assert_eq!(v["Architecture"], "arm64");
    let two = mx(&[
        "build",
        "--platform",
        "linux/amd64,linux/arm64",
        "-o",
        &format!("type=docker,dest={}", d.display()),
        ctx.to_str().unwrap(),
    ]);
    assert!(!two.status.success() && text(&two).contains("one platform"));
}

fn built_digest(log: &str) -> String {
    log.lines()
        .find_map(|l| l.strip_prefix("built "))
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_default()
        .to_string()
}

#[test]
fn named_contexts_cache_export_import_and_reproducible_digests() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !ready() {
        return;
    }
    let t = tmp("ctx");
    // A small image as an OCI layout, to use through oci-layout://.
    let small = t.join("small");
    fs::create_dir_all(&small).unwrap();
    fs::write(
        small.join("Dockerfile"),
        "FROM scratch\nCOPY payload.txt /payload.txt\n",
    )
    .unwrap();
    fs::write(small.join("payload.txt"), "from a layout\n").unwrap();
    let layout = t.join("small-layout");
    mx_ok(&[
        "build",
        "--platform",
        "linux/amd64,linux/arm64",
        "-o",
        &format!("type=oci,dest={}", layout.display()),
        small.to_str().unwrap(),
    ]);
    // A directory context.
    let extra = t.join("extra");
    fs::create_dir_all(&extra).unwrap();
    fs::write(extra.join("note.txt"), "from a directory context\n").unwrap();

    let app = t.join("app");
    fs::create_dir_all(&app).unwrap();
    fs::write(
        app.join("Dockerfile"),
        "FROM base\nCOPY --from=extra note.txt /note.txt\nCOPY --from=small /payload.txt /payload.txt\nRUN echo deterministic > /det\n",
    )
    .unwrap();
    let args = |out: &Path| -> Vec<String> {
        vec![
            "build".into(),
            "--no-cache".into(),
            "--progress".into(),
            "plain".into(),
            "--platform".into(),
            "linux/amd64,linux/arm64".into(),
            "--build-context".into(),
            "base=docker-image://debian:bookworm".into(),
            "--build-context".into(),
            format!("extra={}", extra.display()),
            "--build-context".into(),
            format!("small=oci-layout://{}:latest", layout.display()),
            "-o".into(),
            format!("type=oci,dest={}", out.display()),
            app.to_str().unwrap().into(),
        ]
    };
    let run = |out: &Path| {
        let a = args(out);
        let o = Command::new(env!("CARGO_BIN_EXE_mxbuild"))
            .args(&a)
            .env("MXBUILD_ROOT", store())
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
        text(&o)
    };
    let first = run(&t.join("o1"));
    let second = run(&t.join("o2"));
    let (d1, d2) = (built_digest(&first), built_digest(&second));
    assert!(d1.starts_with("sha256:"), "{first}");
    assert_eq!(
        d1, d2,
        "SOURCE_DATE_EPOCH + --no-cache twice gives the same index digest"
    );
    let r = unpack(
        &t,
        &format!("oci:{}:latest", t.join("o1").display()),
        "arm64",
    );
    assert_eq!(read(r.join("note.txt")), "from a directory context");
    assert_eq!(read(r.join("payload.txt")), "from a layout");
    assert_eq!(read(r.join("det")), "deterministic");
    assert!(
        r.join("etc/debian_version").exists(),
        "docker-image:// base"
    );

    // --cache-to, then a fresh store builds the same steps from --cache-from only.
    let cache = t.join("cache");
    mx_ok(&[
        "build",
        "--cache-to",
        &format!("type=local,dest={}", cache.display()),
        small.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_str(&ok(Command::new("skopeo").args([
        "inspect",
        "--raw",
        &format!("oci:{}:cache", cache.display()),
    ])))
    .unwrap();
    assert_eq!(
        v["config"]["mediaType"],
        "application/vnd.mxbuild.cache.config.v1+json"
    );
    let fresh = t.join("fresh-store");
    let o = Command::new(env!("CARGO_BIN_EXE_mxbuild"))
        .args([
            "build",
            "--progress",
            "plain",
            "--cache-from",
            &format!("type=local,src={}", cache.display()),
        ])
        .arg(&small)
        .env("MXBUILD_ROOT", &fresh)
        .output()
        .unwrap();
    let log = text(&o);
    assert!(o.status.success(), "{log}");
    assert!(
        log.contains("(0 steps run") && log.contains("CACHED COPY payload.txt"),
        "{log}"
    );
}

#[test]
fn build_push_sends_the_index_to_a_registry() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !ready()
        || !require(
            tool("docker-registry"),
            "docker-registry is needed (scripts/setup.sh)",
        )
    {
        return;
    }
    let t = tmp("push");
    let reg = Registry::start(&t, None);
    let target = format!("{}/built/basic:1", reg.host());
    let log = mx_ok(&[
        "build",
        "--platform",
        "linux/amd64,linux/arm64",
        "-t",
        &target,
        "--push",
        dockerfiles().join("basic").to_str().unwrap(),
    ]);
    assert!(log.contains(&format!("pushed {target}")), "{log}");
    let raw = ok(Command::new("skopeo").args([
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("docker://{target}"),
    ]));
    let v: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(v["manifests"].as_array().unwrap().len(), 2);
    let r = unpack(&t, &format!("docker://{target}"), "arm64");
    assert_eq!(read(r.join("uname")), "aarch64");
}
