//! `--sbom` and `--provenance` end to end: a two-platform build pushed to a
//! real `docker-registry` (2.8: no referrers API, so the fallback tag
//! scheme) and exported as an OCI layout. The index gains no
//! `unknown/unknown` entry; each platform manifest has two referrers (SPDX
//! SBOM, SLSA provenance); `mxbuild sbom` and `mxbuild imagetools inspect`
//! read them back; every SPDX document passes the SPDX project's validator.
//! The image holds real metadata carriers: Debian's dpkg database, a Go
//! binary of the host (umoci, with its build info), an ELF file given a
//! cargo-auditable `.dep-v0` section by objcopy, and a build stage selected
//! with `BUILDKIT_SBOM_SCAN_STAGE` holding a `Cargo.lock`.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::process::Command;

use serde_json::Value;

use super::{Scenario, context_with};
use crate::support::mxbuild::{mx, ok, text, tool};
use crate::support::raw_http::http;
use crate::support::registry::Registry;
use crate::support::require;
use crate::support::spdx;

const DOCKERFILE: &str = "\
FROM debian:bookworm AS build
ARG BUILDKIT_SBOM_SCAN_STAGE=true
COPY Cargo.lock /src/Cargo.lock
RUN test -z \"$BUILDKIT_SBOM_SCAN_STAGE\" && echo built > /src/marker

FROM debian:bookworm
ARG TARGETARCH
COPY --from=build /src/marker /marker
COPY bins/${TARGETARCH}/ /usr/local/bin/
";

const CARGO_LOCK: &str = "version = 4\n\n[[package]]\nname = \"hello-rust\"\nversion = \"0.1.0\"\n\n[[package]]\nname = \"itoa\"\nversion = \"1.0.11\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n";

/// The context: the Dockerfile, a Cargo.lock, and amd64 binaries (arm64
/// gets none, so every binary of each image is right for its platform).
fn context(t: &std::path::Path) -> std::path::PathBuf {
    let ctx = context_with(t, "ctx", DOCKERFILE);
    fs::write(ctx.join("Cargo.lock"), CARGO_LOCK).unwrap();
    let amd = ctx.join("bins/amd64");
    fs::create_dir_all(&amd).unwrap();
    fs::create_dir_all(ctx.join("bins/arm64")).unwrap();
    fs::write(ctx.join("bins/arm64/.keep"), "").unwrap();
    fs::copy("/usr/bin/umoci", amd.join("umoci")).unwrap();
    // cargo-auditable's format: zlib-compressed JSON in section .dep-v0.
    let json = br#"{"packages":[{"name":"audited-app","version":"2.0.0","source":"local","root":true},{"name":"serde","version":"1.0.193","source":"crates.io"}]}"#;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(json).unwrap();
    fs::write(t.join("dep-v0"), z.finish().unwrap()).unwrap();
    ok(Command::new("objcopy")
        .arg("--add-section")
        .arg(format!(".dep-v0={}", t.join("dep-v0").display()))
        .arg("/bin/true")
        .arg(amd.join("audited-app")));
    ctx
}

fn names(doc: &Value) -> BTreeSet<String> {
    spdx::packages(doc).into_iter().map(|p| p.0).collect()
}

/// The SBOM of the amd64 image: Debian packages with versions, the Go
/// binary's modules, the audited crates; the build stage's Cargo.lock in a
/// second document. Every document is valid SPDX 2.3.
fn check_sbom(t: &std::path::Path, v: &Value, what: &str) {
    let main = &v["SPDX"];
    spdx::assert_valid(t, &format!("{what}-final"), main);
    let pkgs = spdx::packages(main);
    let libc6 = pkgs
        .iter()
        .find(|p| p.0 == "libc6")
        .unwrap_or_else(|| panic!("{what}: no libc6 in {pkgs:?}"));
    assert!(libc6.1.starts_with("2.36-"), "{libc6:?}");
    assert!(
        libc6.2.starts_with("pkg:deb/debian/libc6@2.36-")
            && libc6.2.contains("arch=amd64")
            && libc6.2.contains("distro=debian-12"),
        "{libc6:?}"
    );
    let n = names(main);
    for want in [
        "bash",
        "github.com/opencontainers/umoci/cmd/umoci",
        "stdlib",
        "audited-app",
        "serde",
    ] {
        assert!(n.contains(want), "{what}: {want} missing from {n:?}");
    }
    let extra = v["AdditionalSPDXs"].as_array().cloned().unwrap_or_default();
    assert_eq!(extra.len(), 1, "{what}: one scanned stage: {v}");
    spdx::assert_valid(t, &format!("{what}-stage"), &extra[0]);
    let stage = spdx::packages(&extra[0]);
    assert!(
        stage.iter().any(|p| p.2 == "pkg:cargo/hello-rust@0.1.0")
            && stage.iter().any(|p| p.2 == "pkg:cargo/itoa@1.0.11"),
        "{what}: {stage:?}"
    );
}

#[test]
fn sbom_and_provenance_are_referrers_that_round_trip() {
    let Some(s) = Scenario::start("attest").filter(|_| {
        require(
            tool("docker-registry") && tool("objcopy") && tool("pyspdxtools"),
            "docker-registry, objcopy and pyspdxtools are needed (scripts/setup.sh installs them)",
        )
    }) else {
        return;
    };
    let t = s.dir.path();
    let ctx = context(t);
    let reg = Registry::start(t, None);
    let image = format!("{}/attest/app:1", reg.host());
    let o = mx(&[
        "build",
        "--platform",
        "linux/amd64,linux/arm64",
        "--sbom=true",
        "--provenance=mode=max",
        "--build-arg",
        "GREETING=hi",
        "-t",
        &image,
        "--push",
        ctx.to_str().unwrap(),
    ]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("listed under tag sha256-"), "{out}");

    // The index: two platforms, no unknown/unknown entry.
    let raw = ok(Command::new("skopeo").args([
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("docker://{image}"),
    ]));
    let index: Value = serde_json::from_str(&raw).unwrap();
    let entries = index["manifests"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{raw}");
    assert!(!raw.contains("unknown"), "{raw}");

    // Each platform manifest: the registry has no referrers API; the
    // fallback tag lists both attestations, each naming it as subject.
    for e in entries {
        let digest = e["digest"].as_str().unwrap();
        let (status, _, _) = http(
            &reg.host(),
            "GET",
            &format!("/v2/attest/app/referrers/{digest}"),
            &[],
            b"",
        );
        assert_eq!(status, 404, "docker-registry 2.8 has no referrers API");
        let tag = digest.replacen(':', "-", 1);
        let raw = ok(Command::new("skopeo").args([
            "inspect",
            "--raw",
            "--tls-verify=false",
            &format!("docker://{}/attest/app:{tag}", reg.host()),
        ]));
        let list: Value = serde_json::from_str(&raw).unwrap();
        let types: BTreeSet<&str> = list["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["artifactType"].as_str().unwrap())
            .collect();
        assert_eq!(
            types,
            BTreeSet::from(["application/spdx+json", "application/vnd.in-toto+json"]),
            "{raw}"
        );
        for m in list["manifests"].as_array().unwrap() {
            let raw = ok(Command::new("skopeo").args([
                "inspect",
                "--raw",
                "--tls-verify=false",
                &format!(
                    "docker://{}/attest/app@{}",
                    reg.host(),
                    m["digest"].as_str().unwrap()
                ),
            ]));
            let referrer: Value = serde_json::from_str(&raw).unwrap();
            assert_eq!(referrer["subject"]["digest"], digest, "{raw}");
        }
    }

    // Read back through the registry.
    let o = mx(&["sbom", "--platform", "linux/amd64", &image]);
    assert!(o.status.success(), "{}", text(&o));
    let sbom: Value = serde_json::from_slice(&o.stdout).unwrap();
    check_sbom(t, &sbom, "registry");
    let o = mx(&[
        "imagetools",
        "inspect",
        &image,
        "--format",
        "{{json .SBOM}}",
    ]);
    let both: Value = serde_json::from_slice(&o.stdout).unwrap();
    let arm = names(&both["linux/arm64"]["SPDX"]);
    assert!(arm.contains("libc6") && !arm.contains("stdlib"), "{arm:?}");

    let o = mx(&[
        "imagetools",
        "inspect",
        &image,
        "--format",
        "{{json .Provenance}}",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let prov: Value = serde_json::from_slice(&o.stdout).unwrap();
    let slsa = &prov["linux/arm64"]["SLSA"];
    let deps = slsa["buildDefinition"]["resolvedDependencies"]
        .as_array()
        .unwrap();
    assert!(
        deps.iter().any(
            |d| d["uri"] == "pkg:docker/debian@bookworm?platform=linux%2Farm64"
                && d["digest"]["sha256"]
                    .as_str()
                    .is_some_and(|h| h.len() == 64)
        ),
        "{slsa}"
    );
    let request = &slsa["buildDefinition"]["externalParameters"]["request"];
    assert_eq!(request["args"]["build-arg:GREETING"], "hi", "{slsa}");
    assert_eq!(
        slsa["buildDefinition"]["externalParameters"]["configSource"]["path"],
        "Dockerfile"
    );
    assert!(
        slsa["buildDefinition"]["internalParameters"]["buildConfig"]["steps"]
            .as_array()
            .is_some_and(|s| s.iter().any(|x| x
                .as_str()
                .unwrap()
                .contains("[stage-1 linux/arm64] COPY --from=build"))),
        "{slsa}"
    );
    assert_eq!(
        slsa["runDetails"]["metadata"]["mxbuild_completeness"]["request"],
        true
    );

    // The same attestations in an OCI layout (the build is cached); skopeo
    // still reads the image by its tag.
    let layout = t.join("layout");
    let o = mx(&[
        "build",
        "--platform",
        "linux/amd64,linux/arm64",
        "--sbom=true",
        "-o",
        &format!("type=oci,dest={}", layout.display()),
        ctx.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    ok(Command::new("skopeo").args([
        "inspect",
        "--raw",
        &format!("oci:{}:latest", layout.display()),
    ]));
    let o = mx(&[
        "sbom",
        "--platform",
        "linux/amd64",
        &format!("oci-layout://{}", layout.display()),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    check_sbom(t, &serde_json::from_slice(&o.stdout).unwrap(), "layout");
    // Each referrer's entry names its subject as containerd and buildx expect.
    let top: Value = serde_json::from_slice(&fs::read(layout.join("index.json")).unwrap()).unwrap();
    let image_index = top["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .replacen("sha256:", "", 1);
    let image_index: Value =
        serde_json::from_slice(&fs::read(layout.join("blobs/sha256").join(image_index)).unwrap())
            .unwrap();
    let platform_digests: BTreeSet<String> = image_index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["digest"].as_str().unwrap().to_string())
        .collect();
    let subjects: Vec<&str> = top["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| !e["artifactType"].is_null())
        .map(|e| {
            e["annotations"]["io.containerd.manifest.subject"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(subjects.len(), 2, "one SBOM per platform: {top}");
    assert!(
        subjects.iter().all(|s| platform_digests.contains(*s)),
        "{top}"
    );
    // The layout's one image is still found without a tag beside its referrers.
    let o = mx(&["verify", &format!("oci-layout://{}", layout.display())]);
    assert!(o.status.success(), "{}", text(&o));

    // Outputs that cannot carry attestations are refused, not stripped.
    for (flag, spec) in [
        (
            "-o",
            format!("type=local,dest={}", t.join("local").display()),
        ),
        (
            "--attest",
            "type=sbom,generator=docker/buildkit-syft-scanner".to_string(),
        ),
    ] {
        let o = mx(&["build", "--sbom=true", flag, &spec, ctx.to_str().unwrap()]);
        let e = text(&o);
        assert!(!o.status.success(), "{e}");
        assert!(e.contains("hint:"), "{e}");
    }
}
