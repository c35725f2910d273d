//! mxbuild as a child with a deadline and a private store, under GNU time
//! for its peak memory: a run on hostile input that hangs fails its test
//! instead of blocking the suite.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use testkit::GNU_TIME as TIME;

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
    Run {
        code: if killed { None } else { status.code() },
        text,
        max_rss_mib: testkit::peak_rss_mib(&rss_p),
    }
}
