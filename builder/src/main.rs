//! `mxbuild`: builds Dockerfiles for several platforms at once, running
//! `$BUILDPLATFORM` stages natively and once, and only target stages under QEMU.

use std::process::ExitCode;

fn main() -> ExitCode {
    mxbuild::cli::run()
}
