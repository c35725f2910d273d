//! The store, `mxbuild image …` and registry push/pull against real
//! components: a `docker-registry` started here on a free loopback port
//! (plain, and with htpasswd basic auth), skopeo and umoci reading what we
//! push and export, skopeo pushing what we pull.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;

use testkit::require;

use crate::support::mxbuild::{mx_with_config as mx, ok, tool};
use crate::support::registry::Registry;
use crate::support::tmp;

fn tools_ready() -> bool {
    require(
        tool("docker-registry") && tool("skopeo") && tool("umoci"),
        "docker-registry, skopeo and umoci are needed (scripts/setup.sh installs them)",
    )
}

fn mx_ok(store: &Path, docker_config: &Path, args: &[&str]) -> String {
    let out = mx(store, docker_config, args);
    assert!(
        out.status.success(),
        "mxbuild {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Two small root filesystems that differ per platform.
fn rootfs(base: &Path, arch: &str) -> PathBuf {
    let r = base.join(format!("rootfs-{arch}"));
    let _ = fs::remove_dir_all(&r);
    fs::create_dir_all(r.join("etc")).unwrap();
    fs::create_dir_all(r.join("usr/bin")).unwrap();
    fs::write(r.join("etc/arch"), format!("{arch}\n")).unwrap();
    fs::write(r.join("usr/bin/tool"), format!("#!/bin/sh\necho {arch}\n")).unwrap();
    fs::hard_link(r.join("usr/bin/tool"), r.join("usr/bin/tool-again")).unwrap();
    symlink("usr/bin", r.join("bin")).unwrap();
    let long = "d".repeat(120);
    fs::create_dir_all(r.join(&long)).unwrap();
    fs::write(r.join(&long).join("f".repeat(120)), "long names\n").unwrap();
    r
}

fn docker_config(dir: &Path, entries: &[(&str, &str, &str)]) -> PathBuf {
    let d = dir.join("docker-config");
    fs::create_dir_all(&d).unwrap();
    let auths: Vec<String> = entries
        .iter()
        .map(|(host, u, p)| {
            let b64 =
                ok(Command::new("sh").args(["-c", &format!("printf %s '{u}:{p}' | base64 -w0")]));
            format!("\"{host}\":{{\"auth\":\"{}\"}}", b64.trim())
        })
        .collect();
    fs::write(
        d.join("config.json"),
        format!("{{\"auths\":{{{}}}}}", auths.join(",")),
    )
    .unwrap();
    d
}

/// Files (path -> content or link target) under a tree, for comparing.
fn listing(root: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut todo = vec![PathBuf::new()];
    while let Some(rel) = todo.pop() {
        for e in fs::read_dir(root.join(&rel)).unwrap() {
            let e = e.unwrap();
            let p = rel.join(e.file_name());
            let ft = e.file_type().unwrap();
            let what = if ft.is_symlink() {
                format!("-> {}", fs::read_link(e.path()).unwrap().display())
            } else if ft.is_dir() {
                todo.push(p.clone());
                "dir".to_string()
            } else {
                fs::read_to_string(e.path()).unwrap_or_else(|_| "binary".to_string())
            };
            out.push((p.display().to_string(), what));
        }
    }
    out.sort();
    out
}

fn import_two(t: &Path, store: &Path, cfg: &Path, name: &str) {
    for (p, a) in [("linux/amd64", "amd64"), ("linux/arm64", "arm64")] {
        let src = rootfs(t, a);
        mx_ok(
            store,
            cfg,
            &[
                "image",
                "import",
                "--platform",
                p,
                src.to_str().unwrap(),
                name,
            ],
        );
    }
}

/// Unpacks one platform of a registry image with skopeo + umoci.
fn umoci_unpack(t: &Path, src: &str, arch: &str, creds: &[&str]) -> PathBuf {
    let layout = t.join("umoci-layout");
    let mut cmd = Command::new("skopeo");
    cmd.args([
        "copy",
        "-q",
        "--override-arch",
        arch,
        "--src-tls-verify=false",
    ])
    .args(creds)
    .arg(src)
    .arg(format!("oci:{}:{arch}", layout.display()));
    ok(&mut cmd);
    let bundle = t.join(format!("bundle-{arch}"));
    let _ = fs::remove_dir_all(&bundle);
    ok(Command::new("umoci")
        .args(["unpack", "--image"])
        .arg(format!("{}:{arch}", layout.display()))
        .arg(&bundle));
    bundle.join("rootfs")
}

#[test]
fn push_two_platforms_then_skopeo_and_umoci_read_them() {
    if !tools_ready() {
        return;
    }
    let t = tmp("reg-push");
    let reg = Registry::start(&t, None);
    let (store, cfg) = (t.join("store"), docker_config(&t, &[]));
    import_two(&t, &store, &cfg, "app:1");
    let target = format!("{}/team/app:1", reg.host());
    let out = mx_ok(&store, &cfg, &["image", "push", "app:1", &target]);
    assert!(
        out.contains("uploaded") && out.contains("0 mounted"),
        "{out}"
    );

    let raw = ok(Command::new("skopeo").args([
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("docker://{target}"),
    ]));
    let idx: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(idx["mediaType"], "application/vnd.oci.image.index.v1+json");
    let archs: Vec<&str> = idx["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["platform"]["architecture"].as_str().unwrap())
        .collect();
    assert_eq!(archs, ["amd64", "arm64"]);

    // skopeo copy --all re-verifies every blob digest.
    let all = t.join("all");
    ok(Command::new("skopeo")
        .args([
            "copy",
            "-q",
            "--all",
            "--src-tls-verify=false",
            &format!("docker://{target}"),
        ])
        .arg(format!("oci:{}:1", all.display())));
    let copied =
        ok(Command::new("skopeo").args(["inspect", "--raw", &format!("oci:{}:1", all.display())]));
    assert_eq!(
        copied.trim(),
        raw.trim(),
        "skopeo copy --all keeps our index byte for byte"
    );
    for a in ["amd64", "arm64"] {
        let root = umoci_unpack(&t, &format!("docker://{target}"), a, &[]);
        assert_eq!(
            listing(&root),
            listing(&t.join(format!("rootfs-{a}"))),
            "{a}"
        );
    }

    // Same registry, another repository: layers are mounted, not uploaded.
    let other = format!("{}/other/app:1", reg.host());
    let out = mx_ok(&store, &cfg, &["image", "push", "app:1", &other]);
    assert!(
        out.contains("(0 uploaded") && !out.contains(" 0 mounted"),
        "{out}"
    );
    // Again: everything is already there.
    let out = mx_ok(&store, &cfg, &["image", "push", "app:1", &other]);
    assert!(out.contains("0 uploaded, 0 mounted"), "{out}");
}

#[test]
fn basic_auth_from_docker_config() {
    if !tools_ready()
        || !require(
            Path::new("/usr/bin/python3").exists()
                && Command::new("/usr/bin/python3")
                    .args(["-c", "import bcrypt"])
                    .status()
                    .is_ok_and(|s| s.success()),
            "python3-bcrypt is needed for the htpasswd file (scripts/setup.sh installs it)",
        )
    {
        return;
    }
    let t = tmp("reg-auth");
    let reg = Registry::start(&t, Some(("alice", "s3cret")));
    let store = t.join("store");
    let none = docker_config(&t.join("none"), &[]);
    import_two(&t, &store, &none, "app:1");
    let target = format!("{}/private/app:1", reg.host());

    let out = mx(&store, &none, &["image", "push", "app:1", &target]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("401") && err.contains("docker login"), "{err}");

    let wrong = docker_config(&t.join("wrong"), &[(&reg.host(), "alice", "nope")]);
    assert!(
        !mx(&store, &wrong, &["image", "push", "app:1", &target])
            .status
            .success()
    );

    let good = docker_config(&t.join("good"), &[(&reg.host(), "alice", "s3cret")]);
    mx_ok(&store, &good, &["image", "push", "app:1", &target]);
    let raw = ok(Command::new("skopeo").args([
        "inspect",
        "--raw",
        "--tls-verify=false",
        "--creds",
        "alice:s3cret",
        &format!("docker://{target}"),
    ]));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&raw).unwrap()["manifests"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let root = umoci_unpack(
        &t,
        &format!("docker://{target}"),
        "arm64",
        &["--src-creds", "alice:s3cret"],
    );
    assert_eq!(listing(&root), listing(&t.join("rootfs-arm64")));

    // Pull back into an empty store with the same credentials.
    let store2 = t.join("store2");
    let out = mx_ok(
        &store2,
        &good,
        &["image", "pull", "--platform", "all", &target],
    );
    assert!(out.contains("linux/amd64,linux/arm64"), "{out}");
    let anon = mx(&t.join("store3"), &none, &["image", "pull", &target]);
    assert!(!anon.status.success());
}

#[test]
fn skopeo_pushes_mxbuild_pulls_and_verifies() {
    if !tools_ready() {
        return;
    }
    let t = tmp("reg-pull");
    let reg = Registry::start(&t, None);
    let (store, cfg) = (t.join("store"), docker_config(&t, &[]));
    import_two(&t, &store, &cfg, "src:1");
    let archive = t.join("src.tar");
    mx_ok(
        &store,
        &cfg,
        &[
            "image",
            "export",
            "src:1",
            "-o",
            &format!("type=oci,dest={}", archive.display()),
        ],
    );

    // skopeo pushes our archive (both platforms) and a Docker-format single image.
    let multi = format!("{}/sk/multi:2", reg.host());
    ok(Command::new("skopeo")
        .args(["copy", "-q", "--all", "--dest-tls-verify=false"])
        .arg(format!("oci-archive:{}:1", archive.display()))
        .arg(format!("docker://{multi}")));
    let single = format!("{}/sk/single:v2s2", reg.host());
    ok(Command::new("skopeo")
        .args([
            "copy",
            "-q",
            "--format",
            "v2s2",
            "--override-arch",
            "arm64",
            "--dest-tls-verify=false",
        ])
        .arg(format!("oci-archive:{}:1", archive.display()))
        .arg(format!("docker://{single}")));

    // All platforms: the index is stored byte for byte (same digest as the registry's).
    let fresh = t.join("fresh");
    let out = mx_ok(
        &fresh,
        &cfg,
        &["image", "pull", "--platform", "all", &multi],
    );
    let raw = ok(Command::new("skopeo").args([
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("docker://{multi}"),
    ]));
    let digest =
        ok(Command::new("sh").args(["-c", &format!("printf %s '{}' | sha256sum", raw.trim())]));
    assert!(
        out.contains(&format!("sha256:{}", &digest[..64])),
        "{out}\n{digest}"
    );
    // Pulled content is what went in: export it and unpack each platform with umoci.
    let pulled = t.join("pulled");
    mx_ok(
        &fresh,
        &cfg,
        &[
            "image",
            "export",
            &multi,
            "-o",
            &format!("type=oci,dest={}", pulled.display()),
        ],
    );
    for a in ["amd64", "arm64"] {
        let root = umoci_unpack(&t, &format!("oci:{}:2", pulled.display()), a, &[]);
        assert_eq!(
            listing(&root),
            listing(&t.join(format!("rootfs-{a}"))),
            "{a}"
        );
    }

    // One platform of an index: a filtered index with just that entry.
    let one = t.join("one");
    mx_ok(
        &one,
        &cfg,
        &["image", "pull", "--platform", "linux/arm64", &multi],
    );
    let inspect = mx_ok(&one, &cfg, &["image", "inspect", &multi]);
    let v: serde_json::Value = serde_json::from_str(&inspect).unwrap();
    assert_eq!(v["manifests"].as_array().unwrap().len(), 1);
    assert_eq!(v["manifests"][0]["platform"], "linux/arm64");
    let missing = mx(
        &one,
        &cfg,
        &["image", "pull", "--platform", "linux/s390x", &multi],
    );
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(
        err.contains("linux/amd64") && err.contains("linux/arm64"),
        "{err}"
    );

    // A Docker-format single manifest is wrapped in an index; its platform
    // comes from the config; it exports as a docker-archive skopeo reads.
    mx_ok(
        &one,
        &cfg,
        &["image", "pull", "--platform", "linux/arm64", &single],
    );
    let v: serde_json::Value =
        serde_json::from_str(&mx_ok(&one, &cfg, &["image", "inspect", &single])).unwrap();
    assert_eq!(
        v["manifests"][0]["mediaType"],
        "application/vnd.docker.distribution.manifest.v2+json"
    );
    let darchive = t.join("docker.tar");
    mx_ok(
        &one,
        &cfg,
        &[
            "image",
            "export",
            &single,
            "-o",
            &format!("type=docker,dest={}", darchive.display()),
        ],
    );
    let info =
        ok(Command::new("skopeo")
            .args(["inspect", &format!("docker-archive:{}", darchive.display())]));
    let info: serde_json::Value = serde_json::from_str(&info).unwrap();
    assert_eq!(info["Architecture"], "arm64");
    let root = umoci_unpack(
        &t,
        &format!("docker-archive:{}", darchive.display()),
        "arm64",
        &[],
    );
    assert_eq!(listing(&root), listing(&t.join("rootfs-arm64")));

    // Names that do not exist say so with a hint.
    let nope = mx(
        &one,
        &cfg,
        &["image", "pull", &format!("{}/nope:1", reg.host())],
    );
    assert!(String::from_utf8_lossy(&nope.stderr).contains("hint:"));
}

#[test]
fn layouts_and_docker_archive_from_the_cli_are_read_by_skopeo() {
    if !require(
        tool("skopeo"),
        "skopeo is needed (scripts/setup.sh installs it)",
    ) {
        return;
    }
    let t = tmp("reg-export");
    let (store, cfg) = (t.join("store"), docker_config(&t, &[]));
    import_two(&t, &store, &cfg, "x:7");
    let dir = t.join("layout");
    let tar = t.join("layout.tar");
    let dock = t.join("x.tar");
    mx_ok(
        &store,
        &cfg,
        &[
            "image",
            "export",
            "x:7",
            "-o",
            &format!("type=oci,dest={}", dir.display()),
        ],
    );
    mx_ok(
        &store,
        &cfg,
        &[
            "image",
            "export",
            "x:7",
            "-o",
            &format!("type=oci,dest={}", tar.display()),
        ],
    );
    for src in [
        format!("oci:{}:7", dir.display()),
        format!("oci-archive:{}:7", tar.display()),
    ] {
        for a in ["amd64", "arm64"] {
            let v: serde_json::Value = serde_json::from_str(&ok(Command::new("skopeo").args([
                "inspect",
                "--override-arch",
                a,
                &src,
            ])))
            .unwrap();
            assert_eq!(v["Architecture"], a, "{src}");
        }
    }
    // docker-archive needs one platform when there are several.
    let e = mx(
        &store,
        &cfg,
        &[
            "image",
            "export",
            "x:7",
            "-o",
            &format!("type=docker,dest={}", dock.display()),
        ],
    );
    assert!(String::from_utf8_lossy(&e.stderr).contains("--platform"));
    mx_ok(
        &store,
        &cfg,
        &[
            "image",
            "export",
            "x:7",
            "--platform",
            "linux/amd64",
            "-o",
            &format!("type=docker,dest={}", dock.display()),
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&ok(
        Command::new("skopeo").args(["inspect", &format!("docker-archive:{}", dock.display())])
    ))
    .unwrap();
    assert_eq!(v["Architecture"], "amd64");
    let tar_list = ok(Command::new("tar")
        .arg("-xOf")
        .arg(&dock)
        .arg("manifest.json"));
    assert!(tar_list.contains("\"RepoTags\":[\"x:7\"]"), "{tar_list}");
}

#[test]
fn import_replaces_a_platform_and_prune_keeps_only_named_images() {
    let t = tmp("reg-prune");
    let (store, cfg) = (t.join("store"), docker_config(&t, &[]));
    import_two(&t, &store, &cfg, "keep:1");
    import_two(&t, &store, &cfg, "drop:1");
    // Re-importing a platform replaces it; the other stays.
    let changed = t.join("changed");
    fs::create_dir_all(&changed).unwrap();
    fs::write(changed.join("new"), "x").unwrap();
    mx_ok(
        &store,
        &cfg,
        &[
            "image",
            "import",
            "--platform",
            "linux/arm64",
            changed.to_str().unwrap(),
            "keep:1",
        ],
    );
    let v: serde_json::Value =
        serde_json::from_str(&mx_ok(&store, &cfg, &["image", "inspect", "keep:1"])).unwrap();
    let plats: Vec<&str> = v["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["platform"].as_str().unwrap())
        .collect();
    assert_eq!(plats, ["linux/amd64", "linux/arm64"]);
    let ls = mx_ok(&store, &cfg, &["image", "ls"]);
    assert!(
        ls.contains("docker.io/library/keep:1") && ls.contains("docker.io/library/drop:1"),
        "{ls}"
    );

    // Leftovers of a killed run.
    fs::write(store.join("tmp/blob-killed"), "half").unwrap();
    fs::create_dir_all(store.join("work/import-dead")).unwrap();
    mx_ok(&store, &cfg, &["image", "rm", "drop:1"]);
    assert!(
        !mx(&store, &cfg, &["image", "rm", "drop:1"])
            .status
            .success()
    );
    let out = mx_ok(&store, &cfg, &["prune"]);
    assert!(out.contains("2 temporary files"), "{out}");
    assert!(!store.join("tmp/blob-killed").exists() && !store.join("work/import-dead").exists());
    // What remains is exactly keep:1's closure, and it still exports.
    let n = fs::read_dir(store.join("blobs/sha256")).unwrap().count();
    // index + 2 manifests + 2 configs + 2 layers
    assert_eq!(n, 7, "{out}");
    mx_ok(
        &store,
        &cfg,
        &[
            "image",
            "export",
            "keep:1",
            "-o",
            &format!("type=oci,dest={}", t.join("o").display()),
        ],
    );
    let again = mx_ok(&store, &cfg, &["prune"]);
    assert!(again.starts_with("removed 0 blobs"), "{again}");
}
