//! `ADD <http URL>`: downloads once per build, `--checksum`, conditional
//! requests on rebuild, and the errors of bad sources.

use std::fs;
use std::path::Path;
use std::process::Command;

use testkit::require;

use super::{Scenario, build_local, context_with, read};
use crate::support::http::HttpServer;
use crate::support::mxbuild::{mx, mx_ok, ok, text, tool};

/// `sha256:<hex>` of `bytes`, with the system's sha256sum (through a file
/// in the scenario's directory `t`).
fn sha256_of(t: &Path, bytes: &[u8]) -> String {
    let f = t.join("sum-input");
    fs::write(&f, bytes).unwrap();
    let out = ok(Command::new("sha256sum").arg(&f));
    let _ = fs::remove_file(&f);
    format!("sha256:{}", out.split_whitespace().next().unwrap())
}

#[test]
fn add_downloads_urls_checks_checksums_and_rebuilds_when_they_change() {
    let Some(s) = Scenario::start("add-url")
        .filter(|_| require(tool("python3"), "python3 serves the files (http.server)"))
    else {
        return;
    };
    let t = s.dir.path();
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
    let v1 = sha256_of(t, b"v1\n");
    let full = context_with(
        t,
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
        t,
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
        let dir = context_with(t, name, &df);
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
