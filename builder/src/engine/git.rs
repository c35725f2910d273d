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
                if url::kind(s, true) == SourceKind::Git {
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
    store.root.join("git").join(short_hash(remote))
}

fn short_hash(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// git on the cache repository `dir`, never interactive: no password or
/// host-key prompts (ssh in batch mode, through the `--ssh default` agent
/// when given), no background gc that could drop what a build just fetched,
/// and no stall forever on a dead server.
fn git(dir: &Path, agent: Option<&Path>) -> Command {
    let mut c = Command::new("git");
    c.arg("--git-dir")
        .arg(dir)
        .args(["-c", "gc.auto=0", "-c", "maintenance.auto=false"])
        .args(["-c", "http.lowSpeedLimit=1", "-c", "http.lowSpeedTime=120"])
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
        .stdin(Stdio::null());
    if let Some(sock) = agent {
        c.env("SSH_AUTH_SOCK", sock);
    }
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

/// Fetches every wanted source; returns source -> commit. `agent` is the
/// `--ssh default` socket, for `git@…` and `ssh://` remotes.
pub fn fetch(
    store: &Store,
    wanted: &[Wanted],
    agent: Option<&Path>,
    progress: &mut dyn FnMut(&str),
) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for w in wanted {
        let r = url::git_ref(&w.source);
        let shown = url::redact(&w.source);
        let failed = |e: String| {
            format!(
                "{}: ADD {shown}: {}\nhint: check the repository URL and reference; private repositories need git credentials set up for root, or --ssh default for git@ remotes",
                w.at,
                url::redact(&e)
            )
        };
        let dir = cache_repo(store, &r.remote);
        if !dir.join("HEAD").is_file() {
            std::fs::create_dir_all(&dir).map_err(|e| failed(e.to_string()))?;
            let mut init = Command::new("git");
            init.args(["init", "-q", "--bare"]).arg(&dir);
            run(init).map_err(failed)?;
            // Files as a checkout has them: no export-ignore or
            // export-subst from the repository's .gitattributes.
            std::fs::create_dir_all(dir.join("info")).map_err(|e| failed(e.to_string()))?;
            std::fs::write(
                dir.join("info/attributes"),
                "* -export-ignore -export-subst\n",
            )
            .map_err(|e| failed(e.to_string()))?;
        }
        progress(&format!("fetching {shown}"));
        let want = r.reference.clone().unwrap_or_else(|| "HEAD".to_string());
        // Each source has its own ref, so builds fetching other refs of the
        // same remote at the same time cannot swap results.
        let local = format!("refs/mxbuild/{}", short_hash(&w.source));
        let refspec = format!("+{want}:{local}");
        let fetch = |depth: bool| {
            let mut c = git(&dir, agent);
            c.args(["fetch", "-q", "--no-tags"]);
            if depth {
                c.args(["--depth", "1"]);
            }
            c.arg("--").arg(&r.remote).arg(&refspec);
            run(c)
        };
        // Shallow first; dumb-HTTP servers need a full fetch.
        let mut got = fetch(true).or_else(|_| fetch(false));
        let is_sha = want.len() == 40 && want.bytes().all(|b| b.is_ascii_hexdigit());
        if got.is_err() && is_sha {
            // Servers that refuse to fetch an unadvertised commit: take
            // every branch and tag, then look for it.
            let all = format!("refs/mxbuild-all/{}", short_hash(&r.remote));
            let mut c = git(&dir, agent);
            c.args(["fetch", "-q", "--"]).arg(&r.remote).args([
                format!("+refs/heads/*:{all}/heads/*"),
                format!("+refs/tags/*:{all}/tags/*"),
            ]);
            got = run(c);
            if got.is_ok() {
                let mut c = git(&dir, agent);
                c.args(["update-ref", &local, &want]);
                got = run(c);
            }
        }
        got.map_err(failed)?;
        let mut rev = git(&dir, agent);
        rev.args([
            "rev-parse",
            "--verify",
            "-q",
            &format!("{local}^{{commit}}"),
        ]);
        let commit = run(rev).map_err(|_| failed(format!("{want} is not a commit")))?;
        if let Some(sub) = &r.subdir {
            let mut kind = git(&dir, agent);
            kind.args(["cat-file", "-t", &format!("{commit}:{sub}")]);
            if run(kind).as_deref() != Ok("tree") {
                return Err(failed(format!(
                    "{sub:?} is not a directory at {}",
                    commit.get(..12).unwrap_or(&commit)
                )));
            }
        }
        out.insert(w.source.clone(), commit);
    }
    Ok(out)
}

/// Writes the files of `commit` (or its `subdir`) under `dest`, a new
/// directory: `git archive` of the commit (so every file has the commit's
/// time, and the modes and symlinks git records) into a file in `scratch`,
/// unpacked with the system's tar.
pub fn export(
    store: &Store,
    source: &str,
    commit: &str,
    scratch: &Path,
    dest: &Path,
) -> Result<(), String> {
    let r = url::git_ref(source);
    let dir = cache_repo(store, &r.remote);
    let tar_file = scratch.join("git.tar");
    let mut archive = git(&dir, None);
    // 0755/0644 as a checkout with the usual umask (git's default is 002).
    archive
        .args(["-c", "tar.umask=0022", "archive", "--format=tar", "-o"])
        .arg(&tar_file)
        .arg(commit);
    if let Some(sub) = &r.subdir {
        archive.arg("--").arg(format!(":(literal){sub}"));
    }
    run(archive).map_err(|e| format!("git archive: {e}"))?;
    std::fs::create_dir_all(dest).map_err(|e| e.to_string())?;
    let mut untar = Command::new("tar");
    untar
        .args(["-x", "--no-same-owner", "-f"])
        .arg(&tar_file)
        .arg("-C")
        .arg(dest);
    if let Some(sub) = &r.subdir {
        untar.arg(format!("--strip-components={}", sub.split('/').count()));
    }
    let out = untar.output().map_err(|e| format!("cannot run tar: {e}"))?;
    let _ = std::fs::remove_file(&tar_file);
    if !out.status.success() {
        return Err(format!(
            "tar: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(())
}

/// `ADD --keep-git-dir=true`: makes `work` (the exported files of
/// `commit`) a repository as BuildKit's checkout leaves it: a fresh
/// `.git` holding the commit fetched with depth 1, `HEAD` detached at it,
/// `origin` set to the remote (credentials redacted), no reflog and no
/// `FETCH_HEAD`. As in BuildKit, only without `:subdir` (a subdirectory
/// gets no `.git`). The commit comes from the store's cache repository
/// over `file://`, never from a path git could take a shortcut through.
pub fn keep_git_dir(store: &Store, source: &str, commit: &str, work: &Path) -> Result<(), String> {
    let r = url::git_ref(source);
    if r.subdir.is_some() {
        return Ok(());
    }
    let cache = cache_repo(store, &r.remote);
    let local = format!("refs/mxbuild/{}", short_hash(source));
    let step = |args: &[&str]| {
        let mut c = Command::new("git");
        c.arg("-C").arg(work).args(args);
        run(c).map_err(|e| format!("git {}: {e}", args.first().copied().unwrap_or("")))
    };
    step(&["-c", "init.defaultBranch=master", "init", "-q"])?;
    step(&[
        "remote",
        "add",
        "origin",
        &format!("file://{}", cache.display()),
    ])?;
    step(&["fetch", "-q", "-u", "--depth=1", "--", "origin", &local])?;
    // The files are already there (exported as without .git): point HEAD
    // at the commit and fill the index from it.
    step(&["update-ref", "--no-deref", "HEAD", commit])?;
    step(&["read-tree", "HEAD"])?;
    let _ = step(&["update-index", "-q", "--refresh"]);
    step(&["remote", "set-url", "origin", &url::redact(&r.remote)])?;
    step(&["reflog", "expire", "--all", "--expire=now"])?;
    let fetch_head = work.join(".git/FETCH_HEAD");
    if fetch_head.exists() {
        std::fs::remove_file(&fetch_head).map_err(|e| e.to_string())?;
    }
    Ok(())
}
