//! The OAuth authorization-code grant with PKCE, for a person at their own machine (RFC 6749
//! §4.1, RFC 7636 S256, RFC 8252 loopback redirect).
//!
//! [`start`] listens on the loopback address (a random port, or the one of a fixed redirect URI)
//! and builds the authorization URL with a fresh PKCE challenge and a random `state`; the caller
//! sends the person's browser there. [`finish`] waits, up to a deadline, for the browser to come
//! back, serving connections concurrently: a request to another path gets a 404, and one that
//! does not carry this login's `state` (a stray or forged request, an `error` with no `state`, a
//! page reloaded from an earlier login) a 400, and the wait goes on, so that no one else's request
//! ends the login and nothing of its text is shown; with this login's `state`, the issuer's
//! `error` or a missing `code` end the flow with one sentence; a good answer gets a small page
//! saying so, and the code is exchanged (with the verifier) for tokens.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use reqwest::Url;
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};

use super::Tokens;
use super::loopback::{html_escape, read_target, respond};
use super::pkce::{Pkce, random_text};
use crate::error::{Error, Result};
use crate::http::Http;
use crate::secret::Secret;

/// How long the person has to log in and consent in the browser.
pub const DEADLINE: Duration = Duration::from_secs(300);

/// Where and as whom to run the flow.
pub struct AuthCodeParams<'a> {
    pub authorization_url: Url,
    pub token_url: Url,
    pub client_id: &'a str,
    /// For a confidential client only.
    pub client_secret: Option<&'a Secret<String>>,
    pub scopes: &'a [String],
    /// A fixed loopback redirect URI registered with the issuer; else a random port is used.
    pub redirect_uri: Option<&'a str>,
    /// The host, for messages and the browser page.
    pub host: &'a str,
    /// What else to do when the browser does not come back ("use --oauth-flow device-code").
    pub otherwise: &'a str,
}

/// An authorization request waiting for the person.
pub struct Pending {
    listener: TcpListener,
    redirect_uri: String,
    path: String,
    state: String,
    pkce: Pkce,
    /// How many answers came back that did not belong to this login.
    strays: AtomicUsize,
    /// Where to send the person's browser.
    pub url: Url,
}

impl Pending {
    /// The loopback port the browser's answer comes to.
    pub fn port(&self) -> Option<u16> {
        self.listener.local_addr().ok().map(|a| a.port())
    }
}

/// Reads a fixed redirect URI: plain http to a loopback address (RFC 8252 §7.3). Returns the
/// address to listen on and the path the answer arrives at.
fn fixed_redirect(text: &str) -> Result<(SocketAddr, String)> {
    let wrong = || {
        Error::usage(format!(
            "the redirect URI `{text}` must be a loopback address such as http://127.0.0.1:8000/auth/oidc, where nix-tokens can listen"
        ))
    };
    let url = Url::parse(text).map_err(|_| wrong())?;
    if url.scheme() != "http" {
        return Err(wrong());
    }
    let port = url.port().unwrap_or(80);
    let ip = match url.host() {
        Some(url::Host::Ipv4(ip)) if ip.is_loopback() => ip.into(),
        Some(url::Host::Ipv6(ip)) if ip.is_loopback() => ip.into(),
        Some(url::Host::Domain("localhost")) => Ipv4Addr::LOCALHOST.into(),
        _ => return Err(wrong()),
    };
    Ok((SocketAddr::new(ip, port), url.path().to_owned()))
}

/// Starts listening and builds the authorization URL.
pub async fn start(p: &AuthCodeParams<'_>) -> Result<Pending> {
    let (addr, path) = match p.redirect_uri {
        Some(fixed) => fixed_redirect(fixed)?,
        None => (
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), 0),
            "/".to_owned(),
        ),
    };
    let listener = TcpListener::bind(addr).await.map_err(|e| {
        Error::failed(format!(
            "could not listen on {addr} for the browser's answer ({e}); close what uses that port, or pass another --oauth-redirect-uri"
        ))
    })?;
    let redirect_uri = match p.redirect_uri {
        Some(fixed) => fixed.to_owned(),
        None => {
            let port = listener
                .local_addr()
                .map_err(|e| Error::failed(format!("could not listen for the browser: {e}")))?
                .port();
            format!("http://127.0.0.1:{port}")
        }
    };
    let pkce = Pkce::new()?;
    let state = random_text(16)?;
    let scope = p.scopes.join(" ");
    let mut url = p.authorization_url.clone();
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("response_type", "code")
            .append_pair("client_id", p.client_id)
            .append_pair("redirect_uri", &redirect_uri)
            .append_pair("scope", &scope)
            .append_pair("state", &state)
            .append_pair("code_challenge", &pkce.challenge)
            .append_pair("code_challenge_method", "S256");
        // OpenID Connect Core §11: without it a conforming issuer drops `offline_access` and
        // issues no refresh token.
        if p.scopes.iter().any(|s| s == "offline_access") {
            query.append_pair("prompt", "consent");
        }
    }
    Ok(Pending {
        listener,
        redirect_uri,
        path,
        state,
        pkce,
        strays: AtomicUsize::new(0),
        url,
    })
}

/// Waits up to `deadline` for the browser's answer, then exchanges the code for tokens.
pub async fn finish(
    http: &Http,
    p: &AuthCodeParams<'_>,
    pending: Pending,
    deadline: Duration,
) -> Result<Tokens> {
    let code = tokio::time::timeout(crate::time::pause(deadline), callback(&pending, p.host))
        .await
        .map_err(|_| {
            let strays = match pending.strays.load(Ordering::Relaxed) {
                0 => String::new(),
                1 => format!(
                    " (one answer came back that does not belong to this login: its state does not match, so it may not come from {}, and it was ignored)",
                    p.host
                ),
                n => format!(
                    " ({n} answers came back, each of which does not belong to this login: their state does not match, so they may not come from {}, and they were ignored)",
                    p.host
                ),
            };
            Error::failed(format!(
                "the browser did not come back from {} within {}{strays}; nothing was saved. Run the login again, or {}",
                p.host,
                match deadline.as_secs() {
                    s if s % 60 == 0 => format!("{} minutes", s / 60),
                    s => format!("{s} seconds"),
                },
                p.otherwise
            ))
        })??;
    drop(pending.listener);
    exchange(http, p, &pending.redirect_uri, &pending.pkce, &code).await
}

/// How many connections the listener serves at once; more wait to be accepted.
const CONNECTIONS: usize = 64;

/// Answers requests to the listener until one brings the authorization's outcome. Connections
/// are served concurrently, each read within a few seconds, so that one that is slow to send
/// its request (or never does) holds up no other.
async fn callback(pending: &Pending, host: &str) -> Result<Secret<String>> {
    let mut connections = FuturesUnordered::new();
    loop {
        tokio::select! {
            accepted = pending.listener.accept(), if connections.len() < CONNECTIONS => {
                let (stream, _) = accepted.map_err(|e| {
                    Error::failed(format!("could not take the browser's answer: {e}"))
                })?;
                connections.push(serve(stream, pending, host));
            }
            Some(served) = connections.next(), if !connections.is_empty() => {
                if let Some(outcome) = served {
                    return outcome;
                }
            }
        }
    }
}

/// Answers one connection: the outcome of the login when the request brings it, else `None`.
async fn serve(
    mut stream: TcpStream,
    pending: &Pending,
    host: &str,
) -> Option<Result<Secret<String>>> {
    let Some(target) = read_target(&mut stream).await else {
        respond(
            &mut stream,
            400,
            "Bad request",
            "This address takes only the answer to a nix-tokens login.",
        )
        .await;
        return None;
    };
    let Some(url) = target
        .starts_with('/')
        .then(|| Url::parse(&format!("http://127.0.0.1{target}")).ok())
        .flatten()
        .filter(|u| u.path() == pending.path)
    else {
        respond(
            &mut stream,
            404,
            "Not found",
            "This address takes only the answer to a nix-tokens login.",
        )
        .await;
        return None;
    };
    let (page, outcome) = outcome(&url, pending, host);
    respond(&mut stream, page.status, page.title, &page.body).await;
    if outcome.is_none() {
        pending.strays.fetch_add(1, Ordering::Relaxed);
    }
    outcome
}

/// The page the browser is shown.
struct Page {
    status: u16,
    title: &'static str,
    body: String,
}

impl Page {
    fn new(status: u16, title: &'static str, body: impl Into<String>) -> Self {
        Page {
            status,
            title,
            body: body.into(),
        }
    }
}

/// What the browser's answer at `url` means: the page to show, and the authorization code or
/// the error that ends the login; `None` for an answer that does not belong to this login,
/// which ends nothing.
fn outcome(url: &Url, pending: &Pending, host: &str) -> (Page, Option<Result<Secret<String>>>) {
    let get = |key: &str| {
        url.query_pairs()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
    };
    let error = get("error");
    // Only an answer carrying this login's state may end it, an error as much as a code: any
    // local user can send the listener a request, and nothing of a stray's text is shown.
    if get("state").as_deref() != Some(pending.state.as_str()) {
        return (
            Page::new(
                400,
                "Login not completed",
                "This answer does not belong to the login nix-tokens started, so it was ignored. Finish the login in the tab nix-tokens opened, or run the login again from your terminal.",
            ),
            None,
        );
    }
    if let Some(error) = error {
        let mut json = serde_json::json!({ "error": error });
        if let Some(description) = get("error_description") {
            json["error_description"] = Value::String(description);
        }
        let why = super::describe_error(&json).unwrap_or_default();
        let page = Page::new(
            200,
            "Login not completed",
            format!(
                "{} did not authorize nix-tokens. You can close this tab.",
                html_escape(host)
            ),
        );
        return (
            page,
            Some(Err(Error::failed(if error == "access_denied" {
                format!("the authorization for {host} was denied ({why}); nothing was saved")
            } else {
                format!("{host} ended the login with {why}; nothing was saved. Run the login again")
            }))),
        );
    }
    let Some(code) = get("code").filter(|c| !c.is_empty()) else {
        return (
            Page::new(
                400,
                "Login not completed",
                "The answer held no authorization code. Run the login again from your terminal.",
            ),
            Some(Err(Error::failed(format!(
                "{host} sent the browser back without an authorization code; nothing was saved. Run the login again"
            )))),
        );
    };
    (
        Page::new(
            200,
            "Logged in",
            format!(
                "nix-tokens is logged in to {}. You can close this tab and go back to the terminal.",
                html_escape(host)
            ),
        ),
        Some(Ok(Secret::new(code))),
    )
}

/// Trades the code (and the PKCE verifier) for tokens at the token endpoint.
async fn exchange(
    http: &Http,
    p: &AuthCodeParams<'_>,
    redirect_uri: &str,
    pkce: &Pkce,
    code: &Secret<String>,
) -> Result<Tokens> {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code.expose().as_str()),
        ("redirect_uri", redirect_uri),
        ("client_id", p.client_id),
        ("code_verifier", pkce.verifier.expose().as_str()),
    ];
    if let Some(secret) = p.client_secret {
        form.push(("client_secret", secret.expose().as_str()));
    }
    let host = p.host;
    let response = http.post_form(&p.token_url, &form).await.map_err(|e| {
        Error::failed(format!(
            "could not exchange the authorization code with {host} ({}); nothing was saved. Run the login again",
            e.0
        ))
    })?;
    let json: Option<Value> = serde_json::from_slice(&response.body).ok();
    if response.status.is_success()
        && let Some(tokens) = json.as_ref().and_then(Tokens::from_json)
    {
        return Ok(tokens);
    }
    let why = json
        .as_ref()
        .and_then(super::describe_error)
        .unwrap_or_else(|| format!("HTTP {} and no token", response.status.as_u16()));
    Err(Error::failed(format!(
        "{host} did not exchange the authorization code for a token: {why}; nothing was saved. Run the login again"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv6Addr;

    #[test]
    fn fixed_redirects_must_be_loopback_http() {
        let (addr, path) = fixed_redirect("http://127.0.0.1:8000/auth/oidc").unwrap();
        assert_eq!(addr, "127.0.0.1:8000".parse().unwrap());
        assert_eq!(path, "/auth/oidc");
        let (addr, _) = fixed_redirect("http://localhost/cb").unwrap();
        assert_eq!(addr.port(), 80);
        assert_eq!(
            fixed_redirect("http://[::1]:9/").unwrap().0.ip(),
            std::net::IpAddr::from(Ipv6Addr::LOCALHOST)
        );
        for bad in [
            "https://127.0.0.1:8000/",
            "http://example.com/cb",
            "not a url",
        ] {
            assert!(fixed_redirect(bad).is_err(), "{bad}");
        }
    }
}
