//! `--cache-to/--cache-from type=registry` with a real docker-registry:
//! store A builds two platforms and exports its steps (`mode=max`) under
//! one cache ref; fresh stores (as on a new CI runner) build from it. With
//! `mode=max` every step of both platforms is a cache hit and the index
//! digest is the same; with `mode=min` only the final stage's steps are.
//! A missing cache ref is a warning, not a failure.

use std::path::Path;
use std::process::{Command, Output};

use super::{Scenario, context_with};
use crate::support::mxbuild::{mx, text, tool};
use crate::support::registry::Registry;
use crate::support::require;

const DOCKERFILE: &str = "\
ARG BASE
FROM --platform=$BUILDPLATFORM ${BASE} AS build
ARG TARGETARCH
RUN echo \"built for $TARGETARCH\" > /out
FROM ${BASE}
COPY --from=build /out /out
RUN cat /out > /copied
";

fn build_in(store: &Path, ctx: &Path, base: &str, cache: &[&str]) -> Output {
    let mut args = vec![
        "build",
        "--progress",
        "plain",
        "--platform",
        "linux/amd64,linux/arm64",
        "--build-arg",
    ];
    let base_arg = format!("BASE={base}");
    args.push(&base_arg);
    args.extend_from_slice(cache);
    args.push(ctx.to_str().unwrap());
    Command::new(env!("CARGO_BIN_EXE_mxbuild"))
        .args(&args)
        .env("MXBUILD_ROOT", store)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .output()
        .unwrap()
}

/// `built sha256:… for … (N steps run, M cached, S shared)`: digest and N.
fn outcome(o: &Output) -> (String, usize) {
    let log = text(o);
    assert!(o.status.success(), "{log}");
    let line = log
        .lines()
        .find(|l| l.starts_with("built "))
        .unwrap_or_else(|| panic!("no summary line in {log}"));
    let digest = line.split_whitespace().nth(1).unwrap().to_string();
    let run = line
        .split('(')
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    (digest, run)
}

#[test]
fn registry_cache_serves_every_platform_to_a_fresh_store() {
    let Some(s) = Scenario::start("regcache").filter(|_| {
        require(
            tool("docker-registry"),
            "docker-registry is needed (scripts/setup.sh installs it)",
        )
    }) else {
        return;
    };
    let t = s.dir.path();
    let reg = Registry::start(t, None);
    // The base image on the registry, so fresh stores can pull it.
    let base = format!("{}/library/debian:bookworm", reg.host());
    let o = mx(&["image", "push", "debian:bookworm", &base]);
    assert!(o.status.success(), "{}", text(&o));
    let ctx = context_with(t, "ctx", DOCKERFILE);
    let cache_ref = format!("{}/cache/app:buildcache", reg.host());

    // A missing cache: a warning, and the build runs.
    let a = t.join("store-a");
    let max = format!("type=registry,ref={cache_ref},mode=max");
    let o = build_in(
        &a,
        &ctx,
        &base,
        &["--cache-from", &cache_ref, "--cache-to", &max],
    );
    let log = text(&o);
    assert!(
        log.contains(&format!("warning: --cache-from {cache_ref}: not found")),
        "{log}"
    );
    let (digest_a, run_a) = outcome(&o);
    assert!(run_a >= 4, "{log}");
    assert!(
        log.contains("exported") && log.contains(&cache_ref),
        "{log}"
    );

    // A fresh store: every step of both platforms from the registry cache.
    let b = t.join("store-b");
    let o = build_in(&b, &ctx, &base, &["--cache-from", &cache_ref]);
    let (digest_b, run_b) = outcome(&o);
    assert_eq!(run_b, 0, "{}", text(&o));
    assert_eq!(digest_b, digest_a, "same steps, same image");

    // mode=min: only the final stage's steps; the build stage runs again.
    let min_ref = format!("{}/cache/app:min", reg.host());
    let o = build_in(
        &a,
        &ctx,
        &base,
        &["--cache-to", &format!("type=registry,ref={min_ref}")],
    );
    outcome(&o);
    let c = t.join("store-c");
    let o = build_in(
        &c,
        &ctx,
        &base,
        &["--cache-from", &format!("type=registry,ref={min_ref}")],
    );
    let log = text(&o);
    let (digest_c, run_c) = outcome(&o);
    assert_eq!(run_c, 2, "the build stage's RUN, once per target: {log}");
    assert!(log.contains("CACHED") && log.contains("cat /out"), "{log}");
    assert_eq!(digest_c, digest_a, "{log}");
}
