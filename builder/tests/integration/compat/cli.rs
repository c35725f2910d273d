//! `mxbuild build` command lines as CI scripts copy them from buildx
//! (docker/metadata-action, docker/build-push-action): each flag and `-o`
//! key does what buildx/BuildKit does, checked with skopeo, umoci and a
//! local registry, or is refused by name.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use testkit::require;

use crate::build::{Scenario, context_with, read, unpack};
use crate::support::mxbuild::{mx, mx_ok, ok, repo, store, text, tool};
use crate::support::registry::Registry;

/// `mxbuild ARGS` on the test store with extra environment variables.
fn mx_env(args: &[&str], envs: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mxbuild"))
        .args(args)
        .envs(envs.iter().copied())
        .env("MXBUILD_ROOT", store())
        .current_dir(repo())
        .output()
        .unwrap()
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("{e}: {s}"))
}

/// The one blob `index.json` of an OCI layout directory names, parsed.
fn layout_blob(dir: &Path, digest: &str) -> serde_json::Value {
    let hex = digest.trim_start_matches("sha256:");
    json(&fs::read_to_string(dir.join("blobs/sha256").join(hex)).unwrap())
}

const SECRET_DF: &str = "FROM debian:bookworm\nLABEL from=dockerfile keep=1\nRUN --mount=type=secret,id=tok cat /run/secrets/tok > /secret\n";

#[test]
fn labels_annotations_iidfile_attest_off_secret_env_and_zstd() {
    let Some(s) = Scenario::start("compat-cli") else {
        return;
    };
    let t = s.dir.path();
    let ctx = context_with(t, "ctx", SECRET_DF);
    let oci = t.join("oci");
    let iid = t.join("iid");
    let tarf = t.join("files.tar");
    let out = mx_env(
        &[
            "build",
            "--platform",
            "linux/amd64",
            "--label",
            "from=cli",
            "--label",
            "org.opencontainers.image.source=https://example.com/x",
            "--annotation",
            "org.opencontainers.image.description=plain",
            "--annotation",
            "index:org.opencontainers.image.title=idx",
            "--annotation",
            "manifest[linux/amd64]:only=amd64",
            "--annotation",
            "manifest-descriptor:desc=yes",
            "--iidfile",
            iid.to_str().unwrap(),
            "--provenance=false",
            "--sbom=false",
            "--attest",
            "type=provenance,disabled=true",
            "--secret",
            "id=tok,env=MXBUILD_COMPAT_TOKEN",
            "-o",
            &format!(
                "type=oci,dest={},compression=zstd,compression-level=5",
                oci.display()
            ),
            "-o",
            &format!("type=tar,dest={}", tarf.display()),
            ctx.to_str().unwrap(),
        ],
        &[("MXBUILD_COMPAT_TOKEN", "s3cret-from-env")],
    );
    assert!(out.status.success(), "{}", text(&out));

    let top = json(&fs::read_to_string(oci.join("index.json")).unwrap());
    let idx_digest = top["manifests"][0]["digest"].as_str().unwrap().to_string();
    assert_eq!(fs::read_to_string(&iid).unwrap(), idx_digest);
    let idx = layout_blob(&oci, &idx_digest);
    assert_eq!(idx["annotations"]["org.opencontainers.image.title"], "idx");
    assert_eq!(idx["manifests"][0]["annotations"]["desc"], "yes");
    let man = layout_blob(&oci, idx["manifests"][0]["digest"].as_str().unwrap());
    assert_eq!(
        man["annotations"]["org.opencontainers.image.description"],
        "plain"
    );
    assert_eq!(man["annotations"]["only"], "amd64");
    // The base image's layers keep gzip (no force-compression); the RUN
    // layer is zstd.
    let layers = man["layers"].as_array().unwrap();
    let last = layers.last().unwrap()["mediaType"].as_str().unwrap();
    assert_eq!(last, "application/vnd.oci.image.layer.v1.tar+zstd");
    assert_eq!(
        layers[0]["mediaType"],
        "application/vnd.oci.image.layer.v1.tar+gzip"
    );
    let cfg = layout_blob(&oci, man["config"]["digest"].as_str().unwrap());
    assert_eq!(cfg["config"]["Labels"]["from"], "cli");
    assert_eq!(cfg["config"]["Labels"]["keep"], "1");
    assert_eq!(
        cfg["config"]["Labels"]["org.opencontainers.image.source"],
        "https://example.com/x"
    );
    // skopeo reads the zstd layer (decompressing it into gzip, checked
    // against the config's diff_id); umoci 0.4.7 has no zstd, so it
    // unpacks skopeo's copy.
    let gz = t.join("gz");
    ok(Command::new("skopeo")
        .args(["copy", "-q", "--dest-compress-format", "gzip"])
        .arg(format!("oci:{}", oci.display()))
        .arg(format!("oci:{}:x", gz.display())));
    let bundle = t.join("gz-bundle");
    ok(Command::new("umoci")
        .args(["unpack", "--image"])
        .arg(format!("{}:x", gz.display()))
        .arg(&bundle));
    let root = bundle.join("rootfs");
    assert_eq!(read(root.join("secret")), "s3cret-from-env");
    let listing = ok(Command::new("tar").arg("-tf").arg(&tarf));
    assert!(
        listing
            .lines()
            .any(|l| l.trim_start_matches("./") == "secret"),
        "{listing}"
    );

    // force-compression rewrites the base layers too.
    let all = t.join("oci-plain");
    let out = mx_env(
        &[
            "build",
            "--platform",
            "linux/amd64",
            "--secret",
            "id=tok,env=MXBUILD_COMPAT_TOKEN",
            "-o",
            &format!(
                "type=oci,dest={},compression=uncompressed,force-compression=true",
                all.display()
            ),
            ctx.to_str().unwrap(),
        ],
        &[("MXBUILD_COMPAT_TOKEN", "s3cret-from-env")],
    );
    assert!(out.status.success(), "{}", text(&out));
    let top = json(&fs::read_to_string(all.join("index.json")).unwrap());
    let idx = layout_blob(&all, top["manifests"][0]["digest"].as_str().unwrap());
    let man = layout_blob(&all, idx["manifests"][0]["digest"].as_str().unwrap());
    for l in man["layers"].as_array().unwrap() {
        assert_eq!(l["mediaType"], "application/vnd.oci.image.layer.v1.tar");
    }
    let r2 = unpack(t, &format!("oci:{}", all.display()), "amd64");
    assert!(r2.join("etc/debian_version").is_file());
}

#[test]
fn unsupported_requests_are_refused_by_name() {
    let Some(s) = Scenario::start("compat-refuse") else {
        return;
    };
    let ctx = context_with(s.dir.path(), "ctx", "FROM debian:bookworm\n");
    let c = ctx.to_str().unwrap();
    for (args, needle) in [
        (vec!["--provenance=mode=max"], "--provenance"),
        (vec!["--sbom=true"], "--sbom"),
        (vec!["--attest", "type=sbom"], "--attest"),
        (vec!["--add-host", "a:host-gateway"], "host-gateway"),
        (vec!["--add-host", "a:not-an-ip"], "not an IP"),
        (vec!["--ulimit", "bogus=1"], "unknown limit"),
        (vec!["--ulimit", "nofile=10:5"], "soft limit"),
        (vec!["--shm-size", "lots"], "--shm-size"),
        (vec!["-o", "type=image,name=x,unpack=true"], "unpack=true"),
        (
            vec!["-o", "type=oci,dest=x,oci-mediatypes=false"],
            "oci-mediatypes",
        ),
        (vec!["-o", "type=oci,dest=x,compression=estargz"], "estargz"),
        (
            vec![
                "-o",
                "type=oci,dest=x,compression=gzip,compression-level=12",
            ],
            "compression-level",
        ),
        (
            vec!["--annotation", "index-descriptor:a=b"],
            "index-descriptor",
        ),
        (
            vec!["--annotation", "manifest[linux/s390x]:a=b"],
            "linux/s390x",
        ),
    ] {
        let mut a = vec!["build", "--platform", "linux/amd64"];
        a.extend(args.iter().copied());
        a.push(c);
        let o = mx(&a);
        assert!(!o.status.success(), "{args:?} was accepted");
        assert!(text(&o).contains(needle), "{args:?}: {}", text(&o));
    }
}

#[test]
fn local_platform_split() {
    let Some(s) = Scenario::start("compat-split") else {
        return;
    };
    let t = s.dir.path();
    let ctx = context_with(
        t,
        "ctx",
        "FROM scratch\nARG TARGETARCH\nCOPY $TARGETARCH.txt /\n",
    );
    fs::write(ctx.join("amd64.txt"), "a").unwrap();
    fs::write(ctx.join("arm64.txt"), "b").unwrap();
    fs::write(
        ctx.join("Both.Dockerfile"),
        "FROM scratch\nARG TARGETARCH\nCOPY $TARGETARCH.txt amd64.txt /\n",
    )
    .unwrap();
    let merged = t.join("merged");
    mx_ok(&[
        "build",
        "--platform",
        "linux/amd64,linux/arm64",
        "-o",
        &format!("type=local,dest={},platform-split=false", merged.display()),
        ctx.to_str().unwrap(),
    ]);
    assert_eq!(read(merged.join("amd64.txt")), "a");
    assert_eq!(read(merged.join("arm64.txt")), "b");
    assert!(!merged.join("linux_amd64").exists());
    let split = t.join("split");
    mx_ok(&[
        "build",
        "--platform",
        "linux/amd64",
        "-o",
        &format!("type=local,dest={},platform-split=true", split.display()),
        ctx.to_str().unwrap(),
    ]);
    assert_eq!(read(split.join("linux_amd64/amd64.txt")), "a");
    let clash = mx(&[
        "build",
        "--platform",
        "linux/amd64,linux/arm64",
        "-f",
        ctx.join("Both.Dockerfile").to_str().unwrap(),
        "-o",
        &format!(
            "type=local,dest={},platform-split=false",
            t.join("clash").display()
        ),
        ctx.to_str().unwrap(),
    ]);
    assert!(!clash.status.success());
    assert!(
        text(&clash).contains("cannot overwrite /amd64.txt"),
        "{}",
        text(&clash)
    );
}

fn registry_ready() -> bool {
    require(
        tool("docker-registry"),
        "docker-registry is needed (scripts/setup.sh)",
    )
}

/// True when `reference` resolves in the registry.
fn exists(reference: &str) -> bool {
    Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false"])
        .arg(format!("docker://{reference}"))
        .output()
        .unwrap()
        .status
        .success()
}

#[test]
fn image_push_false_push_by_digest_and_pull() {
    let Some(s) = Scenario::start("compat-push").filter(|_| registry_ready()) else {
        return;
    };
    let t = s.dir.path();
    let reg = Registry::start(t, None);
    let host = reg.host();
    let ctx = context_with(
        t,
        "ctx",
        "ARG BASE=debian:bookworm\nFROM $BASE\nRUN (ls /marker 2>/dev/null || echo none) > /seen\n",
    );
    let c = ctx.to_str().unwrap();
    // push=false: named in the store, not sent.
    let kept = format!("{host}/compat/kept:1");
    mx_ok(&[
        "build",
        "--platform",
        "linux/amd64",
        "-o",
        &format!("type=image,name={kept},push=false"),
        c,
    ]);
    assert!(!exists(&kept), "push=false pushed");
    assert!(mx(&["image", "inspect", &kept]).status.success());
    // push-by-digest: the index under its digest, no tag.
    let iid = t.join("iid");
    let repo_name = format!("{host}/compat/bydigest");
    mx_ok(&[
        "build",
        "--platform",
        "linux/amd64",
        "--iidfile",
        iid.to_str().unwrap(),
        "-o",
        &format!("type=image,name={repo_name},push=true,push-by-digest=true,name-canonical=true"),
        c,
    ]);
    let digest = fs::read_to_string(&iid).unwrap();
    assert!(exists(&format!("{repo_name}@{digest}")));
    assert!(!exists(&format!("{repo_name}:latest")));
    let tagged = mx(&[
        "build",
        "--platform",
        "linux/amd64",
        "-o",
        &format!("type=image,name={repo_name}:1,push=true,push-by-digest=true"),
        c,
    ]);
    assert!(text(&tagged).contains("by digest"), "{}", text(&tagged));

    // --pull: the stored base is refreshed from its registry.
    let base = format!("{host}/compat/base:1");
    mx_ok(&["image", "push", "debian:bookworm", &base]);
    let marked = context_with(t, "marked", "FROM debian:bookworm\nRUN touch /marker\n");
    let first = t.join("first");
    let arg = format!("BASE={base}");
    let local = |dest: &Path, extra: &[&str]| {
        let mut a = vec!["build", "--platform", "linux/amd64", "--build-arg", &arg];
        a.extend_from_slice(extra);
        let o = format!("type=local,dest={}", dest.display());
        a.extend(["-o", &o, c]);
        mx_ok(&a);
    };
    local(&first, &[]);
    assert_eq!(read(first.join("seen")), "none");
    // The registry's base:1 becomes another image; the store keeps the old.
    mx_ok(&[
        "build",
        "--platform",
        "linux/amd64",
        "-t",
        "compat/marked:1",
        marked.to_str().unwrap(),
    ]);
    mx_ok(&["image", "push", "compat/marked:1", &base]);
    let stale = t.join("stale");
    local(&stale, &[]);
    assert_eq!(read(stale.join("seen")), "none");
    let pulled = t.join("pulled");
    local(&pulled, &["--pull"]);
    assert_eq!(read(pulled.join("seen")), "/marker");
    for n in [&kept, &base, &"compat/marked:1".to_string()] {
        let _ = mx(&["image", "rm", n]);
    }
    let _ = mx(&["image", "rm", &format!("{repo_name}@{digest}")]);
}

/// `--add-host`, `--ulimit` and `--shm-size` reach every RUN (and are part
/// of its key); `--no-cache-filter STAGE` runs that stage (case-insensitive
/// name) and the stages reading it again, and nothing else.
#[test]
fn run_extras_and_no_cache_filter() {
    let Some(s) = Scenario::start("compat-run-extras") else {
        return;
    };
    let t = s.dir.path();
    let ctx = context_with(
        t,
        "ctx",
        "FROM debian:bookworm AS gen\n\
         RUN cat /proc/sys/kernel/random/uuid > /id\n\
         FROM debian:bookworm AS other\n\
         RUN cat /proc/sys/kernel/random/uuid > /id && echo other\n\
         FROM debian:bookworm\n\
         COPY --from=gen /id /gen-id\n\
         COPY --from=other /id /other-id\n\
         RUN getent hosts db.local > /hosts && (ulimit -Sn; ulimit -Hn) > /nofile \\\n\
           && df -k /dev/shm | awk 'NR==2 {print $2}' > /shm\n",
    );
    let c = ctx.to_str().unwrap();
    let build = |name: &str, extra: &[&str]| {
        let out = t.join(name);
        let dest = format!("type=local,dest={}", out.display());
        let mut a = vec![
            "build",
            "--platform",
            "linux/amd64",
            "--add-host",
            "DB.local:10.1.2.3",
            "--ulimit",
            "nofile=1000:2000",
            "--shm-size",
            "32m",
            "-o",
            &dest,
        ];
        a.extend(extra.iter().copied());
        a.push(c);
        let o = mx_ok(&a);
        (out, o)
    };
    let (first, _) = build("first", &[]);
    assert_eq!(
        read(first.join("hosts"))
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["10.1.2.3", "db.local"]
    );
    assert_eq!(read(first.join("nofile")), "1000\n2000");
    assert_eq!(read(first.join("shm")).trim(), "32768");
    let (again, o) = build("again", &[]);
    assert!(o.contains("(0 steps run"), "{}", o);
    assert_eq!(read(again.join("gen-id")), read(first.join("gen-id")));
    let (filtered, o) = build("filtered", &["--no-cache-filter", "GEN"]);
    assert_ne!(read(filtered.join("gen-id")), read(first.join("gen-id")));
    assert_eq!(
        read(filtered.join("other-id")),
        read(first.join("other-id"))
    );
    // The stage reading `gen` ran again too (its COPY and RUN).
    assert!(!o.contains("(0 steps run"), "{}", o);
    let o = mx_ok(&[
        "build",
        "--platform",
        "linux/amd64",
        "--no-cache-filter",
        "nosuch",
        "--target",
        "gen",
        c,
    ]);
    assert!(o.contains("--no-cache-filter nosuch"), "{}", o);
    // Another --add-host is another RUN: not the cached one.
    let out = t.join("other-host");
    let o = mx_ok(&[
        "build",
        "--platform",
        "linux/amd64",
        "--add-host",
        "db.local:10.9.9.9",
        "-o",
        &format!("type=local,dest={}", out.display()),
        c,
    ]);
    assert!(read(out.join("hosts")).starts_with("10.9.9.9"), "{}", o);
}

/// `--load` puts the one-platform result into podman's image store (no
/// docker daemon runs here) under every `-t`; several platforms are
/// refused before anything is built.
#[test]
fn load_into_podman() {
    let Some(s) = Scenario::start("compat-load").filter(|_| {
        require(
            tool("podman"),
            "podman is needed (scripts/setup.sh installs it)",
        )
    }) else {
        return;
    };
    let t = s.dir.path();
    // A podman storage of the test's own, not the machine's.
    let conf = t.join("storage.conf");
    fs::write(
        &conf,
        format!(
            "[storage]\ndriver = \"vfs\"\ngraphroot = \"{}\"\nrunroot = \"{}\"\n",
            t.join("graph").display(),
            t.join("run").display()
        ),
    )
    .unwrap();
    let env = [("CONTAINERS_STORAGE_CONF", conf.to_str().unwrap())];
    let ctx = context_with(
        t,
        "ctx",
        "FROM scratch\nCOPY <<EOF /hello.txt\nhello\nEOF\nCMD [\"/hello\"]\n",
    );
    let c = ctx.to_str().unwrap();
    let o = mx_env(
        &[
            "build",
            "--platform",
            "linux/arm64",
            "--load",
            "-t",
            "localhost/mxbuild-load:1",
            "-t",
            "localhost/mxbuild-load:2",
            c,
        ],
        &env,
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("loaded into podman"), "{}", text(&o));
    for tag in ["localhost/mxbuild-load:1", "localhost/mxbuild-load:2"] {
        let i = Command::new("podman")
            .args([
                "image",
                "inspect",
                "--format",
                "{{.Architecture}} {{.Config.Cmd}}",
                tag,
            ])
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert!(i.status.success(), "{tag}: {}", text(&i));
        assert_eq!(String::from_utf8_lossy(&i.stdout).trim(), "arm64 [/hello]");
    }
    let o = mx_env(
        &[
            "build",
            "--platform",
            "linux/amd64,linux/arm64",
            "--load",
            c,
        ],
        &env,
    );
    assert!(!o.status.success());
    assert!(
        text(&o).contains("--load takes one platform"),
        "{}",
        text(&o)
    );
}
