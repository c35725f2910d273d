//! Lazy layers end to end: a build stage's layer is only a snapshot (no
//! blob, no compression) until something exports it; a cache export makes
//! its blob once, records it, and the next export reuses it.

use std::fs;
use std::path::{Path, PathBuf};

use super::{Scenario, context_with};
use crate::support::mxbuild::{mx_ok, store};

/// The snapshot directory whose `/marker` holds `token`: the layer of the
/// step that wrote it; returns its diff_id hex.
fn layer_with_marker(root: &Path, token: &str) -> String {
    let found: Vec<String> = fs::read_dir(root.join("snapshots"))
        .unwrap()
        .flatten()
        .filter(|e| fs::read_to_string(e.path().join("marker")).is_ok_and(|m| m.trim() == token))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(found.len(), 1, "one snapshot holds the marker: {found:?}");
    found[0]
        .strip_prefix("layer-")
        .unwrap_or_else(|| panic!("not a layer snapshot: {}", found[0]))
        .to_string()
}

/// Entries of the layer-blob table for `hex`.
fn made_for(root: &Path, hex: &str) -> Vec<PathBuf> {
    fs::read_dir(root.join("layer-blobs"))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with(&format!("{hex}.")))
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn build_stage_layers_get_a_blob_only_when_exported() {
    let Some(s) = Scenario::start("lazy") else {
        return;
    };
    let t = s.dir.path();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let token = format!("lazy-{}-{nanos}", std::process::id());
    let ctx = context_with(
        t,
        "ctx",
        &format!(
            "FROM debian:bookworm AS build\n\
             RUN echo {token} > /marker && head -c 200000 /dev/urandom > /big && echo small > /small\n\
             FROM debian:bookworm\n\
             COPY --from=build /small /small\n"
        ),
    );
    let oci = t.join("out.oci.tar");
    mx_ok(&[
        "build",
        "--no-cache",
        "--platform",
        "linux/amd64",
        "-o",
        &format!("type=oci,dest={}", oci.display()),
        ctx.to_str().unwrap(),
    ]);
    let root = store();
    let hex = layer_with_marker(&root, &token);
    assert!(
        made_for(&root, &hex).is_empty(),
        "the build stage's layer was never compressed"
    );
    let big = fs::read(root.join(format!("snapshots/layer-{hex}/big"))).unwrap();
    assert_eq!(big.len(), 200000);

    // A cache export (mode=max takes the build stage) makes its blob, once.
    let cache = t.join("cache");
    let export = |dest: &Path| {
        mx_ok(&[
            "build",
            "--platform",
            "linux/amd64",
            "--cache-to",
            &format!("type=local,dest={},mode=max", dest.display()),
            ctx.to_str().unwrap(),
        ])
    };
    let log = export(&cache);
    assert!(log.contains("(0 steps run"), "{log}");
    let made = made_for(&root, &hex);
    assert_eq!(made.len(), 1, "{made:?}");
    let entry: serde_json::Value = serde_json::from_slice(&fs::read(&made[0]).unwrap()).unwrap();
    let digest = entry["digest"].as_str().unwrap().to_string();
    let blob = |dir: &Path| dir.join("blobs/sha256").join(&digest["sha256:".len()..]);
    assert!(blob(&cache).is_file(), "the cache holds the made blob");
    assert!(blob(&root).is_file(), "the store keeps it");
    let when = fs::metadata(blob(&root)).unwrap().modified().unwrap();

    // A second export reuses it: same blob, not written again.
    let cache2 = t.join("cache2");
    export(&cache2);
    assert!(blob(&cache2).is_file());
    assert_eq!(fs::metadata(blob(&root)).unwrap().modified().unwrap(), when);
    assert_eq!(made_for(&root, &hex), made);
}
