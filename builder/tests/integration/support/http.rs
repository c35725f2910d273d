//! A static file server for `ADD <url>` tests: Python's `http.server` on a
//! free loopback port, serving one directory (it sends `Last-Modified` from
//! each file's mtime), stopped on drop.

use std::path::Path;
use std::process::{Child, Command, Stdio};

/// The server process, killed on drop.
pub struct HttpServer {
    child: Child,
    port: u16,
}

impl HttpServer {
    pub fn start(dir: &Path) -> HttpServer {
        let port = super::free_port();
        let child = Command::new("python3")
            .args(["-m", "http.server", "--bind", "127.0.0.1", "--directory"])
            .arg(dir)
            .arg(port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        super::wait_for_port(port, "python3 -m http.server");
        HttpServer { child, port }
    }

    /// `http://127.0.0.1:<port>/<path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/{path}", self.port)
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
