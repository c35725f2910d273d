//! Image references as docker writes them, normalised the way docker does:
//! `debian` is `docker.io/library/debian:latest`, `me/app` is
//! `docker.io/me/app:latest`, `127.0.0.1:5000/a` keeps its registry. Local
//! store names use the same normal form, so `FROM debian` and `image pull
//! debian` meet at one name.

use oci_client::Reference;

use super::error::ReferenceError;

/// Parses and normalises a reference; the error says what a valid one looks like.
pub fn parse(s: &str) -> Result<Reference, ReferenceError> {
    s.parse::<Reference>().map_err(|e| ReferenceError {
        text: s.to_string(),
        reason: e.to_string(),
    })
}

/// The normal form as text (`docker.io/library/debian:latest`).
pub fn normalize(s: &str) -> Result<String, ReferenceError> {
    parse(s).map(|r| r.whole())
}

/// `registry/repository`, the key for cross-repository mounts.
pub fn repo_key(r: &Reference) -> String {
    format!("{}/{}", r.registry(), r.repository())
}

/// True for registries docker itself treats as insecure by default: loopback.
pub fn is_loopback(registry: &str) -> bool {
    let host = if let Some(rest) = registry.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        registry.split(':').next().unwrap_or("")
    };
    host == "localhost" || host == "::1" || host.starts_with("127.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_normalisation() {
        assert_eq!(
            normalize("debian").unwrap(),
            "docker.io/library/debian:latest"
        );
        assert_eq!(
            normalize("debian:bookworm").unwrap(),
            "docker.io/library/debian:bookworm"
        );
        assert_eq!(normalize("me/app").unwrap(), "docker.io/me/app:latest");
        assert_eq!(
            normalize("127.0.0.1:5000/a/b:1").unwrap(),
            "127.0.0.1:5000/a/b:1"
        );
        assert_eq!(normalize("localhost/x").unwrap(), "localhost/x:latest");
        assert_eq!(normalize("ghcr.io/o/a:t").unwrap(), "ghcr.io/o/a:t");
        let d = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(
            normalize(&format!("alpine@{d}")).unwrap(),
            format!("docker.io/library/alpine@{d}")
        );
        for bad in ["", "UPPER", "a b", "x:", ":tag"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn loopback() {
        for r in [
            "localhost:5000",
            "127.0.0.1:41234",
            "localhost",
            "[::1]:5000",
        ] {
            assert!(is_loopback(r), "{r}");
        }
        for r in [
            "docker.io",
            "ghcr.io",
            "10.0.0.1:5000",
            "localhost.example.com",
        ] {
            assert!(!is_loopback(r), "{r}");
        }
    }
}
