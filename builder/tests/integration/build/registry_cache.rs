//! `--cache-to/--cache-from type=registry` with a real docker-registry:
//! store A builds two platforms and exports its steps (`mode=max`) under
//! one cache ref; fresh stores (as on a new CI runner) build from it. With
//! `mode=max` every step of both platforms is a cache hit and the index
//! digest is the same; with `mode=min` only the final stage's steps are;
//! `compression=zstd` writes the build's own layers as zstd.
//! A missing cache ref is a warning, not a failure; a corrupt one too (its
//! blobs fail their digests), and the build runs without it. With
//! `--cache-to type=inline` the pushed image carries the cache: a fresh
//! store building from that image reruns only the non-final stage.

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

fn build_in(store: &Path, ctx: &Path, base: &str, extra: &[&str]) -> Output {
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
    args.extend_from_slice(extra);
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

/// A scenario with a registry holding the base image (fresh stores pull
/// it from there) and the build context.
struct Setup {
    s: Scenario,
    reg: Registry,
    base: String,
    ctx: std::path::PathBuf,
}

fn setup(tag: &str) -> Option<Setup> {
    let s = Scenario::start(tag).filter(|_| {
        require(
            tool("docker-registry"),
            "docker-registry is needed (scripts/setup.sh installs it)",
        ) && require(
            tool("skopeo"),
            "skopeo is needed (scripts/setup.sh installs it)",
        )
    })?;
    let t = s.dir.path();
    let reg = Registry::start(t, None);
    let base = format!("{}/library/debian:bookworm", reg.host());
    let o = mx(&["image", "push", "debian:bookworm", &base]);
    assert!(o.status.success(), "{}", text(&o));
    let ctx = context_with(t, "ctx", DOCKERFILE);
    Some(Setup { s, reg, base, ctx })
}

#[test]
fn registry_cache_serves_every_platform_to_a_fresh_store() {
    let Some(Setup { s, reg, base, ctx }) = setup("regcache") else {
        return;
    };
    let t = s.dir.path();
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

    // compression=zstd: the build's own layers are zstd in the cache, the
    // base image's stay gzip (no force-compression); a fresh store takes
    // every step from it.
    let zstd_ref = format!("{}/cache/app:zstd", reg.host());
    let o = build_in(
        &a,
        &ctx,
        &base,
        &[
            "--cache-to",
            &format!("type=registry,ref={zstd_ref},mode=max,compression=zstd"),
        ],
    );
    outcome(&o);
    let types = layer_types(&zstd_ref);
    assert!(types.iter().any(|t| t.ends_with("+zstd")), "{types:?}");
    assert!(types.iter().any(|t| t.ends_with("+gzip")), "{types:?}");
    let o = build_in(
        &t.join("store-d"),
        &ctx,
        &base,
        &["--cache-from", &zstd_ref],
    );
    let (_, run_d) = outcome(&o);
    assert_eq!(run_d, 0, "{}", text(&o));

    // A corrupt cache: the registry serves a layer whose bytes do not match
    // its digest. A warning, and every step runs; nothing from it is kept.
    let layer = last_layer(&cache_ref);
    let data = t
        .join("data/docker/registry/v2/blobs/sha256")
        .join(&layer[..2])
        .join(&layer)
        .join("data");
    let mut bytes = std::fs::read(&data).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&data, bytes).unwrap();
    let e = t.join("store-e");
    let o = build_in(&e, &ctx, &base, &["--cache-from", &cache_ref]);
    let log = text(&o);
    assert!(
        log.contains(&format!("warning: --cache-from {cache_ref}:"))
            && log.contains("building without it"),
        "{log}"
    );
    let (digest_e, run_e) = outcome(&o);
    assert_eq!(run_e, run_a, "{log}");
    assert_eq!(digest_e, digest_a, "{log}");
}

/// The manifest `r` names, as skopeo reads it.
fn raw_manifest(r: &str) -> serde_json::Value {
    let o = Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false"])
        .arg(format!("docker://{r}"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// The media types of the layers of the manifest `r` names.
fn layer_types(r: &str) -> Vec<String> {
    raw_manifest(r)["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["mediaType"].as_str().unwrap().to_string())
        .collect()
}

/// The digest (hex) of the last layer of the manifest `r` names.
fn last_layer(r: &str) -> String {
    let m = raw_manifest(r);
    m["layers"].as_array().unwrap().last().unwrap()["digest"]
        .as_str()
        .unwrap()
        .trim_start_matches("sha256:")
        .to_string()
}

#[test]
fn inline_cache_in_the_pushed_image_serves_a_fresh_store() {
    let Some(Setup { s, reg, base, ctx }) = setup("inlinecache") else {
        return;
    };
    let t = s.dir.path();

    let image = format!("{}/app/inline:1", reg.host());
    let out = format!("type=image,name={image},push=true");
    let o = build_in(
        &t.join("store-a"),
        &ctx,
        &base,
        &["--cache-to", "type=inline", "-o", &out],
    );
    let log = text(&o);
    let (digest_a, _) = outcome(&o);
    assert!(
        log.contains("cached steps inline in the linux/arm64 image"),
        "{log}"
    );
    // The record sits in each platform's config, under the documented key.
    let o = Command::new("skopeo")
        .args([
            "inspect",
            "--config",
            "--raw",
            "--tls-verify=false",
            "--override-arch",
            "arm64",
        ])
        .arg(format!("docker://{image}"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let config: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(config["architecture"], "arm64");
    let records = config["io.mxbuild.cache.v1"]["records"]
        .as_object()
        .unwrap_or_else(|| panic!("no inline cache in {config}"));
    assert!(records.len() >= 2, "{config}");

    // A fresh store builds from the image: the final stage is cached, the
    // build stage (not in the image) runs once per target.
    let out2 = format!("type=image,name={}/app/inline:2,push=true", reg.host());
    let o = build_in(
        &t.join("store-b"),
        &ctx,
        &base,
        &[
            "--cache-from",
            &image,
            "--cache-to",
            "type=inline",
            "-o",
            &out2,
        ],
    );
    let log = text(&o);
    let (digest_b, run_b) = outcome(&o);
    assert!(log.contains(&format!("cached steps from {image}")), "{log}");
    assert_eq!(run_b, 2, "{log}");
    assert!(log.contains("CACHED") && log.contains("cat /out"), "{log}");
    assert_eq!(digest_b, digest_a, "same steps, same records, same image");
}
