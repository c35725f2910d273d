//! SLSA provenance v1 as an in-toto statement, with the fields BuildKit
//! documents for its Dockerfile builds (`buildDefinition.externalParameters`
//! `.configSource` and `.request`, `internalParameters.builderPlatform`,
//! `resolvedDependencies`, `runDetails.builder.id` and `.metadata`).
//! `mode=min` leaves out what BuildKit leaves out: build args, secret and
//! SSH ids, and the build steps; `mode=max` has them (never secret values).

use std::collections::BTreeMap;

use serde_json::{Value, json};

/// The in-toto payload type, also the media type of a statement blob.
pub const MEDIA_TYPE: &str = "application/vnd.in-toto+json";
/// SLSA provenance v1's predicate type.
pub const PREDICATE_TYPE: &str = "https://slsa.dev/provenance/v1";
/// What the build type URI names: how to read this document.
pub const BUILD_TYPE: &str = "urn:mxbuild:buildtype:dockerfile:v1";

/// How much the provenance records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Materials, the Dockerfile's digest, the builder; no build args.
    Min,
    /// Everything of `Min`, plus build args, secret/SSH ids and the steps.
    Max,
}

/// One resolved dependency: a base image (`pkg:docker/...` purl), an `ADD`
/// URL or a git repository, with its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Material {
    /// purl or URL.
    pub uri: String,
    /// Algorithm (`sha256`, `sha1` for git commits) and hex value.
    pub digest: (String, String),
}

/// What the provenance of one platform's image is made of.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// How much to record.
    pub mode: Mode,
    /// The image: purls naming it (one per `-t`), and its manifest digest's hex.
    pub subjects: Vec<String>,
    /// The platform manifest's sha256 hex.
    pub digest_hex: String,
    /// The Dockerfile's name (`Dockerfile`, `-f` value).
    pub dockerfile: String,
    /// sha256 hex of the Dockerfile's bytes.
    pub dockerfile_sha256: String,
    /// The context when it is remote (git or https URL).
    pub context_uri: Option<String>,
    /// `--build-arg`s.
    pub build_args: BTreeMap<String, String>,
    /// `--label`s.
    pub labels: BTreeMap<String, String>,
    /// `--target`.
    pub target: Option<String>,
    /// `--secret` ids (max only).
    pub secrets: Vec<String>,
    /// `--ssh` ids (max only).
    pub ssh: Vec<String>,
    /// Local sources: `context`, `dockerfile`, named contexts.
    pub locals: Vec<String>,
    /// Base images, URLs, git sources.
    pub materials: Vec<Material>,
    /// The platform mxbuild ran on.
    pub builder_platform: String,
    /// `runDetails.builder.id`.
    pub builder_id: String,
    /// Shared by every platform of one build.
    pub invocation_id: String,
    /// RFC 3339 times.
    pub started: String,
    /// RFC 3339 time.
    pub finished: String,
    /// The steps of the instances that made this platform's image (max only):
    /// `[stage platform] INSTRUCTION`.
    pub steps: Vec<String>,
}

/// The in-toto statement.
pub fn statement(i: &Inputs) -> Value {
    let max = i.mode == Mode::Max;
    let mut args = serde_json::Map::new();
    if max {
        for (k, v) in &i.build_args {
            args.insert(format!("build-arg:{k}"), json!(v));
        }
    }
    for (k, v) in &i.labels {
        args.insert(format!("label:{k}"), json!(v));
    }
    if let Some(t) = &i.target {
        args.insert("target".into(), json!(t));
    }
    if i.dockerfile != "Dockerfile" {
        args.insert("filename".into(), json!(i.dockerfile));
    }
    let mut request = json!({
        "frontend": "dockerfile.v0",
        "args": args,
        "locals": i.locals.iter().map(|l| json!({"name": l})).collect::<Vec<_>>(),
    });
    if max {
        request["secrets"] = json!(
            i.secrets
                .iter()
                .map(|s| json!({"id": s}))
                .collect::<Vec<_>>()
        );
        request["ssh"] = json!(i.ssh.iter().map(|s| json!({"id": s})).collect::<Vec<_>>());
    }
    let mut config_source = json!({
        "path": i.dockerfile,
        "digest": {"sha256": i.dockerfile_sha256},
    });
    if let Some(u) = &i.context_uri {
        config_source["uri"] = json!(u);
    }
    let mut internal = json!({"builderPlatform": i.builder_platform});
    if max {
        internal["buildConfig"] = json!({"steps": i.steps});
    }
    let deps: Vec<Value> = i
        .materials
        .iter()
        .map(|m| json!({"uri": m.uri, "digest": {m.digest.0.clone(): m.digest.1}}))
        .collect();
    json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": i.subjects.iter().map(|s| json!({
            "name": s,
            "digest": {"sha256": i.digest_hex},
        })).collect::<Vec<_>>(),
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": {
                    "configSource": config_source,
                    "request": request,
                },
                "internalParameters": internal,
                "resolvedDependencies": deps,
            },
            "runDetails": {
                "builder": {"id": i.builder_id},
                "metadata": {
                    "invocationID": i.invocation_id,
                    "startedOn": i.started,
                    "finishedOn": i.finished,
                    "mxbuild_completeness": {
                        "request": max,
                        "resolvedDependencies": i.context_uri.is_some(),
                    },
                },
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(mode: Mode) -> Inputs {
        Inputs {
            mode,
            subjects: vec!["pkg:docker/app@latest?platform=linux%2Farm64".into()],
            digest_hex: "ab".into(),
            dockerfile: "Dockerfile".into(),
            dockerfile_sha256: "cd".into(),
            context_uri: None,
            build_args: BTreeMap::from([("TOKEN_NAME".to_string(), "x".to_string())]),
            labels: BTreeMap::new(),
            target: Some("release".into()),
            secrets: vec!["npmrc".into()],
            ssh: vec![],
            locals: vec!["context".into(), "dockerfile".into()],
            materials: vec![Material {
                uri: "pkg:docker/debian@bookworm?platform=linux%2Farm64".into(),
                digest: ("sha256".into(), "ef".into()),
            }],
            builder_platform: "linux/amd64".into(),
            builder_id: "urn:mxbuild:local".into(),
            invocation_id: "i".into(),
            started: "2026-01-01T00:00:00Z".into(),
            finished: "2026-01-01T00:01:00Z".into(),
            steps: vec!["[build linux/amd64] RUN make".into()],
        }
    }

    #[test]
    fn min_leaves_out_build_args_and_steps() {
        let s = statement(&inputs(Mode::Min));
        let p = &s["predicate"]["buildDefinition"];
        assert_eq!(s["predicateType"], PREDICATE_TYPE);
        assert!(p["externalParameters"]["request"]["args"]["build-arg:TOKEN_NAME"].is_null());
        assert!(p["externalParameters"]["request"]["secrets"].is_null());
        assert!(p["internalParameters"]["buildConfig"].is_null());
        assert_eq!(p["resolvedDependencies"][0]["digest"]["sha256"], "ef");
        assert_eq!(
            p["externalParameters"]["request"]["args"]["target"],
            "release"
        );
    }

    #[test]
    fn max_has_them() {
        let s = statement(&inputs(Mode::Max));
        let p = &s["predicate"]["buildDefinition"];
        assert_eq!(
            p["externalParameters"]["request"]["args"]["build-arg:TOKEN_NAME"],
            "x"
        );
        assert_eq!(
            p["externalParameters"]["request"]["secrets"][0]["id"],
            "npmrc"
        );
        assert_eq!(
            p["internalParameters"]["buildConfig"]["steps"][0],
            "[build linux/amd64] RUN make"
        );
    }
}
