//! A RUN step's own network: a fresh network namespace with outbound access
//! through slirp4netns, the user-mode TCP/IP stack rootless containers use.
//! The step sees `lo` and `tap0` (10.0.2.100, gateway 10.0.2.2, DNS
//! 10.0.2.3) and can reach the internet (apt-get, cargo, go), but not the
//! host's loopback services (`--disable-host-loopback`), not the host's
//! interfaces' traffic (no AF_PACKET view of them), and not other builds.
//!
//! The namespace is kept alive by a bind mount of its nsfs file onto a file
//! on the build's private tmpfs, so runc can join it by path. slirp4netns
//! gets the read end of a pipe as its `--exit-fd`: when this process closes
//! the write end, or dies, even by SIGKILL, the kernel closes it and
//! slirp4netns exits. A record under the store names each running
//! slirp4netns, so a later build can still kill one whose build died
//! ([`reap_stale`]); the mount itself dies with the build's namespace.
//!
//! IPv6 is off on `tap0` (slirp4netns's IPv6 is experimental): names with
//! both address families resolve, and programs fall back to IPv4 at once
//! because there is no IPv6 route. `lo` keeps `::1`.

use std::fs;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::ExecError;
use super::private_tmpfs::alive;

/// The DNS server slirp4netns answers on (it forwards to the host's).
pub const DNS: &str = "10.0.2.3";

/// MTU of `tap0`: slirp4netns copies packets in user space, so large
/// frames mean far fewer copies (the value rootlesskit and podman use).
const MTU: u32 = 65520;

/// How long slirp4netns may take to configure the namespace.
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// A network namespace with slirp4netns attached; everything is stopped,
/// unmounted and removed on drop.
#[derive(Debug)]
pub struct SandboxNet {
    file: PathBuf,
    mounted: bool,
    slirp: Option<Child>,
    /// Write end of slirp4netns's `--exit-fd` pipe.
    exit: Option<OwnedFd>,
    record: Option<PathBuf>,
}

impl SandboxNet {
    /// Creates the namespace at `file` (a path on the private tmpfs), starts
    /// `slirp4netns` on it and waits until it has configured `tap0`.
    /// `records` is the directory on disk where the running slirp4netns is
    /// noted for [`reap_stale`].
    pub fn start(slirp: &Path, file: &Path, records: &Path) -> Result<SandboxNet, ExecError> {
        let mut net = SandboxNet {
            file: file.to_path_buf(),
            mounted: false,
            slirp: None,
            exit: None,
            record: None,
        };
        create_netns(file)
            .map_err(|e| ExecError(format!("cannot create a network namespace: {e}")))?;
        net.mounted = true;
        let (ready_r, ready_w) = pipe()?;
        let (exit_r, exit_w) = pipe()?;
        let log_path = file.with_extension("log");
        let log = fs::File::create(&log_path)?;
        let (ready_fd, exit_fd) = (ready_w.as_raw_fd(), exit_r.as_raw_fd());
        let mut cmd = Command::new(slirp);
        cmd.arg("--configure")
            .arg(format!("--mtu={MTU}"))
            .arg("--disable-host-loopback")
            // slirp4netns parses what untrusted steps send: let it run in a
            // mount namespace of its own without capabilities, and filter
            // its syscalls.
            .arg("--enable-sandbox")
            .arg("--enable-seccomp")
            .arg("--netns-type=path")
            .arg(format!("--ready-fd={ready_fd}"))
            .arg(format!("--exit-fd={exit_fd}"))
            .arg(file)
            .arg("tap0")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        // SAFETY: the closure only calls fcntl, which is async-signal-safe.
        unsafe {
            cmd.pre_exec(move || {
                for fd in [ready_fd, exit_fd] {
                    if libc::fcntl(fd, libc::F_SETFD, 0) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                Ok(())
            });
        }
        let child = cmd.spawn().map_err(|e| {
            ExecError(format!(
                "cannot start {}: {e}\nhint: apt-get install slirp4netns (scripts/setup.sh does)",
                slirp.display()
            ))
        })?;
        let pid = child.id();
        net.slirp = Some(child);
        net.exit = Some(exit_w);
        drop(ready_w);
        drop(exit_r);
        net.record = note(records, pid);
        if let Err(why) = wait_ready(&ready_r) {
            let said = fs::read_to_string(&log_path).unwrap_or_default();
            return Err(ExecError(format!(
                "slirp4netns did not set up the step's network ({why}){}\nhint: check that /dev/net/tun exists; --network none runs steps without network",
                if said.trim().is_empty() {
                    String::new()
                } else {
                    format!(": {}", said.trim())
                }
            )));
        }
        let _ = fs::remove_file(&log_path);
        Ok(net)
    }

    /// The namespace file to give runc.
    pub fn path(&self) -> &Path {
        &self.file
    }
}

impl Drop for SandboxNet {
    fn drop(&mut self) {
        // Closing the exit pipe asks slirp4netns to stop; kill it if it lingers.
        self.exit = None;
        if let Some(mut child) = self.slirp.take() {
            let start = Instant::now();
            loop {
                match child.try_wait() {
                    Ok(Some(_)) => break,
                    Ok(None) if start.elapsed() < Duration::from_secs(2) => {
                        std::thread::sleep(Duration::from_millis(10));
                    }
                    _ => {
                        let _ = child.kill();
                        let _ = child.wait();
                        break;
                    }
                }
            }
        }
        if let Some(r) = self.record.take() {
            let _ = fs::remove_file(r);
        }
        if self.mounted && super::mounts::unmount(&self.file).is_err() {
            return;
        }
        let _ = fs::remove_file(&self.file);
        let _ = fs::remove_file(self.file.with_extension("log"));
    }
}

fn pipe() -> Result<(OwnedFd, OwnedFd), ExecError> {
    let mut fds: [RawFd; 2] = [-1, -1];
    // SAFETY: pipe2 writes two descriptors into the array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error().into());
    }
    // SAFETY: both descriptors are fresh and owned by nothing else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Waits for slirp4netns to write `1` to its ready pipe.
fn wait_ready(fd: &OwnedFd) -> Result<(), String> {
    let mut p = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = READY_TIMEOUT.as_millis().min(i32::MAX as u128) as i32;
    // SAFETY: one valid pollfd.
    let n = unsafe { libc::poll(&mut p, 1, ms) };
    if n == 0 {
        return Err(format!("not ready after {}s", READY_TIMEOUT.as_secs()));
    }
    if n < 0 {
        return Err(std::io::Error::last_os_error().to_string());
    }
    let mut f = fs::File::from(fd.try_clone().map_err(|e| e.to_string())?);
    let mut b = [0u8; 1];
    match f.read(&mut b) {
        Ok(1) if b[0] == b'1' => Ok(()),
        Ok(0) => Err("it exited".to_string()),
        Ok(_) => Err(format!("unexpected ready byte {:?}", b[0])),
        Err(e) => Err(e.to_string()),
    }
}

/// Makes a new network namespace and binds it onto `file`. A short-lived
/// thread does it: unshare(CLONE_NEWNET) moves only the calling thread, so
/// the rest of mxbuild stays in the host's namespace.
fn create_netns(file: &Path) -> std::io::Result<()> {
    fs::File::create(file)?;
    let target = file.to_path_buf();
    let made = std::thread::spawn(move || -> std::io::Result<()> {
        // SAFETY: unshare affects only this thread, which ends right after.
        if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        // Interfaces made from now on (tap0) get no IPv6; /proc/sys/net is
        // this thread's namespace's. Kernels without IPv6 lack the file.
        let _ = fs::write("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
        let src =
            std::ffi::CString::new("/proc/thread-self/ns/net").map_err(std::io::Error::other)?;
        let dst = {
            use std::os::unix::ffi::OsStrExt;
            std::ffi::CString::new(target.as_os_str().as_bytes()).map_err(std::io::Error::other)?
        };
        // SAFETY: valid NUL-terminated paths that outlive the call.
        let rc = unsafe {
            libc::mount(
                src.as_ptr(),
                dst.as_ptr(),
                std::ptr::null(),
                libc::MS_BIND,
                std::ptr::null(),
            )
        };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    })
    .join()
    .map_err(|_| std::io::Error::other("the namespace thread panicked"))?;
    if let Err(e) = made {
        let _ = fs::remove_file(file);
        return Err(e);
    }
    Ok(())
}

/// Field 22 of /proc/PID/stat: when the process started (clock ticks after
/// boot); with the pid it names one process even after pids wrap.
fn start_time(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces; fields after it do not.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// Writes `<records>/slirp-<our pid>-<slirp pid>` with slirp's start time.
fn note(records: &Path, pid: u32) -> Option<PathBuf> {
    let started = start_time(pid)?;
    fs::create_dir_all(records).ok()?;
    let p = records.join(format!("slirp-{}-{pid}", std::process::id()));
    fs::write(&p, started.to_string()).ok()?;
    Some(p)
}

/// Kills slirp4netns processes noted by mxbuild processes that are gone
/// (normally they have exited already, their exit pipe closed by the
/// kernel) and removes their records. Returns how many were killed.
pub fn reap_stale(records: &Path) -> usize {
    let Ok(rd) = fs::read_dir(records) else {
        return 0;
    };
    let mut killed = 0;
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix("slirp-") else {
            continue;
        };
        let Some((owner, pid)) = rest
            .split_once('-')
            .and_then(|(o, p)| Some((o.parse::<u32>().ok()?, p.parse::<u32>().ok()?)))
        else {
            continue;
        };
        if owner == std::process::id() || alive(owner) {
            continue;
        }
        let noted: Option<u64> = fs::read_to_string(e.path())
            .ok()
            .and_then(|s| s.trim().parse().ok());
        let comm = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if noted.is_some() && start_time(pid) == noted && comm.trim() == "slirp4netns" {
            // SAFETY: kill has no memory preconditions; the pid was checked
            // to be that slirp4netns (same start time, same name).
            if unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) } == 0 {
                killed += 1;
            }
        }
        let _ = fs::remove_file(e.path());
    }
    killed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_time_reads_past_the_command_name() {
        let me = std::process::id();
        let t = start_time(me);
        assert!(t.is_some_and(|t| t > 0), "{t:?}");
        assert_eq!(start_time(me), t);
        assert_eq!(start_time(99_999_999), None);
    }

    #[test]
    fn reap_ignores_live_owners_and_drops_dead_owners_records() {
        let dir = std::env::temp_dir().join(format!("mxbuild-slirp-reap-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        // A live owner (us) naming ourselves: kept, nothing killed.
        let mine = dir.join(format!(
            "slirp-{}-{}",
            std::process::id(),
            std::process::id()
        ));
        fs::write(&mine, "1").unwrap();
        // A dead owner whose "slirp" is this test process: the name check
        // keeps it alive, the record goes.
        let dead = dir.join(format!("slirp-99999999-{}", std::process::id()));
        let started = start_time(std::process::id()).unwrap_or(0);
        fs::write(&dead, started.to_string()).unwrap();
        assert_eq!(reap_stale(&dir), 0);
        assert!(mine.exists() && !dead.exists());
        let _ = fs::remove_dir_all(&dir);
    }
}
