//! Paths re-included by an exception (`!`) under an excluded directory:
//! BuildKit keeps them and the parent directories that lead to them, and
//! nothing else of the excluded directory, both for `.dockerignore` (its
//! context walker descends into excluded directories when an exception may
//! match beneath) and for `COPY --exclude` (fsutil's copier walks excluded
//! directories when there are exceptions and makes a parent only when a
//! child is copied; the patterns see paths relative to the copied source).

use std::fs;
use std::path::Path;

use super::{Scenario, build_local};

/// `drop/{inner/f,other/g,top}`, `docs/{sub/deep/{a.md,b.txt},x/y.md,top.md}`.
fn tree(ctx: &Path) {
    for (path, body) in [
        ("drop/inner/f", "a"),
        ("drop/other/g", "b"),
        ("drop/top", "c"),
        ("docs/sub/deep/a.md", "d"),
        ("docs/sub/deep/b.txt", "e"),
        ("docs/x/y.md", "f"),
        ("docs/top.md", "g"),
    ] {
        let p = ctx.join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, body).unwrap();
    }
}

/// Every path under `root`, relative, sorted.
fn listing(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for e in fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            out.push(p.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            if e.file_type().unwrap().is_dir() {
                todo.push(p);
            }
        }
    }
    out.sort();
    out
}

const KEPT: &[&str] = &[
    "docs",
    "docs/sub",
    "docs/sub/deep",
    "docs/sub/deep/a.md",
    "drop",
    "drop/inner",
    "drop/inner/f",
];

#[test]
fn dockerignore_exceptions_under_excluded_directories_are_kept() {
    let Some(s) = Scenario::start("reinclude-ignore") else {
        return;
    };
    let ctx = s.dir.join("ctx");
    tree(&ctx);
    fs::write(
        ctx.join(".dockerignore"),
        "drop\n!drop/inner\ndocs\n!docs/sub/deep/*.md\nDockerfile\n.dockerignore\n",
    )
    .unwrap();
    fs::write(ctx.join("Dockerfile"), "FROM scratch\nCOPY . /c/\n").unwrap();
    let out = s.dir.join("out");
    build_local("linux/amd64", &ctx, &out);
    assert_eq!(listing(&out.join("c")), KEPT);
}

#[test]
fn copy_exclude_exceptions_under_excluded_directories_are_kept() {
    let Some(s) = Scenario::start("reinclude-exclude") else {
        return;
    };
    let ctx = s.dir.join("ctx");
    tree(&ctx);
    fs::create_dir_all(ctx.join("src")).unwrap();
    fs::rename(ctx.join("drop"), ctx.join("src/drop")).unwrap();
    fs::rename(ctx.join("docs"), ctx.join("src/docs")).unwrap();
    // The patterns are relative to the copied source `src`, as in BuildKit.
    fs::write(
        ctx.join("Dockerfile"),
        "FROM scratch\n\
         COPY --exclude=drop --exclude=!drop/inner --exclude=docs \
         --exclude=!docs/sub/deep/*.md src /c/\n\
         COPY --exclude=*.md src/docs /d/\n",
    )
    .unwrap();
    let out = s.dir.join("out");
    build_local("linux/amd64", &ctx, &out);
    assert_eq!(listing(&out.join("c")), KEPT);
    assert_eq!(
        listing(&out.join("d")),
        [
            "sub",
            "sub/deep",
            "sub/deep/a.md",
            "sub/deep/b.txt",
            "x",
            "x/y.md"
        ],
        "`*.md` matches top.md, directly under the copied source, only"
    );
}
