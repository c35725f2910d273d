//! `ONBUILD` triggers: they run in the child build (also through a stage)
//! and are not passed on.

use std::fs;
use std::process::Command;

use super::{Scenario, build_local, context_with, read, unpack};
use crate::support::mxbuild::{mx_ok, ok};

#[test]
fn onbuild_triggers_run_in_the_child_build_and_are_not_inherited() {
    let Some(s) = Scenario::start("onbuild") else {
        return;
    };
    let t = s.dir.path();
    let base = context_with(
        t,
        "base",
        "FROM debian:bookworm\n\
         ONBUILD COPY hello.txt /from-trigger.txt\n\
         ONBUILD RUN echo \"triggered on $(uname -m)\" > /trig\n",
    );
    mx_ok(&[
        "build",
        "--platform",
        "linux/amd64,linux/arm64",
        "-t",
        "test/onbuild-base:1",
        base.to_str().unwrap(),
    ]);
    let child = context_with(t, "child", "FROM test/onbuild-base:1\nRUN test -s /trig\n");
    fs::write(child.join("hello.txt"), "from the child's context\n").unwrap();
    // `mxbuild plan` reads the base from the local store: the triggers are steps.
    let plan = mx_ok(&["plan", "--platform", "linux/arm64", child.to_str().unwrap()]);
    assert!(plan.contains("steps: 3 in all"), "{plan}");
    let out = t.join("child.oci.tar");
    mx_ok(&[
        "build",
        "--platform",
        "linux/amd64,linux/arm64",
        "-t",
        "test/onbuild-child:1",
        "-o",
        &format!("type=oci,dest={}", out.display()),
        child.to_str().unwrap(),
    ]);
    let layout = format!("oci-archive:{}:1", out.display());
    let arm = unpack(t, &layout, "arm64");
    assert_eq!(read(arm.join("trig")), "triggered on aarch64");
    assert_eq!(
        read(arm.join("from-trigger.txt")),
        "from the child's context"
    );
    let config: serde_json::Value = serde_json::from_str(&ok(Command::new("skopeo").args([
        "inspect",
        "--config",
        "--override-arch",
        "arm64",
        &layout,
    ])))
    .unwrap();
    let on_build = &config["config"]["OnBuild"];
    assert!(
        on_build.is_null() || on_build.as_array().is_some_and(|a| a.is_empty()),
        "the child does not pass the triggers on: {config}"
    );

    // A stage's ONBUILD runs in a stage built FROM it.
    let stages = context_with(
        t,
        "stages",
        "FROM debian:bookworm AS base\n\
         ONBUILD RUN echo stage-trigger > /st\n\
         FROM base\n\
         RUN test -s /st\n",
    );
    let local = t.join("local");
    build_local("linux/amd64", &stages, &local);
    assert_eq!(read(local.join("st")), "stage-trigger");
}
