//! Variables visible to an instruction, with BuildKit's scoping: global ARGs
//! (before the first FROM) are visible only in FROM lines; inside a stage an
//! ARG must be declared to be visible, and `ARG NAME` without a default takes
//! the `--build-arg`, the global ARG's value, or the automatic platform value;
//! ENV wins over ARG; a stage built on another stage inherits its ENV.

use std::collections::{BTreeMap, BTreeSet};

use crate::dockerfile::expand::{self, ExpandError};

/// What a word expanded to, and which variables it read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    /// The expanded text.
    pub text: String,
    /// Variables it referenced.
    pub used: BTreeSet<String>,
}

/// The variables of one stage instance at one point in its instructions.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Declared ARGs (name -> value; `None` = declared but unset).
    pub args: BTreeMap<String, Option<String>>,
    /// ENV, in order (inherited first).
    pub env: Vec<(String, String)>,
}

impl Scope {
    /// A variable's value: ENV first, then a declared ARG.
    pub fn get(&self, name: &str) -> Option<String> {
        if let Some((_, v)) = self.env.iter().rev().find(|(k, _)| k == name) {
            return Some(v.clone());
        }
        self.args.get(name).cloned().flatten()
    }

    /// Sets an ENV variable (replacing an earlier one).
    pub fn set_env(&mut self, name: &str, value: String) {
        self.env.retain(|(k, _)| k != name);
        self.env.push((name.to_string(), value));
    }

    /// Expands one word in this scope.
    pub fn expand(&self, word: &str, escape: char) -> Result<Value, ExpandError> {
        let lookup = |k: &str| self.get(k);
        let e = expand::expand_word(word, &lookup, escape)?;
        Ok(Value {
            text: e.value,
            used: e.used,
        })
    }

    /// Expands and splits into words.
    pub fn expand_words(
        &self,
        word: &str,
        escape: char,
    ) -> Result<(Vec<String>, BTreeSet<String>), ExpandError> {
        let lookup = |k: &str| self.get(k);
        expand::expand_words(word, &lookup, escape)
    }

    /// The environment a RUN step sees: declared ARGs with values, then
    /// ENV. BuildKit's SBOM scanner arguments are not variables of the
    /// build (its documentation says so) and stay out.
    pub fn run_env(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .args
            .iter()
            .filter(|(k, _)| !k.starts_with("BUILDKIT_SBOM_SCAN_"))
            .filter_map(|(k, v)| v.clone().map(|v| (k.clone(), v)))
            .filter(|(k, _)| !self.env.iter().any(|(e, _)| e == k))
            .collect();
        out.extend(self.env.iter().cloned());
        out
    }
}
