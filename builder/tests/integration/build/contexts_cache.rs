//! Named build contexts (`docker-image://`, a directory, `oci-layout://`),
//! reproducible digests with `SOURCE_DATE_EPOCH`, and `--cache-to` /
//! `--cache-from` into a fresh store.

use std::fs;
use std::path::Path;
use std::process::Command;

use super::{Scenario, read, unpack};
use crate::support::mxbuild::{mx_ok, ok, store, text};

fn built_digest(log: &str) -> String {
    log.lines()
        .find_map(|l| l.strip_prefix("built "))
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_default()
        .to_string()
}

#[test]
fn named_contexts_cache_export_import_and_reproducible_digests() {
    let Some(s) = Scenario::start("ctx") else {
        return;
    };
    let t = s.dir.path();
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
        t,
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
