//! Cache keys: a SHA-256 over named, length-prefixed fields, so that no two
//! different inputs can produce the same byte stream.
//!
//! A step's key material is kept with the step ([`Field`]s of [`Piece`]s)
//! because part of it is only known after planning: what a step reads from a
//! build context is hashed from the *filtered* tree, and the contexts can only
//! be filtered once the plan says which ones its steps read; an `ADD` URL's
//! content and a git source's commit are fetched once the plan's shape is
//! final (and emulation checked). So the planner keys every step with those
//! parts left open (`unhashed:…`, `unresolved`: also the keys when nothing
//! is hashed or fetched, as for `mxbuild plan` without a context), and
//! [`assign`] computes the final keys from the [`Inputs`] in one cheap pass,
//! without converting the Dockerfile again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::op::{Op, Source};
use super::{Plan, UrlInfo, context};

/// Builds one key.
pub(super) struct Hasher {
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

/// Part of a key field's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Known when planning.
    Text(String),
    /// The content of these sources in the main context.
    Context(Vec<String>),
    /// The content of a named directory context (its directory as planned).
    Dir(String),
    /// The final key of another instance of the plan.
    Instance(usize),
    /// The content of an `ADD` URL (`unresolved` when not fetched).
    Url(String),
    /// The commit of an `ADD` git source (`unresolved` when not fetched).
    Git(String),
}

/// One named field of a step key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Field name (`env:PATH`, `mount`, `context`, …).
    pub name: String,
    /// Its value, in pieces.
    pub value: Vec<Piece>,
}

impl Field {
    /// A field known when planning.
    pub fn text(name: impl Into<String>, value: impl Into<String>) -> Field {
        Field {
            name: name.into(),
            value: vec![Piece::Text(value.into())],
        }
    }
}

/// What an instance's first step chains to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Base {
    /// A key known when planning (an image or scratch).
    Key(String),
    /// The final key of the parent stage's instance.
    Instance(usize),
    /// Not planned (default).
    #[default]
    None,
}

/// What the final keys hold beyond the plan.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// The main context's (filtered) tree; `None`: no context is hashed.
    pub main: Option<PathBuf>,
    /// Named directory contexts: the directory as planned -> its tree.
    pub named: BTreeMap<String, PathBuf>,
    /// What `ADD` URLs downloaded.
    pub urls: BTreeMap<String, UrlInfo>,
    /// What `ADD` git sources resolved to (source -> commit).
    pub git: BTreeMap<String, String>,
}

/// Renders pieces from the inputs (or leaves them open without).
pub(super) struct Values<'a> {
    inputs: Option<&'a Inputs>,
    hashes: BTreeMap<(bool, String), String>,
}

impl<'a> Values<'a> {
    /// Pieces rendered from `inputs`, or left open without.
    pub fn new(inputs: Option<&'a Inputs>) -> Values<'a> {
        Values {
            inputs,
            hashes: BTreeMap::new(),
        }
    }

    fn piece(&mut self, p: &Piece, finals: &dyn Fn(usize) -> String) -> String {
        match p {
            Piece::Text(t) => t.clone(),
            Piece::Instance(i) => finals(*i),
            Piece::Url(u) => self
                .inputs
                .and_then(|i| i.urls.get(u))
                .map_or_else(|| "unresolved".to_string(), UrlInfo::key),
            Piece::Git(g) => self
                .inputs
                .and_then(|i| i.git.get(g))
                .map_or_else(|| "unresolved".to_string(), String::clone),
            Piece::Context(sources) => {
                let joined = sources.join("\0");
                let Some(main) = self.inputs.and_then(|i| i.main.as_ref()) else {
                    return format!("unhashed:{joined}");
                };
                self.hashes
                    .entry((false, joined))
                    .or_insert_with(|| context::hash_sources(main, sources))
                    .clone()
            }
            Piece::Dir(dir) => {
                let Some(roots) = self.inputs.filter(|i| i.main.is_some()) else {
                    return format!("unhashed:dir:{dir}");
                };
                let tree = roots
                    .named
                    .get(dir)
                    .map_or_else(|| Path::new(dir), PathBuf::as_path);
                self.hashes
                    .entry((true, dir.clone()))
                    .or_insert_with(|| context::hash_sources(tree, &[".".to_string()]))
                    .clone()
            }
        }
    }

    /// A step's key: its parent's key, the platform it runs as, its text and fields.
    pub fn step(
        &mut self,
        parent: &str,
        platform: &str,
        text: &str,
        fields: &[Field],
        finals: &dyn Fn(usize) -> String,
    ) -> String {
        let mut h = Hasher::new("step");
        h.add("parent", parent)
            .add("platform", platform)
            .add("text", text);
        for f in fields {
            let value: String = f.value.iter().map(|p| self.piece(p, finals)).collect();
            h.add(&f.name, &value);
        }
        h.finish()
    }
}

/// Computes every key of `plan` from `inputs`, and points the steps that
/// read a named directory context at its tree. Instances come after
/// everything they read, so one pass in order does.
pub fn assign(plan: &mut Plan, inputs: &Inputs) {
    let mut values = Values::new(Some(inputs));
    for idx in 0..plan.instances.len() {
        let (done, rest) = plan.instances.split_at_mut(idx);
        let Some(inst) = rest.first_mut() else { break };
        let final_of = |i: usize| done.get(i).map(|d| d.final_key.clone()).unwrap_or_default();
        let mut key = match &inst.base_key {
            Base::Key(k) => k.clone(),
            Base::Instance(i) => final_of(*i),
            Base::None => String::new(),
        };
        for step in &mut inst.steps {
            key = values.step(&key, &inst.platform, &step.text, &step.fields, &final_of);
            step.key = key.clone();
            to_tree(&mut step.op, inputs);
        }
        inst.final_key = key;
    }
    plan.summary = super::summarize(&plan.instances);
}

/// A named directory context as the step reads it: its filtered tree.
fn to_tree(op: &mut Op, inputs: &Inputs) {
    let swap = |s: &mut Source| {
        if let Source::Context(dir) = s {
            if let Some(tree) = inputs.named.get(dir.as_str()) {
                *dir = tree.to_string_lossy().into_owned();
            }
        }
    };
    match op {
        Op::Copy { from, .. } => swap(from),
        Op::Run { mounts, .. } => mounts
            .iter_mut()
            .filter_map(|m| m.from.as_mut())
            .for_each(swap),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_do_not_run_together() {
        let a = Hasher::new("x").add("a", "bc").finish();
        let b = Hasher::new("x").add("ab", "c").finish();
        assert_ne!(a, b);
        assert_eq!(a, Hasher::new("x").add("a", "bc").finish());
        assert!(a.starts_with("sha256:") && a.len() == 71);
    }

    #[test]
    fn unhashed_contexts_name_what_they_stand_for() {
        let mut v = Values::new(None);
        let none = |_| String::new();
        let f = [
            Field {
                name: "context".into(),
                value: vec![Piece::Context(vec!["a".into(), "b".into()])],
            },
            Field {
                name: "from".into(),
                value: vec![Piece::Text("context:x#".into()), Piece::Dir("/d".into())],
            },
        ];
        let mut h = Hasher::new("step");
        h.add("parent", "p")
            .add("platform", "linux/amd64")
            .add("text", "COPY a b /")
            .add("context", "unhashed:a\0b")
            .add("from", "context:x#unhashed:dir:/d");
        assert_eq!(
            v.step("p", "linux/amd64", "COPY a b /", &f, &none),
            h.finish()
        );
    }
}
