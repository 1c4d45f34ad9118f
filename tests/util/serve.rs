//! A static file server on 127.0.0.1 for pages that will not load from
//! `file://` (speedscope fetches its `#profileURL=` only over HTTP): each
//! request's path is a file under one or more mounted directories, served
//! whole with `Connection: close`, on a thread of its own until the
//! server is dropped.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Files served over HTTP on 127.0.0.1, on a port of the system's choice.
pub struct Server {
    port: u16,
    stop: Arc<AtomicBool>,
}

impl Server {
    /// Serves each `(prefix, dir)`: `/prefix/a/b` is the file `dir/a/b`.
    pub fn start(mounts: &[(&str, &Path)]) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a port on 127.0.0.1");
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let mounts: Vec<(String, PathBuf)> = mounts
            .iter()
            .map(|(prefix, dir)| (format!("/{prefix}/"), dir.to_path_buf()))
            .collect();
        let stopped = Arc::clone(&stop);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    return;
                }
                if let Ok(stream) = stream {
                    answer(stream, &mounts);
                }
            }
        });
        Server { port, stop }
    }

    /// The address of `path` (e.g. `/page/index.html`) on this server.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accepting thread so that it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Reads one request from `stream` and sends the file it names (404 if
/// none, or the path leaves its directory).
fn answer(mut stream: TcpStream, mounts: &[(String, PathBuf)]) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request = String::new();
    if reader.read_line(&mut request).is_err() {
        return;
    }
    // The headers, up to the blank line; nothing in them matters here.
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
        line.clear();
    }
    let path = request.split_whitespace().nth(1).unwrap_or("/");
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let body = file_of(path, mounts).and_then(|file| std::fs::read(file).ok());
    let head = match &body {
        Some(bytes) => format!(
            "HTTP/1.1 200 OK\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            content_type(path),
            bytes.len()
        ),
        None => {
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string()
        }
    };
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body.as_deref().unwrap_or_default());
}

/// The file a request path names, if it lies under its mount.
fn file_of(path: &str, mounts: &[(String, PathBuf)]) -> Option<PathBuf> {
    let (prefix, dir) = mounts.iter().find(|(prefix, _)| path.starts_with(prefix))?;
    let relative = Path::new(&path[prefix.len()..]);
    let inside = relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)));
    inside.then(|| dir.join(relative))
}

/// The content type of a file by its extension.
fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript",
        Some("css") => "text/css",
        Some("json") => "application/json",
        Some("wasm") => "application/wasm",
        Some("png") => "image/png",
        Some("woff2") => "font/woff2",
        _ => "application/octet-stream",
    }
}
