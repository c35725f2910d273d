//! What the planner asks the outside world while it converts a Dockerfile:
//! a base image's digest, ENV, SHELL and ONBUILD triggers. They change the
//! stage's expansions and steps (triggers may name images of their own), so
//! the planner asks on demand, at the FROM or `--from` that needs one, and
//! a build converts its Dockerfile once: the builder answers from the store
//! (pulling as it goes, see `engine::resolve`), `mxbuild plan` from what the
//! store already has, and tests from a map ([`Known`]). What only goes into
//! keys (an `ADD` URL's content, a git source's commit, a context's files)
//! is not asked here: it is fetched after conversion and hashed by
//! [`super::keys::assign`], as before, once the plan's shape is final.

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
/// inherited ENV). An `Err` is a finished message (location and hint
/// included) that stops the plan.
pub trait Resolver {
    /// The image `reference` (as written after expansion, or an
    /// `oci-layout://` named context) for `platform`.
    fn image(&self, reference: &str, platform: &Platform) -> Result<Option<ImageInfo>, String>;
}

/// A resolver that knows what its maps hold and nothing else: for tests,
/// and for planning with no store at all (every map empty). Its URLs and
/// git commits go into the keys through [`super::plan_with`].
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
}
