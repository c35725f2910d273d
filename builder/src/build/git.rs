//! `ADD <git URL>`: the repository is fetched with the system's `git` into a
//! bare cache repository in the store (one per remote), before the final
//! plan; the commit the reference resolves to goes into the step's key, so
//! a moved branch re-runs the step. COPY then writes `git archive` of that
//! commit (or of `:subdir`) into the layer: files as committed, with the
//! commit's time, no `.git`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::{Digest as _, Sha256};

use crate::plan::url::{self, SourceKind};
use crate::plan::{Op, Plan};
use crate::store::Store;

/// One git source a plan's ADD steps copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    /// The source as written after expansion (`REMOTE#REF:SUBDIR`).
    pub source: String,
    /// `file:line` of the first ADD that uses it.
    pub at: String,
}

/// The git sources of `plan`'s ADD steps (each once).
pub fn wanted(plan: &Plan, file: &str) -> Vec<Wanted> {
    let mut out: BTreeMap<String, Wanted> = BTreeMap::new();
    for inst in &plan.instances {
        for step in &inst.steps {
            let Op::Copy {
                add: true, sources, ..
            } = &step.op
            else {
                continue;
            };
            for s in sources {
                if url::kind(s) == SourceKind::Git {
                    out.entry(s.clone()).or_insert_with(|| Wanted {
                        source: s.clone(),
                        at: format!("{file}:{}", step.line),
                    });
                }
            }
        }
    }
    out.into_values().collect()
}

/// The bare cache repository for `remote` in the store.
fn cache_repo(store: &Store, remote: &str) -> PathBuf {
    let h = Sha256::digest(remote.as_bytes());
    let name: String = h.iter().take(16).map(|b| format!("{b:02x}")).collect();
    store.root.join("git").join(name)
}

fn git(dir: &Path) -> Command {
    let mut c = Command::new("git");
    c.arg("--git-dir")
        .arg(dir)
        // No prompts: a build never waits for a password.
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null());
    c
}

fn run(mut c: Command) -> Result<String, String> {
    let out = c
        .output()
        .map_err(|e| format!("cannot run git: {e} (install git)"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// Fetches every wanted source; returns source -> commit.
pub fn fetch(
    store: &Store,
    wanted: &[Wanted],
    progress: &mut dyn FnMut(&str),
) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for w in wanted {
        let r = url::git_ref(&w.source);
        let failed = |e: String| {
            format!(
                "error: {}: ADD {}: {e}\nhint: check the repository URL and reference; private repositories need git credentials (or ssh keys) set up for root on this machine",
                w.at, w.source
            )
        };
        let dir = cache_repo(store, &r.remote);
        if !dir.join("HEAD").is_file() {
            std::fs::create_dir_all(&dir).map_err(|e| failed(e.to_string()))?;
            let mut init = Command::new("git");
            init.args(["init", "-q", "--bare"]).arg(&dir);
            run(init).map_err(failed)?;
        }
        progress(&format!("fetching {}", w.source));
        let want = r.reference.clone().unwrap_or_else(|| "HEAD".to_string());
        // Shallow first; dumb-HTTP servers and some commit references need a full fetch.
        let mut shallow = git(&dir);
        shallow.args(["fetch", "-q", "--depth", "1", "--no-tags", &r.remote, &want]);
        if run(shallow).is_err() {
            let mut full = git(&dir);
            full.args(["fetch", "-q", "--no-tags", &r.remote, &want]);
            run(full).map_err(failed)?;
        }
        let mut rev = git(&dir);
        rev.args(["rev-parse", "FETCH_HEAD^{commit}"]);
        let commit = run(rev).map_err(failed)?;
        if let Some(sub) = &r.subdir {
            let mut kind = git(&dir);
            kind.args(["cat-file", "-t", &format!("{commit}:{sub}")]);
            if run(kind).as_deref() != Ok("tree") {
                return Err(failed(format!(
                    "{sub:?} is not a directory at {}",
                    &commit[..commit.len().min(12)]
                )));
            }
        }
        out.insert(w.source.clone(), commit);
    }
    Ok(out)
}

/// Writes the files of `commit` (or its `subdir`) under `dest`, a new
/// directory, with the system's `git archive | tar -x` (modes, symlinks and
/// the commit time as git records them).
pub fn export(store: &Store, source: &str, commit: &str, dest: &Path) -> Result<(), String> {
    let r = url::git_ref(source);
    let dir = cache_repo(store, &r.remote);
    let tree = match &r.subdir {
        Some(sub) => format!("{commit}:{sub}"),
        None => commit.to_string(),
    };
    std::fs::create_dir_all(dest).map_err(|e| e.to_string())?;
    let mut archive = git(&dir)
        // 0755/0644 as a checkout with the usual umask (git's default is 002).
        .args(["-c", "tar.umask=0022", "archive", "--format=tar", &tree])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run git: {e}"))?;
    let stdout = archive.stdout.take().ok_or("git archive: no output")?;
    let untar = Command::new("tar")
        .args(["-x", "--no-same-owner", "-C"])
        .arg(dest)
        .stdin(stdout)
        .output()
        .map_err(|e| format!("cannot run tar: {e}"))?;
    let archived = archive.wait_with_output().map_err(|e| e.to_string())?;
    if !archived.status.success() {
        return Err(format!(
            "git archive {tree}: {}",
            String::from_utf8_lossy(&archived.stderr).trim()
        ));
    }
    if !untar.status.success() {
        return Err(format!(
            "tar: {}",
            String::from_utf8_lossy(&untar.stderr).trim()
        ));
    }
    Ok(())
}
