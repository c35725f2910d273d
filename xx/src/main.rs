//! The one static `xx` executable. It acts as the helper named by its
//! invocation (`xx-info` via a symlink) or by its first argument (`xx info`).

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let code = xx::cmd::run_multicall(&args);
    ExitCode::from(code)
}
