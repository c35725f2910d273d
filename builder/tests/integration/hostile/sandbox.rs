//! The RUN sandbox against hostile Dockerfiles, with real components (runc,
//! slirp4netns, overlayfs, QEMU through binfmt_misc): a step gets a network
//! of its own that reaches the internet but not this machine's loopback
//! services; host networking and privileged steps need `--allow`, refused at
//! plan time otherwise; Docker's seccomp profile stops namespace tricks;
//! secret files exist only in memory, and a killed build leaves nothing
//! behind.
//!
//! Each test asserts the visible outcome (files the step wrote, connections
//! the host saw, processes and files left) besides the messages.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use testkit::require;

use crate::support::mxbuild::{build_ready, mx, repo, store, text};
use crate::support::{shared_store, tmp};

/// Root, runc, slirp4netns (with /dev/net/tun) and debian:bookworm in the test store.
fn ready() -> bool {
    build_ready(&["runc", "slirp4netns"])
        && require(
            Path::new("/dev/net/tun").exists(),
            "/dev/net/tun is missing (slirp4netns needs it)",
        )
}

/// A context directory holding `df` as its Dockerfile.
fn context(t: &Path, df: &str) -> PathBuf {
    let dir = t.join("ctx");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("Dockerfile"), df).unwrap();
    dir
}

/// `mxbuild build --no-cache --progress plain EXTRA -o type=local,dest=T/out T/ctx`.
fn build(t: &Path, df: &str, extra: &[&str]) -> (Output, PathBuf) {
    let ctx = context(t, df);
    let out = t.join("out");
    let _ = fs::remove_dir_all(&out);
    let dest = format!("type=local,dest={}", out.display());
    let mut args = vec!["build", "--no-cache", "--progress", "plain", "-o", &dest];
    args.extend_from_slice(extra);
    args.push(ctx.to_str().unwrap());
    (mx(&args), out)
}

fn read(p: &Path) -> String {
    fs::read_to_string(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .trim()
        .to_string()
}

/// A TCP service on the host's 127.0.0.1 that greets and counts connections.
struct LoopbackService {
    port: u16,
    hits: Arc<AtomicUsize>,
}

impl LoopbackService {
    fn start() -> LoopbackService {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let hits = Arc::new(AtomicUsize::new(0));
        let h = hits.clone();
        std::thread::spawn(move || {
            for mut s in l.incoming().flatten() {
                h.fetch_add(1, Ordering::SeqCst);
                let _ = s.write_all(b"hello-from-host\n");
            }
        });
        LoopbackService { port, hits }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// A stage that tries the host's service at 127.0.0.1 and at slirp's
/// host alias 10.0.2.2, and records its interfaces and resolver; the final
/// stage holds only the results.
fn probe_dockerfile(port: u16, run_flags: &str) -> String {
    format!(
        r#"FROM debian:bookworm AS probe
RUN {run_flags} mkdir /out; \
    for h in 127.0.0.1 10.0.2.2; do \
      timeout 5 bash -c "exec 3<>/dev/tcp/$h/{port} && head -1 <&3" > /out/$h 2>/dev/null || echo unreachable > /out/$h; \
    done; \
    ls /sys/class/net | tr '\n' ' ' > /out/net; \
    (cat /proc/sys/net/ipv6/conf/tap0/disable_ipv6 2>/dev/null || echo no-tap0) > /out/ipv6; \
    grep ^nameserver /etc/resolv.conf | head -1 > /out/dns
FROM scratch
COPY --from=probe /out /
"#
    )
}

#[test]
fn default_network_is_private_and_host_network_needs_allow() {
    let _g = shared_store();
    if !ready() {
        return;
    }
    let t = tmp("sandbox-net");
    let svc = LoopbackService::start();
    let df = probe_dockerfile(svc.port, "");
    let host_ipv6 = fs::read_to_string("/proc/sys/net/ipv6/conf/default/disable_ipv6");

    // Default: own namespace (lo + slirp's tap0, IPv6 off on it), slirp's
    // DNS, and the host's loopback service is out of reach by either address.
    let (o, out) = build(&t, &df, &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(read(&out.join("ipv6")), "1", "IPv6 is off on tap0");
    assert_eq!(
        fs::read_to_string("/proc/sys/net/ipv6/conf/default/disable_ipv6").ok(),
        host_ipv6.ok(),
        "the host's IPv6 setting is untouched"
    );
    println!(
        "default: net={:?} dns={:?} 127.0.0.1={:?} 10.0.2.2={:?} host saw {} connection(s)",
        read(&out.join("net")),
        read(&out.join("dns")),
        read(&out.join("127.0.0.1")),
        read(&out.join("10.0.2.2")),
        svc.hits()
    );
    assert_eq!(read(&out.join("net")), "lo tap0");
    assert_eq!(read(&out.join("dns")), "nameserver 10.0.2.3");
    assert_eq!(read(&out.join("127.0.0.1")), "unreachable");
    assert_eq!(read(&out.join("10.0.2.2")), "unreachable");
    assert_eq!(svc.hits(), 0, "a default step reached the host's loopback");

    // --network host without --allow: refused while planning, at the RUN,
    // before anything runs.
    let (o, _) = build(&t, &df, &["--network", "host"]);
    let msg = text(&o);
    println!("--network host without --allow:\n{msg}");
    assert!(!o.status.success());
    assert!(
        msg.contains(
            "Dockerfile:2:1: RUN under --network host: entitlement network.host is not allowed"
        ),
        "{msg}"
    );
    assert!(
        msg.contains("hint:") && msg.contains("--allow network.host"),
        "{msg}"
    );
    assert!(!msg.contains("DONE"), "a step ran: {msg}");
    assert_eq!(svc.hits(), 0);

    // Same for the Dockerfile asking with RUN --network=host.
    let asking = probe_dockerfile(svc.port, "--network=host");
    let (o, _) = build(&t, &asking, &[]);
    let msg = text(&o);
    println!("RUN --network=host without --allow:\n{msg}");
    assert!(!o.status.success());
    assert!(
        msg.contains("Dockerfile:2:1: RUN --network=host: entitlement network.host is not allowed"),
        "{msg}"
    );
    assert!(msg.contains(" 2 | RUN --network=host"), "{msg}");
    assert_eq!(svc.hits(), 0);

    // With --allow network.host the step shares the host's network.
    let (o, out) = build(&t, &df, &["--network", "host", "--allow", "network.host"]);
    assert!(o.status.success(), "{}", text(&o));
    println!(
        "--network host --allow network.host: 127.0.0.1={:?}, host saw {} connection(s)",
        read(&out.join("127.0.0.1")),
        svc.hits()
    );
    assert_eq!(read(&out.join("127.0.0.1")), "hello-from-host");
    assert!(read(&out.join("net")).contains("lo"));
    assert!(!read(&out.join("net")).contains("tap0"));
    assert!(svc.hits() >= 1);

    // And RUN --network=host with the entitlement.
    let before = svc.hits();
    let (o, out) = build(&t, &asking, &["--allow", "network.host"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(read(&out.join("127.0.0.1")), "hello-from-host");
    assert!(svc.hits() > before);
}

#[test]
fn network_none_wins_over_run_network_host() {
    let _g = shared_store();
    if !ready() {
        return;
    }
    let t = tmp("sandbox-none");
    let svc = LoopbackService::start();
    // The RUN asks for the host network; the CLI says none: none it is, and
    // no entitlement is needed because nothing gets the host network.
    let df = probe_dockerfile(svc.port, "--network=host");
    let (o, out) = build(&t, &df, &["--network", "none"]);
    assert!(o.status.success(), "{}", text(&o));
    println!(
        "--network none + RUN --network=host: net={:?} 127.0.0.1={:?}, host saw {} connection(s)",
        read(&out.join("net")),
        read(&out.join("127.0.0.1")),
        svc.hits()
    );
    assert_eq!(read(&out.join("net")), "lo");
    assert_eq!(read(&out.join("127.0.0.1")), "unreachable");
    assert_eq!(svc.hits(), 0);
    // RUN --network=none in a default build: only lo.
    let (o, out) = build(&t, &probe_dockerfile(svc.port, "--network=none"), &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(read(&out.join("net")), "lo");
    assert_eq!(svc.hits(), 0);
}

#[test]
fn default_network_reaches_the_package_mirror() {
    let _g = shared_store();
    if !ready() {
        return;
    }
    let t = tmp("sandbox-apt");
    // bookworm's sources are plain http (deb.debian.org): no CA needed.
    let df = r#"FROM debian:bookworm AS probe
RUN mkdir /out && apt-get update > /out/apt.log 2>&1 && echo ok > /out/apt && getent hosts deb.debian.org | head -1 > /out/resolved
FROM scratch
COPY --from=probe /out /
"#;
    let (o, out) = build(&t, df, &[]);
    assert!(o.status.success(), "{}", text(&o));
    let log = read(&out.join("apt.log"));
    println!(
        "apt-get update in a default step: {}",
        log.lines().last().unwrap_or("")
    );
    assert_eq!(read(&out.join("apt")), "ok");
    assert!(log.contains("Reading package lists"), "{log}");
    assert!(!read(&out.join("resolved")).is_empty());
}

#[test]
fn seccomp_blocks_namespaces_and_mounts_on_every_platform() {
    let _g = shared_store();
    if !ready() {
        return;
    }
    let flags = fs::read_to_string("/proc/sys/fs/binfmt_misc/qemu-aarch64").unwrap_or_default();
    let arm = require(
        flags
            .lines()
            .any(|l| l.starts_with("flags:") && l.contains('F')),
        "binfmt_misc handler qemu-aarch64 with the F flag is missing (scripts/setup-binfmt.sh)",
    );
    let t = tmp("sandbox-seccomp");
    let df = r#"FROM debian:bookworm AS probe
RUN mkdir /out; uname -m > /out/arch; apt-get --version | head -1 > /out/apt; \
    grep ^Seccomp: /proc/self/status | tr -d '\t' > /out/seccomp; \
    (unshare -Urm true 2> /out/unshare.err && echo allowed || echo blocked) > /out/unshare; \
    (unshare -U true 2>/dev/null && echo allowed || echo blocked) > /out/userns; \
    (mkdir -p /mnt/t && mount -t tmpfs none /mnt/t 2>/dev/null && echo allowed || echo blocked) > /out/mount
FROM scratch
COPY --from=probe /out /
"#;
    let platforms = if arm {
        "linux/amd64,linux/arm64"
    } else {
        "linux/amd64"
    };
    let (o, out) = build(&t, df, &["--platform", platforms]);
    assert!(o.status.success(), "{}", text(&o));
    let dirs: Vec<(PathBuf, &str)> = if arm {
        vec![
            (out.join("linux_amd64"), "x86_64"),
            (out.join("linux_arm64"), "aarch64"),
        ]
    } else {
        vec![(out.clone(), "x86_64")]
    };
    for (d, arch) in dirs {
        println!(
            "{arch}: {} {}, unshare -Urm: {} ({}), unshare -U: {}, mount: {}",
            read(&d.join("seccomp")),
            read(&d.join("apt")),
            read(&d.join("unshare")),
            read(&d.join("unshare.err")),
            read(&d.join("userns")),
            read(&d.join("mount"))
        );
        assert_eq!(read(&d.join("arch")), arch);
        assert!(read(&d.join("apt")).starts_with("apt "), "apt runs");
        assert_eq!(read(&d.join("seccomp")), "Seccomp:2", "filter mode");
        assert_eq!(read(&d.join("unshare")), "blocked");
        assert!(read(&d.join("unshare.err")).contains("Operation not permitted"));
        assert_eq!(read(&d.join("userns")), "blocked");
        assert_eq!(read(&d.join("mount")), "blocked");
    }
    // A step that insists fails the build with the step's own error.
    let (o, _) = build(
        &t,
        "FROM debian:bookworm\nRUN unshare -Urm mount -t tmpfs none /mnt\n",
        &[],
    );
    let msg = text(&o);
    assert!(!o.status.success(), "{msg}");
    assert!(msg.contains("RUN failed for linux/amd64"), "{msg}");
    assert!(msg.contains("Operation not permitted"), "{msg}");
    // The smoke test runs under the same profile.
    let (o, _) = build(
        &t,
        "FROM debian:bookworm\nRUN true\n",
        &[
            "--smoke-test",
            "grep ^Seccomp: /proc/self/status; unshare -U true || echo unshare-blocked",
        ],
    );
    let msg = text(&o);
    println!(
        "smoke test: {}",
        msg.lines()
            .filter(|l| l.contains("Seccomp") || l.contains("blocked"))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    assert!(o.status.success(), "{msg}");
    assert!(
        msg.contains("Seccomp:\t2") && msg.contains("unshare-blocked"),
        "{msg}"
    );
}

#[test]
fn insecure_needs_allow_and_then_is_privileged() {
    let _g = shared_store();
    if !ready() {
        return;
    }
    let t = tmp("sandbox-insecure");
    let df = r#"FROM debian:bookworm AS probe
RUN --security=insecure mkdir /out; grep ^CapEff: /proc/self/status | tr -d '\t' > /out/caps; \
    grep ^Seccomp: /proc/self/status | tr -d '\t' > /out/seccomp; \
    (unshare -Urm true && echo allowed || echo blocked) > /out/unshare; \
    (mkdir -p /mnt/t && mount -t tmpfs none /mnt/t && umount /mnt/t && echo allowed || echo blocked) > /out/mount; \
    ls /dev/loop-control /dev/fuse > /out/devices
RUN grep ^Seccomp: /proc/self/status | tr -d '\t' > /out/after
FROM scratch
COPY --from=probe /out /
"#;
    let (o, _) = build(&t, df, &[]);
    let msg = text(&o);
    println!("--security=insecure without --allow:\n{msg}");
    assert!(!o.status.success());
    assert!(
        msg.contains(
            "Dockerfile:2:1: RUN --security=insecure: entitlement security.insecure is not allowed"
        ),
        "{msg}"
    );
    assert!(
        msg.contains("hint:") && msg.contains("--allow security.insecure"),
        "{msg}"
    );
    assert!(!msg.contains("DONE"), "a step ran: {msg}");
    // Unknown values are refused when parsing.
    let (o, _) = build(&t, "FROM debian:bookworm\nRUN --security=root true\n", &[]);
    let msg = text(&o);
    assert!(!o.status.success());
    assert!(
        msg.contains("Dockerfile:2:1: RUN --security=root is not valid"),
        "{msg}"
    );

    let (o, out) = build(&t, df, &["--allow", "security.insecure"]);
    assert!(o.status.success(), "{}", text(&o));
    println!(
        "insecure: {} {} unshare={} mount={} devices={:?}; next step: {}",
        read(&out.join("caps")),
        read(&out.join("seccomp")),
        read(&out.join("unshare")),
        read(&out.join("mount")),
        read(&out.join("devices")),
        read(&out.join("after"))
    );
    let caps = read(&out.join("caps"));
    let mask = u64::from_str_radix(caps.trim_start_matches("CapEff:"), 16).unwrap();
    assert!(mask & (1 << 21) != 0, "CAP_SYS_ADMIN: {caps}");
    assert_eq!(read(&out.join("seccomp")), "Seccomp:0");
    assert_eq!(read(&out.join("unshare")), "allowed");
    assert_eq!(read(&out.join("mount")), "allowed");
    assert!(read(&out.join("devices")).contains("/dev/loop-control"));
    // Only that step: the next one is sandboxed again.
    assert_eq!(read(&out.join("after")), "Seccomp:2");
}

/// Files of at most 1 MiB under `dir` (not following symlinks) that hold
/// `needle` (a secret file, or a config.json with a secret in its env).
fn files_holding(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(rd) = fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let Ok(m) = e.path().symlink_metadata() else {
                continue;
            };
            if m.is_dir() {
                todo.push(e.path());
            } else if m.is_file()
                && m.len() <= 1 << 20
                && fs::read(e.path()).is_ok_and(|c| c.windows(needle.len()).any(|w| w == needle))
            {
                found.push(e.path());
            }
        }
    }
    found
}

/// A child process killed (and waited for) when the test ends, even by a
/// failed assertion, so no build is left running.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// True if process `pid` exists and has not exited (a zombie waiting for
/// its new parent to reap it has).
fn running(pid: u32) -> bool {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let state = stat
        .rfind(')')
        .and_then(|i| stat[i + 1..].split_whitespace().next());
    matches!(state, Some(s) if s != "Z" && s != "X")
}

/// slirp4netns processes serving the sandboxes of mxbuild process `pid`.
fn slirps_of(pid: u32) -> Vec<u32> {
    let marker = format!("/sandbox/{pid}/");
    fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| {
            let cmd = fs::read(format!("/proc/{p}/cmdline")).unwrap_or_default();
            let cmd = String::from_utf8_lossy(&cmd);
            let argv0 = cmd.split('\0').next().unwrap_or("");
            argv0.ends_with("slirp4netns") && cmd.contains(&marker)
        })
        .collect()
}

#[test]
fn secrets_stay_in_memory_and_a_killed_build_leaves_nothing() {
    let _g = shared_store();
    if !ready() {
        return;
    }
    let t = tmp("sandbox-secret");
    // Unique per run, so a match can only come from this test.
    let token = format!(
        "hostile-sandbox-secret-{}-{:?}",
        std::process::id(),
        Instant::now()
    );
    let secret = format!("{token}\n");
    let src = t.join("token");
    fs::write(&src, &secret).unwrap();
    let secret_arg = format!("id=tok,src={}", src.display());

    // Where the step sees the secret: a read-only file on a tmpfs.
    let df = r#"FROM debian:bookworm AS probe
RUN --mount=type=secret,id=tok mkdir /out; stat -f -c %T /run/secrets/tok > /out/fs; \
    grep ' /run/secrets/tok ' /proc/self/mountinfo | sed 's/.* - //' | cut -d' ' -f1 > /out/mountinfo; \
    sha256sum < /run/secrets/tok | cut -c1-16 > /out/hash
FROM scratch
COPY --from=probe /out /
"#;
    let (o, out) = build(&t, df, &["--secret", &secret_arg]);
    assert!(o.status.success(), "{}", text(&o));
    println!(
        "secret mount: statfs={} mountinfo={}",
        read(&out.join("fs")),
        read(&out.join("mountinfo"))
    );
    assert_eq!(read(&out.join("fs")), "tmpfs");
    assert_eq!(read(&out.join("mountinfo")), "tmpfs");
    assert_eq!(read(&out.join("hash")).len(), 16);

    // A build killed with SIGKILL while the step holds the secret.
    let ctx = context(
        &t,
        "FROM debian:bookworm\nRUN --mount=type=secret,id=tok --mount=type=secret,id=tok,env=TOK cat /run/secrets/tok > /dev/null && test -n \"$TOK\" && echo STEP-RUNNING && sleep 300\n",
    );
    let mut child = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_mxbuild"))
            .args([
                "build",
                "--no-cache",
                "--progress",
                "plain",
                "--secret",
                &secret_arg,
                ctx.to_str().unwrap(),
            ])
            .env("MXBUILD_ROOT", store())
            .current_dir(repo())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let pid = child.0.id();
    let stderr = child.0.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            // The step's output, not the step line that shows the command.
            if line.ends_with("| STEP-RUNNING") {
                let _ = tx.send(());
            }
        }
    });
    let started = rx.recv_timeout(Duration::from_secs(120)).is_ok();
    assert!(started, "the step did not start");
    let sandbox = store().join("sandbox");
    let slirps = slirps_of(pid);
    let on_disk_while_running = files_holding(&store().join("work"), token.as_bytes())
        .into_iter()
        .chain(files_holding(&sandbox, token.as_bytes()))
        .collect::<Vec<_>>();
    println!(
        "while the step ran: slirp4netns {slirps:?}, secret files on the store's disk: {on_disk_while_running:?}, {}/{pid} exists: {}",
        sandbox.display(),
        sandbox.join(pid.to_string()).exists()
    );
    assert_eq!(slirps.len(), 1, "one slirp4netns for the step");
    assert!(on_disk_while_running.is_empty());
    // The tmpfs is the build's own: from here its mount point is empty.
    assert!(sandbox.join(pid.to_string()).is_dir());
    assert_eq!(
        fs::read_dir(sandbox.join(pid.to_string())).unwrap().count(),
        0
    );

    // SAFETY: kill on the pid of the child this test started.
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
    let _ = child.0.wait();
    // slirp4netns follows its build at once (its exit pipe closed).
    let start = Instant::now();
    while slirps
        .iter()
        .any(|p| Path::new(&format!("/proc/{p}")).exists())
        && start.elapsed() < Duration::from_secs(10)
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    let left: Vec<&u32> = slirps.iter().filter(|p| running(**p)).collect();
    println!(
        "after SIGKILL: slirp4netns left {left:?} after {:.1}s",
        start.elapsed().as_secs_f64()
    );
    assert!(left.is_empty());

    // The next build reaps the container (still sleeping) and sweeps the
    // killed build's leftovers.
    let o = build(&t, "FROM debian:bookworm\nRUN true\n", &[]).0;
    let msg = text(&o);
    assert!(o.status.success(), "{msg}");
    println!(
        "next build: {}",
        msg.lines()
            .find(|l| l.contains("cleaned up"))
            .unwrap_or("(nothing to clean)")
    );
    // At least ours (another killed build on this store may add its own).
    let reaped: usize = msg
        .lines()
        .find_map(|l| l.strip_prefix("cleaned up "))
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(reaped >= 1, "{msg}");
    assert!(!sandbox.join(pid.to_string()).exists());
    let records: Vec<String> = fs::read_dir(&sandbox)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&format!("slirp-{pid}-")))
        .collect();
    assert!(records.is_empty(), "{records:?}");
    assert!(files_holding(&store().join("work"), token.as_bytes()).is_empty());
}
