//! Rust crates: from a `Cargo.lock` left in the filesystem (a build stage
//! scanned with `BUILDKIT_SBOM_SCAN_STAGE`), and from the crate list
//! cargo-auditable embeds in a binary's `.dep-v0` section (zlib-compressed
//! JSON), which survives `COPY` of the binary alone into the final image.

use std::io::Read;

use super::{Ecosystem, Package, purl_escape};

/// The section cargo-auditable writes.
pub const AUDITABLE_SECTION: &str = ".dep-v0";

/// Largest decompressed crate list accepted (a hostile section must not
/// inflate to gigabytes).
const MAX_AUDIT_JSON: u64 = 16 << 20;

fn crate_package(name: &str, version: &str, found_in: &str) -> Package {
    Package {
        ecosystem: Ecosystem::Cargo,
        name: name.to_string(),
        version: version.to_string(),
        arch: None,
        license: None,
        found_in: found_in.to_string(),
        purl: format!("pkg:cargo/{}@{}", purl_escape(name), purl_escape(version)),
    }
}

/// The packages of a `Cargo.lock` (any lock-file version: each
/// `[[package]]` has a name and a version).
pub fn from_lock(text: &str, found_in: &str) -> Vec<Package> {
    let Ok(doc) = text.parse::<toml::Table>() else {
        return Vec::new();
    };
    let Some(list) = doc.get("package").and_then(|p| p.as_array()) else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|p| {
            let name = p.get("name")?.as_str()?;
            let version = p.get("version")?.as_str()?;
            Some(crate_package(name, version, found_in))
        })
        .collect()
}

/// The runtime crates of a cargo-auditable `.dep-v0` section.
pub fn from_auditable(section: &[u8], found_in: &str) -> Vec<Package> {
    let mut json = Vec::new();
    let dec = flate2::read::ZlibDecoder::new(section);
    if dec.take(MAX_AUDIT_JSON + 1).read_to_end(&mut json).is_err()
        || json.len() as u64 > MAX_AUDIT_JSON
    {
        return Vec::new();
    }
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&json) else {
        return Vec::new();
    };
    v["packages"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter(|p| p["kind"].as_str() != Some("build"))
                .filter_map(|p| {
                    Some(crate_package(
                        p["name"].as_str()?,
                        p["version"].as_str()?,
                        found_in,
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn lock_files_list_every_package() {
        let lock = "version = 4\n\n[[package]]\nname = \"hello-rust\"\nversion = \"0.1.0\"\n\n[[package]]\nname = \"libc\"\nversion = \"0.2.150\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n";
        let p = from_lock(lock, "/src/Cargo.lock");
        assert_eq!(p.len(), 2);
        assert_eq!(p[1].purl, "pkg:cargo/libc@0.2.150");
        assert!(from_lock("not [toml", "x").is_empty());
    }

    #[test]
    fn auditable_sections_decompress_with_a_cap() {
        let json = br#"{"packages":[{"name":"app","version":"1.0.0","source":"local","root":true},{"name":"cc","version":"1.0.83","source":"crates.io","kind":"build"},{"name":"serde","version":"1.0.193","source":"crates.io"}]}"#;
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(json).unwrap();
        let p = from_auditable(&z.finish().unwrap(), "/app");
        let names: Vec<&str> = p.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["app", "serde"]);
        // A bomb: 64 MiB of zeros compresses to ~64 KiB and is refused.
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(&vec![b' '; 64 << 20]).unwrap();
        assert!(from_auditable(&z.finish().unwrap(), "/x").is_empty());
        assert!(from_auditable(b"garbage", "/x").is_empty());
    }
}
