//! Outputs: `-o type=local` (one directory per platform), `type=docker`
//! (one platform only) and `--push` to a registry.

use std::process::Command;

use testkit::require;

use super::{Scenario, build_local, dockerfiles, read, unpack};
use crate::support::mxbuild::{mx, mx_ok, ok, text, tool};
use crate::support::registry::Registry;

#[test]
fn local_and_docker_outputs() {
    let Some(s) = Scenario::start("outputs") else {
        return;
    };
    let t = s.dir.path();
    let ctx = dockerfiles().join("basic");
    let local = t.join("local");
    build_local("linux/amd64,linux/arm64", &ctx, &local);
    assert_eq!(read(local.join("linux_amd64/uname")), "x86_64");
    assert_eq!(read(local.join("linux_arm64/uname")), "aarch64");
    let d = t.join("arm64.docker.tar");
    mx_ok(&[
        "build",
        "--platform",
        "linux/arm64",
        "-t",
        "test/basic-arm64:1",
        "-o",
        &format!("type=docker,dest={}", d.display()),
        ctx.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_str(&ok(
        Command::new("skopeo").args(["inspect", &format!("docker-archive:{}", d.display())])
    ))
    .unwrap();
    assert_eq!(v["Architecture"], "arm64");
    let two = mx(&[
        "build",
        "--platform",
        "linux/amd64,linux/arm64",
        "-o",
        &format!("type=docker,dest={}", d.display()),
        ctx.to_str().unwrap(),
    ]);
    assert!(!two.status.success() && text(&two).contains("one platform"));
}

#[test]
fn build_push_sends_the_index_to_a_registry() {
    let Some(s) = Scenario::start("push").filter(|_| {
        require(
            tool("docker-registry"),
            "docker-registry is needed (scripts/setup.sh)",
        )
    }) else {
        return;
    };
    let t = s.dir.path();
    let reg = Registry::start(t, None);
    let target = format!("{}/built/basic:1", reg.host());
    let log = mx_ok(&[
        "build",
        "--platform",
        "linux/amd64,linux/arm64",
        "-t",
        &target,
        "--push",
        dockerfiles().join("basic").to_str().unwrap(),
    ]);
    assert!(log.contains(&format!("pushed {target}")), "{log}");
    let raw = ok(Command::new("skopeo").args([
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("docker://{target}"),
    ]));
    let v: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(v["manifests"].as_array().unwrap().len(), 2);
    let r = unpack(t, &format!("docker://{target}"), "arm64");
    assert_eq!(read(r.join("uname")), "aarch64");
}
