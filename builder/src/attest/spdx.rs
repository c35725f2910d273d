//! The SBOM document: SPDX 2.3 JSON (the format BuildKit's scanner writes
//! and registries' UIs read). One document per scanned filesystem: the
//! platform's final image, and each stage `BUILDKIT_SBOM_SCAN_STAGE`
//! selects. The document DESCRIBES one package for the image, which
//! CONTAINS one package per Debian/Alpine package, crate and Go module, each
//! named by its purl.

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use super::scan::{Ecosystem, Scan};

/// The media type of an SPDX JSON document.
pub const MEDIA_TYPE: &str = "application/spdx+json";

/// What a document describes.
#[derive(Debug)]
pub struct Described<'a> {
    /// The image's name (`-t`), or `image` without one.
    pub name: &'a str,
    /// The platform, as `linux/arm64`.
    pub platform: &'a str,
    /// The platform manifest's digest.
    pub digest: &'a str,
    /// `None` for the final image; a stage's name for a scanned stage.
    pub stage: Option<&'a str>,
}

fn short_hash(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    h.finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn ecosystem_name(e: Ecosystem) -> &'static str {
    match e {
        Ecosystem::Deb => "deb",
        Ecosystem::Apk => "apk",
        Ecosystem::Cargo => "cargo",
        Ecosystem::Go => "go",
    }
}

/// The SPDX document for one scan.
pub fn document(what: &Described, scan: &Scan, created: &str) -> Value {
    let subject = match what.stage {
        Some(s) => format!("{} stage {s} ({})", what.name, what.platform),
        None => format!("{} ({})", what.name, what.platform),
    };
    let mut packages = vec![json!({
        "SPDXID": "SPDXRef-Image",
        "name": subject,
        "versionInfo": what.digest,
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": false,
        "primaryPackagePurpose": "CONTAINER",
    })];
    let mut relationships = vec![json!({
        "spdxElementId": "SPDXRef-DOCUMENT",
        "relationshipType": "DESCRIBES",
        "relatedSpdxElement": "SPDXRef-Image",
    })];
    let mut ids = Vec::new();
    for p in &scan.packages {
        let id = format!(
            "SPDXRef-Package-{}-{}",
            ecosystem_name(p.ecosystem),
            short_hash(&[&p.purl, &p.found_in])
        );
        if ids.contains(&id) {
            continue;
        }
        ids.push(id.clone());
        let mut pkg = json!({
            "SPDXID": id,
            "name": p.name,
            "versionInfo": p.version,
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": false,
            "sourceInfo": format!("found in {}", p.found_in),
            "externalRefs": [{
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": p.purl,
            }],
        });
        if let Some(l) = &p.license {
            // The database's text, which need not be a valid SPDX expression.
            pkg["licenseComments"] = json!(format!("declared by the package database: {l}"));
        }
        packages.push(pkg);
        relationships.push(json!({
            "spdxElementId": "SPDXRef-Image",
            "relationshipType": "CONTAINS",
            "relatedSpdxElement": id,
        }));
    }
    let namespace_id = short_hash(&[
        what.digest,
        what.stage.unwrap_or(""),
        &scan.packages.len().to_string(),
    ]);
    json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": subject,
        "documentNamespace": format!("https://spdx.org/spdxdocs/mxbuild-{namespace_id}"),
        "creationInfo": {
            "created": created,
            "creators": [concat!("Tool: mxbuild-", env!("CARGO_PKG_VERSION"))],
        },
        "packages": packages,
        "relationships": relationships,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attest::scan::Package;

    #[test]
    fn one_package_per_found_package() {
        let scan = Scan {
            packages: vec![Package {
                ecosystem: Ecosystem::Cargo,
                name: "hello-rust".into(),
                version: "0.1.0".into(),
                arch: None,
                license: None,
                found_in: "/src/Cargo.lock".into(),
                purl: "pkg:cargo/hello-rust@0.1.0".into(),
            }],
            ..Scan::default()
        };
        let d = document(
            &Described {
                name: "app",
                platform: "linux/arm64",
                digest: "sha256:00",
                stage: Some("build"),
            },
            &scan,
            "2026-01-01T00:00:00Z",
        );
        assert_eq!(d["spdxVersion"], "SPDX-2.3");
        assert_eq!(d["packages"].as_array().unwrap().len(), 2);
        assert_eq!(
            d["packages"][1]["externalRefs"][0]["referenceLocator"],
            "pkg:cargo/hello-rust@0.1.0"
        );
        assert_eq!(d["relationships"][1]["relationshipType"], "CONTAINS");
    }
}
