//! COPY and ADD as BuildKit does them, checked on the built file tree:
//! owners (`--chown`, `--from`, the context), modes (octal and symbolic
//! `--chmod`), hard links, `--parents`, and ADD's archives and `--unpack`.
//! Each build ends with a RUN that lists the tree (`find -printf`) into a
//! report exported with `-o type=local`.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use crate::build::{Scenario, build_local, context_with};
use crate::support::http::HttpServer;
use crate::support::mxbuild::{mx, ok, text, tool};

/// The final stage every scenario ends with: the listing of `paths` in the
/// stage `t`, alone in the output.
fn report_of(paths: &str) -> String {
    format!(
        "RUN find {paths} -printf '%p %U:%G %m %n\\n' | sort > /report\n\
         FROM scratch\nCOPY --from=t /report /\n"
    )
}

/// Builds `ctx` for linux/amd64 into `t/out` and returns the report's lines.
fn build_report(t: &Path, ctx: &Path) -> Vec<String> {
    let out = t.join("out");
    build_local("linux/amd64", ctx, &out);
    let report = [out.join("report"), out.join("linux_amd64/report")]
        .into_iter()
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("no report under {}", out.display()));
    fs::read_to_string(report)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Asserts that `lines` has exactly `want` (path, owner, mode, links).
fn assert_has(lines: &[String], want: &[&str]) {
    for w in want {
        assert!(
            lines.iter().any(|l| l == w),
            "missing {w:?} in:\n{}",
            lines.join("\n")
        );
    }
}

fn file(dir: &Path, rel: &str, content: &str, mode: u32) {
    let p = dir.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(&p, content).unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn owners_modes_and_hard_links_follow_buildkit() {
    let Some(s) = Scenario::start("compat-copy-owners") else {
        return;
    };
    let t = s.dir.path();
    let df = format!(
        "FROM debian:bookworm AS src\n\
         RUN mkdir -p /dir/sub && echo a > /dir/a && ln /dir/a /dir/sub/a2 \
         && chown 1234:4321 /dir/a && chown 77:88 /dir/sub && echo x > /dir/x && chmod 640 /dir/x\n\
         FROM debian:bookworm AS t\n\
         COPY --chown=1234:5678 a.txt /owned/deep/a.txt\n\
         COPY --from=src /dir /copied\n\
         COPY --chown=1500 a.txt /uidonly/\n\
         COPY --chown=games a.txt /named/\n\
         COPY --chmod=go=rX,u+x --from=src /dir /sym\n\
         COPY --chmod=u=rw,g=r,o= a.txt /symfile\n\
         COPY a.txt /ctx/\n\
         {}",
        report_of("/owned /copied /uidonly /named /sym /symfile /ctx")
    );
    let ctx = context_with(t, "ctx", &df);
    file(&ctx, "a.txt", "hello\n", 0o644);
    // Owned by someone else in the context: BuildKit sends the context as 0:0.
    std::os::unix::fs::chown(ctx.join("a.txt"), Some(4242), Some(4242)).unwrap();
    let lines = build_report(t, &ctx);
    assert_has(
        &lines,
        &[
            // Parents created for --chown get its owner (item 2).
            "/owned 1234:5678 755 3",
            "/owned/deep 1234:5678 755 2",
            "/owned/deep/a.txt 1234:5678 644 1",
            // --from keeps owners; hard links stay links (items 3, 5).
            "/copied 0:0 755 3",
            "/copied/a 1234:4321 644 2",
            "/copied/sub 77:88 755 2",
            "/copied/sub/a2 1234:4321 644 2",
            "/copied/x 0:0 640 1",
            // A uid alone is also the gid (item 4); names use passwd.
            "/uidonly 1500:1500 755 2",
            "/uidonly/a.txt 1500:1500 644 1",
            "/named/a.txt 5:60 644 1",
            // Symbolic --chmod: X only for directories and executables (item 6).
            "/sym 0:0 755 3",
            "/sym/a 1234:4321 744 2",
            "/sym/sub 77:88 755 2",
            "/sym/x 0:0 744 1",
            "/symfile 0:0 640 1",
            // The build context is 0:0 whoever owns the files.
            "/ctx/a.txt 0:0 644 1",
        ],
    );
}

#[test]
fn copy_parents_keeps_paths() {
    let Some(s) = Scenario::start("compat-copy-parents") else {
        return;
    };
    let t = s.dir.path();
    let df = format!(
        "FROM debian:bookworm AS t\n\
         COPY --parents src/*/x/f.txt /p/\n\
         COPY --parents ./a/./b/c /q/\n\
         COPY --parents deep/**/k.txt /r/\n\
         COPY --parents nomatch*/z /s/\n\
         {}",
        report_of("/p /q /r /s")
    );
    let ctx = context_with(t, "ctx", &df);
    for f in [
        "src/a/x/f.txt",
        "src/b/x/f.txt",
        "src/c/y/f.txt",
        "a/b/c/g.txt",
        "deep/1/2/k.txt",
        "deep/3/k.txt",
        "deep/3/other.txt",
    ] {
        file(&ctx, f, f, 0o644);
    }
    let lines = build_report(t, &ctx);
    assert_has(
        &lines,
        &[
            "/p/src/a/x/f.txt 0:0 644 1",
            "/p/src/b/x/f.txt 0:0 644 1",
            "/q/b/c/g.txt 0:0 644 1",
            "/r/deep/1/2/k.txt 0:0 644 1",
            "/r/deep/3/k.txt 0:0 644 1",
            "/s 0:0 755 2",
        ],
    );
    for gone in ["/p/src/c", "/q/a", "/r/deep/3/other.txt", "/p/f.txt"] {
        assert!(
            !lines.iter().any(|l| l.starts_with(&format!("{gone} "))),
            "{gone} should not be copied:\n{}",
            lines.join("\n")
        );
    }
    // Without a wildcard the path must exist.
    let bad = context_with(
        t,
        "bad",
        "FROM debian:bookworm\nCOPY --parents missing/file /t/\n",
    );
    let out = mx(&["build", "--platform", "linux/amd64", bad.to_str().unwrap()]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("missing/file"), "{}", text(&out));
}

#[test]
fn add_unpacks_compressed_tars_and_takes_unpack() {
    let Some(s) = Scenario::start("compat-add-archives").filter(|_| {
        testkit::require(
            tool("xz") && tool("bzip2") && tool("python3"),
            "xz, bzip2 and python3 are needed",
        )
    }) else {
        return;
    };
    let t = s.dir.path();
    let tree = t.join("tree");
    file(&tree, "in/one.txt", "one\n", 0o600);
    let www = t.join("www");
    fs::create_dir_all(&www).unwrap();
    let ctx_dir = t.join("ctx");
    fs::create_dir_all(&ctx_dir).unwrap();
    for (flag, name) in [
        ("-cjf", "x.tar.bz2"),
        ("-cJf", "x.tar.xz"),
        ("-czf", "x.tar.gz"),
    ] {
        ok(Command::new("tar")
            .args(["--owner=3", "--group=4", flag])
            .arg(ctx_dir.join(name))
            .arg("-C")
            .arg(&tree)
            .arg("in"));
    }
    fs::copy(ctx_dir.join("x.tar.xz"), www.join("r.tar.xz")).unwrap();
    let server = HttpServer::start(&www);
    let u = server.url("r.tar.xz");
    let df = format!(
        "FROM debian:bookworm AS t\n\
         ADD x.tar.bz2 /bz/\n\
         ADD x.tar.xz /xz/\n\
         ADD --unpack=false x.tar.gz /keep/\n\
         ADD --chown=7:8 x.tar.gz /gz/\n\
         ADD --unpack=true {u} /u/\n\
         ADD {u} /nu/\n\
         {}",
        report_of("/bz /xz /keep /gz /u /nu")
    );
    let ctx = context_with(t, "ctx", &df);
    let lines = build_report(t, &ctx);
    assert_has(
        &lines,
        &[
            "/bz/in/one.txt 3:4 600 1",
            "/xz/in/one.txt 3:4 600 1",
            "/keep/x.tar.gz 0:0 644 1",
            "/gz/in 7:8 755 2",
            "/gz/in/one.txt 7:8 600 1",
            "/u/in/one.txt 3:4 600 1",
            "/nu/r.tar.xz 0:0 600 1",
        ],
    );
}
