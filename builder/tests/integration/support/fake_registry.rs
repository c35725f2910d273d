//! A registry that serves whatever it is told (a std `TcpListener` thread
//! speaking just enough of `/v2`, optionally behind a Bearer token), for
//! hostile manifests, blobs and tokens.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// How the fake registry sends a body.
#[derive(Clone)]
pub enum Body {
    /// With an honest `Content-Length`.
    Sized(Vec<u8>),
    /// Without a length: the body ends when the connection closes.
    Unsized(Vec<u8>),
    /// Spaces forever, no length.
    Endless,
}

/// A registry that serves whatever it is told, from a thread.
pub struct FakeRegistry {
    pub port: u16,
    /// Every request path, in order.
    pub log: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

/// What the fake registry serves: path -> (content type, body).
pub type Routes = BTreeMap<String, (String, Body)>;

impl FakeRegistry {
    /// Serves `routes`; with `token`, every /v2 request needs `Bearer t0k`,
    /// handed out by `/token` with that body.
    pub fn start(routes: Routes, token: Option<Body>) -> FakeRegistry {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let routes = Arc::new(routes);
        let token = Arc::new(token);
        let (l2, s2) = (log.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (routes, token, log) = (routes.clone(), token.clone(), l2.clone());
                std::thread::spawn(move || serve(conn, port, &routes, &token, &log));
            }
        });
        FakeRegistry { port, log, stop }
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The logged request paths that start with `prefix`.
    pub fn requests(&self, prefix: &str) -> Vec<String> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|p| p.starts_with(prefix))
            .cloned()
            .collect()
    }
}

impl Drop for FakeRegistry {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve(
    conn: TcpStream,
    port: u16,
    routes: &Routes,
    token: &Option<Body>,
    log: &Mutex<Vec<String>>,
) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let target = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let mut authorized = false;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
            break;
        }
        if h.to_lowercase().starts_with("authorization: bearer t0k") {
            authorized = true;
        }
    }
    let path = target.split('?').next().unwrap_or("").to_string();
    log.lock().unwrap().push(path.clone());
    let mut w = conn;
    if path == "/token" {
        if let Some(body) = token {
            send(&mut w, "200 OK", "application/json", &[], body);
        }
        return;
    }
    if token.is_some() && !authorized {
        let challenge = format!(
            "WWW-Authenticate: Bearer realm=\"http://127.0.0.1:{port}/token\",service=\"fake\""
        );
        send(
            &mut w,
            "401 Unauthorized",
            "application/json",
            &[&challenge],
            &Body::Sized(
                br#"{"errors":[{"code":"UNAUTHORIZED","message":"token needed"}]}"#.to_vec(),
            ),
        );
        return;
    }
    if path == "/v2/" {
        send(
            &mut w,
            "200 OK",
            "application/json",
            &[],
            &Body::Sized(b"{}".to_vec()),
        );
        return;
    }
    match routes.get(&path) {
        Some((ct, body)) => send(&mut w, "200 OK", ct, &[], body),
        None => send(
            &mut w,
            "404 Not Found",
            "application/json",
            &[],
            &Body::Sized(
                br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#
                    .to_vec(),
            ),
        ),
    }
}

fn send(w: &mut TcpStream, status: &str, ct: &str, extra: &[&str], body: &Body) {
    let mut head = format!("HTTP/1.1 {status}\r\nContent-Type: {ct}\r\nConnection: close\r\n");
    for h in extra {
        head.push_str(h);
        head.push_str("\r\n");
    }
    if let Body::Sized(b) = body {
        head.push_str(&format!("Content-Length: {}\r\n", b.len()));
    }
    head.push_str("\r\n");
    if w.write_all(head.as_bytes()).is_err() {
        return;
    }
    match body {
        Body::Sized(b) | Body::Unsized(b) => {
            // The client may hang up early (that is the point): errors end the reply.
            for chunk in b.chunks(64 << 10) {
                if w.write_all(chunk).is_err() {
                    return;
                }
            }
        }
        Body::Endless => {
            let chunk = vec![b' '; 64 << 10];
            while w.write_all(&chunk).is_ok() {}
        }
    }
    let _ = w.flush();
}
