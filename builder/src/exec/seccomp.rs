//! Docker's default seccomp profile, applied to every sandboxed RUN step and
//! to the smoke test. Capabilities alone do not stop a build step from
//! reaching kernel surface root in a container should not need: creating
//! user namespaces (`unshare -U`, then `mount` inside them), loading BPF,
//! keyrings, `ptrace` of other processes, changing personality flags that
//! weaken ASLR. Docker and BuildKit run steps under this profile, so
//! Dockerfiles that build with them build here too.
//!
//! The data re-expresses moby's `profiles/seccomp/default.json` (a list of
//! syscall names and the conditions on them); the rules are evaluated the
//! way moby does before handing the result to the runtime: a rule is kept
//! when the host architecture, the step's capabilities and the running
//! kernel match its `includes` and none of its `excludes`. Steps under QEMU
//! user emulation are filtered by the host's syscalls (qemu-*-static runs as
//! a host binary and translates), so the host architecture is the one that
//! counts, with its compat sub-architectures (x86 and x32 on x86_64).

use oci_spec::runtime::{
    Arch, Capability, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArgBuilder,
    LinuxSeccompOperator, LinuxSyscall,
};

use super::ExecError;

/// errno for everything the profile does not allow (EPERM), as Docker does.
const DEFAULT_ERRNO: u32 = libc::EPERM as u32;

/// What a rule does to its syscalls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    /// Let the call through.
    Allow,
    /// Fail the call with this errno.
    Errno(u32),
}

/// A condition on one syscall argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ArgCheck {
    index: usize,
    value: u64,
    value_two: u64,
    op: LinuxSeccompOperator,
}

const fn arg(index: usize, op: LinuxSeccompOperator, value: u64) -> ArgCheck {
    ArgCheck {
        index,
        value,
        value_two: 0,
        op,
    }
}

/// When a rule applies (moby's `includes`/`excludes`).
#[derive(Debug, Clone, Copy, Default)]
struct When {
    /// Host architectures (libseccomp names) the rule is for; empty = all.
    arches: &'static [&'static str],
    /// Capabilities the step must all have; empty = none needed.
    caps: &'static [Capability],
    /// Oldest kernel (major, minor) the rule is for.
    min_kernel: Option<(u32, u32)>,
}

const ALWAYS: When = When {
    arches: &[],
    caps: &[],
    min_kernel: None,
};

/// One entry of the profile.
#[derive(Debug, Clone, Copy)]
struct Rule {
    names: &'static [&'static str],
    action: Action,
    args: &'static [ArgCheck],
    includes: When,
    /// The rule is dropped if any of these match (each field on its own).
    excludes: When,
}

const fn allow(names: &'static [&'static str]) -> Rule {
    Rule {
        names,
        action: Action::Allow,
        args: &[],
        includes: ALWAYS,
        excludes: ALWAYS,
    }
}

const fn allow_for_arches(names: &'static [&'static str], arches: &'static [&'static str]) -> Rule {
    Rule {
        includes: When {
            arches,
            caps: &[],
            min_kernel: None,
        },
        ..allow(names)
    }
}

const fn allow_with_cap(names: &'static [&'static str], cap: &'static [Capability]) -> Rule {
    Rule {
        includes: When {
            arches: &[],
            caps: cap,
            min_kernel: None,
        },
        ..allow(names)
    }
}

const fn allow_args(names: &'static [&'static str], args: &'static [ArgCheck]) -> Rule {
    Rule {
        args,
        ..allow(names)
    }
}

use LinuxSeccompOperator::{ScmpCmpEq as EQ, ScmpCmpGt as GT, ScmpCmpLt as LT};

/// Namespace flags of clone(2) a step without CAP_SYS_ADMIN may not pass:
/// CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |
/// CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET.
const CLONE_NAMESPACE_FLAGS: u64 = 0x7E02_0000;

/// AF_VSOCK: talking to the hypervisor is not for build steps.
const AF_VSOCK: u64 = 40;

/// Syscalls every step may make.
const ALLOWED: &[&str] = &[
    "accept",
    "accept4",
    "access",
    "adjtimex",
    "alarm",
    "bind",
    "brk",
    "cachestat",
    "capget",
    "capset",
    "chdir",
    "chmod",
    "chown",
    "chown32",
    "clock_adjtime",
    "clock_adjtime64",
    "clock_getres",
    "clock_getres_time64",
    "clock_gettime",
    "clock_gettime64",
    "clock_nanosleep",
    "clock_nanosleep_time64",
    "close",
    "close_range",
    "connect",
    "copy_file_range",
    "creat",
    "dup",
    "dup2",
    "dup3",
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_ctl_old",
    "epoll_pwait",
    "epoll_pwait2",
    "epoll_wait",
    "epoll_wait_old",
    "eventfd",
    "eventfd2",
    "execve",
    "execveat",
    "exit",
    "exit_group",
    "faccessat",
    "faccessat2",
    "fadvise64",
    "fadvise64_64",
    "fallocate",
    "fanotify_mark",
    "fchdir",
    "fchmod",
    "fchmodat",
    "fchmodat2",
    "fchown",
    "fchown32",
    "fchownat",
    "fcntl",
    "fcntl64",
    "fdatasync",
    "fgetxattr",
    "flistxattr",
    "flock",
    "fork",
    "fremovexattr",
    "fsetxattr",
    "fstat",
    "fstat64",
    "fstatat64",
    "fstatfs",
    "fstatfs64",
    "fsync",
    "ftruncate",
    "ftruncate64",
    "futex",
    "futex_requeue",
    "futex_time64",
    "futex_wait",
    "futex_waitv",
    "futex_wake",
    "futimesat",
    "getcpu",
    "getcwd",
    "getdents",
    "getdents64",
    "getegid",
    "getegid32",
    "geteuid",
    "geteuid32",
    "getgid",
    "getgid32",
    "getgroups",
    "getgroups32",
    "getitimer",
    "getpeername",
    "getpgid",
    "getpgrp",
    "getpid",
    "getppid",
    "getpriority",
    "getrandom",
    "getresgid",
    "getresgid32",
    "getresuid",
    "getresuid32",
    "getrlimit",
    "get_robust_list",
    "getrusage",
    "getsid",
    "getsockname",
    "getsockopt",
    "get_thread_area",
    "gettid",
    "gettimeofday",
    "getuid",
    "getuid32",
    "getxattr",
    "getxattrat",
    "inotify_add_watch",
    "inotify_init",
    "inotify_init1",
    "inotify_rm_watch",
    "io_cancel",
    "ioctl",
    "io_destroy",
    "io_getevents",
    "io_pgetevents",
    "io_pgetevents_time64",
    "ioprio_get",
    "ioprio_set",
    "io_setup",
    "io_submit",
    "ipc",
    "kill",
    "landlock_add_rule",
    "landlock_create_ruleset",
    "landlock_restrict_self",
    "lchown",
    "lchown32",
    "lgetxattr",
    "link",
    "linkat",
    "listen",
    "listmount",
    "listxattr",
    "listxattrat",
    "llistxattr",
    "_llseek",
    "lremovexattr",
    "lseek",
    "lsetxattr",
    "lstat",
    "lstat64",
    "madvise",
    "map_shadow_stack",
    "membarrier",
    "memfd_create",
    "memfd_secret",
    "mincore",
    "mkdir",
    "mkdirat",
    "mknod",
    "mknodat",
    "mlock",
    "mlock2",
    "mlockall",
    "mmap",
    "mmap2",
    "mprotect",
    "mq_getsetattr",
    "mq_notify",
    "mq_open",
    "mq_timedreceive",
    "mq_timedreceive_time64",
    "mq_timedsend",
    "mq_timedsend_time64",
    "mq_unlink",
    "mremap",
    "mseal",
    "msgctl",
    "msgget",
    "msgrcv",
    "msgsnd",
    "msync",
    "munlock",
    "munlockall",
    "munmap",
    "name_to_handle_at",
    "nanosleep",
    "newfstatat",
    "_newselect",
    "open",
    "openat",
    "openat2",
    "pause",
    "pidfd_open",
    "pidfd_send_signal",
    "pipe",
    "pipe2",
    "pkey_alloc",
    "pkey_free",
    "pkey_mprotect",
    "poll",
    "ppoll",
    "ppoll_time64",
    "prctl",
    "pread64",
    "preadv",
    "preadv2",
    "prlimit64",
    "process_mrelease",
    "pselect6",
    "pselect6_time64",
    "pwrite64",
    "pwritev",
    "pwritev2",
    "read",
    "readahead",
    "readlink",
    "readlinkat",
    "readv",
    "recv",
    "recvfrom",
    "recvmmsg",
    "recvmmsg_time64",
    "recvmsg",
    "remap_file_pages",
    "removexattr",
    "removexattrat",
    "rename",
    "renameat",
    "renameat2",
    "restart_syscall",
    "riscv_hwprobe",
    "rmdir",
    "rseq",
    "rt_sigaction",
    "rt_sigpending",
    "rt_sigprocmask",
    "rt_sigqueueinfo",
    "rt_sigreturn",
    "rt_sigsuspend",
    "rt_sigtimedwait",
    "rt_sigtimedwait_time64",
    "rt_tgsigqueueinfo",
    "sched_getaffinity",
    "sched_getattr",
    "sched_getparam",
    "sched_get_priority_max",
    "sched_get_priority_min",
    "sched_getscheduler",
    "sched_rr_get_interval",
    "sched_rr_get_interval_time64",
    "sched_setaffinity",
    "sched_setattr",
    "sched_setparam",
    "sched_setscheduler",
    "sched_yield",
    "seccomp",
    "select",
    "semctl",
    "semget",
    "semop",
    "semtimedop",
    "semtimedop_time64",
    "send",
    "sendfile",
    "sendfile64",
    "sendmmsg",
    "sendmsg",
    "sendto",
    "setfsgid",
    "setfsgid32",
    "setfsuid",
    "setfsuid32",
    "setgid",
    "setgid32",
    "setgroups",
    "setgroups32",
    "setitimer",
    "setpgid",
    "setpriority",
    "setregid",
    "setregid32",
    "setresgid",
    "setresgid32",
    "setresuid",
    "setresuid32",
    "setreuid",
    "setreuid32",
    "setrlimit",
    "set_robust_list",
    "setsid",
    "setsockopt",
    "set_thread_area",
    "set_tid_address",
    "setuid",
    "setuid32",
    "setxattr",
    "setxattrat",
    "shmat",
    "shmctl",
    "shmdt",
    "shmget",
    "shutdown",
    "sigaltstack",
    "signalfd",
    "signalfd4",
    "sigprocmask",
    "sigreturn",
    "socketcall",
    "socketpair",
    "splice",
    "stat",
    "stat64",
    "statfs",
    "statfs64",
    "statmount",
    "statx",
    "symlink",
    "symlinkat",
    "sync",
    "sync_file_range",
    "syncfs",
    "sysinfo",
    "tee",
    "tgkill",
    "time",
    "timer_create",
    "timer_delete",
    "timer_getoverrun",
    "timer_gettime",
    "timer_gettime64",
    "timer_settime",
    "timer_settime64",
    "timerfd_create",
    "timerfd_gettime",
    "timerfd_gettime64",
    "timerfd_settime",
    "timerfd_settime64",
    "times",
    "tkill",
    "truncate",
    "truncate64",
    "ugetrlimit",
    "umask",
    "uname",
    "unlink",
    "unlinkat",
    "uretprobe",
    "utime",
    "utimensat",
    "utimensat_time64",
    "utimes",
    "vfork",
    "vmsplice",
    "wait4",
    "waitid",
    "waitpid",
    "write",
    "writev",
];

/// The profile, in moby's order.
const RULES: &[Rule] = &[
    allow(ALLOWED),
    Rule {
        includes: When {
            arches: &[],
            caps: &[],
            min_kernel: Some((4, 8)),
        },
        ..allow(&["process_vm_readv", "process_vm_writev", "ptrace"])
    },
    // socket(2) for every family but AF_VSOCK.
    allow_args(&["socket"], &[arg(0, LT, AF_VSOCK - 2)]),
    allow_args(&["socket"], &[arg(0, EQ, AF_VSOCK - 1)]),
    allow_args(&["socket"], &[arg(0, GT, AF_VSOCK)]),
    // personality(2): only the values programs use to query or to ask for
    // the plain Linux (or 32-bit Linux) personality; not ADDR_NO_RANDOMIZE.
    allow_args(&["personality"], &[arg(0, EQ, 0x0)]),
    allow_args(&["personality"], &[arg(0, EQ, 0x8)]),
    allow_args(&["personality"], &[arg(0, EQ, 0x20000)]),
    allow_args(&["personality"], &[arg(0, EQ, 0x20008)]),
    allow_args(&["personality"], &[arg(0, EQ, 0xffff_ffff)]),
    allow_for_arches(&["sync_file_range2", "swapcontext"], &["ppc64le"]),
    allow_for_arches(
        &[
            "arm_fadvise64_64",
            "arm_sync_file_range",
            "sync_file_range2",
            "breakpoint",
            "cacheflush",
            "set_tls",
        ],
        &["arm", "arm64"],
    ),
    allow_for_arches(&["arch_prctl"], &["amd64", "x32"]),
    allow_for_arches(&["modify_ldt"], &["amd64", "x32", "x86"]),
    allow_for_arches(
        &[
            "s390_pci_mmio_read",
            "s390_pci_mmio_write",
            "s390_runtime_instr",
        ],
        &["s390", "s390x"],
    ),
    allow_for_arches(&["riscv_flush_icache"], &["riscv64"]),
    allow_with_cap(&["open_by_handle_at"], &[Capability::DacReadSearch]),
    allow_with_cap(
        &[
            "bpf",
            "clone",
            "clone3",
            "fanotify_init",
            "fsconfig",
            "fsmount",
            "fsopen",
            "fspick",
            "lookup_dcookie",
            "lsm_get_self_attr",
            "lsm_list_modules",
            "lsm_set_self_attr",
            "mount",
            "mount_setattr",
            "move_mount",
            "open_tree",
            "perf_event_open",
            "quotactl",
            "quotactl_fd",
            "setdomainname",
            "sethostname",
            "setns",
            "syslog",
            "umount",
            "umount2",
            "unshare",
        ],
        &[Capability::SysAdmin],
    ),
    // Without CAP_SYS_ADMIN, clone(2) may not make namespaces (s390 swaps
    // the first two arguments).
    Rule {
        args: &[ArgCheck {
            index: 0,
            value: CLONE_NAMESPACE_FLAGS,
            value_two: 0,
            op: LinuxSeccompOperator::ScmpCmpMaskedEq,
        }],
        excludes: When {
            arches: &["s390", "s390x"],
            caps: &[Capability::SysAdmin],
            min_kernel: None,
        },
        ..allow(&["clone"])
    },
    Rule {
        args: &[ArgCheck {
            index: 1,
            value: CLONE_NAMESPACE_FLAGS,
            value_two: 0,
            op: LinuxSeccompOperator::ScmpCmpMaskedEq,
        }],
        includes: When {
            arches: &["s390", "s390x"],
            caps: &[],
            min_kernel: None,
        },
        excludes: When {
            arches: &[],
            caps: &[Capability::SysAdmin],
            min_kernel: None,
        },
        ..allow(&["clone"])
    },
    // clone3(2) passes its flags in memory a filter cannot read: ENOSYS
    // makes libc fall back to clone(2), which the rule above checks.
    Rule {
        action: Action::Errno(libc::ENOSYS as u32),
        excludes: When {
            arches: &[],
            caps: &[Capability::SysAdmin],
            min_kernel: None,
        },
        ..allow(&["clone3"])
    },
    allow_with_cap(&["reboot"], &[Capability::SysBoot]),
    allow_with_cap(&["chroot"], &[Capability::SysChroot]),
    allow_with_cap(
        &["delete_module", "init_module", "finit_module"],
        &[Capability::SysModule],
    ),
    allow_with_cap(&["acct"], &[Capability::SysPacct]),
    allow_with_cap(
        &[
            "kcmp",
            "pidfd_getfd",
            "process_madvise",
            "process_vm_readv",
            "process_vm_writev",
            "ptrace",
        ],
        &[Capability::SysPtrace],
    ),
    allow_with_cap(&["iopl", "ioperm"], &[Capability::SysRawio]),
    allow_with_cap(
        &["settimeofday", "stime", "clock_settime", "clock_settime64"],
        &[Capability::SysTime],
    ),
    allow_with_cap(&["vhangup"], &[Capability::SysTtyConfig]),
    allow_with_cap(
        &[
            "get_mempolicy",
            "mbind",
            "set_mempolicy",
            "set_mempolicy_home_node",
        ],
        &[Capability::SysNice],
    ),
    allow_with_cap(&["syslog"], &[Capability::Syslog]),
    allow_with_cap(&["bpf"], &[Capability::Bpf]),
    allow_with_cap(&["perf_event_open"], &[Capability::Perfmon]),
];

/// Architectures a filter for `native` covers: the native one and the
/// compat ABIs its kernel also runs (moby's `archMap`). `None` for a host
/// without an entry: the runtime then filters the native ABI only.
fn arch_map(native: &str) -> Option<Vec<Arch>> {
    use Arch::*;
    Some(match native {
        "amd64" => vec![ScmpArchX86_64, ScmpArchX86, ScmpArchX32],
        "arm64" => vec![ScmpArchAarch64, ScmpArchArm],
        "mips64" => vec![ScmpArchMips64, ScmpArchMips, ScmpArchMips64n32],
        "mips64n32" => vec![ScmpArchMips64n32, ScmpArchMips, ScmpArchMips64],
        "mipsel64" => vec![ScmpArchMipsel64, ScmpArchMipsel, ScmpArchMipsel64n32],
        "mipsel64n32" => vec![ScmpArchMipsel64n32, ScmpArchMipsel, ScmpArchMipsel64],
        "s390x" => vec![ScmpArchS390x, ScmpArchS390],
        "riscv64" => vec![ScmpArchRiscv64],
        "loongarch64" => vec![ScmpArchLoongarch64],
        _ => return None,
    })
}

/// This host's architecture by libseccomp's name (the names rules use).
fn native_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "powerpc64" if cfg!(target_endian = "little") => "ppc64le",
        "powerpc64" => "ppc64",
        "mips64" if cfg!(target_endian = "little") => "mipsel64",
        other => other,
    }
}

/// The running kernel's (major, minor), from uname(2); (0, 0) if unknown,
/// which keeps only rules without a kernel condition.
fn kernel_version() -> (u32, u32) {
    // SAFETY: uname fills the zeroed struct it is given.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut u) } != 0 {
        return (0, 0);
    }
    let release: String = u
        .release
        .iter()
        .take_while(|c| **c != 0)
        .map(|c| *c as u8 as char)
        .collect();
    parse_kernel(&release)
}

fn parse_kernel(release: &str) -> (u32, u32) {
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    let major = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let minor = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    (major, minor)
}

/// The default profile for a step with capabilities `caps` on this host.
pub fn default_profile(caps: &[Capability]) -> Result<LinuxSeccomp, ExecError> {
    profile_for(native_arch(), caps, kernel_version())
}

/// The profile as moby builds it for architecture `arch`, capabilities
/// `caps` and kernel `kernel`.
fn profile_for(
    arch: &str,
    caps: &[Capability],
    kernel: (u32, u32),
) -> Result<LinuxSeccomp, ExecError> {
    let kept = RULES.iter().filter(|r| {
        let inc = &r.includes;
        let exc = &r.excludes;
        let included = (inc.arches.is_empty() || inc.arches.contains(&arch))
            && inc.caps.iter().all(|c| caps.contains(c))
            && inc.min_kernel.is_none_or(|v| kernel >= v);
        let excluded = exc.arches.contains(&arch)
            || exc.caps.iter().any(|c| caps.contains(c))
            || exc.min_kernel.is_some_and(|v| kernel >= v);
        included && !excluded
    });
    let mut syscalls = Vec::new();
    for r in kept {
        let mut s = LinuxSyscall::default();
        s.set_names(r.names.iter().map(|n| n.to_string()).collect());
        match r.action {
            Action::Allow => {
                s.set_action(LinuxSeccompAction::ScmpActAllow);
            }
            Action::Errno(e) => {
                s.set_action(LinuxSeccompAction::ScmpActErrno)
                    .set_errno_ret(Some(e));
            }
        }
        if !r.args.is_empty() {
            let mut args = Vec::new();
            for a in r.args {
                args.push(
                    LinuxSeccompArgBuilder::default()
                        .index(a.index)
                        .value(a.value)
                        .value_two(a.value_two)
                        .op(a.op)
                        .build()
                        .map_err(|e| ExecError(format!("internal: seccomp rule: {e}")))?,
                );
            }
            s.set_args(Some(args));
        }
        syscalls.push(s);
    }
    let mut p = LinuxSeccomp::default();
    p.set_default_action(LinuxSeccompAction::ScmpActErrno)
        .set_default_errno_ret(Some(DEFAULT_ERRNO))
        .set_architectures(arch_map(arch))
        .set_syscalls(Some(syscalls));
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names_with(p: &LinuxSeccomp, action: LinuxSeccompAction) -> Vec<String> {
        p.syscalls()
            .iter()
            .flatten()
            .filter(|s| s.action() == action)
            .flat_map(|s| s.names().clone())
            .collect()
    }

    /// Unconditional allows: names of rules without argument checks.
    fn plain_allows(p: &LinuxSeccomp) -> Vec<String> {
        p.syscalls()
            .iter()
            .flatten()
            .filter(|s| s.action() == LinuxSeccompAction::ScmpActAllow && s.args().is_none())
            .flat_map(|s| s.names().clone())
            .collect()
    }

    const DOCKER_CAPS: &[Capability] = &[Capability::Chown, Capability::SysChroot];

    #[test]
    fn default_step_cannot_make_namespaces_or_mount() {
        let p = profile_for("amd64", DOCKER_CAPS, (6, 1)).unwrap();
        let v = serde_json::to_value(&p).unwrap_or_default();
        assert_eq!(v["defaultAction"], "SCMP_ACT_ERRNO");
        assert_eq!(v["defaultErrnoRet"], 1);
        assert_eq!(
            v["architectures"],
            serde_json::json!(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"])
        );
        let allowed = plain_allows(&p);
        for forbidden in [
            "unshare", "mount", "setns", "umount2", "bpf", "kcmp", "clone",
        ] {
            assert!(!allowed.iter().any(|n| n == forbidden), "{forbidden}");
        }
        for needed in [
            "read",
            "execve",
            "arch_prctl",
            "chroot",
            "ptrace",
            "modify_ldt",
        ] {
            assert!(allowed.iter().any(|n| n == needed), "{needed}");
        }
        assert!(!allowed.iter().any(|n| n == "cacheflush"), "arm only");
        // clone is allowed only without namespace flags; clone3 says ENOSYS.
        let clone: Vec<&LinuxSyscall> = p
            .syscalls()
            .iter()
            .flatten()
            .filter(|s| s.names().iter().any(|n| n == "clone"))
            .collect();
        assert_eq!(clone.len(), 1);
        let a = clone[0].args().clone().unwrap_or_default();
        assert_eq!(
            (a[0].index(), a[0].value(), a[0].op()),
            (0, 0x7E02_0000, LinuxSeccompOperator::ScmpCmpMaskedEq)
        );
        let clone3: Vec<&LinuxSyscall> = p
            .syscalls()
            .iter()
            .flatten()
            .filter(|s| s.names().iter().any(|n| n == "clone3"))
            .collect();
        assert_eq!(clone3.len(), 1);
        assert_eq!(clone3[0].errno_ret(), Some(libc::ENOSYS as u32));
        assert_eq!(
            names_with(&p, LinuxSeccompAction::ScmpActErrno),
            vec!["clone3".to_string()]
        );
    }

    #[test]
    fn sys_admin_gets_the_admin_calls_and_plain_clone() {
        let caps = [Capability::SysAdmin, Capability::SysChroot];
        let p = profile_for("amd64", &caps, (6, 1)).unwrap();
        let allowed = plain_allows(&p);
        for n in ["unshare", "mount", "setns", "clone", "clone3"] {
            assert!(allowed.iter().any(|x| x == n), "{n}");
        }
        assert!(names_with(&p, LinuxSeccompAction::ScmpActErrno).is_empty());
    }

    #[test]
    fn arches_and_kernel_conditions() {
        let arm = profile_for("arm64", DOCKER_CAPS, (6, 1)).unwrap();
        let v = serde_json::to_value(&arm).unwrap_or_default();
        assert_eq!(
            v["architectures"],
            serde_json::json!(["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"])
        );
        let allowed = plain_allows(&arm);
        assert!(allowed.iter().any(|n| n == "cacheflush"));
        assert!(!allowed.iter().any(|n| n == "arch_prctl"));
        // Before 4.8, ptrace could bypass seccomp: not allowed there.
        let old = profile_for("amd64", DOCKER_CAPS, (4, 4)).unwrap();
        assert!(!plain_allows(&old).iter().any(|n| n == "ptrace"));
        assert_eq!(parse_kernel("6.18.44-fc-v782"), (6, 18));
        assert_eq!(parse_kernel("4.8"), (4, 8));
        assert_eq!(parse_kernel("junk"), (0, 0));
        // No archMap entry: the runtime's native-only default.
        assert!(
            profile_for("ppc64le", DOCKER_CAPS, (6, 1))
                .unwrap()
                .architectures()
                .is_none()
        );
    }

    #[test]
    fn socket_blocks_vsock_and_personality_only_harmless_values() {
        let p = profile_for("amd64", DOCKER_CAPS, (6, 1)).unwrap();
        let conds = |name: &str| -> Vec<(u64, LinuxSeccompOperator)> {
            p.syscalls()
                .iter()
                .flatten()
                .filter(|s| s.names().iter().any(|n| n == name))
                .flat_map(|s| s.args().clone().unwrap_or_default())
                .map(|a| (a.value(), a.op()))
                .collect()
        };
        assert_eq!(conds("socket"), vec![(38, LT), (39, EQ), (40, GT)]);
        let pers: Vec<u64> = conds("personality").into_iter().map(|c| c.0).collect();
        assert_eq!(pers, vec![0, 8, 0x20000, 0x20008, 0xffff_ffff]);
        assert!(!pers.contains(&0x0040000), "ADDR_NO_RANDOMIZE");
    }
}
