//! Writing results to stdout from commands whose output is piped (`| head`,
//! `| jq`): a reader that went away ends the command quietly.

/// Writes to stdout; when the reader went away (`| head`), stops quietly
/// with the status a shell gives a process killed by SIGPIPE, instead of
/// the panic `println!` would raise.
pub fn emit(bytes: &[u8]) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(bytes).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(141);
        }
        eprintln!("error: cannot write to stdout: {e}");
        std::process::exit(1);
    }
}
