//! The environment of a RUN step: the image's ENV, then the step's own
//! variables (build args in scope), later ones replacing earlier ones, plus
//! Docker's defaults for `PATH` and `HOME` when neither set them.

/// `K=V` pairs in order, one per key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Env(Vec<String>);

impl Env {
    /// The image's `K=V` list, then `vars` on top.
    pub fn new(image: &[String], vars: &[(String, String)]) -> Env {
        let mut env = Env::default();
        for kv in image {
            if let Some((k, v)) = kv.split_once('=') {
                env.set(k, v);
            }
        }
        for (k, v) in vars {
            env.set(k, v);
        }
        env
    }

    /// Sets `k` (replacing an earlier value; the new one goes last).
    pub fn set(&mut self, k: &str, v: &str) {
        self.0
            .retain(|e| e.split_once('=').map(|(ek, _)| ek) != Some(k));
        self.0.push(format!("{k}={v}"));
    }

    /// Whether `k` is set.
    pub fn has(&self, k: &str) -> bool {
        self.0
            .iter()
            .any(|e| e.split_once('=').is_some_and(|(ek, _)| ek == k))
    }

    /// Adds `PATH` and `HOME` (the user's home, else `/root`) when unset.
    pub fn with_defaults(mut self, home: Option<&str>) -> Vec<String> {
        if !self.has("PATH") {
            self.0.push(crate::image::import::DEFAULT_PATH.to_string());
        }
        if !self.has("HOME") {
            self.0.push(format!("HOME={}", home.unwrap_or("/root")));
        }
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_vars_override_the_image_and_defaults_fill_the_rest() {
        let image = vec!["A=1".to_string(), "PATH=/bin".to_string()];
        let mut env = Env::new(&image, &[("A".to_string(), "2".to_string())]);
        env.set("B", "x=y");
        assert_eq!(
            env.with_defaults(Some("/home/u")),
            ["PATH=/bin", "A=2", "B=x=y", "HOME=/home/u"]
        );
        let bare = Env::new(&[], &[]).with_defaults(None);
        assert_eq!(bare[1], "HOME=/root");
        assert!(bare[0].starts_with("PATH=/usr/local/sbin"));
    }
}
