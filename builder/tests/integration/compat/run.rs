//! `RUN` as BuildKit runs it: mounts without `target=` land at the working
//! directory, tmpfs sizes with units, shebang heredocs, `ENV` pairs
//! expanded against the environment before the instruction, `FROM scratch`
//! gets the default `PATH`, and the `# check=` / `# syntax=` directives.

use crate::build::{Scenario, build_local, context_with, read};
use std::process::Command;

use crate::support::mxbuild::{mx, mx_ok, ok, text};

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

/// Builds `df` for linux/amd64 as an OCI archive tagged `:1`; its config.
fn config_of(s: &Scenario, name: &str, df: &str) -> serde_json::Value {
    let t = s.dir.path();
    let ctx = context_with(t, name, df);
    let out = t.join(format!("{name}.oci.tar"));
    mx_ok(&[
        "build",
        "--platform",
        "linux/amd64",
        "-t",
        &format!("test/{name}:1"),
        "-o",
        &format!("type=oci,dest={}", out.display()),
        ctx.to_str().unwrap(),
    ]);
    let layout = format!("oci-archive:{}:1", out.display());
    let json = ok(Command::new("skopeo").args(["inspect", "--config", &layout]));
    serde_json::from_str(&json).unwrap()
}

#[test]
fn env_pairs_expand_before_the_instruction_and_scratch_gets_path() {
    let Some(s) = Scenario::start("compat-env") else {
        return;
    };
    let config = config_of(
        &s,
        "env-scratch",
        "FROM scratch\nENV A=1 B=two C=${A}-x\nENV P=$PATH:/opt\n",
    );
    let env: Vec<String> = config["config"]["Env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    assert_eq!(
        env,
        [
            format!("PATH={path}"),
            "A=1".to_string(),
            "B=two".to_string(),
            "C=-x".to_string(),
            format!("P={path}:/opt"),
        ],
        "{config}"
    );
    // In a RUN, the values as the image config has them.
    let out = build_amd64(
        &s,
        "env-run",
        "FROM debian:bookworm\nENV A=old\nENV A=new B=$A\nRUN echo \"$A $B\" > /ab\n",
    );
    assert_eq!(read(out.join("ab")), "new old");
}

#[test]
fn check_and_syntax_directives_do_what_buildkit_does() {
    let Some(s) = Scenario::start("compat-checks") else {
        return;
    };
    // A finding of a BuildKit rule fails the build under error=true.
    let log = build_fails(
        &s,
        "check-error",
        "# check=error=true\nFROM debian:bookworm AS Base\nCMD echo hi\n",
    );
    assert!(
        log.contains(
            "Dockerfile:2:1: lint violation found for rules: JSONArgsRecommended, StageNameCasing"
        ),
        "{log}"
    );
    // Skipped rules do not count; the other BuildKit frontend tags are fine.
    let out = build_amd64(
        &s,
        "check-skip",
        "# syntax=docker/dockerfile:1.7\n# check=skip=JSONArgsRecommended,StageNameCasing;error=true\n\
         FROM debian:bookworm AS Base\nRUN echo built > /ok\nCMD echo hi\n",
    );
    assert_eq!(read(out.join("ok")), "built");
    // Another frontend is refused where it is named.
    let log = build_fails(
        &s,
        "syntax-other",
        "# syntax=example.com/frontend:1\nFROM debian:bookworm\n",
    );
    assert!(
        log.contains("Dockerfile:1:1: unsupported frontend"),
        "{log}"
    );
}

#[test]
fn shebang_heredocs_run_by_their_interpreter() {
    let Some(s) = Scenario::start("compat-shebang") else {
        return;
    };
    let out = build_amd64(
        &s,
        "shebang",
        "FROM debian:bookworm\n\
         RUN <<EOT\n#!/bin/bash\nset -e\nwords=(one two)\n[[ ${#words[@]} == 2 ]] && echo \"bash ${words[1]} $0\" > /by-bash\nEOT\n\
         RUN <<EOT\necho \"sh $0\" > /by-sh\nEOT\n\
         RUN perl - <<'EOT'\n#!/usr/bin/perl -w\nopen(my $f, '>', '/by-perl'); print $f \"perl\\n\";\nEOT\n",
    );
    assert_eq!(read(out.join("by-bash")), "bash two /dev/pipes/EOT");
    assert_eq!(read(out.join("by-sh")), "sh /bin/sh");
    assert_eq!(read(out.join("by-perl")), "perl");
    assert!(
        !out.join("dev/pipes").exists(),
        "the script is not in the image"
    );
}

/// `--mount=type=cache,from=STAGE,source=DIR` starts as a copy of that
/// directory (owners kept) and keeps what steps add; a seed with other
/// content gets a cache of its own (BuildKit keys caches by id and seed);
/// `ro` mounts a cache read-only.
#[test]
fn seeded_and_read_only_cache_mounts() {
    let Some(s) = Scenario::start("compat-cache-seed") else {
        return;
    };
    // A fresh id per run: caches outlive builds in the shared test store.
    let id = format!("seed-{}", std::process::id());
    let df = |marker: &str| {
        format!(
            "FROM debian:bookworm AS seed\n\
             RUN mkdir -p /deps/sub && echo {marker} > /deps/sub/a && chown 1234:1234 /deps/sub/a\n\
             FROM debian:bookworm\n\
             RUN --mount=type=cache,id={id},target=/cache,from=seed,source=/deps \\\n\
               cat /cache/sub/a > /seen && stat -c %u /cache/sub/a > /owner && echo x > /cache/added-{marker}\n\
             RUN --mount=type=cache,id={id},target=/cache,from=seed,source=/deps ls /cache > /listing\n\
             RUN --mount=type=cache,id={id}-plain,target=/c2,ro \\\n\
               if touch /c2/x 2>/dev/null; then echo writable; else echo read-only; fi > /ro\n"
        )
    };
    let out = build_amd64(&s, "one", &df("one"));
    assert_eq!(read(out.join("seen")), "one");
    assert_eq!(read(out.join("owner")), "1234");
    assert_eq!(read(out.join("listing")), "added-one\nsub");
    assert_eq!(read(out.join("ro")), "read-only");
    // Another seed: a cache of its own, without what the first one got.
    let out = build_amd64(&s, "two", &df("two"));
    assert_eq!(read(out.join("seen")), "two");
    assert_eq!(read(out.join("listing")), "added-two\nsub");
    // source= needs from= (BuildKit mounts that path of the from= state).
    let e = build_fails(
        &s,
        "nofrom",
        "FROM debian:bookworm\nRUN --mount=type=cache,target=/c,source=/x true\n",
    );
    assert!(e.contains("source= names a path in from="), "{e}");
}
