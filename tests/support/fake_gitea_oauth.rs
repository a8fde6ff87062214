//! A stand-in for a Gitea (or Forgejo) instance's OAuth2 provider, answering as Gitea's
//! `routers/web/auth/oauth2_provider.go` does for the person signed in as [`USER`]:
//!
//! - the default public application [`CLIENT`] (git-credential-oauth), whose redirect URIs are
//!   `http://127.0.0.1` on any port; an unknown client gets Gitea's error page (HTTP 400, no
//!   redirect) at `/login/oauth/authorize` and `invalid_client` at the token endpoint;
//! - `/login/oauth/authorize` shows the grant page (a form the person submits; a script submits it
//!   here, for a headless browser), after checking the redirect URI and PKCE (this stand-in takes
//!   S256 only: nix-tokens must send it); the grant redirects (303) to the loopback URI with
//!   `code` and `state`;
//! - `/login/oauth/access_token`: the code grant checks the verifier against the challenge, the
//!   redirect URI and the client; the refresh grant rotates (each refresh token works once, as
//!   with `INVALIDATE_REFRESH_TOKENS`: a used one gets `unauthorized_client`, "token was already
//!   used"); access tokens live an hour;
//! - `/api/v1/user` and `/api/v1/version`, taking a live access token as `Authorization: token …`
//!   or as the password of basic auth.
//!
//! `disable_default_apps` turns the application off (`[oauth2] DEFAULT_APPLICATIONS =`), and
//! `disable_oauth` the whole provider (`[oauth2] ENABLED = false`: 404).

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};

use serde_json::json;

use super::fake_forge::{FakeServer, Reply, Request};
use super::fake_oidc::s256;

pub const CLIENT: &str = "a4792ccc-144e-407e-86c9-5e7d8d9c3269";
pub const USER: &str = "gitea-dev";
/// A personal token made by hand in the settings, which the API takes too.
pub const PERSONAL: &str = "0123456789abcdef0123456789abcdef01234567";

/// What the instance was asked and handed out.
#[derive(Default)]
pub struct GiteaState {
    /// state → (challenge, redirect_uri, client_id, scope), between the grant page and the grant.
    pending: HashMap<String, (String, String, String, String)>,
    /// code → (challenge, redirect_uri, client_id, scope)
    codes: HashMap<String, (String, String, String, String)>,
    pub access: HashSet<String>,
    refresh: HashSet<String>,
    pub issued: Vec<String>,
    pub issued_refresh: Vec<String>,
    /// The query of every authorization request.
    pub authorize_queries: Vec<HashMap<String, String>>,
    /// The User-Agent of every authorization request.
    pub browsers: Vec<String>,
    counter: usize,
    pub lifetime: u64,
    pub default_apps: bool,
    pub oauth_enabled: bool,
}

pub struct FakeGitea {
    pub server: FakeServer,
    pub state: Arc<Mutex<GiteaState>>,
}

impl FakeGitea {
    pub fn start() -> Self {
        let state = Arc::new(Mutex::new(GiteaState {
            lifetime: 3600,
            default_apps: true,
            oauth_enabled: true,
            ..GiteaState::default()
        }));
        let shared = state.clone();
        let server = FakeServer::start(move |r| answer(r, &shared));
        FakeGitea { server, state }
    }

    pub fn url(&self) -> &str {
        &self.server.url
    }

    pub fn set_lifetime(&self, seconds: u64) {
        self.state.lock().unwrap().lifetime = seconds;
    }

    pub fn disable_default_apps(&self) {
        self.state.lock().unwrap().default_apps = false;
    }

    pub fn disable_oauth(&self) {
        self.state.lock().unwrap().oauth_enabled = false;
    }

    /// Forgets every refresh token, as revoking the application's grant in the settings does
    /// (Gitea then answers `invalid_grant`, "grant does not exist").
    pub fn revoke_grant(&self) {
        self.state.lock().unwrap().refresh.clear();
    }

    pub fn issued(&self) -> Vec<String> {
        self.state.lock().unwrap().issued.clone()
    }

    pub fn issued_refresh(&self) -> Vec<String> {
        self.state.lock().unwrap().issued_refresh.clone()
    }
}

fn query(target: &str) -> HashMap<String, String> {
    let Some((_, q)) = target.split_once('?') else {
        return HashMap::new();
    };
    let form = Request {
        method: String::new(),
        path: String::new(),
        headers: Vec::new(),
        body: q.to_owned(),
    };
    q.split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, _)| (k.to_owned(), form.form(k).unwrap_or_default()))
        .collect()
}

fn token_error(error: &str, description: &str) -> Reply {
    Reply::json(
        400,
        json!({"error": error, "error_description": description}),
    )
}

/// The access token a request carries: `Authorization: token …`, `Bearer …`, or basic auth's
/// password.
fn presented(r: &Request) -> Option<String> {
    let header = r.header("authorization")?;
    if let Some(t) = header
        .strip_prefix("token ")
        .or_else(|| header.strip_prefix("Bearer "))
    {
        return Some(t.to_owned());
    }
    let encoded = header.strip_prefix("Basic ")?;
    let decoded = base64_decode(encoded)?;
    decoded.split_once(':').map(|(_, p)| p.to_owned())
}

fn base64_decode(text: &str) -> Option<String> {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = String::new();
    for c in text.trim_end_matches('=').bytes() {
        let v = alphabet.iter().position(|a| *a == c)?;
        bits.push_str(&format!("{v:06b}"));
    }
    let bytes: Vec<u8> = bits
        .as_bytes()
        .chunks(8)
        .filter(|c| c.len() == 8)
        .map(|c| u8::from_str_radix(std::str::from_utf8(c).unwrap(), 2).unwrap())
        .collect();
    String::from_utf8(bytes).ok()
}

/// Gitea's default applications allow a loopback redirect on any port.
fn loopback(redirect: &str) -> bool {
    let rest = redirect.strip_prefix("http://127.0.0.1").unwrap_or("x");
    rest.is_empty() || rest.starts_with(':') || rest.starts_with('/')
}

fn issue(s: &mut GiteaState) -> Reply {
    s.counter += 1;
    // Gitea's tokens are JWTs: three base64url parts.
    let access = format!(
        "eyJhbGciOiJSUzI1NiJ9.eyJnbnQiOjEsInR0IjowfQ.access{:04}",
        s.counter
    );
    let refresh = format!(
        "eyJhbGciOiJSUzI1NiJ9.eyJnbnQiOjEsInR0IjoxfQ.refresh{:04}",
        s.counter
    );
    s.access.insert(access.clone());
    s.refresh.insert(refresh.clone());
    s.issued.push(access.clone());
    s.issued_refresh.push(refresh.clone());
    Reply::json(
        200,
        json!({
            "access_token": access,
            "token_type": "bearer",
            "expires_in": s.lifetime,
            "refresh_token": refresh,
        }),
    )
}

fn grant_page(state: &str) -> String {
    format!(
        "<html><body><h1>Authorize git-credential-oauth to access your account?</h1>\
         <form method=\"post\" action=\"/login/oauth/grant\">\
         <input type=\"hidden\" name=\"state\" value=\"{state}\">\
         <input type=\"hidden\" name=\"granted\" value=\"true\">\
         <button type=\"submit\">Authorize Application</button></form>\
         <script>document.forms[0].submit();</script></body></html>"
    )
}

fn authorize(r: &Request, s: &mut GiteaState) -> Reply {
    let q = query(&r.path);
    s.authorize_queries.push(q.clone());
    s.browsers
        .push(r.header("user-agent").unwrap_or_default().to_owned());
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    let redirect = get("redirect_uri");
    if get("client_id") != CLIENT || !s.default_apps {
        return Reply::html(400, "<h1>Client ID not registered</h1>");
    }
    if !loopback(&redirect) {
        return Reply::html(400, "<h1>Unregistered Redirect URI</h1>");
    }
    let state = get("state");
    let sep = if redirect.contains('?') { '&' } else { '?' };
    if get("response_type") != "code" || get("code_challenge_method") != "S256" {
        return Reply::html(303, "").header(
            "Location",
            &format!("{redirect}{sep}error=invalid_request&error_description=PKCE+is+required+for+public+clients&state={state}"),
        );
    }
    s.pending.insert(
        state.clone(),
        (
            get("code_challenge"),
            redirect,
            get("client_id"),
            get("scope"),
        ),
    );
    Reply::html(200, &grant_page(&state))
}

fn grant(r: &Request, s: &mut GiteaState) -> Reply {
    let state = r.form("state").unwrap_or_default();
    let Some(pending) = s.pending.remove(&state) else {
        return Reply::html(400, "<h1>Bad Request</h1>");
    };
    s.counter += 1;
    let code = format!("gitea-code-{}", s.counter);
    let redirect = pending.1.clone();
    s.codes.insert(code.clone(), pending);
    let sep = if redirect.contains('?') { '&' } else { '?' };
    Reply::html(303, "").header(
        "Location",
        &format!("{redirect}{sep}code={code}&state={state}"),
    )
}

fn access_token(r: &Request, s: &mut GiteaState) -> Reply {
    if r.form("client_id").as_deref() != Some(CLIENT) || !s.default_apps {
        let id = r.form("client_id").unwrap_or_default();
        return token_error(
            "invalid_client",
            &format!("cannot load client with client id: '{id}'"),
        );
    }
    match r.form("grant_type").as_deref() {
        Some("authorization_code") => {
            let code = r.form("code").unwrap_or_default();
            let Some((challenge, redirect, _, _)) = s.codes.remove(&code) else {
                return token_error("unauthorized_client", "client is not authorized");
            };
            if s256(&r.form("code_verifier").unwrap_or_default()) != challenge {
                return token_error("unauthorized_client", "failed PKCE code challenge");
            }
            if r.form("redirect_uri").as_deref() != Some(redirect.as_str()) {
                return token_error(
                    "invalid_grant",
                    "redirect_uri differs from the original authorization request",
                );
            }
            issue(s)
        }
        Some("refresh_token") => {
            let old = r.form("refresh_token").unwrap_or_default();
            if !old.starts_with("eyJ") {
                return token_error("unauthorized_client", "unable to parse refresh token");
            }
            if !s.issued_refresh.contains(&old) {
                return token_error("invalid_grant", "grant does not exist");
            }
            if !s.refresh.remove(&old) {
                return token_error("unauthorized_client", "token was already used");
            }
            issue(s)
        }
        _ => token_error(
            "unsupported_grant_type",
            "Only refresh_token or authorization_code grant type is supported",
        ),
    }
}

fn answer(r: &Request, state: &Mutex<GiteaState>) -> Reply {
    let path = r.path.split('?').next().unwrap_or("");
    let mut s = state.lock().unwrap();
    if path.starts_with("/login/oauth/") && !s.oauth_enabled {
        return Reply::html(404, "<h1>Page Not Found</h1>");
    }
    match (r.method.as_str(), path) {
        ("GET", "/api/v1/version") => Reply::json(200, json!({"version": "1.22.3"})),
        ("GET", "/api/v1/user") => match presented(r) {
            Some(t) if s.access.contains(&t) || t == PERSONAL => {
                Reply::json(200, json!({"id": 1, "login": USER}))
            }
            _ => Reply::json(401, json!({"message": "token is required"})),
        },
        ("GET", "/login/oauth/authorize") => authorize(r, &mut s),
        ("POST", "/login/oauth/grant") => grant(r, &mut s),
        ("POST", "/login/oauth/access_token") => access_token(r, &mut s),
        _ => Reply::html(404, "<h1>Page Not Found</h1>"),
    }
}

/// A plain HTTP/1.1 form POST of `body` to `url` (http only), the person clicking a button: the
/// status and the `Location` header.
pub fn post_form(url: &str, body: &str) -> (u16, Option<String>) {
    let rest = url.strip_prefix("http://").expect("an http URL");
    let (authority, path) = rest.split_once('/').expect("a path");
    let mut stream = TcpStream::connect(authority).expect("connect");
    write!(
        stream,
        "POST /{path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    let head = text.split("\r\n\r\n").next().unwrap_or("");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let location = head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case("location")
            .then(|| v.trim().to_owned())
    });
    (status, location)
}
