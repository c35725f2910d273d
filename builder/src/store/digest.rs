//! `sha256:<64 hex>` digests: parsing (so a digest from an image or a
//! registry can never name a path outside the store) and computing.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest as _, Sha256};

use thiserror::Error;

/// A digest string that is not `sha256:<64 lower-case hex>`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DigestError {
    /// Another algorithm, or no `algo:` prefix at all.
    #[error("unsupported digest {0:?}: only sha256:<hex> is supported")]
    Unsupported(String),
    /// `sha256:` with the wrong length or characters.
    #[error("malformed digest {0:?}: expected sha256: and 64 lower-case hex digits")]
    Malformed(String),
}

/// A validated sha256 digest (as JSON, its string; parsed on the way in).
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct Digest {
    hex: String,
}

impl Digest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Digest {
        Digest::from_sha(Sha256::digest(bytes).as_slice())
    }

    /// From a finished sha256 state's output.
    pub fn from_sha(out: &[u8]) -> Digest {
        Digest {
            hex: out.iter().map(|b| format!("{b:02x}")).collect(),
        }
    }

    /// The 64 hex characters.
    pub fn hex(&self) -> &str {
        &self.hex
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex)
    }
}

impl TryFrom<String> for Digest {
    type Error = DigestError;

    fn try_from(s: String) -> Result<Digest, DigestError> {
        s.parse()
    }
}

impl From<Digest> for String {
    fn from(d: Digest) -> String {
        d.to_string()
    }
}

impl FromStr for Digest {
    type Err = DigestError;

    fn from_str(s: &str) -> Result<Digest, DigestError> {
        let hex = s
            .strip_prefix("sha256:")
            .ok_or_else(|| DigestError::Unsupported(s.to_string()))?;
        if hex.len() != 64
            || !hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(DigestError::Malformed(s.to_string()));
        }
        Ok(Digest {
            hex: hex.to_string(),
        })
    }
}

/// Lets code whose errors are still plain text (the engine, until it gets
/// its own error type) parse digests with `?`.
impl From<DigestError> for String {
    fn from(e: DigestError) -> String {
        e.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::Digest;

    #[test]
    fn parse_and_compute() {
        let d = Digest::of(b"");
        assert_eq!(
            d.to_string(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(d.to_string().parse::<Digest>().unwrap(), d);
        for bad in [
            "",
            "sha256:",
            "md5:abc",
            "sha256:../../etc/passwd",
            &format!("sha256:{}", "A".repeat(64)),
        ] {
            assert!(bad.parse::<Digest>().is_err(), "{bad}");
        }
    }
}
