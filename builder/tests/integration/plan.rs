//! The planner on the Dockerfiles in testdata/dockerfiles/plan: shared
//! build-platform stages, shared prefixes before `ARG TARGETPLATFORM`,
//! `--target` pruning, global ARGs in FROM, and every lint (firing on the bad
//! file, silent on the good one).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use mxbuild::dockerfile;
use mxbuild::plan::{self, Options, Plan};
use xx::Platform;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/dockerfiles/plan")
}

fn plan_of(file: &str, platforms: &str, target: Option<&str>, args: &[(&str, &str)]) -> Plan {
    let text = std::fs::read_to_string(dir().join(file)).unwrap();
    let df = dockerfile::parse(&text, file).unwrap();
    let opts = Options {
        platforms: Platform::parse_list(platforms).unwrap(),
        host: "linux/amd64".parse().unwrap(),
        target: target.map(str::to_string),
        build_args: args
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
        context: Some(dir()),
        named_contexts: BTreeMap::new(),
        network: mxbuild::exec::Network::Sandbox,
        allow: Default::default(),
        run_extras: Default::default(),
        qemu_cpus: Default::default(),
        dockerignore: None,
    };
    plan::plan(&df, &opts).unwrap()
}

#[test]
fn build_platform_stage_serves_every_target_once() {
    let p = plan_of(
        "shared-build.Dockerfile",
        "linux/amd64,linux/arm64,linux/arm/v7",
        None,
        &[],
    );
    let build: Vec<_> = p.instances.iter().filter(|i| i.stage == "build").collect();
    assert_eq!(build.len(), 1, "{p:#?}");
    assert_eq!(build[0].platform, "linux/amd64");
    assert_eq!(
        build[0].targets,
        ["linux/amd64", "linux/arm64", "linux/arm/v7"]
    );
    assert!(!build[0].emulated);
    let finals: Vec<_> = p.instances.iter().filter(|i| i.stage == "1").collect();
    assert_eq!(finals.len(), 3);
    let emulated: Vec<bool> = finals.iter().map(|i| i.emulated).collect();
    assert_eq!(emulated, [false, true, true]);
    // 3 steps in build (shared) + 2 per target stage.
    assert_eq!((p.summary.steps_total, p.summary.steps_unique), (9, 9));
    assert_eq!((p.summary.runs_native, p.summary.runs_emulated), (3, 2));
}

#[test]
fn steps_before_arg_targetplatform_are_shared() {
    let p = plan_of(
        "shared-prefix.Dockerfile",
        "linux/arm64,linux/arm/v7",
        None,
        &[],
    );
    let build: Vec<_> = p.instances.iter().filter(|i| i.stage == "build").collect();
    assert_eq!(
        build.len(),
        2,
        "the ARG TARGETPLATFORM splits the stage per target"
    );
    // COPY --from=xx and the apt-get RUN come before the ARG: same keys.
    assert_eq!(build[0].steps[0].key, build[1].steps[0].key);
    assert_eq!(build[0].steps[1].key, build[1].steps[1].key);
    assert_ne!(
        build[0].steps[2].key, build[1].steps[2].key,
        "ARG TARGETPLATFORM differs"
    );
    assert!(
        p.summary.steps_unique < p.summary.steps_total,
        "{:?}",
        p.summary
    );
}

#[test]
fn target_pruning_and_global_args() {
    let p = plan_of("stages.Dockerfile", "linux/amd64", Some("test"), &[]);
    let stages: Vec<&str> = p.instances.iter().map(|i| i.stage.as_str()).collect();
    assert_eq!(stages, ["base", "test"]);
    assert_eq!(p.instances[0].base, "debian:bookworm");
    let p = plan_of(
        "stages.Dockerfile",
        "linux/amd64",
        None,
        &[("BASE", "alpine:3.20"), ("VERSION", "1.2")],
    );
    let stages: Vec<&str> = p.instances.iter().map(|i| i.stage.as_str()).collect();
    assert_eq!(stages, ["base", "release"], "unused stages are not planned");
    assert_eq!(p.instances[0].base, "alpine:3.20");
    let release = &p.instances[1];
    assert!(
        release.steps.iter().any(|s| s.text == "LABEL version=1.2"),
        "{release:#?}"
    );
    assert!(
        release.steps.iter().any(|s| s.text == "COPY hello.c /app/"),
        "ENV inherited from base: {release:#?}"
    );
    // A different build arg is a different key for the steps that read it.
    let other = plan_of(
        "stages.Dockerfile",
        "linux/amd64",
        None,
        &[("BASE", "alpine:3.20"), ("VERSION", "1.3")],
    );
    assert_eq!(
        other.instances[0].steps.last().unwrap().key,
        p.instances[0].steps.last().unwrap().key
    );
    assert_ne!(other.instances[1].steps[1].key, p.instances[1].steps[1].key);
}

#[test]
fn every_lint_fires_on_the_bad_file_and_none_on_the_good_one() {
    let bad = plan_of("lints-bad.Dockerfile", "linux/amd64,linux/arm64", None, &[]);
    let codes: Vec<&str> = bad.warnings.iter().map(|w| w.code.as_str()).collect();
    for code in [
        "EmulatedCompile",
        "ShadowedPlatformArg",
        "EarlyTargetArg",
        "PlatformOnStage",
        "VariableInCopyFrom",
    ] {
        assert!(codes.contains(&code), "{code} missing from {codes:?}");
    }
    let compile = bad
        .warnings
        .iter()
        .find(|w| w.code == "EmulatedCompile")
        .unwrap();
    assert_eq!(compile.line, 12);
    assert!(compile.hint.contains("cross-compile with xx"));
    let good = plan_of(
        "lints-good.Dockerfile",
        "linux/amd64,linux/arm64",
        None,
        &[],
    );
    assert!(good.warnings.is_empty(), "{:#?}", good.warnings);
}

#[test]
fn plan_works_on_every_dockerfile_in_testdata() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata");
    let mut found = 0;
    let mut stack = vec![root];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            // realworld/ has cases that fail on purpose (its KNOWN list):
            // realworld.rs plans every one of them.
            if p.is_dir() && name != "target" && name != "realworld" {
                stack.push(p);
            } else if name == "Dockerfile" || name.ends_with(".Dockerfile") {
                found += 1;
                let text = std::fs::read_to_string(&p).unwrap();
                let df = dockerfile::parse(&text, &name)
                    .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
                let opts = Options {
                    platforms: Platform::parse_list("linux/amd64,linux/arm64").unwrap(),
                    host: "linux/amd64".parse().unwrap(),
                    target: None,
                    build_args: BTreeMap::new(),
                    context: p.parent().map(Path::to_path_buf),
                    named_contexts: BTreeMap::new(),
                    network: mxbuild::exec::Network::Sandbox,
                    allow: Default::default(),
                    run_extras: Default::default(),
                    qemu_cpus: Default::default(),
                    dockerignore: None,
                };
                plan::plan(&df, &opts).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            }
        }
    }
    assert!(found >= 5, "{found}");
}

#[test]
fn named_contexts_win_over_images_in_from() {
    let text = std::fs::read_to_string(dir().join("shared-prefix.Dockerfile")).unwrap();
    let df = dockerfile::parse(&text, "shared-prefix.Dockerfile").unwrap();
    let mut opts = Options {
        platforms: Platform::parse_list("linux/arm64").unwrap(),
        host: "linux/amd64".parse().unwrap(),
        target: None,
        build_args: BTreeMap::new(),
        context: Some(dir()),
        named_contexts: BTreeMap::new(),
        network: mxbuild::exec::Network::Sandbox,
        allow: Default::default(),
        run_extras: Default::default(),
        qemu_cpus: Default::default(),
        dockerignore: None,
    };
    let as_image = plan::plan(&df, &opts).unwrap();
    opts.named_contexts
        .insert("xx".into(), "oci-layout:///tmp/xx".into());
    let as_context = plan::plan(&df, &opts).unwrap();
    assert_ne!(
        as_image.instances[0].steps[0].key,
        as_context.instances[0].steps[0].key
    );
}

/// Plans Dockerfile `text` for linux/amd64 with the given base image info.
fn plan_text(text: &str, images: &[(&str, plan::ImageInfo)]) -> Plan {
    let df = dockerfile::parse(text, "Dockerfile").unwrap();
    let opts = Options {
        platforms: Platform::parse_list("linux/amd64").unwrap(),
        host: "linux/amd64".parse().unwrap(),
        target: None,
        build_args: BTreeMap::new(),
        context: None,
        named_contexts: BTreeMap::new(),
        network: mxbuild::exec::Network::Sandbox,
        allow: Default::default(),
        run_extras: Default::default(),
        qemu_cpus: Default::default(),
        dockerignore: None,
    };
    let known = plan::Known {
        images: images
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
        ..Default::default()
    };
    plan::plan_with(&df, &opts, &known).unwrap()
}

fn run_argv(p: &Plan, stage: &str) -> Vec<String> {
    let inst = p.instances.iter().find(|i| i.stage == stage).unwrap();
    inst.steps
        .iter()
        .find_map(|s| match &s.op {
            plan::Op::Run { argv, .. } => Some(argv.clone()),
            _ => None,
        })
        .unwrap()
}

#[test]
fn shell_and_onbuild_come_from_the_base() {
    // A parent stage's SHELL applies in the child, as docker inherits it.
    let p = plan_text(
        "FROM debian:bookworm AS base\nSHELL [\"/bin/bash\", \"-eu\", \"-c\"]\nFROM base\nRUN echo hi\n",
        &[],
    );
    assert_eq!(run_argv(&p, "1"), ["/bin/bash", "-eu", "-c", "echo hi"]);

    // An image's Shell and OnBuild: the triggers are the stage's first steps.
    let info = plan::ImageInfo {
        digest: "sha256:0000".into(),
        env: vec![],
        on_build: vec!["RUN echo triggered".into(), "ENV FROM_TRIGGER=1".into()],
        shell: Some(vec!["/bin/ash".into(), "-c".into()]),
    };
    let p = plan_text(
        "FROM alpine:3\nRUN echo mine\n",
        &[("alpine:3@linux/amd64", info)],
    );
    let inst = &p.instances[0];
    let texts: Vec<&str> = inst.steps.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(texts.len(), 3, "{texts:?}");
    assert!(
        texts[0].contains("echo triggered") && texts[2].contains("echo mine"),
        "{texts:?}"
    );
    assert!(
        inst.steps.iter().take(2).all(|s| s.line == 1),
        "triggers sit at the FROM line"
    );
    assert_eq!(run_argv(&p, "0")[0], "/bin/ash");
}

/// Plans `text` with the build's `--network` and `--allow`.
fn plan_with_rights(
    text: &str,
    network: mxbuild::exec::Network,
    allow: plan::entitlements::Entitlements,
) -> Result<Plan, String> {
    let df = dockerfile::parse(text, "Dockerfile").unwrap();
    let opts = Options {
        platforms: Platform::parse_list("linux/amd64").unwrap(),
        host: "linux/amd64".parse().unwrap(),
        target: None,
        build_args: BTreeMap::new(),
        context: None,
        named_contexts: BTreeMap::new(),
        network,
        allow,
        run_extras: Default::default(),
        qemu_cpus: Default::default(),
        dockerignore: None,
    };
    plan::plan(&df, &opts).map_err(|e| e.to_string())
}

fn run_modes(p: &Plan) -> Vec<(mxbuild::exec::Network, mxbuild::exec::Security)> {
    p.instances[0]
        .steps
        .iter()
        .filter_map(|s| match &s.op {
            plan::Op::Run {
                network, security, ..
            } => Some((*network, *security)),
            _ => None,
        })
        .collect()
}

#[test]
fn host_network_and_insecure_need_entitlements_at_plan_time() {
    use mxbuild::exec::{Network, Security};
    use plan::entitlements::Entitlements;
    let none = Entitlements::default();
    let all = Entitlements {
        network_host: true,
        security_insecure: true,
    };
    let text = "FROM debian\nRUN a\nRUN --network=none b\nRUN --network=host c\nRUN --security=insecure d\n";
    // Refused without --allow, at the RUN that asks (line 4 first).
    let e = plan_with_rights(text, Network::Sandbox, none).unwrap_err();
    assert!(
        e.starts_with(
            "Dockerfile:4:1: RUN --network=host: entitlement network.host is not allowed"
        ),
        "{e}"
    );
    assert!(
        e.contains("hint:") && e.contains("--allow network.host"),
        "{e}"
    );
    let e = plan_with_rights(
        text,
        Network::Sandbox,
        Entitlements {
            network_host: true,
            security_insecure: false,
        },
    )
    .unwrap_err();
    assert!(
        e.starts_with(
            "Dockerfile:5:1: RUN --security=insecure: entitlement security.insecure is not allowed"
        ),
        "{e}"
    );
    // Granted: each step gets what it asked for, the rest the default.
    let p = plan_with_rights(text, Network::Sandbox, all).unwrap();
    assert_eq!(
        run_modes(&p),
        vec![
            (Network::Sandbox, Security::Sandbox),
            (Network::None, Security::Sandbox),
            (Network::Host, Security::Sandbox),
            (Network::Sandbox, Security::Insecure),
        ]
    );
    // --network none wins over RUN --network=host, which then needs nothing.
    let only_host = "FROM debian\nRUN a\nRUN --network=host c\n";
    let p = plan_with_rights(only_host, Network::None, none).unwrap();
    assert_eq!(
        run_modes(&p),
        vec![
            (Network::None, Security::Sandbox),
            (Network::None, Security::Sandbox)
        ]
    );
    // --network host applies to every step without its own mode, and needs
    // the entitlement at the first of them.
    let e = plan_with_rights(only_host, Network::Host, none).unwrap_err();
    assert!(
        e.starts_with("Dockerfile:2:1: RUN under --network host: entitlement network.host"),
        "{e}"
    );
    // The network is part of the key: a step planned with and without
    // network is not the same work.
    let with_net = plan_with_rights(only_host, Network::Sandbox, all).unwrap();
    let without = plan_with_rights(only_host, Network::None, all).unwrap();
    assert_ne!(
        with_net.instances[0].steps[0].key,
        without.instances[0].steps[0].key
    );
}

/// `mxbuild plan --format dot` is valid Graphviz (rendered by `dot -Tsvg`)
/// and `--format mermaid` a flowchart; emulated instances are coloured.
#[test]
fn plan_pictures_render() {
    if !testkit::require(
        which::which("dot").is_ok(),
        "graphviz's dot is needed (scripts/setup.sh installs it)",
    ) {
        return;
    }
    let run = |format: &str| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_mxbuild"))
            .args([
                "plan",
                "--platform",
                "linux/amd64,linux/arm64",
                "--format",
                format,
            ])
            .arg(crate::support::mxbuild::repo().join("testdata/hello-rust"))
            .env("MXBUILD_ROOT", crate::support::mxbuild::store())
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };
    let dot = run("dot");
    assert!(dot.contains("fillcolor=\"#f8d7da\""), "{dot}");
    let mut child = std::process::Command::new("dot")
        .arg("-Tsvg")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(dot.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let svg = String::from_utf8_lossy(&out.stdout);
    assert!(svg.contains("<svg") && svg.contains("QEMU"), "{svg}");
    let mermaid = run("mermaid");
    assert!(
        mermaid.starts_with("flowchart LR\n") && mermaid.contains(":::qemu"),
        "{mermaid}"
    );
}
