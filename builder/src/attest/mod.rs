//! Attestations of a build (`--sbom`, `--provenance`): per platform, an
//! SPDX 2.3 SBOM of what the image holds (and of the stages
//! `BUILDKIT_SBOM_SCAN_STAGE` selects) and SLSA v1 provenance of how it was
//! made, each written to the store as an OCI referrer of the platform's
//! manifest (see `referrer.rs`). The outputs carry them: the OCI layout's
//! `index.json` lists them, a push sends them with the referrers fallback.

pub mod provenance;
pub mod read;
pub mod referrer;
pub mod scan;
pub mod spdx;

use std::path::Path;

use crate::engine;
use crate::exec::effects::Host;
use crate::store::Store;
use crate::store::digest::Digest;

use referrer::{Blob, Referrer};

/// The SBOM referrer's artifact type (its layers are SPDX JSON documents).
pub const SBOM_ARTIFACT_TYPE: &str = spdx::MEDIA_TYPE;
/// The provenance referrer's artifact type (its layer is an in-toto statement).
pub const PROVENANCE_ARTIFACT_TYPE: &str = provenance::MEDIA_TYPE;
/// BuildKit's annotation on attestation layers naming the predicate.
pub const PREDICATE_ANNOTATION: &str = "in-toto.io/predicate-type";
/// The predicate type BuildKit gives SPDX SBOMs.
pub const SPDX_PREDICATE: &str = "https://spdx.dev/Document";

/// Which attestations a build makes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// `--sbom=true`.
    pub sbom: bool,
    /// `--provenance=mode=min|max`.
    pub provenance: Option<provenance::Mode>,
    /// `--provenance builder-id=URI`.
    pub builder_id: Option<String>,
}

impl Request {
    /// Whether anything is asked for.
    pub fn any(&self) -> bool {
        self.sbom || self.provenance.is_some()
    }
}

/// What the provenance says about the build beyond what `Built` holds.
#[derive(Debug)]
pub struct BuildFacts<'a> {
    /// The image names (`-t`), normalised.
    pub names: &'a [String],
    /// The context argument when it is a remote URL (git, https).
    pub context_uri: Option<String>,
    /// When the build started (RFC 3339).
    pub started: String,
    /// An id shared by every platform's provenance.
    pub invocation_id: String,
}

/// Writes the requested attestations of every platform of `built` into the
/// store and returns them (one referrer per attestation per platform).
pub fn attach(
    store: &Store,
    built: &engine::Built,
    opts: &engine::Options,
    req: &Request,
    facts: &BuildFacts,
) -> Result<Vec<Referrer>, String> {
    let mut out = Vec::new();
    if !req.any() {
        return Ok(out);
    }
    let created = crate::image::time::created_now();
    for (i, (p, digest, st)) in built.images.iter().enumerate() {
        let subject: Digest = digest
            .parse()
            .map_err(|e| format!("internal: manifest digest {digest}: {e}"))?;
        let size = store.blobs.verify(&subject).map_err(|e| e.to_string())?;
        let record = built.record.platforms.get(i).cloned().unwrap_or_default();
        let platform = p.to_string();
        let name = facts.names.first().map(String::as_str).unwrap_or("image");
        if let (true, Some(stage)) = (req.sbom, &record.scan_context) {
            return Err(format!(
                "stage {stage}: BUILDKIT_SBOM_SCAN_CONTEXT (scanning the build context for the SBOM) is not supported\nhint: set BUILDKIT_SBOM_SCAN_STAGE=true in a stage that copies what you want listed (a Cargo.lock, the binaries), or drop the ARG"
            ));
        }
        if req.sbom {
            let mut docs = Vec::new();
            let mut roots = vec![(None, st.clone())];
            roots.extend(
                record
                    .scans
                    .iter()
                    .map(|(n, s)| (Some(n.as_str()), s.clone())),
            );
            for (stage, state) in roots {
                let found =
                    engine::with_view(store, &Host::without_runtime(), &state, scan::scan_root)?;
                let doc = spdx::document(
                    &spdx::Described {
                        name,
                        platform: &platform,
                        digest,
                        stage,
                    },
                    &found,
                    &created,
                );
                let title = match stage {
                    Some(s) => format!("sbom-stage-{s}.spdx.json"),
                    None => "sbom.spdx.json".to_string(),
                };
                docs.push(Blob {
                    media_type: spdx::MEDIA_TYPE.to_string(),
                    bytes: serde_json::to_vec(&doc).unwrap_or_default(),
                    annotations: vec![
                        (PREDICATE_ANNOTATION.into(), SPDX_PREDICATE.into()),
                        ("org.opencontainers.image.title".into(), title),
                    ],
                });
            }
            out.push(
                referrer::write(
                    &store.blobs,
                    (&subject, size, &platform),
                    SBOM_ARTIFACT_TYPE,
                    &docs,
                    &[
                        (PREDICATE_ANNOTATION.into(), SPDX_PREDICATE.into()),
                        ("org.opencontainers.image.created".into(), created.clone()),
                    ],
                )
                .map_err(|e| e.to_string())?,
            );
        }
        if let Some(mode) = req.provenance {
            let inputs = provenance_inputs(opts, req, facts, mode, &record, built, p, &subject)?;
            let statement = provenance::statement(&inputs);
            out.push(
                referrer::write(
                    &store.blobs,
                    (&subject, size, &platform),
                    PROVENANCE_ARTIFACT_TYPE,
                    &[Blob {
                        media_type: provenance::MEDIA_TYPE.to_string(),
                        bytes: serde_json::to_vec(&statement).unwrap_or_default(),
                        annotations: vec![(
                            PREDICATE_ANNOTATION.into(),
                            provenance::PREDICATE_TYPE.into(),
                        )],
                    }],
                    &[
                        (
                            PREDICATE_ANNOTATION.into(),
                            provenance::PREDICATE_TYPE.into(),
                        ),
                        ("org.opencontainers.image.created".into(), created.clone()),
                    ],
                )
                .map_err(|e| e.to_string())?,
            );
        }
    }
    Ok(out)
}

/// `pkg:docker/NAME@TAG?platform=…` for an image reference, as BuildKit
/// writes subjects and materials (Docker Hub's `docker.io/library/` dropped).
pub fn docker_purl(reference: &str, platform: &str) -> String {
    let r = reference
        .strip_prefix("docker.io/library/")
        .or_else(|| reference.strip_prefix("docker.io/"))
        .unwrap_or(reference);
    let (name, version) = match r.split_once('@') {
        Some((n, d)) => (n.to_string(), d.to_string()),
        None => {
            let slash = r.rfind('/').map(|i| i + 1).unwrap_or(0);
            match r[slash..].rfind(':') {
                Some(c) => (r[..slash + c].to_string(), r[slash + c + 1..].to_string()),
                None => (r.to_string(), "latest".to_string()),
            }
        }
    };
    // A name@digest reference may also carry a tag: keep the name only.
    let slash = name.rfind('/').map(|i| i + 1).unwrap_or(0);
    let name = match name[slash..].find(':') {
        Some(c) => name[..slash + c].to_string(),
        None => name,
    };
    format!(
        "pkg:docker/{name}@{version}?platform={}",
        platform.replace('/', "%2F")
    )
}

/// The builder id: `builder-id=`, else the GitHub Actions run when the
/// build runs in one (as buildx sets it), else mxbuild's URN.
fn builder_id(req: &Request) -> String {
    if let Some(b) = &req.builder_id {
        return b.clone();
    }
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if let (Some(server), Some(repo), Some(run)) = (
        var("GITHUB_SERVER_URL"),
        var("GITHUB_REPOSITORY"),
        var("GITHUB_RUN_ID"),
    ) {
        return format!("{server}/{repo}/actions/runs/{run}");
    }
    concat!("urn:mxbuild:", env!("CARGO_PKG_VERSION")).to_string()
}

#[allow(clippy::too_many_arguments)]
fn provenance_inputs(
    opts: &engine::Options,
    req: &Request,
    facts: &BuildFacts,
    mode: provenance::Mode,
    record: &engine::record::PlatformRecord,
    built: &engine::Built,
    p: &xx::Platform,
    subject: &Digest,
) -> Result<provenance::Inputs, String> {
    use sha2::Digest as _;
    let bytes = std::fs::read(&opts.dockerfile)
        .map_err(|e| format!("{}: {e}", opts.dockerfile.display()))?;
    let dockerfile_sha256 = hex(&sha2::Sha256::digest(&bytes));
    let platform = p.to_string();
    let mut materials: Vec<provenance::Material> = record
        .images
        .iter()
        .filter_map(|(reference, plat, digest)| {
            let (alg, hex) = digest.split_once(':')?;
            Some(provenance::Material {
                uri: docker_purl(reference, plat),
                digest: (alg.to_string(), hex.to_string()),
            })
        })
        .collect();
    for (url, digest) in &built.record.urls {
        if let Some((alg, hex)) = digest.split_once(':') {
            materials.push(provenance::Material {
                uri: url.clone(),
                digest: (alg.to_string(), hex.to_string()),
            });
        }
    }
    for (url, commit) in &built.record.git {
        materials.push(provenance::Material {
            uri: url.clone(),
            digest: ("sha1".to_string(), commit.clone()),
        });
    }
    let mut locals = Vec::new();
    if facts.context_uri.is_none() {
        locals.push("context".to_string());
        locals.push("dockerfile".to_string());
    }
    locals.extend(
        opts.named_contexts
            .iter()
            .filter(|(_, v)| !v.contains("://"))
            .map(|(k, _)| k.clone()),
    );
    let subjects = if facts.names.is_empty() {
        vec![format!(
            "pkg:docker/image?platform={}",
            platform.replace('/', "%2F")
        )]
    } else {
        facts
            .names
            .iter()
            .map(|n| docker_purl(n, &platform))
            .collect()
    };
    Ok(provenance::Inputs {
        mode,
        subjects,
        digest_hex: subject.hex().to_string(),
        dockerfile: opts
            .dockerfile_name
            .clone()
            .or_else(|| {
                opts.dockerfile
                    .strip_prefix(&opts.context)
                    .ok()
                    .map(|r| r.display().to_string())
            })
            .unwrap_or_else(|| file_name(&opts.dockerfile)),
        dockerfile_sha256,
        context_uri: facts.context_uri.clone(),
        build_args: opts.build_args.clone(),
        labels: opts.labels.clone(),
        target: opts.target.clone(),
        secrets: opts.secrets.keys().cloned().collect(),
        ssh: opts.ssh.keys().cloned().collect(),
        locals,
        materials,
        builder_platform: xx::Platform::host().to_string(),
        builder_id: builder_id(req),
        invocation_id: facts.invocation_id.clone(),
        started: facts.started.clone(),
        finished: crate::image::time::created_now(),
        steps: record.steps.clone(),
    })
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "Dockerfile".to_string())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls_of_references() {
        assert_eq!(
            docker_purl("docker.io/library/debian:bookworm", "linux/arm64"),
            "pkg:docker/debian@bookworm?platform=linux%2Farm64"
        );
        assert_eq!(
            docker_purl("127.0.0.1:5000/app", "linux/amd64"),
            "pkg:docker/127.0.0.1:5000/app@latest?platform=linux%2Famd64"
        );
        assert_eq!(
            docker_purl("ghcr.io/o/app@sha256:ab", "linux/amd64"),
            "pkg:docker/ghcr.io/o/app@sha256:ab?platform=linux%2Famd64"
        );
    }
}
