//! `mxbuild`: builds Dockerfiles for several platforms at once, running
//! `$BUILDPLATFORM` stages natively and once, and only target stages under QEMU.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::run()
}
