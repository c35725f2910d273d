//! The directory contexts of one build, each filtered once by its ignore
//! file into a [`ContextTree`] that every step and every cache key reads.
//!
//! - The main context uses `<Dockerfile>.dockerignore` next to the
//!   Dockerfile, else `<context>/.dockerignore` (Docker's precedence).
//! - A named context given as a directory (`--build-context NAME=DIR` or
//!   `NAME=local://DIR`) uses its own `<DIR>/.dockerignore`, as BuildKit's
//!   dockerui frontend does for named local contexts (never the Dockerfile's
//!   ignore file: that one belongs to the main context).
//!
//! Named contexts that are images (`docker-image://`, `oci-layout://`) or
//! URLs are not directories and pass through unchanged.
//!
//! Only the contexts some step reads are filtered (see [`reads`]): a plan
//! made without content hashes says which those are, so a build that never
//! copies from its context does not pay for linking it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::context_tree::{self, ContextTree};
use crate::dockerfile::ignore;
use crate::dockerfile::mount::MountKind;
use crate::plan::{Op, Plan, Source};

/// Which directory contexts the steps of a plan read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reads {
    /// The main context (COPY/ADD without `--from`, a bind mount without `from`).
    pub main: bool,
    /// Named directory contexts, by name.
    pub named: BTreeSet<String>,
}

/// The contexts `plan` reads. `named` are the `--build-context` values the
/// plan was made with (a named directory shows up in it as its directory).
pub fn reads(plan: &Plan, named: &BTreeMap<String, String>) -> Reads {
    let mut out = Reads::default();
    let mut add = |s: Option<&Source>, bind: bool| match s {
        None if bind => out.main = true,
        Some(Source::MainContext) => out.main = true,
        Some(Source::Context(dir)) => {
            for (name, source) in named {
                if local_dir(source) == Some(dir.as_str()) {
                    out.named.insert(name.clone());
                }
            }
        }
        _ => {}
    };
    for inst in &plan.instances {
        for step in &inst.steps {
            match &step.op {
                Op::Copy { from, .. } => add(Some(from), false),
                Op::Run { mounts, .. } => {
                    for m in mounts {
                        add(m.from.as_ref(), m.mount.kind == MountKind::Bind);
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// The filtered trees of a build; removed when dropped.
#[derive(Debug)]
pub struct Contexts {
    main: ContextTree,
    /// Named directory contexts: name -> tree.
    named: BTreeMap<String, ContextTree>,
}

/// The directory a named context source stands for (`DIR` or
/// `local://DIR`); `None` for images and URLs.
pub fn local_dir(source: &str) -> Option<&str> {
    match source.strip_prefix("local://") {
        Some(dir) => Some(dir),
        None if source.contains("://") => None,
        None => Some(source),
    }
}

impl Contexts {
    /// Filters the main context (`context`, read with the ignore file that
    /// applies to `dockerfile`) and the named directory contexts that
    /// `reads` lists into new trees under `work`, after removing the trees
    /// of killed builds there. A main context nobody reads becomes an empty
    /// tree (its ignore file is still checked, as Docker does).
    pub fn prepare(
        context: &Path,
        dockerfile: &Path,
        named: &BTreeMap<String, String>,
        reads: &Reads,
        work: &Path,
    ) -> Result<Contexts, String> {
        let trees = context_tree::trees_dir(work);
        context_tree::sweep_stale(&trees);
        let matcher = ignore::load_for(context, dockerfile).map_err(|e| e.to_string())?;
        let main = if reads.main {
            ContextTree::materialize(context, matcher.as_ref(), &trees)
        } else {
            ContextTree::empty(&trees)
        }
        .map_err(|e| e.to_string())?;
        let mut out = Contexts {
            main,
            named: BTreeMap::new(),
        };
        for (name, source) in named {
            let Some(dir) = local_dir(source) else {
                continue;
            };
            if !reads.named.contains(name) {
                continue;
            }
            let dir = Path::new(dir);
            let hint = format!("hint: --build-context {name}=DIR names an existing directory");
            if !dir.is_dir() {
                return Err(format!(
                    "--build-context {name}={source}: not a directory\n{hint}"
                ));
            }
            let matcher = ignore::load_for(dir, Path::new("-"))
                .map_err(|e| format!("--build-context {name}: {e}"))?;
            let tree = ContextTree::materialize(dir, matcher.as_ref(), &trees)
                .map_err(|e| format!("--build-context {name}: {e}"))?;
            out.named.insert(name.clone(), tree);
        }
        Ok(out)
    }

    /// The main context's tree.
    pub fn main(&self) -> &Path {
        self.main.root()
    }

    /// `named` as the planner gets it: directory contexts replaced by their
    /// trees, everything else as given (a directory nobody reads keeps its
    /// path; no step reads it, and [`super::Ctx::context_root`] would refuse).
    pub fn for_planner(&self, named: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        named
            .iter()
            .map(|(name, source)| {
                let v = match self.named.get(name) {
                    Some(tree) => tree.root().to_string_lossy().into_owned(),
                    None => source.clone(),
                };
                (name.clone(), v)
            })
            .collect()
    }

    /// Every tree's root, for tests and logs.
    pub fn roots(&self) -> Vec<PathBuf> {
        std::iter::once(self.main.root().to_path_buf())
            .chain(self.named.values().map(|t| t.root().to_path_buf()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn local_dirs_and_others() {
        assert_eq!(local_dir("/a/b"), Some("/a/b"));
        assert_eq!(local_dir("rel"), Some("rel"));
        assert_eq!(local_dir("local:///a"), Some("/a"));
        assert_eq!(local_dir("docker-image://debian"), None);
        assert_eq!(local_dir("oci-layout:///x:tag"), None);
        assert_eq!(local_dir("https://example.com/x.git"), None);
    }

    #[test]
    fn named_directories_use_their_own_dockerignore() {
        let t = std::env::temp_dir().join(format!("mx-contexts-{}", std::process::id()));
        let _ = fs::remove_dir_all(&t);
        let (main, extra) = (t.join("main"), t.join("extra"));
        fs::create_dir_all(&main).unwrap();
        fs::create_dir_all(&extra).unwrap();
        fs::write(main.join("Dockerfile"), "FROM scratch\n").unwrap();
        fs::write(main.join(".dockerignore"), "main-secret\n").unwrap();
        fs::write(main.join("main-secret"), "m").unwrap();
        // The main context's patterns do not apply to a named one.
        fs::write(extra.join("main-secret"), "kept").unwrap();
        fs::write(extra.join(".dockerignore"), "private\n").unwrap();
        fs::write(extra.join("private"), "p").unwrap();
        let named: BTreeMap<String, String> = [
            ("extra".to_string(), format!("local://{}", extra.display())),
            ("img".to_string(), "docker-image://debian".to_string()),
        ]
        .into();
        let all = Reads {
            main: true,
            named: ["extra".to_string()].into(),
        };
        let c = Contexts::prepare(
            &main,
            &main.join("Dockerfile"),
            &named,
            &all,
            &t.join("work"),
        )
        .unwrap();
        assert!(!c.main().join("main-secret").exists());
        assert!(c.main().join("Dockerfile").exists());
        let p = c.for_planner(&named);
        assert_eq!(p["img"], "docker-image://debian");
        let tree = PathBuf::from(&p["extra"]);
        assert!(tree.join("main-secret").exists());
        assert!(!tree.join("private").exists());
        let roots = c.roots();
        drop(c);
        assert!(roots.iter().all(|r| !r.exists()));
        let bad: BTreeMap<String, String> =
            [("x".to_string(), t.join("nope").display().to_string())].into();
        let read_x = Reads {
            main: false,
            named: ["x".to_string()].into(),
        };
        let e = Contexts::prepare(
            &main,
            &main.join("Dockerfile"),
            &bad,
            &read_x,
            &t.join("work"),
        )
        .unwrap_err();
        assert!(
            e.contains("--build-context x=") && e.contains("not a directory"),
            "{e}"
        );
        // Unread contexts are not filtered at all: the main one is empty.
        let none = Contexts::prepare(
            &main,
            &main.join("Dockerfile"),
            &named,
            &Reads::default(),
            &t.join("work"),
        )
        .unwrap();
        assert_eq!(fs::read_dir(none.main()).unwrap().count(), 0);
        assert_eq!(none.for_planner(&named), named);
        drop(none);
        fs::remove_dir_all(&t).unwrap();
    }
}
