//! Differential test against buildah: every Dockerfile of the corpus in
//! `testdata/dockerfiles/diff/<case>/` (each directory is its own context)
//! is built by mxbuild and by `buildah build --layers=false --format oci`,
//! both results are flattened by the same reader (`differential/flatten.rs`:
//! type, mode, owner, content hash, link target, hard-link groups) and the
//! config fields that matter are compared.
//!
//! buildah cannot pull offline, so `debian:bookworm` goes from our test
//! store to an OCI layout (`mxbuild image export`) and from there into a
//! buildah storage private to the test (`buildah pull oci:...`).
//!
//! Cases that differ because of bugs being fixed elsewhere are listed in
//! [`KNOWN`], one line each: the test fails if one of them stops differing
//! (so the list shrinks as fixes land) and if a case not listed differs.
//! Differences that are deliberate (buildah is not the reference: BuildKit
//! is) are filtered in [`deliberate`], each with its reason.

mod flatten;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::mxbuild::{build_ready, mx, repo, text, tool};
use crate::support::{TempDir, shared_store, tmp};
use flatten::Image;

/// Cases that differ today because of a bug someone is fixing, with why
/// (a case may be listed once per bug it shows). Remove a line when its
/// fix lands: the test says when a listed case stops differing.
const KNOWN: &[(&str, &str)] = &[];

/// Differences that are deliberate: (case or `*`, start of the difference
/// line, end of it, why mxbuild is right per BuildKit).
const DELIBERATE: &[(&str, &str, &str, &str)] = &[
    (
        "*",
        "/etc/hosts: mxbuild absent | buildah file 0755 0:0 sha256:e3b0c44298fc",
        "",
        "buildah leaves the empty bind-mount target /etc/hosts in RUN layers; BuildKit removes mount stubs",
    ),
    (
        "*",
        "config Labels: io.buildah.version",
        "",
        "buildah stamps its version as a label; BuildKit adds none",
    ),
    (
        "*",
        "config Healthcheck: ",
        "| buildah null",
        "buildah's OCI format drops HEALTHCHECK (it warns); BuildKit writes it into the OCI config",
    ),
    (
        "*",
        "config Shell: ",
        "| buildah null",
        "buildah's OCI format drops SHELL (it warns); BuildKit writes it into the OCI config",
    ),
    (
        "config-shell-forms",
        "",
        "",
        "buildah's OCI format ignores SHELL; BuildKit runs RUN and shell-form CMD/ENTRYPOINT with it (dockerfile2llb withShell)",
    ),
    (
        "dest-semantics",
        "/trailing",
        "",
        "COPY f /trailing/.: BuildKit keeps the `/.` (system.NormalizePath keepSlash) and fsutil's Copy makes /trailing a directory; buildah writes a file",
    ),
    (
        "copy-chown-chmod",
        "/mode",
        "| buildah dir 0755 0:0",
        "directories COPY creates for its destination get the octal --chmod mode in BuildKit (fsutil Copy: MkdirAll with perm = Mode); buildah makes them 0755",
    ),
    (
        "copy-chown-chmod",
        "/own/both: mxbuild dir 0640",
        "",
        "the destination directory COPY creates gets the octal --chmod mode in BuildKit (fsutil prepareTargetDir); buildah makes it 0755",
    ),
    (
        "hardlinks-run",
        "/h/",
        "",
        "`ln` to a file of a lower layer copies it up (overlay index=off, as containerd's snapshotter mounts for BuildKit), so the old link /h/b is a separate file afterwards; buildah's diff keeps the group",
    ),
];

/// Drops the differences that are deliberate (see [`DELIBERATE`]).
fn deliberate(case: &str, diffs: Vec<String>) -> Vec<String> {
    diffs
        .into_iter()
        .filter(|d| {
            !DELIBERATE.iter().any(|(c, start, end, _)| {
                (*c == "*" || *c == case) && d.starts_with(start) && d.ends_with(end)
            })
        })
        .collect()
}

/// The config fields compared (the image config's `config` object).
const CONFIG_FIELDS: &[&str] = &[
    "Env",
    "Labels",
    "Cmd",
    "Entrypoint",
    "ExposedPorts",
    "Volumes",
    "User",
    "WorkingDir",
    "StopSignal",
    "Healthcheck",
    "Shell",
];

fn corpus() -> PathBuf {
    repo().join("testdata/dockerfiles/diff")
}

/// A buildah with a storage of its own under the test's directory: nothing
/// is taken from (or left in) the host's.
struct Buildah {
    dir: PathBuf,
}

impl Buildah {
    fn cmd(&self) -> Command {
        let mut c = Command::new("buildah");
        c.arg("--root")
            .arg(self.dir.join("root"))
            .arg("--runroot")
            .arg(self.dir.join("run"))
            .args(["--storage-driver", "overlay"]);
        c
    }

    fn run(&self, args: &[&str]) -> Result<String, String> {
        let o = self.cmd().args(args).output().map_err(|e| e.to_string())?;
        if o.status.success() {
            Ok(text(&o))
        } else {
            Err(format!("buildah {args:?}: {}", text(&o)))
        }
    }

    /// `debian:bookworm` from our store, under the name a Dockerfile uses.
    fn import_base(&self, layout: &Path) {
        let src = format!("oci:{}:bookworm", layout.display());
        let id = self
            .run(&["pull", "-q", "--platform", "linux/amd64", &src])
            .unwrap();
        let id = id.lines().last().unwrap_or_default().trim().to_string();
        self.run(&["tag", &id, "docker.io/library/debian:bookworm"])
            .unwrap();
    }

    /// Builds `ctx` and writes the image to an OCI layout at `out`.
    fn build(&self, ctx: &Path, out: &Path) -> Result<(), String> {
        let name = format!("mxbuild-diff-{}", std::process::id());
        let ctx_s = ctx.to_string_lossy();
        self.run(&[
            "build",
            "--runtime",
            "runc",
            "--pull=never",
            "--layers=false",
            "--format",
            "oci",
            "--platform",
            "linux/amd64",
            "-t",
            &name,
            &ctx_s,
        ])?;
        let dest = format!("oci:{}:latest", out.display());
        let pushed = self.run(&["push", &name, &dest]);
        let _ = self.run(&["rmi", &name]);
        pushed.map(|_| ())
    }
}

/// `--no-cache`: a step cached by an older mxbuild would hide what this
/// one does (the step cache is keyed by inputs, not by the builder).
fn mxbuild_build(ctx: &Path, out: &Path) -> Result<(), String> {
    let o = mx(&[
        "build",
        "--no-cache",
        "--platform",
        "linux/amd64",
        "-o",
        &format!("type=oci,dest={}", out.display()),
        &ctx.to_string_lossy(),
    ]);
    if o.status.success() {
        Ok(())
    } else {
        Err(format!("mxbuild build: {}", text(&o)))
    }
}

/// Empty arrays, objects and strings mean the same as absent.
fn normal(v: &serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Array(a) if a.is_empty() => serde_json::Value::Null,
        serde_json::Value::Object(o) if o.is_empty() => serde_json::Value::Null,
        serde_json::Value::String(s) if s.is_empty() => serde_json::Value::Null,
        other => other.clone(),
    }
}

/// The differences between two images, one line each.
fn compare(mx: &Image, bu: &Image) -> Vec<String> {
    let mut out = Vec::new();
    let paths: BTreeSet<&String> = mx.tree.keys().chain(bu.tree.keys()).collect();
    for p in paths {
        let a = mx.tree.get(p).map(ToString::to_string);
        let b = bu.tree.get(p).map(ToString::to_string);
        if a != b {
            let show = |x: Option<String>| x.unwrap_or_else(|| "absent".to_string());
            out.push(format!("{p}: mxbuild {} | buildah {}", show(a), show(b)));
        }
    }
    for field in CONFIG_FIELDS {
        let (a, b) = (normal(&mx.config[field]), normal(&bu.config[field]));
        if *field == "Labels" {
            compare_labels(&a, &b, &mut out);
        } else if a != b {
            out.push(format!("config {field}: mxbuild {a} | buildah {b}"));
        }
    }
    out
}

fn compare_labels(a: &serde_json::Value, b: &serde_json::Value, out: &mut Vec<String>) {
    let keys = |v: &serde_json::Value| -> BTreeSet<String> {
        v.as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    };
    for k in keys(a).union(&keys(b)) {
        if a[k] != b[k] {
            out.push(format!(
                "config Labels: {k}: mxbuild {} | buildah {}",
                a[k], b[k]
            ));
        }
    }
}

/// Builds one case with both tools and compares the results.
fn run_case(t: &TempDir, bu: &Buildah, base: &Image, case: &str) -> Vec<String> {
    let ctx = corpus().join(case);
    let (mx_out, bu_out) = (t.join(format!("{case}-mx")), t.join(format!("{case}-bu")));
    let built = (mxbuild_build(&ctx, &mx_out), bu.build(&ctx, &bu_out));
    let diffs = match built {
        (Ok(()), Ok(())) => compare(
            &flatten::read(&mx_out, Some(base)),
            &flatten::read(&bu_out, Some(base)),
        ),
        (a, b) => {
            let why = |r: Result<(), String>| r.err().unwrap_or_else(|| "built".into());
            vec![format!("build: mxbuild {} | buildah {}", why(a), why(b))]
        }
    };
    let _ = std::fs::remove_dir_all(&mx_out);
    let _ = std::fs::remove_dir_all(&bu_out);
    deliberate(case, diffs)
}

/// The cases to run: every corpus directory, or those named (comma-
/// separated) in `MXBUILD_DIFF_CASES`.
fn cases() -> Vec<String> {
    let only = std::env::var("MXBUILD_DIFF_CASES").ok();
    let mut all: Vec<String> = std::fs::read_dir(corpus())
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("Dockerfile").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|c| only.as_ref().is_none_or(|o| o.split(',').any(|x| x == c)))
        .collect();
    all.sort();
    all
}

#[test]
fn corpus_builds_the_same_as_buildah() {
    let _g = shared_store();
    if !build_ready(&["runc"])
        || !testkit::require(
            tool("buildah"),
            "buildah is needed (scripts/setup.sh installs it)",
        )
    {
        return;
    }
    let t = tmp("diff");
    let base_dir = t.join("base");
    let o = mx(&[
        "image",
        "export",
        "--platform",
        "linux/amd64",
        "-o",
        &format!("type=oci,dest={}", base_dir.display()),
        "debian:bookworm",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let bu = Buildah {
        dir: t.join("buildah"),
    };
    bu.import_base(&base_dir);
    let base = flatten::read(&base_dir, None);
    let all = cases();
    assert!(all.len() >= 20 || std::env::var_os("MXBUILD_DIFF_CASES").is_some());
    let mut report = Vec::new();
    for case in &all {
        let diffs = run_case(&t, &bu, &base, case);
        let known = KNOWN.iter().find(|(c, _)| c == case);
        match (known, diffs.is_empty()) {
            (None, true) | (Some(_), false) => {}
            (Some((_, why)), true) => report.push(format!(
                "{case}: now the same as buildah; remove it from KNOWN ({why})"
            )),
            (None, false) => report.push(format!("{case}:\n  {}", diffs.join("\n  "))),
        }
        eprintln!("differential {case}: {} difference(s)", diffs.len());
        for d in &diffs {
            eprintln!("  {d}");
        }
    }
    // Hundreds of megabytes: gone even when the test fails (the scratch
    // directory itself is kept then, for the report's sake).
    let _ = bu.run(&["rmi", "--all", "--force"]);
    let _ = std::fs::remove_dir_all(&bu.dir);
    let _ = std::fs::remove_dir_all(&base_dir);
    assert!(report.is_empty(), "{}", report.join("\n"));
}
