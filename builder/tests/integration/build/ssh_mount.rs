//! `RUN --mount=type=ssh`: the agent is forwarded and nothing of it stays
//! in the layer; missing or wrong agents are errors at the step's line.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use testkit::require;

use super::{Scenario, context_with, read};
use crate::support::mxbuild::{mx, mx_ok, ok, text, tool};

#[test]
fn ssh_mount_forwards_the_agent_and_leaves_nothing_in_the_layer() {
    let Some(s) = Scenario::start("ssh").filter(|_| {
        require(
            tool("ssh-agent") && tool("ssh-add") && tool("ssh-keygen"),
            "openssh-client is needed (scripts/setup.sh installs it)",
        )
    }) else {
        return;
    };
    let t = s.dir.path();
    ok(Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(t.join("key")));
    let sock = t.join("agent.sock");
    let mut agent = Command::new("ssh-agent")
        .arg("-D")
        .arg("-a")
        .arg(&sock)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !sock.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "ssh-agent did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    ok(Command::new("ssh-add")
        .env("SSH_AUTH_SOCK", &sock)
        .arg("-q")
        .arg(t.join("key")));
    // Asks the agent for its identities (SSH_AGENTC_REQUEST_IDENTITIES = 11)
    // with the perl of Debian's minbase; prints the answer's type and count.
    let ask = r#"perl -MIO::Socket::UNIX -e 'my $s = IO::Socket::UNIX->new(Peer => $ENV{SSH_AUTH_SOCK}) or die "connect: $!"; print $s pack("NC", 1, 11); read($s, my $l, 4); read($s, my $b, unpack("N", $l)); my ($t, $n) = unpack("CN", $b); print "$t $n\n"'"#;
    let ctx = context_with(
        t,
        "ctx",
        &format!(
            "FROM debian:bookworm\n\
             RUN --mount=type=ssh {ask} > /answer && echo \"$SSH_AUTH_SOCK\" > /sock\n\
             RUN --mount=type=ssh,id=other,target=/ssh/other.sock test ! -e /ssh/other.sock && touch /optional-skipped\n"
        ),
    );
    let local = t.join("local");
    let ssh = format!("default={}", sock.display());
    mx_ok(&[
        "build",
        "--platform",
        "linux/amd64",
        "--ssh",
        &ssh,
        "-o",
        &format!("type=local,dest={}", local.display()),
        ctx.to_str().unwrap(),
    ]);
    assert_eq!(
        read(local.join("answer")),
        "12 1",
        "the agent answered with one key"
    );
    assert_eq!(read(local.join("sock")), "/run/buildkit/ssh_agent.0");
    assert!(local.join("optional-skipped").exists());
    assert!(
        !local.join("run/buildkit").exists() && !local.join("ssh").exists(),
        "mount points do not leak into the image"
    );

    // A required agent that was not given, and a key file instead of a socket.
    let req = context_with(
        t,
        "req",
        "FROM debian:bookworm\nRUN --mount=type=ssh,required=true true\n",
    );
    let o = mx(&["build", "--platform", "linux/amd64", req.to_str().unwrap()]);
    let out = text(&o);
    assert!(!o.status.success(), "{out}");
    assert!(
        out.contains("Dockerfile:2") && out.contains("--ssh default"),
        "{out}"
    );
    let uid = context_with(
        t,
        "uid",
        "FROM debian:bookworm\nRUN --mount=type=ssh,uid=1000 true\n",
    );
    let o = mx(&[
        "build",
        "--platform",
        "linux/amd64",
        "--ssh",
        &ssh,
        uid.to_str().unwrap(),
    ]);
    let out = text(&o);
    assert!(
        !o.status.success() && out.contains("Dockerfile:2") && out.contains("uid"),
        "{out}"
    );
    let key = format!("default={}", t.join("key").display());
    let o = mx(&[
        "build",
        "--platform",
        "linux/amd64",
        "--ssh",
        &key,
        req.to_str().unwrap(),
    ]);
    let out = text(&o);
    assert!(!o.status.success() && out.contains("ssh-add"), "{out}");
    let _ = agent.kill();
    let _ = agent.wait();
}
