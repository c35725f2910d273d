//! A build spread over native runners, merged into one index: two private
//! stores stand in for two CI runners (empty, as on a fresh runner); each
//! builds one platform and pushes it by digest to a real docker-registry,
//! recording what buildx records in `--metadata-file`; `mxbuild imagetools
//! create` merges the digests under a tag. skopeo sees one index with both
//! platforms, `mxbuild verify` of the tag passes, `--append` adds a third
//! platform built later, and a second manifest for a platform is refused.

use std::fs;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support::mxbuild::{mx_in, ok, repo, text, tool};
use crate::support::registry::Registry;
use crate::support::{is_root, require, tmp};

const DOCKERFILE: &str = "FROM scratch\nARG TARGETARCH\nARG TARGETVARIANT\nCOPY bins/${TARGETARCH}${TARGETVARIANT}/hello /hello\nCOPY note /note\n";

/// The context: a static hello per architecture (real fixtures).
fn context(t: &Path, note: &str) -> std::path::PathBuf {
    let ctx = t.join(format!("ctx-{note}"));
    for (dir, fixture) in [
        ("amd64", "linux-amd64-static"),
        ("arm64", "linux-arm64-static"),
        ("armv7", "linux-armv7-musleabihf-static"),
    ] {
        fs::create_dir_all(ctx.join("bins").join(dir)).unwrap();
        fs::copy(
            repo().join("testdata/elf").join(fixture),
            ctx.join("bins").join(dir).join("hello"),
        )
        .unwrap();
    }
    fs::write(ctx.join("Dockerfile"), DOCKERFILE).unwrap();
    fs::write(ctx.join("note"), note).unwrap();
    ctx
}

/// One runner: a build of `platform` in its own store, pushed by digest.
/// Returns the `containerimage.digest` its metadata file records.
fn runner(t: &Path, name: &str, platform: &str, ctx: &Path, repo_ref: &str) -> String {
    let store = t.join(format!("store-{name}"));
    let meta = t.join(format!("meta-{name}.json"));
    let o = mx_in(
        &store,
        &[
            "build",
            "--platform",
            platform,
            "-o",
            &format!(
                "type=image,name={repo_ref},push-by-digest=true,name-canonical=true,push=true"
            ),
            "--metadata-file",
            meta.to_str().unwrap(),
            ctx.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let m: Value = serde_json::from_slice(&fs::read(&meta).unwrap()).unwrap();
    let digest = m["containerimage.digest"].as_str().unwrap().to_string();
    assert_eq!(m["containerimage.descriptor"]["digest"], digest.as_str());
    assert_eq!(
        m["containerimage.descriptor"]["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    assert!(m["containerimage.descriptor"]["size"].as_u64().unwrap() > 0);
    assert_eq!(m["image.name"], repo_ref);
    digest
}

fn platforms_of(host_ref: &str) -> Vec<String> {
    let raw = ok(Command::new("skopeo").args([
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("docker://{host_ref}"),
    ]));
    let v: Value = serde_json::from_str(&raw).unwrap();
    let mut p: Vec<String> = v["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let p = &m["platform"];
            match p["variant"].as_str() {
                Some(v) => format!(
                    "{}/{}/{v}",
                    p["os"].as_str().unwrap(),
                    p["architecture"].as_str().unwrap()
                ),
                None => format!(
                    "{}/{}",
                    p["os"].as_str().unwrap(),
                    p["architecture"].as_str().unwrap()
                ),
            }
        })
        .collect();
    p.sort();
    p
}

#[test]
fn runners_push_by_digest_and_imagetools_create_merges() {
    if !require(is_root(), "mxbuild build needs root (mount namespace)")
        || !require(
            tool("docker-registry") && tool("skopeo") && tool("runc"),
            "docker-registry, skopeo and runc are needed (scripts/setup.sh installs them)",
        )
    {
        return;
    }
    let t = tmp("distributed");
    let t = t.path();
    let reg = Registry::start(t, None);
    let repo_ref = format!("{}/team/app", reg.host());
    let ctx = context(t, "one");
    let a = runner(t, "amd64", "linux/amd64", &ctx, &repo_ref);
    let b = runner(t, "arm64", "linux/arm64", &ctx, &repo_ref);
    assert_ne!(a, b);

    // The merge job: another empty store.
    let merger = t.join("store-merge");
    let tag = format!("{repo_ref}:1");
    let meta = t.join("meta-create.json");
    let o = mx_in(
        &merger,
        &[
            "imagetools",
            "create",
            "-t",
            &tag,
            "--metadata-file",
            meta.to_str().unwrap(),
            &format!("{repo_ref}@{a}"),
            &b, // a bare digest: in the -t repository
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(platforms_of(&tag), ["linux/amd64", "linux/arm64"]);
    let m: Value = serde_json::from_slice(&fs::read(&meta).unwrap()).unwrap();
    assert!(
        m["containerimage.descriptor"]["digest"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    let o = mx_in(&merger, &["verify", &tag]);
    assert!(o.status.success(), "{}", text(&o));
    let v = text(&o);
    assert!(
        v.contains("linux/amd64") && v.contains("linux/arm64"),
        "{v}"
    );

    // A third platform, built later, appended; the copy goes to another
    // repository of the registry (blobs mounted, not uploaded).
    let c = runner(t, "armv7", "linux/arm/v7", &ctx, &repo_ref);
    let o = mx_in(
        &merger,
        &["imagetools", "create", "--append", "-t", &tag, &c],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        platforms_of(&tag),
        ["linux/amd64", "linux/arm/v7", "linux/arm64"]
    );
    let other = format!("{}/release/app:1", reg.host());
    let o = mx_in(&merger, &["imagetools", "create", "-t", &other, &tag]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(
        out.contains("mounted") && out.contains(" 0 uploaded"),
        "{out}"
    );
    assert_eq!(
        platforms_of(&other),
        ["linux/amd64", "linux/arm/v7", "linux/arm64"]
    );

    // --dry-run prints the index and pushes nothing.
    let o = mx_in(
        &merger,
        &[
            "imagetools",
            "create",
            "--dry-run",
            &format!("{repo_ref}@{a}"),
            &format!("{repo_ref}@{b}"),
        ],
    );
    let idx: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(idx["manifests"].as_array().unwrap().len(), 2);

    // Another amd64 image for the same platform is refused.
    let other_ctx = context(t, "two");
    let a2 = runner(t, "amd64-again", "linux/amd64", &other_ctx, &repo_ref);
    let o = mx_in(
        &merger,
        &[
            "imagetools",
            "create",
            "-t",
            &format!("{repo_ref}:2"),
            &a,
            &a2,
        ],
    );
    let e = text(&o);
    assert!(!o.status.success(), "{e}");
    assert!(
        e.contains("platform linux/amd64 is given twice") && e.contains("hint:"),
        "{e}"
    );
}
