//! xx-verify on hostile files: FIFOs, devices and sockets given as FILE or
//! met under `--root` (a FIFO `etc/ld.so.conf`, an `include` of a real
//! `/dev/zero` device node, an oversized config, an include fan-out bomb).
//! Every run is the `xx` binary as a child with a deadline, so a hang fails
//! the test instead of blocking it; peak memory is measured with GNU time.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{is_root, require, tmp};
use testkit::{GNU_TIME as TIME, mkfifo};
use xx::platform::Platform;
use xx::verify::{self, Expectation, Options};

const DEADLINE: Duration = Duration::from_secs(60);

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/elf")
        .join(name)
}

/// What a bounded xx-verify run did.
#[derive(Debug)]
struct Run {
    /// Exit code; `None` when it was killed at the deadline.
    code: Option<i32>,
    stderr: String,
    /// Peak RSS in MiB (0 when GNU time is missing).
    max_rss_mib: u64,
    secs: f64,
}

/// `xx verify ARGS` for TARGETPLATFORM=linux/arm64, under GNU time when it
/// is there, killed (with its process group) after the deadline.
fn xx_verify(args: &[&str], scratch: &Path) -> Run {
    use std::os::unix::process::CommandExt;
    let rss = scratch.join("rss");
    let err = scratch.join("stderr");
    let _ = fs::remove_file(&rss);
    let timed = Path::new(TIME).exists();
    let mut cmd = if timed {
        let mut c = Command::new(TIME);
        c.arg("-f").arg("%M").arg("-o").arg(&rss);
        c.arg(env!("CARGO_BIN_EXE_xx"));
        c
    } else {
        Command::new(env!("CARGO_BIN_EXE_xx"))
    };
    let mut child = cmd
        .arg("verify")
        .args(args)
        .env_clear()
        .env("TARGETPLATFORM", "linux/arm64")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(&err).unwrap())
        .process_group(0)
        .spawn()
        .unwrap();
    let start = Instant::now();
    let (status, killed) =
        testkit::wait_or_kill(&mut child, DEADLINE, Duration::from_millis(10)).unwrap();
    Run {
        code: if killed { None } else { status.code() },
        stderr: fs::read_to_string(&err).unwrap_or_default(),
        max_rss_mib: testkit::peak_rss_mib(&rss),
        secs: start.elapsed().as_secs_f64(),
    }
}

/// A Debian-like arm64 root: the loader at the standard place; libc in
/// `libc_dir`.
fn arm64_root(dir: &Path, libc_dir: &str) {
    let lib = dir.join("usr/lib/aarch64-linux-gnu");
    fs::create_dir_all(&lib).unwrap();
    fs::write(lib.join("ld-linux-aarch64.so.1"), "").unwrap();
    let libc_at = dir.join(libc_dir.trim_start_matches('/'));
    fs::create_dir_all(&libc_at).unwrap();
    fs::write(libc_at.join("libc.so.6"), "").unwrap();
    std::os::unix::fs::symlink("usr/lib", dir.join("lib")).unwrap();
    std::os::unix::fs::symlink(
        "aarch64-linux-gnu/ld-linux-aarch64.so.1",
        dir.join("usr/lib/ld-linux-aarch64.so.1"),
    )
    .unwrap();
}

#[test]
fn special_files_as_arguments_are_reported_not_read() {
    let t = tmp("hostile-args");
    let fifo = t.path().join("fifo");
    mkfifo(&fifo);
    let sock = t.path().join("sock");
    let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let good = fixture("linux-arm64-musl-static");
    let r = xx_verify(
        &[
            fifo.to_str().unwrap(),
            "/dev/zero",
            sock.to_str().unwrap(),
            t.path().to_str().unwrap(),
            good.to_str().unwrap(),
        ],
        t.path(),
    );
    println!("exit {:?} in {:.2}s:\n{}", r.code, r.secs, r.stderr.trim());
    assert_eq!(r.code, Some(1), "must finish (not hang) and fail: {r:?}");
    for want in [
        format!(
            "{}: is a FIFO (named pipe), not a binary (not read)",
            fifo.display()
        ),
        "/dev/zero: is a character device, not a binary (not read)".to_string(),
        format!("{}: is a socket, not a binary (not read)", sock.display()),
        format!("{}: is a directory, not a binary", t.path().display()),
    ] {
        assert!(
            r.stderr.contains(&want),
            "expected {want:?} in:\n{}",
            r.stderr
        );
    }
    assert!(
        !r.stderr.contains("linux-arm64-musl-static"),
        "the good file still passes: {}",
        r.stderr
    );
}

#[test]
fn fifo_ld_so_conf_under_root_is_skipped() {
    let t = tmp("hostile-fifo-conf");
    let root = t.path().join("root");
    arm64_root(&root, "/usr/lib/aarch64-linux-gnu");
    mkfifo(&root.join("etc/ld.so.conf"));
    let bin = fixture("linux-arm64-gnu-dynamic");
    let r = xx_verify(
        &["--root", root.to_str().unwrap(), bin.to_str().unwrap()],
        t.path(),
    );
    println!("exit {:?} in {:.2}s: {}", r.code, r.secs, r.stderr.trim());
    assert_eq!(r.code, Some(0), "{r:?}");
}

#[test]
fn hostile_ld_so_conf_includes_are_bounded() {
    if !require(is_root(), "mknod of a /dev/zero device node needs root")
        || !require(
            Path::new(TIME).exists(),
            "GNU time is needed (scripts/setup.sh installs it)",
        )
    {
        return;
    }
    let t = tmp("hostile-includes");
    let root = t.path().join("root");
    // libc only where a good include says: the check passes only if the
    // good part of the configuration is still read.
    arm64_root(&root, "/opt/lib");
    let conf_d = root.join("etc/ld.so.conf.d");
    fs::create_dir_all(&conf_d).unwrap();
    fs::write(
        root.join("etc/ld.so.conf"),
        "include /etc/ld.so.conf.d/*.conf\n",
    )
    .unwrap();
    fs::write(conf_d.join("a-good.conf"), "/opt/lib\n").unwrap();
    // A real /dev/zero inside the root, included directly and by a file.
    fs::create_dir_all(root.join("dev")).unwrap();
    let zero = std::ffi::CString::new(root.join("dev/zero").to_str().unwrap()).unwrap();
    // SAFETY: a valid path; makedev(1, 5) is /dev/zero.
    let made = unsafe { libc::mknod(zero.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(1, 5)) };
    assert_eq!(made, 0, "mknod /dev/zero");
    fs::write(conf_d.join("b-zero.conf"), "include /dev/zero\n").unwrap();
    std::os::unix::fs::symlink("/dev/zero", conf_d.join("c-zero-link.conf")).unwrap();
    mkfifo(&conf_d.join("d-fifo.conf"));
    // Larger than the 4 MiB a loader config may have.
    fs::write(conf_d.join("e-big.conf"), "/nope\n".repeat(1 << 20)).unwrap();
    // Each of these includes the whole directory again, 8 levels deep.
    for i in 0..20 {
        fs::write(
            conf_d.join(format!("f-bomb-{i:02}.conf")),
            "include /etc/ld.so.conf.d/*.conf\n",
        )
        .unwrap();
    }
    let bin = fixture("linux-arm64-gnu-dynamic");
    let r = xx_verify(
        &["--root", root.to_str().unwrap(), bin.to_str().unwrap()],
        t.path(),
    );
    println!(
        "exit {:?} in {:.2}s, peak RSS {} MiB: {}",
        r.code,
        r.secs,
        r.max_rss_mib,
        r.stderr.trim()
    );
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(r.max_rss_mib < 100, "peak RSS {} MiB", r.max_rss_mib);
    assert!(r.secs < 20.0, "took {:.1}s", r.secs);
}

/// The library entry mxbuild uses: a FIFO inside an image root, directly
/// or through an in-root symlink, is reported without being opened.
#[test]
fn fifo_inside_an_image_root_is_reported() {
    let t = tmp("hostile-in-root");
    let root = t.path().to_path_buf();
    mkfifo(&root.join("usr/bin/fifo"));
    std::os::unix::fs::symlink("/usr/bin/fifo", root.join("usr/bin/link")).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let expect = Expectation::new("linux/arm64".parse::<Platform>().unwrap());
        let out: Vec<_> = ["/usr/bin/fifo", "/usr/bin/link"]
            .iter()
            .map(|p| verify::verify_in_root(&root, p, &expect, &Options::default()))
            .collect();
        let _ = tx.send(out);
    });
    let reports = rx
        .recv_timeout(DEADLINE)
        .expect("verify_in_root hung on a FIFO");
    for r in reports {
        println!("{}", r.failure_line());
        assert_eq!(
            r.error.as_deref(),
            Some("is a FIFO (named pipe), not a binary (not read)"),
            "{r:?}"
        );
    }
}
