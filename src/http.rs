//! The one HTTP client: a timeout on every request, a User-Agent naming nix-tokens and its
//! version, TLS checked against the system's trust store (`SSL_CERT_FILE` and `SSL_CERT_DIR`
//! honoured), and redirects followed only within the same origin, so a token never travels to
//! another host. A token goes only over https, or plain http to a loopback address
//! ([`may_carry_token`]).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::redirect::Policy;
use reqwest::{StatusCode, Url};

use crate::error::{Error, Result};
use crate::secret::Secret;

/// How long one request may take before the host counts as unreachable.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// [`TIMEOUT`], or `NIX_TOKENS_HTTP_TIMEOUT` whole seconds (at least 1) where that is set: a hidden
/// setting for tests that wait on a host that never answers.
fn timeout() -> Duration {
    std::env::var("NIX_TOKENS_HTTP_TIMEOUT")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|s| *s > 0)
        .map_or(TIMEOUT, Duration::from_secs)
}

/// The most of an answer that is read: every answer nix-tokens expects is a few kilobytes.
const MAX_BODY: usize = 1 << 20;

/// A response, read whole.
#[derive(Debug)]
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Response {
    /// The header `name` as a whole number (`retry-after`, `x-ratelimit-reset`, …), if it is one.
    pub fn number(&self, name: &str) -> Option<u64> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok())
    }
}

/// Why a request got no answer.
#[derive(Debug)]
pub struct Unreachable(pub String);

#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    /// How many requests went to each host (`HOST` or `HOST:PORT`, as the URL names it).
    sent: Arc<Mutex<BTreeMap<String, u64>>>,
}

impl Http {
    pub fn new() -> Result<Self> {
        // One process-wide TLS provider; a second install (another client) is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let same_origin = Policy::custom(|attempt| {
            let first = &attempt.previous()[0];
            let same = attempt.url().origin() == first.origin();
            if same && attempt.previous().len() < 5 {
                attempt.follow()
            } else {
                attempt.stop()
            }
        });
        let client = reqwest::Client::builder()
            .user_agent(concat!("nix-tokens/", env!("CARGO_PKG_VERSION")))
            .timeout(timeout())
            .connect_timeout(Duration::from_secs(5).min(timeout()))
            .redirect(same_origin)
            .build()
            .map_err(|e| Error::failed(format!("could not set up HTTPS: {e}")))?;
        Ok(Http {
            client,
            sent: Arc::default(),
        })
    }

    /// How many requests this client has sent to each host, by name (`HOST`, or `HOST:PORT`
    /// where the URL names a port).
    pub fn sent(&self) -> BTreeMap<String, u64> {
        self.sent.lock().map(|s| s.clone()).unwrap_or_default()
    }

    fn count(&self, url: &Url) {
        let host = url.host_str().unwrap_or("");
        let name = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        if let Ok(mut sent) = self.sent.lock() {
            *sent.entry(name).or_default() += 1;
        }
    }

    /// `GET url`, with `auth` (a header name and its value, which holds the token) if given.
    pub async fn get(
        &self,
        url: &Url,
        auth: Option<(&'static str, &Secret<String>)>,
    ) -> std::result::Result<Response, Unreachable> {
        self.count(url);
        read(authorized(self.client.get(url.clone()), auth)?).await
    }

    /// `HEAD url` with `auth` as for [`get`](Self::get); the answer has no body.
    pub async fn head(
        &self,
        url: &Url,
        auth: Option<(&'static str, &Secret<String>)>,
    ) -> std::result::Result<Response, Unreachable> {
        self.count(url);
        headers_only(authorized(self.client.head(url.clone()), auth)?).await
    }

    /// `GET url` for its first byte only (`Range: bytes=0-0`), for servers that refuse `HEAD`;
    /// whatever body comes back is not read.
    pub async fn get_first_byte(
        &self,
        url: &Url,
        auth: Option<(&'static str, &Secret<String>)>,
    ) -> std::result::Result<Response, Unreachable> {
        self.count(url);
        let request = self.client.get(url.clone()).header("range", "bytes=0-0");
        headers_only(authorized(request, auth)?).await
    }

    /// `DELETE url` with `auth` as for [`get`](Self::get).
    pub async fn delete(
        &self,
        url: &Url,
        auth: (&'static str, &Secret<String>),
    ) -> std::result::Result<Response, Unreachable> {
        self.count(url);
        read(authorized(self.client.delete(url.clone()), Some(auth))?).await
    }

    /// `POST url` with a JSON body (which may hold a secret: it is never logged), with `auth` as
    /// for [`get`](Self::get).
    pub async fn post_json(
        &self,
        url: &Url,
        body: &serde_json::Value,
        auth: Option<(&'static str, &Secret<String>)>,
    ) -> std::result::Result<Response, Unreachable> {
        self.count(url);
        let request = self
            .client
            .post(url.clone())
            .header("accept", "application/json")
            .header("content-type", "application/json")
            .body(body.to_string());
        read(authorized(request, auth)?).await
    }

    /// `POST url` with a form body, asking for JSON (GitHub answers form-encoded otherwise).
    pub async fn post_form(
        &self,
        url: &Url,
        form: &[(&str, &str)],
    ) -> std::result::Result<Response, Unreachable> {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        self.count(url);
        let request = self
            .client
            .post(url.clone())
            .header("accept", "application/json")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        read(request).await
    }
}

/// `request` with the header `auth` (a name and a value holding the token), if given.
fn authorized(
    request: reqwest::RequestBuilder,
    auth: Option<(&'static str, &Secret<String>)>,
) -> std::result::Result<reqwest::RequestBuilder, Unreachable> {
    Ok(match auth {
        Some((name, value)) => request.header(HeaderName::from_static(name), sensitive(value)?),
        None => request,
    })
}

/// A header value holding a secret, marked sensitive so that it is never shown.
fn sensitive(secret: &Secret<String>) -> std::result::Result<HeaderValue, Unreachable> {
    let mut value = HeaderValue::from_str(secret.expose())
        .map_err(|_| Unreachable("the token cannot be sent in an HTTP header".into()))?;
    value.set_sensitive(true);
    Ok(value)
}

/// Sends `request` and reads the whole answer.
async fn read(request: reqwest::RequestBuilder) -> std::result::Result<Response, Unreachable> {
    let mut response = request
        .send()
        .await
        .map_err(|e| Unreachable(describe(&e)))?;
    let status = response.status();
    let headers = response.headers().clone();
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| Unreachable(describe(&e)))?
    {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(Unreachable(
                "answered with more than 1 MiB, which no API answer here needs".into(),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Response {
        status,
        headers,
        body,
    })
}

/// Sends `request` and keeps the status and headers; the body is never read.
async fn headers_only(
    request: reqwest::RequestBuilder,
) -> std::result::Result<Response, Unreachable> {
    let response = request
        .send()
        .await
        .map_err(|e| Unreachable(describe(&e)))?;
    Ok(Response {
        status: response.status(),
        headers: response.headers().clone(),
        body: Vec::new(),
    })
}

/// A reqwest error in a few words, without the URL's query (which never holds a token here, but
/// the words stay short).
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        format!("no answer within {} seconds", timeout().as_secs())
    } else if e.is_connect() {
        "could not connect".to_owned()
    } else if e.is_redirect() {
        "too many redirects".to_owned()
    } else if e.is_body() || e.is_decode() {
        "the answer broke off before its end".to_owned()
    } else {
        let mut text = e.to_string();
        if let Some(i) = text.find(" for url") {
            text.truncate(i);
        }
        text
    }
}

/// The runtime network work runs on: one thread, all requests of a command interleaved on it.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::failed(format!("could not start the network runtime: {e}")))
}

/// The base URL of a host: `https://HOST`, or `--base-url`, which may be plain `http://` only for
/// a loopback address (a local test server or tunnel).
pub fn base_url(host: &str, given: Option<&str>) -> Result<Url> {
    let text = given.map_or_else(|| format!("https://{host}"), str::to_owned);
    let url = Url::parse(&text).map_err(|_| {
        Error::usage(format!(
            "`{text}` is not a URL; give a base URL such as https://git.example.com"
        ))
    })?;
    if may_carry_token(&url) {
        Ok(url)
    } else {
        Err(Error::usage(format!(
            "the base URL {url} must use https (plain http only for a loopback address)"
        )))
    }
}

/// Whether a token may be sent to `url`: over https, or plain http to a loopback address (a local
/// test server or tunnel).
pub fn may_carry_token(url: &Url) -> bool {
    url.host_str()
        .is_some_and(|host| scheme_may_carry_token(url.scheme(), host))
}

/// The one rule for plain http: a token travels over `scheme` to `host` (a URL's host, or git's
/// `host[:port]`) only over https, or over plain http to this machine ([`is_loopback`]).
pub fn scheme_may_carry_token(scheme: &str, host: &str) -> bool {
    match scheme {
        "https" => true,
        "http" => is_loopback(host),
        _ => false,
    }
}

/// Whether `host` (with or without a `:port`; an IPv6 address in brackets) names this machine:
/// `localhost` or a loopback address.
pub fn is_loopback(host: &str) -> bool {
    let name = match host.rsplit_once(':') {
        Some((name, port))
            if port.bytes().all(|b| b.is_ascii_digit())
                && (name.ends_with(']') || !name.contains(':')) =>
        {
            name
        }
        _ => host,
    };
    let name = name
        .strip_prefix('[')
        .and_then(|n| n.strip_suffix(']'))
        .unwrap_or(name);
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `base` with `path` appended (`base` may itself have a path, as a GHES behind a proxy does).
pub fn join(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    let joined = format!(
        "{}/{}",
        url.path().trim_end_matches('/'),
        path.trim_start_matches('/')
    );
    url.set_path(&joined);
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_https_or_loopback() {
        assert_eq!(
            base_url("github.com", None).unwrap().as_str(),
            "https://github.com/"
        );
        assert!(base_url("x", Some("http://127.0.0.1:8080")).is_ok());
        assert!(base_url("x", Some("http://[::1]:8080")).is_ok());
        assert!(base_url("x", Some("http://git.example.com")).is_err());
        assert!(base_url("x", Some("not a url")).is_err());
        let carries = |u: &str| may_carry_token(&Url::parse(u).unwrap());
        assert!(carries("https://cache.example/x.tar.gz"));
        assert!(carries("http://127.0.0.1:8080/x") && carries("http://localhost/x"));
        assert!(!carries("http://cache.example/x") && !carries("ftp://127.0.0.1/x"));
        assert!(carries("http://[::1]:8080/x") && carries("http://127.8.9.10/x"));
    }

    #[test]
    fn plain_http_only_to_this_machine() {
        for host in [
            "localhost",
            "LocalHost:8080",
            "127.0.0.1",
            "127.0.0.1:443",
            "127.1.2.3",
            "[::1]",
            "[::1]:8080",
            "::1",
        ] {
            assert!(is_loopback(host), "{host}");
            assert!(scheme_may_carry_token("http", host), "{host}");
        }
        for host in [
            "example.com",
            "example.com:80",
            "10.0.0.1",
            "[::2]:80",
            "localhost.example.com",
            "127.0.0.1.example.com",
            "",
            ":",
        ] {
            assert!(!is_loopback(host), "{host}");
            assert!(!scheme_may_carry_token("http", host), "{host}");
            assert!(scheme_may_carry_token("https", host), "{host}");
        }
        assert!(!scheme_may_carry_token("ftp", "127.0.0.1"));
        assert!(!scheme_may_carry_token("", "localhost"));
    }

    #[test]
    fn forms_are_encoded() {
        let encode = |pairs: &[(&str, &str)]| {
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish()
        };
        assert_eq!(
            encode(&[("grant_type", "urn:ietf:params:oauth:grant-type:device_code")]),
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code"
        );
        assert_eq!(
            encode(&[("scope", "read:org repo")]),
            "scope=read%3Aorg+repo"
        );
    }

    #[test]
    fn paths_join_under_the_base() {
        let base = Url::parse("https://proxy.example/ghes/").unwrap();
        assert_eq!(
            join(&base, "/api/v3/user").as_str(),
            "https://proxy.example/ghes/api/v3/user"
        );
        let root = Url::parse("https://h.example").unwrap();
        assert_eq!(
            join(&root, "api/v4/user").as_str(),
            "https://h.example/api/v4/user"
        );
    }
}
