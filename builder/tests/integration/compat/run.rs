//! `RUN` as BuildKit runs it: mounts without `target=` land at the working
//! directory, tmpfs sizes with units, shebang heredocs, `ENV` pairs
//! expanded against the environment before the instruction, `FROM scratch`
//! gets the default `PATH`, and the `# check=` / `# syntax=` directives.

use crate::build::{Scenario, build_local, context_with, read};
use crate::support::mxbuild::{mx, text};

/// Builds `df` for linux/amd64 into a local directory; the directory.
fn build_amd64(s: &Scenario, name: &str, df: &str) -> std::path::PathBuf {
    let t = s.dir.path();
    let ctx = context_with(t, name, df);
    let dest = t.join(format!("{name}-out"));
    build_local("linux/amd64", &ctx, &dest);
    dest
}

/// Builds `df` and expects a failure; its output.
fn build_fails(s: &Scenario, name: &str, df: &str) -> String {
    let t = s.dir.path();
    let ctx = context_with(t, name, df);
    let dest = t.join(format!("{name}-out"));
    let out = mx(&[
        "build",
        "--platform",
        "linux/amd64",
        "-o",
        &format!("type=local,dest={}", dest.display()),
        ctx.to_str().unwrap(),
    ]);
    let log = text(&out);
    assert!(!out.status.success(), "the build should fail:\n{log}");
    log
}

#[test]
fn mounts_without_target_land_at_the_working_directory() {
    let Some(s) = Scenario::start("compat-mount-target") else {
        return;
    };
    let out = build_amd64(
        &s,
        "mount-target",
        "FROM debian:bookworm AS src\n\
         RUN mkdir -p /data && echo from-stage > /data/file\n\
         FROM debian:bookworm\n\
         WORKDIR /work\n\
         RUN --mount=type=bind,from=src,source=/data cat /work/file > /bound\n\
         RUN --mount=type=bind,from=src,source=/data,target=sub cat /work/sub/file > /bound-rel\n\
         RUN --mount=type=tmpfs,size=64m df -k /work | tail -1 | awk '{print $2}' > /tmpfs-kb\n",
    );
    assert_eq!(read(out.join("bound")), "from-stage");
    assert_eq!(read(out.join("bound-rel")), "from-stage");
    assert_eq!(read(out.join("tmpfs-kb")), "65536", "size=64m is 64 MiB");
    // At the root, the mount would cover `/`: BuildKit's error.
    let log = build_fails(
        &s,
        "mount-root",
        "FROM debian:bookworm AS src\nFROM debian:bookworm\nRUN --mount=type=bind,from=src true\n",
    );
    assert!(log.contains("invalid mount target \"/\""), "{log}");
    assert!(log.contains("Dockerfile:3"), "{log}");
}
