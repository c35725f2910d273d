//! `mxbuild imagetools inspect` and `mxbuild sbom`: an image's platforms
//! and the attestations attached to them as OCI referrers, read from a
//! registry or an OCI layout. `--format '{{json .SBOM}}'` and
//! `'{{json .Provenance}}'` print what buildx's `imagetools inspect`
//! prints for them; other templates are refused.

use std::process::ExitCode;

use serde_json::{Map, Value, json};

use super::stdout::emit;
use crate::attest::read::{Found, Source};
use crate::attest::{PROVENANCE_ARTIFACT_TYPE, SBOM_ARTIFACT_TYPE, provenance, spdx};
use crate::store::digest::Digest;

/// `mxbuild imagetools` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum ImagetoolsCommand {
    /// Show an image's platforms and attestations (registry or oci-layout://DIR[:TAG]).
    Inspect(InspectArgs),
    /// Make one index of per-platform images in a registry and push it (as buildx).
    Create(super::imagetools_create::CreateArgs),
}

/// `mxbuild imagetools inspect` flags.
#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// A template as buildx takes it: `{{json .Manifest}}`, `{{json .Image}}`,
    /// `{{json .SBOM}}`, `{{json .Provenance}}`, `{{.Name}}`, `{{.Manifest}}`.
    #[arg(long)]
    format: Option<String>,
    /// Print the manifest or index exactly as stored.
    #[arg(long, conflicts_with = "format")]
    raw: bool,
    /// Plain http for this registry.
    #[arg(long)]
    insecure: bool,
    /// A registry reference or oci-layout://DIR[:TAG].
    reference: String,
}

/// `mxbuild sbom` flags.
#[derive(Debug, clap::Args)]
pub struct SbomArgs {
    /// Only this platform's SBOM.
    #[arg(long)]
    platform: Option<String>,
    /// Plain http for this registry.
    #[arg(long)]
    insecure: bool,
    /// A registry reference or oci-layout://DIR[:TAG].
    reference: String,
}

/// What a template asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Sbom,
    Provenance,
    Manifest,
    Image,
    Name,
    /// `{{.Manifest}}`: the summary, as buildx prints it.
    Summary,
}

fn field_of(format: &str) -> Result<Field, String> {
    let compact: String = format.chars().filter(|c| !c.is_whitespace()).collect();
    match compact.as_str() {
        "{{json.SBOM}}" => Ok(Field::Sbom),
        "{{json.Provenance}}" => Ok(Field::Provenance),
        "{{json.Manifest}}" => Ok(Field::Manifest),
        "{{json.Image}}" => Ok(Field::Image),
        "{{.Name}}" => Ok(Field::Name),
        "{{.Manifest}}" => Ok(Field::Summary),
        _ => Err(format!(
            "--format {format:?} is not supported\nhint: one of '{{{{json .Manifest}}}}', '{{{{json .Image}}}}', '{{{{json .SBOM}}}}', '{{{{json .Provenance}}}}', '{{{{.Name}}}}', '{{{{.Manifest}}}}' (buildx's templates, one field each)"
        )),
    }
}

/// One platform's value of `field`, as buildx shapes it: `{"SPDX": doc,
/// "AdditionalSPDXs": [...]}` or `{"SLSA": predicate}`.
fn value_of(found: &[Found], field: Field) -> Value {
    let mut out = Map::new();
    match field {
        Field::Sbom => {
            let docs: Vec<Value> = found
                .iter()
                .filter(|f| f.artifact_type == SBOM_ARTIFACT_TYPE)
                .flat_map(|f| f.layers.iter())
                .filter(|(m, _)| m == spdx::MEDIA_TYPE)
                .filter_map(|(_, b)| serde_json::from_slice(b).ok())
                .collect();
            let mut it = docs.into_iter();
            if let Some(first) = it.next() {
                out.insert("SPDX".into(), first);
            }
            let rest: Vec<Value> = it.collect();
            if !rest.is_empty() {
                out.insert("AdditionalSPDXs".into(), Value::Array(rest));
            }
        }
        Field::Manifest | Field::Image | Field::Name | Field::Summary => {}
        Field::Provenance => {
            let statement = found
                .iter()
                .filter(|f| f.artifact_type == PROVENANCE_ARTIFACT_TYPE)
                .flat_map(|f| f.layers.iter())
                .filter_map(|(_, b)| serde_json::from_slice::<Value>(b).ok())
                .find(|v| v["predicateType"] == provenance::PREDICATE_TYPE);
            if let Some(s) = statement {
                out.insert("SLSA".into(), s["predicate"].clone());
            }
        }
    }
    Value::Object(out)
}

/// The per-platform values of `field` (one platform: its value alone).
fn collect(source: &Source, field: Field, only: Option<&str>) -> Result<Value, String> {
    let platforms = source.platforms()?;
    let mut by_platform = Map::new();
    for (p, d) in &platforms {
        if only.is_some_and(|o| o != p) {
            continue;
        }
        let v = match field {
            Field::Image => source.config(d)?,
            _ => value_of(&source.attestations(d)?, field),
        };
        by_platform.insert(p.clone(), v);
    }
    if let Some(o) = only {
        return by_platform.remove(o).ok_or_else(|| {
            let have: Vec<&str> = platforms.iter().map(|(p, _)| p.as_str()).collect();
            format!(
                "the image has no platform {o}; hint: one of {}",
                have.join(", ")
            )
        });
    }
    if by_platform.len() == 1 {
        return Ok(by_platform
            .into_iter()
            .next()
            .map(|(_, v)| v)
            .unwrap_or(json!({})));
    }
    Ok(Value::Object(by_platform))
}

/// Lines `key value` with the values aligned one space after the longest
/// key, as Go's tabwriter (padding 1) lays out buildx's summary.
fn aligned(prefix: &str, rows: &[(&str, String)]) -> String {
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    rows.iter()
        .map(|(k, v)| format!("{prefix}{k:<width$} {v}\n"))
        .collect()
}

/// buildx's summary: the name, media type and digest, then per manifest
/// its name, media type and platform; mxbuild adds the attestations each
/// platform manifest has as referrers.
fn summary(source: &Source, name: &str) -> Result<(), String> {
    let top = source.top()?;
    let media = crate::image::manifest::media_type(&top).unwrap_or_default();
    emit(
        aligned(
            "",
            &[
                ("Name:", name.to_string()),
                ("MediaType:", media),
                ("Digest:", Digest::of(&top).to_string()),
            ],
        )
        .as_bytes(),
    );
    let crate::image::manifest::Node::Index(list) =
        crate::image::manifest::parse(&top).map_err(|e| e.to_string())?
    else {
        return Ok(());
    };
    let base = name.split('@').next().unwrap_or(name);
    emit(b"\nManifests:\n");
    for (i, m) in list.iter().enumerate() {
        if i > 0 {
            emit(b"\n");
        }
        let mut rows = vec![
            ("Name:", format!("{base}@{}", m.digest)),
            ("MediaType:", m.media_type.clone()),
        ];
        if let Some(p) = &m.platform {
            rows.push(("Platform:", p.to_string()));
        }
        let attestations: Vec<String> = source
            .attestations(&m.digest)?
            .iter()
            .map(|f| f.artifact_type.clone())
            .collect();
        if !attestations.is_empty() {
            rows.push(("Attestations:", attestations.join(", ")));
        }
        emit(aligned("  ", &rows).as_bytes());
    }
    Ok(())
}

/// `.Manifest` as buildx gives it: an index with its own digest and size
/// added; a manifest as stored.
fn manifest_value(top: &[u8]) -> Result<Value, String> {
    let mut v: Value = serde_json::from_slice(top).map_err(|e| e.to_string())?;
    if v.get("manifests").is_some() {
        let m = json!({
            "schemaVersion": v["schemaVersion"],
            "mediaType": v["mediaType"],
            "digest": Digest::of(top).to_string(),
            "size": top.len(),
            "manifests": v["manifests"].take(),
        });
        let mut m = m;
        if let Some(a) = v.get("annotations") {
            m["annotations"] = a.clone();
        }
        return Ok(m);
    }
    Ok(v)
}

fn print_json(v: &Value) {
    emit(format!("{}\n", serde_json::to_string_pretty(v).unwrap_or_default()).as_bytes());
}

/// Runs `mxbuild imagetools`.
pub fn run(cmd: &ImagetoolsCommand) -> ExitCode {
    let a = match cmd {
        ImagetoolsCommand::Inspect(a) => a,
        ImagetoolsCommand::Create(c) => return done(super::imagetools_create::run(c)),
    };
    let r = (|| {
        let source = Source::parse(&a.reference, a.insecure)?;
        if a.raw {
            // As buildx: the stored bytes, no newline (their digest is the image's).
            emit(&source.top()?);
            return Ok(());
        }
        let Some(f) = a.format.as_deref() else {
            return summary(&source, &a.reference);
        };
        match field_of(f)? {
            Field::Summary => summary(&source, &a.reference),
            Field::Name => {
                emit(format!("{}\n", a.reference).as_bytes());
                Ok(())
            }
            Field::Manifest => {
                print_json(&manifest_value(&source.top()?)?);
                Ok(())
            }
            field => {
                print_json(&collect(&source, field, None)?);
                Ok(())
            }
        }
    })();
    done(r)
}

/// Runs `mxbuild sbom`.
pub fn sbom(a: &SbomArgs) -> ExitCode {
    let r = (|| {
        let source = Source::parse(&a.reference, a.insecure)?;
        let only = a
            .platform
            .as_deref()
            .map(|p| p.parse::<xx::Platform>().map(|p| p.to_string()))
            .transpose()
            .map_err(|e| format!("--platform: {e}"))?;
        let v = collect(&source, Field::Sbom, only.as_deref())?;
        if v.as_object().is_some_and(|o| o.is_empty()) {
            return Err(format!(
                "{} has no SBOM attestation\nhint: build it with --sbom=true and push it (or -o type=oci)",
                a.reference
            ));
        }
        print_json(&v);
        Ok(())
    })();
    done(r)
}

fn done(r: Result<(), String>) -> ExitCode {
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            super::fail(&e);
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        assert_eq!(field_of("{{json .SBOM}}"), Ok(Field::Sbom));
        assert_eq!(field_of("{{ json .Provenance }}"), Ok(Field::Provenance));
        assert_eq!(field_of("{{.Manifest}}"), Ok(Field::Summary));
        assert_eq!(field_of("{{json .Manifest}}"), Ok(Field::Manifest));
        assert!(field_of("{{range .Manifest.Manifests}}{{.Digest}}{{end}}").is_err());
    }

    #[test]
    fn summary_columns_align_like_tabwriter() {
        let t = aligned("  ", &[("Name:", "a".into()), ("MediaType:", "b".into())]);
        assert_eq!(t, "  Name:      a\n  MediaType: b\n");
    }

    #[test]
    fn index_manifest_gains_digest_and_size() {
        let top = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#;
        let v = manifest_value(top).unwrap();
        assert_eq!(v["digest"], Digest::of(top).to_string());
        assert_eq!(v["size"], top.len());
    }

    #[test]
    fn buildx_shapes() {
        let found = vec![Found {
            artifact_type: SBOM_ARTIFACT_TYPE.into(),
            layers: vec![
                (spdx::MEDIA_TYPE.into(), br#"{"name":"final"}"#.to_vec()),
                (spdx::MEDIA_TYPE.into(), br#"{"name":"stage"}"#.to_vec()),
            ],
        }];
        let v = value_of(&found, Field::Sbom);
        assert_eq!(v["SPDX"]["name"], "final");
        assert_eq!(v["AdditionalSPDXs"][0]["name"], "stage");
        assert_eq!(value_of(&found, Field::Provenance), json!({}));
    }
}
