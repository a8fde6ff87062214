//! Fake forges: a small HTTP/1.1 server on 127.0.0.1 that answers like a provider's documentation
//! says (routes, headers, quirks), and records every request for the test to inspect.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use super::fake_tokens::{self, Grant};

/// A request as the server received it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A field of a form-encoded body (`+` and `%XX` decoded).
    pub fn form(&self, key: &str) -> Option<String> {
        self.body.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            (k == key).then(|| decode(v))
        })
    }
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("00");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// An answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Reply {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.to_string(),
        }
    }

    pub fn html(status: u16, body: &str) -> Self {
        Reply {
            status,
            headers: vec![("Content-Type".into(), "text/html".into())],
            body: body.into(),
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

/// A running fake server; it stops when dropped.
pub struct FakeServer {
    pub url: String,
    addr: std::net::SocketAddr,
    requests: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
}

impl FakeServer {
    pub fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Self {
        Self::launch(None, Arc::new(handler))
    }

    /// The same server behind TLS with the certificate `chain` (leaf first) and its `key`.
    pub fn start_tls(
        chain: Vec<rustls::pki_types::CertificateDer<'static>>,
        key: rustls::pki_types::PrivateKeyDer<'static>,
        handler: impl Fn(&Request) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("a usable test certificate");
        Self::launch(Some(Arc::new(config)), Arc::new(handler))
    }

    /// Accepts connections on 127.0.0.1 (through TLS when `tls` is given), each on a thread.
    fn launch(tls: Option<Arc<rustls::ServerConfig>>, handler: Arc<Handler>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().unwrap();
        let url = match tls {
            Some(_) => format!("https://localhost:{}", addr.port()),
            None => format!("http://{addr}"),
        };
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        {
            let (requests, stop) = (requests.clone(), stop.clone());
            thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(tcp) = stream else { continue };
                    let (requests, handler, tls) = (requests.clone(), handler.clone(), tls.clone());
                    thread::spawn(move || match tls {
                        None => serve(tcp, &requests, &*handler),
                        Some(config) => {
                            if let Ok(conn) = rustls::ServerConnection::new(config) {
                                serve(rustls::StreamOwned::new(conn, tcp), &requests, &*handler);
                            }
                        }
                    });
                }
            });
        }
        FakeServer {
            url,
            addr,
            requests,
            stop,
        }
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

/// A server that breaks HTTP itself: it reads each request head, then writes `answer` as raw bytes
/// and closes, or (with `None`) holds the connection open and never answers, until it is dropped.
pub struct RawServer {
    pub url: String,
    addr: std::net::SocketAddr,
    stop: Arc<AtomicBool>,
}

impl RawServer {
    pub fn start(answer: Option<&'static [u8]>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        thread::spawn(move || {
            let mut held = Vec::new();
            for stream in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut tcp) = stream else { continue };
                let mut reader = BufReader::new(tcp.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).unwrap_or(0) > 0 && !line.trim_end().is_empty() {
                    line.clear();
                }
                match answer {
                    Some(bytes) => {
                        let _ = tcp.write_all(bytes);
                        let _ = tcp.flush();
                    }
                    None => held.push(tcp),
                }
            }
        });
        RawServer {
            url: format!("http://{addr}"),
            addr,
            stop,
        }
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve<S: Read + Write>(stream: S, requests: &Mutex<Vec<Request>>, handler: &Handler) {
    let mut reader = BufReader::new(stream);
    let Some(request) = read_request(&mut reader) else {
        return;
    };
    requests.lock().unwrap().push(request.clone());
    let reply = handler(&request);
    let mut stream = reader.into_inner();
    let head_only = request.method == "HEAD";
    write_answer(
        &mut stream,
        reply.status,
        &reply.headers,
        reply.body.as_bytes(),
        head_only,
    );
}

/// Reads one request: its head, and a body of its `Content-Length`.
pub fn read_request<R: BufRead>(reader: &mut R) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (
        parts.next().unwrap_or("").to_owned(),
        parts.next().unwrap_or("").to_owned(),
    );
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        if let Some((k, v)) = h.trim_end().split_once(':') {
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    let length: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    Some(Request {
        method,
        path,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// Writes an answer that closes the connection; to a `HEAD` request (`head`), with the length of
/// the body it does not send.
pub fn write_answer<W: Write>(
    stream: &mut W,
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
    head_only: bool,
) {
    let mut head = format!("HTTP/1.1 {status} X\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    let _ = stream.write_all(head.as_bytes());
    if !head_only {
        let _ = stream.write_all(body);
    }
    let _ = stream.flush();
}

/// GitHub Enterprise Server's REST API at `/api/v3` for one classic token with the given scopes
/// (`X-OAuth-Scopes`) and an expiry header; anything else gets 401 "Bad credentials", as GitHub
/// answers. See [`fake_tokens::github`] for several tokens and fine-grained ones.
pub fn github(token: &str, scopes: &str) -> FakeServer {
    fake_tokens::github(vec![(token, Grant::scopes(scopes))])
}

/// GitLab's REST API for one personal token (scopes `read_api`, `read_repository`) and one OAuth
/// token (scope `read_api`); see [`fake_tokens::gitlab`].
pub fn gitlab(pat: &str, oauth: &str) -> FakeServer {
    fake_tokens::gitlab(
        vec![(pat, &["read_api", "read_repository"])],
        vec![(oauth, &["read_api"])],
    )
}

/// Gitea and Forgejo: `/api/v1/user` with `Authorization: token …`, for one token of scope `all`;
/// see [`fake_tokens::gitea`].
pub fn gitea(token: &str) -> FakeServer {
    fake_tokens::gitea(vec![(token, &["all"])])
}

/// github.com's device flow (`/login/device/code`, `/login/oauth/access_token`, with errors in
/// HTTP 200 answers as GitHub sends them) in front of the API for the token it issues, which has
/// exactly the scopes the device request asked for (none without a `scope` field): the token
/// answer's `scope` and `X-OAuth-Scopes` list them, comma-separated, as GitHub does. `polls` are
/// the answers to successive polls; after the last, every poll gets the last one.
pub fn github_device(
    token: &str,
    interval: u64,
    expires_in: u64,
    polls: Vec<serde_json::Value>,
) -> FakeServer {
    let api = format!("token {token}");
    let polled = std::sync::atomic::AtomicUsize::new(0);
    let asked = Mutex::new(String::new());
    FakeServer::start(move |r| match (r.method.as_str(), r.path.as_str()) {
        ("POST", "/login/device/code") => {
            let scope = r.form("scope").unwrap_or_default();
            let scopes: Vec<&str> = scope.split([' ', ',']).filter(|s| !s.is_empty()).collect();
            *asked.lock().unwrap() = scopes.join(",");
            Reply::json(
                200,
                serde_json::json!({
                    "device_code": "3584d83530557fdd1f46af8289938c8ef79f9dc5",
                    "user_code": "WDJB-MJHT",
                    "verification_uri": "https://github.com/login/device",
                    "expires_in": expires_in,
                    "interval": interval,
                }),
            )
        }
        ("POST", "/login/oauth/access_token") => {
            let n = polled.fetch_add(1, Ordering::SeqCst);
            let mut answer = polls[n.min(polls.len() - 1)].clone();
            if answer.get("access_token").is_some() {
                answer["scope"] = serde_json::Value::String(asked.lock().unwrap().clone());
            }
            Reply::json(200, answer)
        }
        ("GET", "/api/v3/user") if r.header("authorization") == Some(api.as_str()) => {
            let scopes = asked.lock().unwrap().replace(',', ", ");
            Reply::json(200, serde_json::json!({"login": "octocat"}))
                .header("X-OAuth-Scopes", &scopes)
        }
        _ => Reply::json(401, serde_json::json!({"message": "Bad credentials"})),
    })
}

/// What each kind of forge answers to anonymous detection probes, in front of `api`'s answers.
pub fn detectable(kind: &'static str, api: FakeServer) -> FakeServer {
    let api_url = api.url.clone();
    FakeServer::start(move |r| {
        let _keep_alive = &api;
        let path = r.path.as_str();
        let anonymous = r.header("authorization").is_none() && r.header("private-token").is_none();
        match (kind, path) {
            ("github", "/api/v3") => Reply::json(
                200,
                serde_json::json!({"current_user_url": format!("{api_url}/api/v3/user")}),
            )
            .header("X-GitHub-Enterprise-Version", "3.14.0"),
            ("gitlab", _) if anonymous => Reply::html(200, "<html>sign in</html>")
                .header("X-Gitlab-Meta", r#"{"correlation_id":"x","version":"1"}"#),
            ("forgejo", "/api/forgejo/v1/version") => {
                Reply::json(200, serde_json::json!({"version": "9.0.1+gitea-1.22.0"}))
            }
            ("forgejo" | "gitea", "/api/v1/version") => {
                Reply::json(200, serde_json::json!({"version": "1.22.0"}))
            }
            _ if anonymous => Reply::json(404, serde_json::json!({"message": "Not Found"})),
            _ => forward(&api_url, r),
        }
    })
}

/// Asks `base` the same GET (with its credentials) and hands back the answer.
fn forward(base: &str, r: &Request) -> Reply {
    let addr = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).expect("the API server");
    let mut head = format!(
        "{} {} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n",
        r.method, r.path
    );
    for (k, v) in &r.headers {
        if !k.eq_ignore_ascii_case("host") && !k.eq_ignore_ascii_case("connection") {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut stream, &mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(502);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .filter(|(k, _)| {
            !k.eq_ignore_ascii_case("content-length") && !k.eq_ignore_ascii_case("connection")
        })
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_owned(),
    }
}

/// gitlab.com's OAuth: the device grant (`/oauth/authorize_device`, errors as HTTP 400) issuing
/// 2-hour tokens with a refresh token, and `/oauth/token` refreshes that rotate: each refresh
/// token works once, and the old access token stops working. `/api/v4/user` and
/// `/oauth/token/info` accept only the current access token, which has exactly the scopes the
/// device request asked for. `revoke_all` makes every refresh token invalid.
pub struct GitlabOAuth {
    pub server: FakeServer,
    state: Arc<Mutex<(u32, bool)>>,
    poison: Arc<Mutex<Option<String>>>,
    lifetime: Arc<std::sync::atomic::AtomicU64>,
}

impl GitlabOAuth {
    pub fn start() -> Self {
        let state = Arc::new(Mutex::new((1u32, false)));
        let poison: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
        let lifetime = Arc::new(std::sync::atomic::AtomicU64::new(7200));
        let seconds = lifetime.clone();
        let polled = std::sync::atomic::AtomicUsize::new(0);
        let shared = state.clone();
        let poisoned = poison.clone();
        let asked = Mutex::new(String::new());
        let server = FakeServer::start(move |r| {
            let mut state = shared.lock().unwrap();
            let (generation, revoked) = *state;
            let meta = |reply: Reply| reply.header("X-Gitlab-Meta", r#"{"version":"1"}"#);
            meta(match (r.method.as_str(), r.path.as_str()) {
                ("POST", "/oauth/authorize_device") => {
                    *asked.lock().unwrap() = r.form("scope").unwrap_or_default();
                    device_authorization()
                }
                ("POST", "/oauth/token") => match r.form("grant_type").as_deref() {
                    Some("urn:ietf:params:oauth:grant-type:device_code") => {
                        if polled.fetch_add(1, Ordering::SeqCst) == 0 {
                            Reply::json(400, serde_json::json!({"error": "authorization_pending"}))
                        } else {
                            let scope = asked.lock().unwrap().clone();
                            let lifetime = seconds.load(Ordering::SeqCst);
                            Reply::json(200, pair(generation, lifetime, &scope))
                        }
                    }
                    Some("refresh_token")
                        if !revoked
                            && r.form("refresh_token") == Some(format!("refresh-{generation}")) =>
                    {
                        state.0 += 1;
                        let scope = asked.lock().unwrap().clone();
                        let mut answer = pair(state.0, seconds.load(Ordering::SeqCst), &scope);
                        if let Some(evil) = poisoned.lock().unwrap().clone() {
                            answer["access_token"] = serde_json::Value::String(evil);
                        }
                        Reply::json(200, answer)
                    }
                    _ => Reply::json(
                        400,
                        serde_json::json!({"error": "invalid_grant", "error_description": "The provided authorization grant is invalid"}),
                    ),
                },
                ("GET", "/api/v4/user")
                    if r.header("authorization")
                        == Some(format!("Bearer access-{generation}").as_str()) =>
                {
                    Reply::json(200, serde_json::json!({"username": "tanuki"}))
                }
                ("POST", "/oauth/revoke") => Reply::json(200, serde_json::json!({})),
                ("GET", "/oauth/token/info")
                    if r.header("authorization")
                        == Some(format!("Bearer access-{generation}").as_str()) =>
                {
                    token_info(&asked.lock().unwrap())
                }
                _ => Reply::json(401, serde_json::json!({"message": "401 Unauthorized"})),
            })
        });
        GitlabOAuth {
            server,
            state,
            poison,
            lifetime,
        }
    }

    /// Tokens issued from now on last this many seconds (GitLab's are 7200).
    pub fn set_lifetime(&self, seconds: u64) {
        self.lifetime.store(seconds, Ordering::SeqCst);
    }

    /// The next refreshes answer with this as the access token (a hostile or broken server).
    pub fn poison_refresh(&self, access_token: &str) {
        *self.poison.lock().unwrap() = Some(access_token.to_owned());
    }

    /// Makes every refresh token invalid, as revoking the application does.
    pub fn revoke_all(&self) {
        self.state.lock().unwrap().1 = true;
    }
}

/// GitLab's answer to a device authorization request.
fn device_authorization() -> Reply {
    Reply::json(
        200,
        serde_json::json!({
            "device_code": "device-code-1",
            "user_code": "0A44L90H",
            "verification_uri": "https://gitlab.example/oauth/device",
            "verification_uri_complete": "https://gitlab.example/oauth/device?user_code=0A44L90H",
            "expires_in": 300,
            "interval": 1,
        }),
    )
}

/// `/oauth/token/info` for a token with the space-separated `scope`: `scope` as an array, and the
/// deprecated aliases `scopes` and `expires_in_seconds` GitLab still sends.
fn token_info(scope: &str) -> Reply {
    let scopes: Vec<&str> = scope.split_whitespace().collect();
    Reply::json(
        200,
        serde_json::json!({"resource_owner_id": 1, "scope": scopes, "expires_in": 7200,
                           "application": {"uid": "corp-app-id"}, "created_at": 1_700_000_000,
                           "scopes": scopes, "expires_in_seconds": 7200}),
    )
}

fn pair(generation: u32, lifetime: u64, scope: &str) -> serde_json::Value {
    serde_json::json!({
        "access_token": format!("access-{generation}"),
        "token_type": "Bearer",
        "expires_in": lifetime,
        "refresh_token": format!("refresh-{generation}"),
        "scope": scope,
        "created_at": 1_700_000_000,
    })
}
