//! Git repositories for the `ADD <git URL>` and git-context tests: git
//! run with a fixed author and time, and a bare copy laid out for git's
//! "dumb" HTTP protocol (what a static file server can serve).

use std::path::{Path, PathBuf};
use std::process::Command;

use super::mxbuild::ok;

/// `git -C dir ARGS` with a fixed author and commit time; must succeed.
pub fn git(dir: &Path, args: &[&str]) {
    ok(Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .env("GIT_AUTHOR_DATE", "@1700000000 +0000")
        .env("GIT_COMMITTER_DATE", "@1700000000 +0000"));
}

/// A bare clone of `work` at `www/repo.git`, ready to be served over
/// dumb HTTP; its path.
pub fn bare_for_http(work: &Path, www: &Path) -> PathBuf {
    std::fs::create_dir_all(www).unwrap();
    let bare = www.join("repo.git");
    ok(Command::new("git")
        .args(["clone", "-q", "--bare"])
        .arg(work)
        .arg(&bare));
    git(&bare, &["update-server-info"]);
    bare
}
