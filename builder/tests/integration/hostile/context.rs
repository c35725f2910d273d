//! Hostile contexts and Dockerfiles against real builds (runc, overlayfs,
//! the test store's `debian:bookworm`): `.dockerignore` is a boundary no
//! symlink, bind mount or glob crosses, as in BuildKit, where ignored files
//! never reach the build at all; and a Dockerfile cannot name an OCI layout
//! or a directory of the machine as an image, only `--build-context` can.
//!
//! Every secret is a canary with a per-run value, and the outputs (every
//! blob, decompressed) are searched for it.

use std::fs;
use std::io::Read;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use testkit::require;

use crate::support::mxbuild::{build_ready, mx_in as mxbuild, store, text, tool};
use crate::support::{shared_store, tmp};

/// Root, runc and the base image in the test store.
fn ready() -> bool {
    build_ready(&["runc"])
}

/// A value no image or earlier run contains.
fn canary(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("CANARY-{tag}-{}-{nanos}", std::process::id())
}

/// A context whose `.dockerignore` leaves out `secret.txt`, `secretdir/`
/// and `docs/` except `docs/keep.md`, with symlinks of every kind pointing
/// at the ignored files. Returns the canary they hold.
fn hostile_context(dir: &Path) -> String {
    let c = canary("ctx");
    fs::create_dir_all(dir.join("secretdir/sub")).unwrap();
    fs::create_dir_all(dir.join("docs")).unwrap();
    fs::write(dir.join("secret.txt"), format!("{c}-file\n")).unwrap();
    fs::write(dir.join("secretdir/key.txt"), format!("{c}-dir\n")).unwrap();
    fs::write(dir.join("secretdir/sub/deep.txt"), format!("{c}-deep\n")).unwrap();
    fs::write(dir.join("docs/private.md"), format!("{c}-docs\n")).unwrap();
    fs::write(dir.join("docs/keep.md"), "kept doc\n").unwrap();
    fs::write(dir.join("visible.txt"), "visible\n").unwrap();
    fs::write(
        dir.join(".dockerignore"),
        "secret.txt\nsecretdir\ndocs\n!docs/keep.md\n",
    )
    .unwrap();
    symlink("secret.txt", dir.join("link")).unwrap();
    symlink("/secret.txt", dir.join("abslink")).unwrap();
    symlink("secretdir", dir.join("dirlink")).unwrap();
    symlink("secretdir/sub/deep.txt", dir.join("deeplink")).unwrap();
    symlink("../../../../../secret.txt", dir.join("uplink")).unwrap();
    symlink("docs/private.md", dir.join("doclink")).unwrap();
    c
}

/// True if `canary` is in any file under `dir`, raw or decompressed.
fn holds(dir: &Path, canary: &str) -> bool {
    let needle = canary.as_bytes();
    let found = |b: &[u8]| b.windows(needle.len()).any(|w| w == needle);
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let m = fs::symlink_metadata(&p).unwrap();
            if m.is_dir() {
                stack.push(p);
                continue;
            }
            if !m.is_file() {
                continue;
            }
            let bytes = fs::read(&p).unwrap();
            if found(&bytes) {
                return true;
            }
            let mut plain = Vec::new();
            if bytes.starts_with(&[0x1f, 0x8b]) {
                let _ = flate2::read::GzDecoder::new(&bytes[..]).read_to_end(&mut plain);
            } else if bytes.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
                plain = zstd::decode_all(&bytes[..]).unwrap_or_default();
            }
            if found(&plain) {
                return true;
            }
        }
    }
    false
}

/// The filtered trees (and their lock files) mxbuild process `pid` has
/// under the test store: none once it has finished.
fn trees_of(pid: u32) -> Vec<String> {
    fs::read_dir(store().join("work/contexts"))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(&format!("{pid}-")))
                .collect()
        })
        .unwrap_or_default()
}

/// `mxbuild build --platform linux/amd64 EXTRA CTX` on the test store;
/// asserts that the build left no filtered tree behind.
fn build_in(ctx: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["build", "--progress", "plain", "--platform", "linux/amd64"];
    args.extend_from_slice(extra);
    let child = Command::new(env!("CARGO_BIN_EXE_mxbuild"))
        .args(&args)
        .arg(ctx)
        .env("MXBUILD_ROOT", store())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    assert_eq!(trees_of(pid), Vec::<String>::new(), "trees left behind");
    out
}

#[test]
fn copy_and_bind_through_symlinks_never_reach_ignored_files() {
    let _g = shared_store();
    if !ready() {
        return;
    }
    let t = tmp("hostile-ctx-symlinks");
    let ctx = t.join("ctx");
    let c = hostile_context(&ctx);
    // Each line alone after FROM: BuildKit resolves the symlink inside the
    // filtered context, where its target does not exist: "not found".
    let cases = [
        "COPY link /x",
        "COPY abslink /x",
        "COPY uplink /x",
        "COPY dirlink/ /d/",
        "COPY dirlink/key.txt /k",
        "COPY dirlink/*.txt /g/",
        "COPY deeplink /x",
        "COPY doclink /x",
        "ADD link /x",
        "COPY secret* /s/",
        "RUN --mount=type=bind,source=secretdir,target=/x cat /x/key.txt",
        "RUN --mount=type=bind,source=dirlink,target=/x cat /x/key.txt",
        "RUN --mount=type=bind,source=link,target=/x cat /x",
    ];
    let out = t.join("out");
    for line in cases {
        fs::write(
            ctx.join("Dockerfile"),
            format!("FROM debian:bookworm\n{line}\n"),
        )
        .unwrap();
        let o = build_in(&ctx, &["-o", &format!("type=local,dest={}", out.display())]);
        let log = text(&o);
        println!("{line}\n  -> {}", log.lines().last().unwrap_or_default());
        assert!(!o.status.success(), "{line}: built\n{log}");
        assert!(
            log.contains("Dockerfile:2") && log.contains("not found"),
            "{line}: not a not-found error naming the line\n{log}"
        );
        assert!(!log.contains(&c), "{line}: the canary is in the log\n{log}");
        assert!(
            !out.exists() || !holds(&out, &c),
            "{line}: canary in output"
        );
    }
    let _ = fs::remove_dir_all(&t);
}

#[test]
fn steps_see_the_filtered_context_and_outputs_hold_no_canary() {
    let _g = shared_store();
    if !ready() {
        return;
    }
    let t = tmp("hostile-ctx-filtered");
    let ctx = t.join("ctx");
    let c = hostile_context(&ctx);
    fs::write(
        ctx.join("Dockerfile"),
        "FROM debian:bookworm\n\
         COPY . /app\n\
         RUN --mount=type=bind,target=/ctx sh -c 'cd /ctx && find . | sort > /listing; \
         cat link abslink uplink deeplink doclink dirlink/key.txt > /leak 2>/dev/null; \
         grep -rs --exclude=Dockerfile CANARY . > /grep; true'\n",
    )
    .unwrap();
    let oci = t.join("oci");
    let local = t.join("local");
    let o = build_in(
        &ctx,
        &[
            "-o",
            &format!("type=oci,dest={}", oci.display()),
            "-o",
            &format!("type=local,dest={}", local.display()),
        ],
    );
    let log = text(&o);
    assert!(o.status.success(), "{log}");
    let listing = fs::read_to_string(local.join("listing")).unwrap();
    println!("bind mount of the context:\n{listing}");
    let want = [
        ".",
        "./.dockerignore",
        "./Dockerfile",
        "./abslink",
        "./deeplink",
        "./dirlink",
        "./doclink",
        "./docs",
        "./docs/keep.md",
        "./link",
        "./uplink",
        "./visible.txt",
    ];
    assert_eq!(listing.lines().collect::<Vec<_>>(), want);
    assert_eq!(fs::read_to_string(local.join("leak")).unwrap(), "");
    assert_eq!(fs::read_to_string(local.join("grep")).unwrap(), "");
    // COPY . copies the same tree: the links as links, dangling.
    let app = local.join("app");
    assert!(!app.join("secret.txt").exists() && !app.join("secretdir").exists());
    assert!(!app.join("docs/private.md").exists());
    assert_eq!(
        fs::read_to_string(app.join("docs/keep.md")).unwrap(),
        "kept doc\n"
    );
    assert_eq!(
        fs::read_link(app.join("dirlink")).unwrap(),
        Path::new("secretdir")
    );
    assert!(!holds(&oci, &c), "the canary is in the OCI output");
    assert!(!holds(&local, &c), "the canary is in the local output");
    println!("no {c} in {} or {}", oci.display(), local.display());
    let _ = fs::remove_dir_all(&t);
}

#[test]
fn named_directory_contexts_apply_their_own_dockerignore() {
    let _g = shared_store();
    if !ready() {
        return;
    }
    let t = tmp("hostile-ctx-named");
    let extra = t.join("extra");
    let c = canary("named");
    fs::create_dir_all(extra.join("private")).unwrap();
    fs::write(extra.join("private/key"), &c).unwrap();
    fs::write(extra.join("private.txt"), &c).unwrap();
    fs::write(extra.join("note.txt"), "note\n").unwrap();
    fs::write(extra.join(".dockerignore"), "private*\n").unwrap();
    symlink("private/key", extra.join("keylink")).unwrap();
    let ctx = t.join("ctx");
    fs::create_dir_all(&ctx).unwrap();
    let named = format!("extra={}", extra.display());
    let local = t.join("local");
    fs::write(
        ctx.join("Dockerfile"),
        "FROM debian:bookworm\n\
         COPY --from=extra . /extra\n\
         RUN --mount=type=bind,from=extra,target=/e sh -c 'cd /e && find . | sort > /elist; cat keylink > /leak 2>/dev/null; true'\n",
    )
    .unwrap();
    let o = build_in(
        &ctx,
        &[
            "--build-context",
            &named,
            "-o",
            &format!("type=local,dest={}", local.display()),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let elist = fs::read_to_string(local.join("elist")).unwrap();
    println!("bind mount of the named context:\n{elist}");
    assert_eq!(
        elist.lines().collect::<Vec<_>>(),
        [".", "./.dockerignore", "./keylink", "./note.txt"]
    );
    assert_eq!(fs::read_to_string(local.join("leak")).unwrap(), "");
    assert!(local.join("extra/note.txt").exists());
    assert!(!local.join("extra/private.txt").exists());
    assert!(!holds(&local, &c));
    for line in [
        "COPY --from=extra private.txt /p",
        "COPY --from=extra keylink /p",
    ] {
        fs::write(
            ctx.join("Dockerfile"),
            format!("FROM debian:bookworm\n{line}\n"),
        )
        .unwrap();
        let o = build_in(&ctx, &["--build-context", &named]);
        let log = text(&o);
        println!("{line}\n  -> {}", log.lines().last().unwrap_or_default());
        assert!(
            !o.status.success() && log.contains("Dockerfile:2") && log.contains("not found"),
            "{line}\n{log}"
        );
    }
    // The trees hold hard links to the user's files: a writable bind of a
    // context, main or named, lets the step write (as in BuildKit) but the
    // writes go nowhere.
    let local = t.join("local-rw");
    fs::write(
        ctx.join("Dockerfile"),
        "FROM debian:bookworm\n\
         RUN --mount=type=bind,from=extra,rw,target=/e --mount=type=bind,rw,target=/m \
         sh -c 'echo changed > /e/note.txt && echo changed > /m/Dockerfile && cat /e/note.txt /m/Dockerfile > /seen'\n",
    )
    .unwrap();
    let o = build_in(
        &ctx,
        &[
            "--build-context",
            &named,
            "-o",
            &format!("type=local,dest={}", local.display()),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        fs::read_to_string(local.join("seen")).unwrap(),
        "changed\nchanged\n"
    );
    assert_eq!(
        fs::read_to_string(extra.join("note.txt")).unwrap(),
        "note\n"
    );
    assert!(
        fs::read_to_string(ctx.join("Dockerfile"))
            .unwrap()
            .starts_with("FROM debian:bookworm")
    );
    println!("rw binds of the contexts: the step saw its writes, the files are unchanged");
    let _ = fs::remove_dir_all(&t);
}

/// The `[... n/m] CACHED <text>` lines of a build log, as step texts.
fn cached(log: &str) -> Vec<String> {
    log.lines()
        .filter_map(|l| l.split_once("] CACHED ").map(|(_, s)| s.to_string()))
        .collect()
}

#[test]
fn cache_follows_kept_files_not_ignored_ones() {
    let _g = shared_store();
    if !ready() {
        return;
    }
    let t = tmp("hostile-ctx-cache");
    let ctx = t.join("ctx");
    fs::create_dir_all(&ctx).unwrap();
    // A per-run value: nothing is cached from earlier runs.
    fs::write(ctx.join("kept.txt"), canary("kept")).unwrap();
    fs::write(ctx.join("ignored.txt"), "one").unwrap();
    fs::write(ctx.join(".dockerignore"), "ignored.txt\n").unwrap();
    fs::write(
        ctx.join("Dockerfile"),
        "FROM debian:bookworm\n\
         COPY . /app\n\
         RUN --mount=type=bind,target=/c cat /c/kept.txt > /copy\n",
    )
    .unwrap();
    let copy = "COPY . /app".to_string();
    let run = "RUN cat /c/kept.txt > /copy".to_string();
    let first = text(&build_in(&ctx, &[]));
    assert!(first.contains("built "), "{first}");
    assert_eq!(cached(&first), Vec::<String>::new(), "{first}");

    fs::write(ctx.join("ignored.txt"), "two").unwrap();
    let second = text(&build_in(&ctx, &[]));
    println!(
        "after changing an ignored file: cached {:?}",
        cached(&second)
    );
    assert_eq!(cached(&second), [copy.clone(), run.clone()], "{second}");

    fs::write(ctx.join("kept.txt"), canary("kept2")).unwrap();
    let third = text(&build_in(&ctx, &[]));
    println!("after changing a kept file: cached {:?}", cached(&third));
    assert_eq!(cached(&third), Vec::<String>::new(), "{third}");
    let _ = fs::remove_dir_all(&t);
}

/// A one-layer image (a file holding `canary`) as an OCI layout at `dir`,
/// written with a private blob store: none of it is in any mxbuild store.
/// Returns the layout's blob digests.
fn private_layout(t: &Path, dir: &Path, canary: &str) -> Vec<String> {
    use mxbuild::image::layer::{self, LayerOptions};
    use mxbuild::image::oci::{self, RunConfig};
    let rootfs = t.join("layout-rootfs");
    fs::create_dir_all(&rootfs).unwrap();
    fs::write(rootfs.join("private.txt"), canary).unwrap();
    let blobs = mxbuild::store::blobs::Blobs::open(&t.join("private-blobs")).unwrap();
    let l = layer::from_dir(
        &rootfs,
        &blobs,
        LayerOptions {
            epoch: Some(0),
            ..Default::default()
        },
    )
    .unwrap();
    let platform: xx::Platform = "linux/amd64".parse().unwrap();
    let m = oci::write_image(
        &blobs,
        &platform,
        std::slice::from_ref(&l),
        &RunConfig::default(),
        &[],
        Some("1970-01-01T00:00:00Z"),
    )
    .unwrap();
    let (index, _) = oci::write_index(&blobs, vec![m]).unwrap();
    oci::export_dir(&blobs, &index, "latest", dir, &[]).unwrap();
    fs::read_dir(dir.join("blobs/sha256"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

/// Every file name under `dir`.
fn names_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            if e.file_type().is_ok_and(|f| f.is_dir()) {
                stack.push(e.path());
            }
            out.push(e.file_name().to_string_lossy().into_owned());
        }
    }
    out
}

#[test]
fn dockerfiles_cannot_name_layouts_or_directories_as_images() {
    let _g = shared_store();
    let t = tmp("hostile-ctx-layout");
    let c = canary("layout");
    let layout = t.join("private-layout");
    let blobs = private_layout(&t, &layout, &c);
    let ctx = t.join("ctx");
    fs::create_dir_all(&ctx).unwrap();
    let l = layout.display().to_string();
    let cases = [
        (format!("FROM oci-layout://{l}\n"), "1:1"),
        (
            format!("FROM oci-layout://{l}:latest AS base\nRUN true\n"),
            "1:1",
        ),
        (
            format!("FROM debian:bookworm\nCOPY --from=oci-layout://{l} /private.txt /p\n"),
            "2:1",
        ),
        (
            format!(
                "FROM debian:bookworm\nRUN --mount=type=bind,from=oci-layout://{l},target=/x true\n"
            ),
            "2:1",
        ),
        (format!("FROM {l}\n"), "1:1"),
        (
            format!("FROM debian:bookworm\nCOPY --from={l} /x /x\n"),
            "2:1",
        ),
        (
            "FROM debian:bookworm\nARG L\nCOPY --from=oci-layout://$L / /\n".to_string(),
            "3:1",
        ),
    ];
    // `mxbuild plan` refuses them: the plan itself is wrong, nothing is read.
    let scratch_root = t.join("plan-store");
    for (df, at) in &cases {
        fs::write(ctx.join("Dockerfile"), df).unwrap();
        let o = mxbuild(
            &scratch_root,
            &[
                "plan",
                "--build-arg",
                &format!("L={l}"),
                ctx.to_str().unwrap(),
            ],
        );
        let log = text(&o);
        println!(
            "{}\n  -> {}",
            df.trim(),
            log.lines().next().unwrap_or_default()
        );
        assert!(!o.status.success(), "{df}\n{log}");
        assert!(log.contains(&format!("Dockerfile:{at}:")), "{df}\n{log}");
        assert!(
            log.contains("cannot be named in a Dockerfile")
                && log.contains("--build-context NAME="),
            "{df}\n{log}"
        );
    }
    // Through --build-context the same layout is fine.
    fs::write(ctx.join("Dockerfile"), "FROM lay\n").unwrap();
    let flag = format!("lay=oci-layout://{l}:latest");
    let o = mxbuild(
        &scratch_root,
        &["plan", "--build-context", &flag, ctx.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", text(&o));

    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !require(
        root && tool("runc"),
        "mxbuild build needs root and runc for the store half of this test",
    ) {
        return;
    }
    // A build in a fresh store fails before anything of the layout is in it.
    let fresh = t.join("fresh-store");
    fs::write(ctx.join("Dockerfile"), format!("FROM oci-layout://{l}\n")).unwrap();
    let out = t.join("out");
    let o = mxbuild(
        &fresh,
        &[
            "build",
            "-o",
            &format!("type=local,dest={}", out.display()),
            ctx.to_str().unwrap(),
        ],
    );
    let log = text(&o);
    assert!(
        !o.status.success() && log.contains("Dockerfile:1:1"),
        "{log}"
    );
    let names = names_under(&fresh);
    for b in &blobs {
        assert!(!names.contains(b), "layout blob {b} reached the store");
    }
    assert!(!out.exists(), "an output was written");
    // The same layout named on the command line builds.
    fs::write(ctx.join("Dockerfile"), "FROM lay\n").unwrap();
    let o = mxbuild(
        &fresh,
        &[
            "build",
            "--build-context",
            &flag,
            "-o",
            &format!("type=local,dest={}", out.display()),
            ctx.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(fs::read_to_string(out.join("private.txt")).unwrap(), c);
    let _ = fs::remove_dir_all(&t);
}

#[test]
fn trees_of_a_killed_build_are_swept_by_the_next_one() {
    let _g = shared_store();
    if !ready() {
        return;
    }
    let t = tmp("hostile-ctx-killed");
    let ctx = t.join("ctx");
    fs::create_dir_all(&ctx).unwrap();
    fs::write(ctx.join("kept.txt"), format!("{}\n", canary("killed"))).unwrap();
    fs::write(
        ctx.join("Dockerfile"),
        "FROM debian:bookworm\nRUN --mount=type=bind,target=/c cat /c/kept.txt && echo started && sleep 600\n",
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mxbuild"))
        .args(["build", "--progress", "plain", "--platform", "linux/amd64"])
        .arg(&ctx)
        .env("MXBUILD_ROOT", store())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut err = child.stderr.take().unwrap();
    let mut seen = String::new();
    let start = Instant::now();
    while !seen.contains("| started") {
        let mut buf = [0u8; 4096];
        let n = err.read(&mut buf).unwrap();
        assert!(
            n > 0 && start.elapsed() < Duration::from_secs(120),
            "build ended early: {seen}"
        );
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    let during = trees_of(pid);
    println!("while the RUN runs: {during:?}");
    assert_eq!(during.len(), 2, "one tree and its lock file: {during:?}");
    // SAFETY: kill on our own child's pid.
    unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    let _ = child.wait();
    assert_eq!(trees_of(pid), during, "a killed build cannot clean up");

    fs::write(
        ctx.join("Dockerfile"),
        "FROM debian:bookworm\nCOPY kept.txt /\n",
    )
    .unwrap();
    let o = build_in(&ctx, &[]);
    assert!(o.status.success(), "{}", text(&o));
    println!("after the next build: {:?}", trees_of(pid));
    assert_eq!(
        trees_of(pid),
        Vec::<String>::new(),
        "the next build swept them"
    );
    let _ = fs::remove_dir_all(&t);
}

#[test]
fn rw_binds_of_stages_never_write_into_the_store() {
    let _g = shared_store();
    if !ready() {
        return;
    }
    let t = tmp("hostile-ctx-rw-stage");
    let ctx = t.join("ctx");
    fs::create_dir_all(&ctx).unwrap();
    let original = canary("stage");
    fs::write(ctx.join("marker.txt"), format!("{original}\n")).unwrap();
    // The stage is one layer: its snapshot directory is what a bind of it
    // reads; the base image's is one directory for all its layers. (The
    // probe is a new file, so a regression cannot break the shared image.)
    fs::write(
        ctx.join("Dockerfile"),
        "FROM scratch AS a\nCOPY marker.txt /\n\
         FROM debian:bookworm\n\
         RUN --mount=type=bind,from=a,rw,target=/a --mount=type=bind,from=debian:bookworm,source=/etc,rw,target=/e \
         sh -c 'echo poisoned > /a/marker.txt && echo poisoned > /e/mxbuild-rw-probe && cat /a/marker.txt /e/mxbuild-rw-probe'\n",
    )
    .unwrap();
    let o = build_in(&ctx, &[]);
    let log = text(&o);
    assert!(o.status.success(), "{log}");
    assert!(log.contains("| poisoned"), "the step could write: {log}");
    // Another build reads the cached stage and the base image: unchanged.
    fs::write(
        ctx.join("Dockerfile"),
        "FROM scratch AS a\nCOPY marker.txt /\n\
         FROM debian:bookworm\nCOPY --from=a /marker.txt /m\nRUN cat /m /etc/mxbuild-rw-probe 2>&1 || true\n",
    )
    .unwrap();
    let o = build_in(&ctx, &[]);
    let log = text(&o);
    assert!(o.status.success(), "{log}");
    println!(
        "{}",
        log.lines()
            .filter(|l| l.contains("| "))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(log.contains("CACHED COPY marker.txt /"), "{log}");
    assert!(log.contains(&format!("| {original}")), "{log}");
    assert!(
        !log.contains("poisoned"),
        "a snapshot in the store changed: {log}"
    );
    let _ = fs::remove_dir_all(&t);
}
