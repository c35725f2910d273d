//! Checking SBOMs with the SPDX project's own validator (`pyspdxtools`
//! from spdx-tools, installed by scripts/setup.sh), not with our reading
//! of the specification.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// Validates `doc` as SPDX 2.3 JSON; panics with the validator's findings.
pub fn assert_valid(dir: &Path, name: &str, doc: &Value) {
    assert_eq!(doc["spdxVersion"], "SPDX-2.3", "{name}");
    let file = dir.join(format!("{name}.spdx.json"));
    std::fs::write(&file, serde_json::to_vec_pretty(doc).unwrap()).unwrap();
    let out = Command::new("pyspdxtools")
        .args(["--version", "SPDX-2.3", "-i"])
        .arg(&file)
        .output()
        .expect("pyspdxtools runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && !text.contains("ValidationMessage") && !text.contains("rror"),
        "{name} is not valid SPDX 2.3:\n{text}"
    );
}

/// The packages of an SPDX document as (name, versionInfo, purl).
pub fn packages(doc: &Value) -> Vec<(String, String, String)> {
    doc["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            (
                p["name"].as_str().unwrap_or_default().to_string(),
                p["versionInfo"].as_str().unwrap_or_default().to_string(),
                p["externalRefs"][0]["referenceLocator"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect()
}
