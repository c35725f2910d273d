//! Building hostile images for the hostile_* tests: blobs, layers, configs
//! and manifests with whatever lies a test wants; writing them as an OCI
//! layout or serving them from a fake registry (a std `TcpListener` speaking
//! just enough of `/v2`, optionally behind a Bearer token); running mxbuild
//! with a deadline and measuring its peak memory; checking a store holds
//! only blobs that match their names.

// Test scaffolding: a failed unwrap here is a failed test, not a user-facing crash.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mxbuild::store::digest::Digest;
use serde_json::{Value, json};

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const OCI_TAR: &str = "application/vnd.oci.image.layer.v1.tar";

/// A scratch directory under cargo's target tmp, fresh per test tag.
pub fn tmp(tag: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("hostile-{tag}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&p);
    fs::create_dir_all(&p).unwrap();
    p
}

/// Whether the tests run as root.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Blobs of an image being made up, by digest.
#[derive(Default, Clone)]
pub struct Bag {
    pub blobs: BTreeMap<String, Vec<u8>>,
}

impl Bag {
    /// Adds a blob; returns its digest and size.
    pub fn add(&mut self, bytes: &[u8]) -> (String, u64) {
        let d = Digest::of(bytes).to_string();
        self.blobs.insert(d.clone(), bytes.to_vec());
        (d, bytes.len() as u64)
    }

    /// A one-file uncompressed layer: its descriptor and diff_id.
    pub fn layer(&mut self, name: &str, content: &[u8]) -> (Value, String) {
        let tar = tar_of(name, content);
        let (d, size) = self.add(&tar);
        (json!({"mediaType": OCI_TAR, "digest": d, "size": size}), d)
    }

    /// A linux/amd64 config with these diff_ids: its descriptor.
    pub fn config(&mut self, diff_ids: &[String]) -> Value {
        let cfg = json!({
            "architecture": "amd64",
            "os": "linux",
            "config": {"Env": ["PATH=/usr/bin:/bin"]},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
        });
        let (d, size) = self.add(cfg.to_string().as_bytes());
        json!({"mediaType": OCI_CONFIG, "digest": d, "size": size})
    }

    /// A manifest over `config` and `layers`: its bytes (added to the bag)
    /// and descriptor.
    pub fn manifest(&mut self, config: &Value, layers: &[Value]) -> (Vec<u8>, Value) {
        let m = json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": config,
            "layers": layers,
        })
        .to_string()
        .into_bytes();
        let (d, size) = self.add(&m);
        (
            m,
            json!({"mediaType": OCI_MANIFEST, "digest": d, "size": size}),
        )
    }

    /// A good one-layer image with `/hello.txt`: its manifest descriptor.
    pub fn good(&mut self, text: &str) -> (Vec<u8>, Value) {
        let (l, id) = self.layer("hello.txt", text.as_bytes());
        let c = self.config(&[id]);
        self.manifest(&c, &[l])
    }

    /// Writes the bag as an OCI layout at `dir` whose index.json names
    /// `entry` (a manifest or index descriptor) as tag `latest`.
    pub fn write_layout(&self, dir: &Path, entry: &Value) {
        let b = dir.join("blobs/sha256");
        fs::create_dir_all(&b).unwrap();
        for (d, bytes) in &self.blobs {
            fs::write(b.join(d.trim_start_matches("sha256:")), bytes).unwrap();
        }
        let mut e = entry.clone();
        e["annotations"] = json!({"org.opencontainers.image.ref.name": "latest"});
        fs::write(
            dir.join("index.json"),
            json!({"schemaVersion": 2, "manifests": [e]}).to_string(),
        )
        .unwrap();
        fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    }
}

/// A tar with one regular file.
pub fn tar_of(name: &str, content: &[u8]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_ustar();
    h.set_path(name).unwrap();
    h.set_size(content.len() as u64);
    h.set_mode(0o644);
    h.set_mtime(0);
    h.set_cksum();
    b.append(&h, content).unwrap();
    b.into_inner().unwrap()
}

/// The path of blob `digest` in a layout or store directory.
pub fn blob_path(dir: &Path, digest: &str) -> PathBuf {
    dir.join("blobs/sha256")
        .join(digest.trim_start_matches("sha256:"))
}

/// Every blob in a store hashes to its name, none of `absent` is there,
/// and no temp file is left behind.
pub fn assert_store_clean(store: &Path, absent: &[&str]) {
    let dir = store.join("blobs/sha256");
    if let Ok(rd) = fs::read_dir(&dir) {
        for e in rd {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            let mut f = fs::File::open(e.path()).unwrap();
            let mut sha = <sha2::Sha256 as sha2::Digest>::new();
            std::io::copy(&mut f, &mut sha).unwrap();
            let hex: String = <sha2::Sha256 as sha2::Digest>::finalize(sha)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            assert_eq!(hex, name, "a stored blob does not match its name");
        }
    }
    for d in absent {
        assert!(
            !blob_path(store, d).exists(),
            "{d} was stored although it was refused"
        );
    }
    if let Ok(rd) = fs::read_dir(store.join("tmp")) {
        let left: Vec<_> = rd.map(|e| e.unwrap().file_name()).collect();
        assert!(left.is_empty(), "temp files left: {left:?}");
    }
}

/// What a bounded mxbuild run did.
#[derive(Debug)]
pub struct Run {
    /// Exit code; `None` if it was killed at the deadline (a hang).
    pub code: Option<i32>,
    /// stdout then stderr.
    pub text: String,
    /// Peak resident memory in MiB, as GNU time reports it.
    pub max_rss_mib: u64,
}

/// GNU time, which reports the peak RSS of the command it runs. (A child's
/// own rusage is no use here: a process spawned from the test inherits the
/// test's memory high-water mark until it execs.)
pub const TIME: &str = "/usr/bin/time";

/// Whether GNU time is there (scripts/setup.sh installs it).
pub fn have_time() -> bool {
    Path::new(TIME).exists()
}

/// Runs mxbuild under GNU time with a private store (and an empty docker
/// config, so no host credentials are used); its process group is killed
/// after `deadline`.
pub fn mx(store: &Path, args: &[&str], deadline: Duration) -> Run {
    use std::os::unix::process::CommandExt;
    let logs = store.with_extension(format!("log-{}", std::process::id()));
    fs::create_dir_all(&logs).unwrap();
    let docker_config = logs.join("docker-config");
    fs::create_dir_all(&docker_config).unwrap();
    let (out_p, err_p, rss_p) = (logs.join("stdout"), logs.join("stderr"), logs.join("rss"));
    let _ = fs::remove_file(&rss_p);
    let mut child = Command::new(TIME)
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&rss_p)
        .arg(env!("CARGO_BIN_EXE_mxbuild"))
        .args(args)
        .env("MXBUILD_ROOT", store)
        .env("DOCKER_CONFIG", &docker_config)
        .stdin(Stdio::null())
        .stdout(fs::File::create(&out_p).unwrap())
        .stderr(fs::File::create(&err_p).unwrap())
        .process_group(0)
        .spawn()
        .unwrap();
    let (status, killed) =
        testkit::wait_or_kill(&mut child, deadline, Duration::from_millis(20)).unwrap();
    let text = format!(
        "{}{}",
        fs::read_to_string(&out_p).unwrap_or_default(),
        fs::read_to_string(&err_p).unwrap_or_default()
    );
    let kib: u64 = fs::read_to_string(&rss_p)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .next_back()
        .unwrap_or(0);
    Run {
        code: if killed { None } else { status.code() },
        text,
        max_rss_mib: kib / 1024,
    }
}

/// How the fake registry sends a body.
#[derive(Clone)]
pub enum Body {
    /// With an honest `Content-Length`.
    Sized(Vec<u8>),
    /// Without a length: the body ends when the connection closes.
    Unsized(Vec<u8>),
    /// Spaces forever, no length.
    Endless,
}

/// A registry that serves whatever it is told, from a thread.
pub struct FakeRegistry {
    pub port: u16,
    /// Every request path, in order.
    pub log: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

/// What the fake registry serves: path -> (content type, body).
pub type Routes = BTreeMap<String, (String, Body)>;

impl FakeRegistry {
    /// Serves `routes`; with `token`, every /v2 request needs `Bearer t0k`,
    /// handed out by `/token` with that body.
    pub fn start(routes: Routes, token: Option<Body>) -> FakeRegistry {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let routes = Arc::new(routes);
        let token = Arc::new(token);
        let (l2, s2) = (log.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (routes, token, log) = (routes.clone(), token.clone(), l2.clone());
                std::thread::spawn(move || serve(conn, port, &routes, &token, &log));
            }
        });
        FakeRegistry { port, log, stop }
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The logged request paths that start with `prefix`.
    pub fn requests(&self, prefix: &str) -> Vec<String> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|p| p.starts_with(prefix))
            .cloned()
            .collect()
    }
}

impl Drop for FakeRegistry {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve(
    conn: TcpStream,
    port: u16,
    routes: &Routes,
    token: &Option<Body>,
    log: &Mutex<Vec<String>>,
) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let target = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let mut authorized = false;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
            break;
        }
        if h.to_lowercase().starts_with("authorization: bearer t0k") {
            authorized = true;
        }
    }
    let path = target.split('?').next().unwrap_or("").to_string();
    log.lock().unwrap().push(path.clone());
    let mut w = conn;
    if path == "/token" {
        if let Some(body) = token {
            send(&mut w, "200 OK", "application/json", &[], body);
        }
        return;
    }
    if token.is_some() && !authorized {
        let challenge = format!(
            "WWW-Authenticate: Bearer realm=\"http://127.0.0.1:{port}/token\",service=\"fake\""
        );
        send(
            &mut w,
            "401 Unauthorized",
            "application/json",
            &[&challenge],
            &Body::Sized(
                br#"{"errors":[{"code":"UNAUTHORIZED","message":"token needed"}]}"#.to_vec(),
            ),
        );
        return;
    }
    if path == "/v2/" {
        send(
            &mut w,
            "200 OK",
            "application/json",
            &[],
            &Body::Sized(b"{}".to_vec()),
        );
        return;
    }
    match routes.get(&path) {
        Some((ct, body)) => send(&mut w, "200 OK", ct, &[], body),
        None => send(
            &mut w,
            "404 Not Found",
            "application/json",
            &[],
            &Body::Sized(
                br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#
                    .to_vec(),
            ),
        ),
    }
}

fn send(w: &mut TcpStream, status: &str, ct: &str, extra: &[&str], body: &Body) {
    let mut head = format!("HTTP/1.1 {status}\r\nContent-Type: {ct}\r\nConnection: close\r\n");
    for h in extra {
        head.push_str(h);
        head.push_str("\r\n");
    }
    if let Body::Sized(b) = body {
        head.push_str(&format!("Content-Length: {}\r\n", b.len()));
    }
    head.push_str("\r\n");
    if w.write_all(head.as_bytes()).is_err() {
        return;
    }
    match body {
        Body::Sized(b) | Body::Unsized(b) => {
            // The client may hang up early (that is the point): errors end the reply.
            for chunk in b.chunks(64 << 10) {
                if w.write_all(chunk).is_err() {
                    return;
                }
            }
        }
        Body::Endless => {
            let chunk = vec![b' '; 64 << 10];
            while w.write_all(&chunk).is_ok() {}
        }
    }
    let _ = w.flush();
}

/// A plain HTTP/1.1 request (Connection: close) to `host`: status and
/// headers (lower-case names) and body. For pushing lies to docker-registry.
pub fn http(
    host: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut s = TcpStream::connect(host).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP response");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers, raw[split + 4..].to_vec())
}

/// Uploads a blob to a real registry (monolithic POST + PUT).
pub fn push_blob(host: &str, repo: &str, bytes: &[u8]) {
    let d = Digest::of(bytes).to_string();
    let (status, headers, _) = http(
        host,
        "POST",
        &format!("/v2/{repo}/blobs/uploads/"),
        &[],
        b"",
    );
    assert_eq!(status, 202, "upload start");
    let loc = headers
        .iter()
        .find(|(k, _)| k == "location")
        .map(|(_, v)| v.clone())
        .unwrap();
    let loc = loc
        .strip_prefix(&format!("http://{host}"))
        .unwrap_or(&loc)
        .to_string();
    let sep = if loc.contains('?') { '&' } else { '?' };
    let (status, _, body) = http(
        host,
        "PUT",
        &format!("{loc}{sep}digest={d}"),
        &[("Content-Type", "application/octet-stream")],
        bytes,
    );
    assert_eq!(
        status,
        201,
        "blob upload: {}",
        String::from_utf8_lossy(&body)
    );
}

/// PUTs a manifest under `tag`; returns the status (registries may refuse).
pub fn push_manifest(host: &str, repo: &str, tag: &str, manifest: &[u8]) -> u16 {
    let (status, _, _) = http(
        host,
        "PUT",
        &format!("/v2/{repo}/manifests/{tag}"),
        &[("Content-Type", OCI_MANIFEST)],
        manifest,
    );
    status
}
