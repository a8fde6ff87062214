//! A smart-HTTP git server on 127.0.0.1 that demands basic auth: each request is checked against
//! the accepted username/password pairs, then handed to the real `git http-backend` as CGI.
//! Every `Authorization` the server received is recorded, decoded, for the test to inspect.
//! It also runs behind TLS on port 443 of its own loopback address, for Nix's `git+https`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

type Pairs = Arc<Mutex<Vec<(String, String)>>>;

pub struct GitServer {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    /// `127.0.0.1:PORT` (or the bare IP address on port 443), the host git names in credential
    /// requests.
    pub host: String,
    addr: std::net::SocketAddr,
    pub root: PathBuf,
    accepted: Pairs,
    tried: Pairs,
    stop: Arc<AtomicBool>,
}

impl GitServer {
    /// Serves the bare repositories under `root`, to clients with one of `accepted`.
    pub fn start(root: &Path, accepted: &[(&str, &str)]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().unwrap();
        Self::launch(
            listener,
            None,
            format!("http://{addr}"),
            addr.to_string(),
            root,
            accepted,
        )
    }

    /// The same server through TLS with `tls` on port 443 of `ip` (see `nix::tls::listen_443`):
    /// `https://IP`, the host a bare IP address.
    pub fn start_https(
        (listener, ip): (TcpListener, std::net::Ipv4Addr),
        tls: Arc<rustls::ServerConfig>,
        root: &Path,
        accepted: &[(&str, &str)],
    ) -> Self {
        Self::launch(
            listener,
            Some(tls),
            format!("https://{ip}"),
            ip.to_string(),
            root,
            accepted,
        )
    }

    fn launch(
        listener: TcpListener,
        tls: Option<Arc<rustls::ServerConfig>>,
        url: String,
        host: String,
        root: &Path,
        accepted: &[(&str, &str)],
    ) -> Self {
        let addr = listener.local_addr().unwrap();
        let accepted: Pairs = Arc::new(Mutex::new(
            accepted
                .iter()
                .map(|(u, p)| ((*u).to_owned(), (*p).to_owned()))
                .collect(),
        ));
        let tried: Pairs = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        {
            let (accepted, tried, stop) = (accepted.clone(), tried.clone(), stop.clone());
            let root = root.to_path_buf();
            thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(mut tcp) = stream else { continue };
                    let (accepted, tried, root) = (accepted.clone(), tried.clone(), root.clone());
                    let tls = tls.clone();
                    thread::spawn(move || match tls {
                        None => serve(&mut tcp, &root, &accepted, &tried),
                        Some(config) => {
                            let Ok(conn) = rustls::ServerConnection::new(config) else {
                                return;
                            };
                            let mut stream = rustls::StreamOwned::new(conn, tcp);
                            serve(&mut stream, &root, &accepted, &tried);
                            stream.conn.send_close_notify();
                            let _ = stream.flush();
                        }
                    });
                }
            });
        }
        GitServer {
            url,
            host,
            addr,
            root: root.to_path_buf(),
            accepted,
            tried,
            stop,
        }
    }

    /// Every username/password a client sent, in order.
    pub fn tried(&self) -> Vec<(String, String)> {
        self.tried.lock().unwrap().clone()
    }

    pub fn accept_only(&self, pairs: &[(&str, &str)]) {
        *self.accepted.lock().unwrap() = pairs
            .iter()
            .map(|(u, p)| ((*u).to_owned(), (*p).to_owned()))
            .collect();
    }
}

impl Drop for GitServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

/// Makes a bare repository `root/PATH` (such as `org/repo.git`) holding one commit with a README
/// that says `content`.
pub fn make_repo(root: &Path, path: &str, content: &str) {
    let work = tempfile::tempdir().unwrap();
    let git = |dir: &Path, args: &[&str]| {
        let out = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("HOME", dir)
            .output()
            .expect("git is installed");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(work.path(), &["init", "-q", "-b", "main", "."]);
    std::fs::write(work.path().join("README"), content).unwrap();
    git(work.path(), &["add", "README"]);
    git(
        work.path(),
        &[
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.invalid",
            "commit",
            "-q",
            "-m",
            "first",
        ],
    );
    let dest = root.join(path);
    std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
    git(
        work.path(),
        &["clone", "-q", "--bare", ".", dest.to_str().unwrap()],
    );
}

fn serve<S: Read + Write>(tcp: &mut S, root: &Path, accepted: &Pairs, tried: &Pairs) {
    let mut reader = BufReader::new(tcp);
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_owned();
    let target = parts.next().unwrap_or("").to_owned();
    let mut headers: Vec<(String, String)> = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        if let Some((k, v)) = h.trim_end().split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let body = read_body(&mut reader, &header);
    let tcp = reader.into_inner();

    let user = header("authorization")
        .and_then(|a| a.strip_prefix("Basic ").map(decode_base64))
        .and_then(|pair| {
            pair.split_once(':')
                .map(|(u, p)| (u.to_owned(), p.to_owned()))
        });
    if let Some(pair) = &user {
        tried.lock().unwrap().push(pair.clone());
    }
    let user = user.filter(|pair| accepted.lock().unwrap().contains(pair));
    let Some((user, _)) = user else {
        let _ = tcp.write_all(
            b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"git\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
        return;
    };

    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let mut cgi = Command::new("git");
    cgi.arg("http-backend")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", root)
        .env("GIT_PROJECT_ROOT", root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("PATH_INFO", path)
        .env("QUERY_STRING", query)
        .env("REQUEST_METHOD", &method)
        .env("REMOTE_USER", &user)
        .env("REMOTE_ADDR", "127.0.0.1")
        .env("CONTENT_LENGTH", body.len().to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (name, var) in [
        ("content-type", "CONTENT_TYPE"),
        ("content-encoding", "HTTP_CONTENT_ENCODING"),
        ("git-protocol", "HTTP_GIT_PROTOCOL"),
    ] {
        if let Some(v) = header(name) {
            cgi.env(var, v);
        }
    }
    let mut child = cgi.spawn().expect("git http-backend");
    let mut stdin = child.stdin.take().unwrap();
    let writer = thread::spawn(move || {
        let _ = stdin.write_all(&body);
    });
    let mut out = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    let _ = writer.join();
    let _ = child.wait();

    // CGI: headers (with an optional `Status:`), a blank line, the body.
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4))
        .or_else(|| out.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2)));
    let Some((end, gap)) = split else {
        let _ = tcp.write_all(b"HTTP/1.1 500 X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    };
    let head = String::from_utf8_lossy(&out[..end]).into_owned();
    let mut status = "200 OK".to_owned();
    let mut response = String::new();
    for h in head.lines() {
        match h.split_once(':') {
            Some((k, v)) if k.eq_ignore_ascii_case("status") => status = v.trim().to_owned(),
            Some(_) => response.push_str(&format!("{}\r\n", h.trim_end())),
            None => {}
        }
    }
    let body = &out[end + gap..];
    let head = format!(
        "HTTP/1.1 {status}\r\n{response}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = tcp.write_all(head.as_bytes());
    let _ = tcp.write_all(body);
    let _ = tcp.flush();
}

/// The request body: `Content-Length` bytes, or a chunked body decoded.
fn read_body<R: BufRead>(reader: &mut R, header: &dyn Fn(&str) -> Option<String>) -> Vec<u8> {
    if header("transfer-encoding").is_some_and(|t| t.eq_ignore_ascii_case("chunked")) {
        let mut body = Vec::new();
        loop {
            let mut size = String::new();
            if reader.read_line(&mut size).unwrap_or(0) == 0 {
                break;
            }
            let n = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16)
                .unwrap_or(0);
            if n == 0 {
                let mut end = String::new();
                let _ = reader.read_line(&mut end);
                break;
            }
            let mut chunk = vec![0; n + 2];
            if reader.read_exact(&mut chunk).is_err() {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
        return body;
    }
    let length: usize = header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    body
}

fn decode_base64(text: &str) -> String {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Whether git (with http-backend) is installed; outside CI a test without it is skipped, on CI
/// it fails.
pub fn have_git() -> bool {
    let found = std::process::Command::new("git")
        .arg("--exec-path")
        .output()
        .is_ok_and(|o| {
            let dir = String::from_utf8_lossy(&o.stdout).trim().to_owned();
            o.status.success()
                && std::path::Path::new(&dir)
                    .join("git-http-backend")
                    .is_file()
        });
    super::available(
        found,
        "git or git-http-backend is not installed (apt-get install git)",
    )
}
