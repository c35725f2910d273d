//! `mxbuild binfmt`: what this host can run (natively or through QEMU
//! handlers usable in containers), and `--install` to register handlers.

use std::process::ExitCode;

use xx::Platform;

use crate::exec::binfmt::{self, Support};
use crate::exec::qemu_cpu::QemuCpus;

/// Platforms people build for, shown by default.
const COMMON: &str = "linux/amd64,linux/386,linux/arm64,linux/arm/v7,linux/arm/v6,linux/arm/v5,linux/ppc64le,linux/s390x,linux/riscv64,linux/mips64le,linux/loong64";

/// `mxbuild binfmt` flags.
#[derive(Debug, clap::Args)]
pub struct BinfmtArgs {
    /// Register QEMU handlers (flags PF) for these platforms (root; default: all common ones).
    #[arg(long, num_args = 0..=1, default_missing_value = "")]
    install: Option<String>,
    /// Platforms to show (default: the common ones).
    #[arg(long)]
    platform: Option<String>,
}

/// Runs `mxbuild binfmt`.
pub fn run(args: &BinfmtArgs) -> ExitCode {
    let host = Platform::host();
    if let Some(list) = &args.install {
        let list = if list.is_empty() {
            COMMON
        } else {
            list.as_str()
        };
        let platforms = match Platform::parse_list(list) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("error: --install: {e}");
                return ExitCode::from(2);
            }
        };
        let mut failed = false;
        for p in platforms {
            if matches!(binfmt::support(&host, &p), Support::Native) {
                continue;
            }
            match binfmt::install(&p) {
                Ok(msg) => println!("{p}: {msg}"),
                Err(e) => {
                    eprintln!("{p}: error: {e}");
                    failed = true;
                }
            }
        }
        return if failed {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        };
    }
    let list = args.platform.as_deref().unwrap_or(COMMON);
    let platforms = match Platform::parse_list(list) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: --platform: {e}");
            return ExitCode::from(2);
        }
    };
    // The CPU emulated RUN steps and smoke tests get (QEMU_CPU).
    let cpus = QemuCpus::from_platform_list(&[list.to_string()]);
    println!("host: {host}");
    println!(
        "{:<16} {:<10} {:<11} detail",
        "PLATFORM", "RUNS", "QEMU CPU"
    );
    for p in platforms {
        let (how, detail) = match binfmt::support(&host, &p) {
            Support::Native => ("native", String::new()),
            Support::Emulated {
                handler,
                interpreter,
            } => ("emulated", format!("{handler} -> {interpreter}")),
            Support::Unusable(why) => ("no", why),
            Support::Missing => ("no", format!("no handler; {}", binfmt::fix_hint(&p))),
        };
        let cpu = match how {
            "native" => "-",
            _ => cpus.cpu(&p).unwrap_or("default"),
        };
        println!("{:<16} {:<10} {cpu:<11} {detail}", p.to_string(), how);
    }
    ExitCode::SUCCESS
}
