//! Cache keys: a SHA-256 over named, length-prefixed fields, so that no two
//! different inputs can produce the same byte stream.

use sha2::{Digest, Sha256};

/// Builds one key.
pub struct Hasher {
    inner: Sha256,
}

impl Hasher {
    /// A key of some kind (`from`, `step`).
    pub fn new(kind: &str) -> Hasher {
        let mut h = Hasher {
            inner: Sha256::new(),
        };
        h.add("kind", kind);
        h
    }

    /// Adds a named field.
    pub fn add(&mut self, name: &str, value: &str) -> &mut Hasher {
        for part in [name, value] {
            self.inner.update((part.len() as u64).to_le_bytes());
            self.inner.update(part.as_bytes());
        }
        self
    }

    /// `sha256:<hex>`.
    pub fn finish(&mut self) -> String {
        let digest = std::mem::take(&mut self.inner).finalize();
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        format!("sha256:{hex}")
    }
}

#[cfg(test)]
mod tests {
    use super::Hasher;

    #[test]
    fn fields_do_not_run_together() {
        let a = Hasher::new("x").add("a", "bc").finish();
        let b = Hasher::new("x").add("ab", "c").finish();
        assert_ne!(a, b);
        assert_eq!(a, Hasher::new("x").add("a", "bc").finish());
        assert!(a.starts_with("sha256:") && a.len() == 71);
    }
}
