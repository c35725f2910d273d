//! What the planner asks the outside world while it converts a Dockerfile:
//! a base image's digest, ENV, SHELL and ONBUILD triggers (they change the
//! stage's expansions, its steps and its keys), the content of an `ADD`
//! URL and the commit of an `ADD` git source (they go into the step key).
//! It asks on demand, at the instruction that needs it, so a build converts
//! its Dockerfile once: the builder answers from the store (pulling and
//! downloading as it goes, see `engine::resolve`), `mxbuild plan` from what
//! the store already has, and tests from a map ([`Known`]).

use std::collections::BTreeMap;

use xx::Platform;

use super::url::UrlInfo;

/// What the planner needs to know of a base image.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageInfo {
    /// Manifest digest for the platform.
    pub digest: String,
    /// The image's ENV.
    pub env: Vec<(String, String)>,
    /// The image's `ONBUILD` triggers: they run first in a stage built on it.
    pub on_build: Vec<String>,
    /// The image's `SHELL`, when it set one: shell-form RUN/CMD/ENTRYPOINT use it.
    pub shell: Option<Vec<String>>,
}

/// Answers the planner's questions. `Ok(None)` means "not known": the plan
/// then shows what the Dockerfile alone gives (no digest in the key, no
/// inherited ENV, `unresolved` for a URL or git source). An `Err` is a
/// finished message (location and hint included) that stops the plan.
pub trait Resolver {
    /// The image `reference` (as written after expansion, or an
    /// `oci-layout://` named context) for `platform`.
    fn image(&self, reference: &str, platform: &Platform) -> Result<Option<ImageInfo>, String>;

    /// The content of `ADD url`; `checksum` is the step's `--checksum`
    /// (checked by the planner to be a `sha256:` digest), `at` its `file:line`.
    fn url(&self, url: &str, checksum: Option<&str>, at: &str) -> Result<Option<UrlInfo>, String>;

    /// The commit `ADD source` (a git URL, `REMOTE#REF:SUBDIR`) copies; `at`
    /// is the step's `file:line`.
    fn git(&self, source: &str, at: &str) -> Result<Option<String>, String>;
}

/// A resolver that knows what its maps hold and nothing else: for tests,
/// and for planning with no store at all (every map empty).
#[derive(Debug, Clone, Default)]
pub struct Known {
    /// Images keyed `reference@platform`.
    pub images: BTreeMap<String, ImageInfo>,
    /// `ADD` URL -> content.
    pub urls: BTreeMap<String, UrlInfo>,
    /// `ADD` git source -> commit.
    pub git: BTreeMap<String, String>,
}

impl Resolver for Known {
    fn image(&self, reference: &str, platform: &Platform) -> Result<Option<ImageInfo>, String> {
        Ok(self.images.get(&format!("{reference}@{platform}")).cloned())
    }

    fn url(&self, url: &str, _: Option<&str>, _: &str) -> Result<Option<UrlInfo>, String> {
        Ok(self.urls.get(url).cloned())
    }

    fn git(&self, source: &str, _: &str) -> Result<Option<String>, String> {
        Ok(self.git.get(source).cloned())
    }
}
