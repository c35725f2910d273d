//! The basic build: a `$BUILDPLATFORM` stage run once for all targets,
//! targets run under QEMU, a cached rebuild; and every instruction and flag
//! of `testdata/dockerfiles/build/all`.

use std::fs;
use std::process::Command;

use super::{Scenario, dockerfiles, read, unpack};
use crate::support::mxbuild::{mx_ok, ok};

#[test]
fn build_stage_runs_once_targets_run_emulated_and_rebuild_is_cached() {
    let Some(s) = Scenario::start("basic") else {
        return;
    };
    let t = s.dir.path();
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
        .filter(|l| l.starts_with("[build ") && l.contains(" 2/2] RUN"))
        .count();
    assert_eq!(build_runs, 1, "{log}");
    // Its label says it runs as amd64 for both targets.
    assert!(log.contains("[build amd64->amd64,arm64 2/2] RUN"), "{log}");
    let layout = format!("oci-archive:{}:1", out.display());
    let amd = unpack(t, &layout, "amd64");
    let arm = unpack(t, &layout, "arm64");
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
    // The shared step is shown once, labelled with both targets; the
    // second instance's share of it is counted as shared, not cached.
    let shared_runs = serial
        .lines()
        .filter(|l| l.starts_with("[build amd64->amd64,arm64 2/3] RUN head"))
        .count();
    let split_runs = serial
        .lines()
        .filter(|l| {
            l.starts_with("[build amd64 3/3] RUN echo")
                || l.starts_with("[build amd64->arm64 3/3] RUN echo")
        })
        .count();
    assert_eq!((shared_runs, split_runs), (1, 2), "{serial}");
    assert!(serial.contains(" 0 cached, 1 shared)"), "{serial}");
    // Built again from the cache: the shared step is still shown once
    // (CACHED), its second instance's share counted as shared.
    let again = mx_ok(&[
        "build",
        "--jobs",
        "1",
        "--progress",
        "plain",
        "--platform",
        "linux/amd64,linux/arm64",
        split.to_str().unwrap(),
    ]);
    let cached_head = again
        .lines()
        .filter(|l| l.contains("CACHED RUN head"))
        .count();
    assert_eq!(cached_head, 1, "{again}");
    assert!(
        again.contains("(0 steps run, 5 cached, 1 shared)"),
        "{again}"
    );
}

#[test]
fn every_instruction_and_flag() {
    let Some(s) = Scenario::start("all") else {
        return;
    };
    let t = s.dir.path();
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
    // Where the time went: every step with its start and duration, and
    // the critical path ending in the final stage.
    let steps = m["mxbuild.steps"].as_array().unwrap();
    assert!(steps.len() >= 4, "{m}");
    for s in steps {
        assert!(s["start"].as_f64().unwrap() >= 0.0, "{s}");
        assert!(s["duration"].as_f64().unwrap() >= 0.0, "{s}");
        assert!(s["label"].as_str().unwrap().starts_with('['), "{s}");
    }
    assert!(
        steps
            .iter()
            .any(|s| s["emulated"] == true && s["platform"] == "linux/arm64"),
        "{m}"
    );
    let path = m["mxbuild.critical-path"].as_array().unwrap();
    assert!(!path.is_empty(), "{m}");
    assert!(path.iter().all(|l| l["duration"].as_f64().is_some()), "{m}");
    let layout = format!("oci:{}:latest", out.display());
    for (arch, uname) in [("amd64", "x86_64"), ("arm64", "aarch64")] {
        let r = unpack(t, &layout, arch);
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
