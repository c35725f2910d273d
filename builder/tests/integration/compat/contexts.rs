//! Build contexts and Dockerfiles from elsewhere than a directory, as
//! buildx takes them: a tar archive on stdin (`-`), a Dockerfile on stdin
//! (`-` that is no archive, and `-f -`), a git URL with `#ref:subdir`
//! (served over git's dumb HTTP protocol), and the http URL of a tar.gz.

use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use testkit::require;

use crate::build::{Scenario, context_with, read};
use crate::support::git::{bare_for_http, git};
use crate::support::http::HttpServer;
use crate::support::mxbuild::{ok, repo, store, text, tool};

/// `mxbuild ARGS < stdin` on the test store.
fn mx_stdin(args: &[&str], stdin: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mxbuild"))
        .args(args)
        .env("MXBUILD_ROOT", store())
        .current_dir(repo())
        .stdin(Stdio::from(fs::File::open(stdin).unwrap()))
        .output()
        .unwrap()
}

fn local(dest: &Path) -> String {
    format!("type=local,dest={}", dest.display())
}

/// `mxbuild build --platform linux/amd64 EXTRA -o type=local,dest=OUT CTX < stdin`.
fn build_to(extra: &[&str], out: &Path, ctx: &str, stdin: &Path) -> Output {
    let dest = local(out);
    let mut args = vec!["build", "--platform", "linux/amd64"];
    args.extend_from_slice(extra);
    args.extend(["-o", dest.as_str(), ctx]);
    mx_stdin(&args, stdin)
}

#[test]
fn contexts_from_stdin() {
    let Some(s) = Scenario::start("compat-ctx-stdin") else {
        return;
    };
    let t = s.dir.path();
    // A tar.gz context on stdin.
    let ctx = context_with(t, "ctx", "FROM scratch\nCOPY f.txt /from-tar.txt\n");
    fs::write(ctx.join("f.txt"), "in the tar").unwrap();
    let tgz = t.join("ctx.tar.gz");
    ok(Command::new("tar")
        .arg("-czf")
        .arg(&tgz)
        .arg("-C")
        .arg(&ctx)
        .arg("."));
    let out = t.join("out-tar");
    let o = build_to(&[], &out, "-", &tgz);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(read(out.join("from-tar.txt")), "in the tar");
    // A Dockerfile on stdin as the context: the context is empty.
    let df = t.join("stdin.Dockerfile");
    fs::write(&df, "FROM scratch\nCOPY <<EOF /hi.txt\nhello\nEOF\n").unwrap();
    let out = t.join("out-df");
    let o = build_to(&[], &out, "-", &df);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(read(out.join("hi.txt")), "hello");
    // -f - with a directory context.
    fs::write(&df, "FROM scratch\nCOPY f.txt /from-stdin-df.txt\n").unwrap();
    let out = t.join("out-f");
    let o = build_to(&["-f", "-"], &out, ctx.to_str().unwrap(), &df);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(read(out.join("from-stdin-df.txt")), "in the tar");
    // Messages name a Dockerfile from stdin `Dockerfile`, not its scratch copy.
    let bad = t.join("bad.Dockerfile");
    fs::write(&bad, "FROM scratch\nBOGUS x\n").unwrap();
    let o = mx_stdin(
        &[
            "build",
            "--platform",
            "linux/amd64",
            "-f",
            "-",
            ctx.to_str().unwrap(),
        ],
        &bad,
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("Dockerfile:2"), "{}", text(&o));
    assert!(!text(&o).contains("Dockerfile.stdin"), "{}", text(&o));
    // Both from stdin: refused.
    let o = mx_stdin(&["build", "--platform", "linux/amd64", "-f", "-", "-"], &df);
    assert!(!o.status.success());
    assert!(text(&o).contains("both read stdin"), "{}", text(&o));
    // A tar whose names climb out is refused, nothing written outside.
    let evil = t.join("evil.tar");
    let staging = t.join("staging");
    fs::create_dir_all(staging.join("a")).unwrap();
    fs::write(staging.join("x"), "x").unwrap();
    ok(Command::new("tar")
        .arg("-cf")
        .arg(&evil)
        .arg("-C")
        .arg(staging.join("a"))
        .arg("--absolute-names")
        .arg("../x"));
    let o = mx_stdin(&["build", "--platform", "linux/amd64", "-"], &evil);
    assert!(!o.status.success(), "{}", text(&o));
}

#[test]
fn contexts_from_git_and_http_urls() {
    let Some(s) = Scenario::start("compat-ctx-url")
        .filter(|_| require(tool("git") && tool("python3"), "git and python3 are needed"))
    else {
        return;
    };
    let t = s.dir.path();
    let work = t.join("work");
    fs::create_dir_all(work.join("app")).unwrap();
    fs::write(
        work.join("app/Dockerfile"),
        "FROM scratch\nCOPY hello.txt /from-git.txt\n",
    )
    .unwrap();
    fs::write(
        work.join("app/other.Dockerfile"),
        "FROM scratch\nCOPY hello.txt /other.txt\n",
    )
    .unwrap();
    fs::write(work.join("app/hello.txt"), "from git").unwrap();
    git(&work, &["init", "-q", "-b", "main"]);
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-q", "-m", "one"]);
    let www = t.join("www");
    bare_for_http(&work, &www);
    // A tar.gz context served over http.
    ok(Command::new("tar")
        .arg("-czf")
        .arg(www.join("ctx.tar.gz"))
        .arg("-C")
        .arg(work.join("app"))
        .arg("."));
    let server = HttpServer::start(&www);
    let devnull = t.join("empty");
    fs::write(&devnull, "").unwrap();
    let url = format!("{}#main:app", server.url("repo.git"));
    let out = t.join("out-git");
    let o = build_to(&[], &out, &url, &devnull);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(read(out.join("from-git.txt")), "from git");
    // -f names a file inside a remote context.
    let out = t.join("out-git-f");
    let o = build_to(&["-f", "other.Dockerfile"], &out, &url, &devnull);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(read(out.join("other.txt")), "from git");
    let out = t.join("out-http");
    let o = build_to(&[], &out, &server.url("ctx.tar.gz"), &devnull);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(read(out.join("from-git.txt")), "from git");
    // A missing subdirectory is a clear error.
    let o = mx_stdin(
        &[
            "build",
            "--platform",
            "linux/amd64",
            &format!("{}#main:nosuch", server.url("repo.git")),
        ],
        &devnull,
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("nosuch"), "{}", text(&o));
}
