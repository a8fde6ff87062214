//! A fake OpenID Connect issuer that behaves as the standards say: discovery (with its issuer
//! named after the address it is reached at), the authorization endpoint of a PKCE (S256) code
//! flow that redirects the browser back to a loopback URI, the token endpoint for the code, device
//! and refresh grants (refresh tokens rotate; a used one is refused with `invalid_grant`), the
//! device authorization endpoint, RFC 7009 revocation, userinfo, and prefix.dev's GraphQL
//! `viewer` query (`viewer: null` for a token it does not know).
//!
//! A test plays the browser: it reads the authorization URL nix-tokens prints, calls it with
//! [`get`], and follows the redirect to nix-tokens' listener itself.

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::fake_forge::{FakeServer, Reply, Request};

/// What the issuer was asked and what it handed out.
#[derive(Default)]
pub struct IssuerState {
    /// code → (challenge, redirect_uri, client_id, scope)
    codes: HashMap<String, (String, String, String, String)>,
    pub access: HashSet<String>,
    refresh: HashSet<String>,
    /// Every access token handed out, in order.
    pub issued: Vec<String>,
    /// Every refresh token handed out, in order.
    pub issued_refresh: Vec<String>,
    /// (token, token_type_hint) of every revocation.
    pub revoked: Vec<(String, String)>,
    /// Verifiers that matched their challenge at the code exchange.
    pub verified: Vec<String>,
    /// The query of every authorization request.
    pub authorize_queries: Vec<HashMap<String, String>>,
    device_polls: usize,
    counter: usize,
    /// Seconds an access token lives.
    pub lifetime: u64,
    /// Authorization requests are answered with `error=access_denied`.
    pub deny: bool,
    /// Issue no refresh token.
    pub no_refresh: bool,
    /// The next access token handed out is this text (a hostile or broken issuer).
    pub next_access: Option<String>,
}

/// The issuer and its state.
pub struct FakeIssuer {
    pub server: FakeServer,
    pub state: Arc<Mutex<IssuerState>>,
}

/// Which endpoints the discovery document names.
#[derive(Clone, Copy)]
pub struct Endpoints {
    pub authorization: bool,
    pub device: bool,
}

pub const CLIENT: &str = "rattler";
pub const USER: &str = "conda-dev";

impl FakeIssuer {
    pub fn start() -> Self {
        Self::with(Endpoints {
            authorization: true,
            device: true,
        })
    }

    pub fn with(endpoints: Endpoints) -> Self {
        let state = Arc::new(Mutex::new(IssuerState {
            lifetime: 3600,
            ..IssuerState::default()
        }));
        let shared = state.clone();
        let server = FakeServer::start(move |r| answer(r, &shared, endpoints));
        FakeIssuer { server, state }
    }

    pub fn url(&self) -> &str {
        &self.server.url
    }

    pub fn set_lifetime(&self, seconds: u64) {
        self.state.lock().unwrap().lifetime = seconds;
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

fn bearer(r: &Request) -> Option<String> {
    r.header("authorization")?
        .strip_prefix("Bearer ")
        .map(str::to_owned)
}

fn oauth_error(status: u16, error: &str) -> Reply {
    Reply::json(
        status,
        json!({"error": error, "error_description": format!("the fake issuer says {error}")}),
    )
}

/// `BASE64URL-NOPAD(SHA256(verifier))`, computed independently of nix-tokens.
pub fn s256(verifier: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let bits: String = digest.as_ref().iter().map(|b| format!("{b:08b}")).collect();
    bits.as_bytes()
        .chunks(6)
        .map(|c| {
            let mut v = 0usize;
            for (i, bit) in c.iter().enumerate() {
                v |= usize::from(*bit == b'1') << (5 - i);
            }
            alphabet[v] as char
        })
        .collect()
}

fn issue(s: &mut IssuerState, scope: &str) -> Reply {
    s.counter += 1;
    let access = s
        .next_access
        .take()
        .unwrap_or_else(|| format!("oidc_access_{:04}_{}", s.counter, "x".repeat(24)));
    s.access.insert(access.clone());
    s.issued.push(access.clone());
    let mut body = json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": s.lifetime,
        "scope": scope,
    });
    if scope.split(' ').any(|x| x == "offline_access") && !s.no_refresh {
        let refresh = format!("oidc_refresh_{:04}_{}", s.counter, "y".repeat(24));
        s.refresh.insert(refresh.clone());
        s.issued_refresh.push(refresh.clone());
        body["refresh_token"] = Value::String(refresh);
    }
    Reply::json(200, body)
}

fn answer(r: &Request, state: &Mutex<IssuerState>, endpoints: Endpoints) -> Reply {
    let host = r.header("host").unwrap_or("127.0.0.1");
    let base = format!("http://{host}");
    let path = r.path.split('?').next().unwrap_or("");
    let mut s = state.lock().unwrap();
    match (r.method.as_str(), path) {
        ("GET", "/.well-known/openid-configuration") => {
            let mut doc = json!({
                "issuer": base,
                "token_endpoint": format!("{base}/oauth/token"),
                "revocation_endpoint": format!("{base}/oauth/revoke"),
                "userinfo_endpoint": format!("{base}/oauth/userinfo"),
                "jwks_uri": format!("{base}/oauth/jwks"),
                "code_challenge_methods_supported": ["S256"],
            });
            if endpoints.authorization {
                doc["authorization_endpoint"] = json!(format!("{base}/oauth/authorize"));
            }
            if endpoints.device {
                doc["device_authorization_endpoint"] = json!(format!("{base}/oauth/device"));
            }
            Reply::json(200, doc)
        }
        ("GET", "/oauth/authorize") => {
            let q = query(&r.path);
            s.authorize_queries.push(q.clone());
            let get = |k: &str| q.get(k).cloned().unwrap_or_default();
            let redirect = get("redirect_uri");
            if get("client_id") != CLIENT || !redirect.starts_with("http://127.0.0.1:") {
                return Reply::html(400, "<h1>unknown client or redirect</h1>");
            }
            if get("response_type") != "code" || get("code_challenge_method") != "S256" {
                return Reply::html(400, "<h1>PKCE with S256 is required</h1>");
            }
            let sep = if redirect.contains('?') { '&' } else { '?' };
            let state = get("state");
            if s.deny {
                return Reply::html(302, "").header(
                    "Location",
                    &format!("{redirect}{sep}error=access_denied&error_description=The+user+said+no&state={state}"),
                );
            }
            s.counter += 1;
            let code = format!("code{}", s.counter);
            s.codes.insert(
                code.clone(),
                (
                    get("code_challenge"),
                    redirect.clone(),
                    get("client_id"),
                    get("scope"),
                ),
            );
            Reply::html(302, "").header(
                "Location",
                &format!("{redirect}{sep}code={code}&state={state}"),
            )
        }
        ("POST", "/oauth/device") => {
            if r.form("client_id").as_deref() != Some(CLIENT) {
                return oauth_error(401, "invalid_client");
            }
            s.codes.insert(
                "device-1".into(),
                (
                    String::new(),
                    String::new(),
                    CLIENT.into(),
                    r.form("scope").unwrap_or_default(),
                ),
            );
            Reply::json(
                200,
                json!({
                    "device_code": "device-1",
                    "user_code": "QWER-TYUI",
                    "verification_uri": format!("{base}/device"),
                    "verification_uri_complete": format!("{base}/device?user_code=QWER-TYUI"),
                    "expires_in": 300,
                    "interval": 1,
                }),
            )
        }
        ("POST", "/oauth/token") => match r.form("grant_type").as_deref() {
            Some("authorization_code") => {
                let code = r.form("code").unwrap_or_default();
                let Some((challenge, redirect, client, scope)) = s.codes.remove(&code) else {
                    return oauth_error(400, "invalid_grant");
                };
                let verifier = r.form("code_verifier").unwrap_or_default();
                if s256(&verifier) != challenge
                    || r.form("redirect_uri").as_deref() != Some(redirect.as_str())
                    || r.form("client_id").as_deref() != Some(client.as_str())
                {
                    return oauth_error(400, "invalid_grant");
                }
                s.verified.push(verifier);
                issue(&mut s, &scope)
            }
            Some("urn:ietf:params:oauth:grant-type:device_code") => {
                if r.form("device_code").as_deref() != Some("device-1") {
                    return oauth_error(400, "invalid_grant");
                }
                s.device_polls += 1;
                if s.device_polls == 1 {
                    return oauth_error(400, "authorization_pending");
                }
                let Some((_, _, _, scope)) = s.codes.remove("device-1") else {
                    return oauth_error(400, "expired_token");
                };
                issue(&mut s, &scope)
            }
            Some("refresh_token") => {
                let old = r.form("refresh_token").unwrap_or_default();
                if !s.refresh.remove(&old) {
                    return oauth_error(400, "invalid_grant");
                }
                issue(&mut s, "openid offline_access channel:read")
            }
            _ => oauth_error(400, "unsupported_grant_type"),
        },
        ("POST", "/oauth/revoke") => {
            let token = r.form("token").unwrap_or_default();
            let hint = r.form("token_type_hint").unwrap_or_default();
            s.access.remove(&token);
            s.refresh.remove(&token);
            s.revoked.push((token, hint));
            Reply::json(200, json!({}))
        }
        ("GET", "/oauth/userinfo") => match bearer(r) {
            Some(t) if s.access.contains(&t) => {
                Reply::json(200, json!({"sub": "u-1", "preferred_username": USER}))
            }
            _ => Reply::json(401, json!({"error": "invalid_token"})),
        },
        ("POST", "/api/graphql") => match bearer(r) {
            Some(t) if s.access.contains(&t) || t.starts_with("pfx_") => {
                Reply::json(200, json!({"data": {"viewer": {"login": USER}}}))
            }
            _ => Reply::json(200, json!({"data": {"viewer": null}})),
        },
        _ => Reply::json(404, json!({"error": "not found"})),
    }
}

/// A plain HTTP/1.1 GET of `url` (http only) without following redirects: the status, the
/// `Location` header, and the body.
pub fn get(url: &str) -> (u16, Option<String>, String) {
    let rest = url.strip_prefix("http://").expect("an http URL");
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) if rest[i..].starts_with('/') => (&rest[..i], rest[i..].to_owned()),
        Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
        None => (rest, "/".to_owned()),
    };
    let mut stream = TcpStream::connect(authority).expect("connect");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
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
    (status, location, body.to_owned())
}
