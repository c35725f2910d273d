//! `ADD <git URL>`: a repository at a branch, tag or subdirectory, served
//! over git's dumb HTTP protocol; a moved branch rebuilds.

use std::fs;
use std::process::Command;

use testkit::require;

use super::{Scenario, context_with, read};
use crate::support::git::{bare_for_http, git};
use crate::support::http::HttpServer;
use crate::support::mxbuild::{mx, mx_ok, text, tool};

#[test]
fn add_copies_git_sources_at_their_commit() {
    let Some(s) = Scenario::start("add-git")
        .filter(|_| require(tool("git") && tool("python3"), "git and python3 are needed"))
    else {
        return;
    };
    let t = s.dir.path();
    let work = t.join("work");
    fs::create_dir_all(work.join("sub")).unwrap();
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
    let bare = bare_for_http(&work, &www);
    let server = HttpServer::start(&www);
    let repo_url = server.url("repo.git");
    let ctx = context_with(
        t,
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

    // --keep-git-dir: a .git as BuildKit's checkout leaves it (HEAD
    // detached at the commit, origin the remote, depth 1, clean), but not
    // for a subdirectory.
    let keep = context_with(
        t,
        "keep",
        &format!(
            "FROM scratch\nADD --keep-git-dir=true {repo_url}#v1 /src\nADD --keep-git-dir=true {repo_url}#v1:sub /sub\n"
        ),
    );
    let kept = t.join("kept");
    mx_ok(&[
        "build",
        "--platform",
        "linux/amd64",
        "-o",
        &format!("type=local,dest={}", kept.display()),
        keep.to_str().unwrap(),
    ]);
    let src = kept.join("src");
    let host_git = |args: &[&str]| {
        let o = Command::new("git")
            .arg("-c")
            .arg(format!("safe.directory={}", src.display()))
            .arg("-C")
            .arg(&src)
            .args(args)
            .output()
            .unwrap();
        assert!(o.status.success(), "git {args:?}: {}", text(&o));
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    let v1 = {
        let o = Command::new("git")
            .arg("-C")
            .arg(&bare)
            .args(["rev-parse", "v1^{commit}"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    assert_eq!(host_git(&["rev-parse", "HEAD"]), v1);
    assert_eq!(
        read(src.join(".git/HEAD")),
        v1,
        "HEAD detached at the commit"
    );
    assert_eq!(host_git(&["remote", "get-url", "origin"]), repo_url);
    assert_eq!(host_git(&["status", "--porcelain"]), "", "a clean checkout");
    assert_eq!(host_git(&["rev-list", "--count", "HEAD"]), "1", "depth 1");
    assert!(!src.join(".git/FETCH_HEAD").exists());
    assert_eq!(read(src.join("README")), "v1");
    assert!(kept.join("sub/tool.sh").is_file());
    assert!(
        !kept.join("sub/.git").exists(),
        "a subdirectory gets no .git"
    );

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
            "inject",
            format!("ADD {repo_url}#--upload-pack=touch${{IFS}}/tmp/pwned /x"),
            "not a valid git reference",
        ),
    ] {
        let dir = context_with(t, name, &format!("FROM debian:bookworm\n{df}\n"));
        let o = mx(&["build", "--platform", "linux/amd64", dir.to_str().unwrap()]);
        let out = text(&o);
        assert!(!o.status.success(), "{name}: {out}");
        assert!(
            out.contains(want) && out.contains("Dockerfile:2"),
            "{name}: {out}"
        );
    }
}
