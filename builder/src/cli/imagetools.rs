//! `mxbuild imagetools inspect` and `mxbuild sbom`: an image's platforms
//! and the attestations attached to them as OCI referrers, read from a
//! registry or an OCI layout. `--format '{{json .SBOM}}'` and
//! `'{{json .Provenance}}'` print what buildx's `imagetools inspect`
//! prints for them; other templates are refused.

use std::process::ExitCode;

use serde_json::{Map, Value, json};

use crate::attest::read::{Found, Source};
use crate::attest::{PROVENANCE_ARTIFACT_TYPE, SBOM_ARTIFACT_TYPE, provenance, spdx};

/// `mxbuild imagetools` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum ImagetoolsCommand {
    /// Show an image's platforms and attestations (registry or oci-layout://DIR[:TAG]).
    Inspect(InspectArgs),
}

/// `mxbuild imagetools inspect` flags.
#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// `{{json .SBOM}}` or `{{json .Provenance}}` (as buildx).
    #[arg(long)]
    format: Option<String>,
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
}

fn field_of(format: &str) -> Result<Field, String> {
    let compact: String = format.chars().filter(|c| !c.is_whitespace()).collect();
    match compact.as_str() {
        "{{json.SBOM}}" => Ok(Field::Sbom),
        "{{json.Provenance}}" => Ok(Field::Provenance),
        _ => Err(format!(
            "--format {format:?} is not supported\nhint: '{{{{json .SBOM}}}}' or '{{{{json .Provenance}}}}', or no --format for a summary"
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
        by_platform.insert(p.clone(), value_of(&source.attestations(d)?, field));
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

fn summary(source: &Source, name: &str) -> Result<(), String> {
    println!("Name:      {name}");
    println!("Manifests:");
    for (p, d) in source.platforms()? {
        println!("  {p:<14} {d}");
        for f in source.attestations(&d)? {
            println!(
                "    attestation {} ({} layer{})",
                f.artifact_type,
                f.layers.len(),
                if f.layers.len() == 1 { "" } else { "s" }
            );
        }
    }
    Ok(())
}

fn print_json(v: &Value) {
    println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
}

/// Runs `mxbuild imagetools`.
pub fn run(cmd: &ImagetoolsCommand) -> ExitCode {
    let ImagetoolsCommand::Inspect(a) = cmd;
    let r = (|| {
        let source = Source::parse(&a.reference, a.insecure)?;
        match a.format.as_deref() {
            None => summary(&source, &a.reference),
            Some(f) => {
                print_json(&collect(&source, field_of(f)?, None)?);
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
        assert!(field_of("{{.Manifest}}").is_err());
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
