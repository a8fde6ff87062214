//! Fake forges that hold repositories, public and private, and answer questions about them as the
//! real APIs do, quirks included: GitHub's `GET /api/v3/repos/O/R` (404 for a private repository
//! the caller may not read, as for one that does not exist; 401 "Bad credentials" for an unknown
//! token even on a public one; `X-RateLimit-*` and a 403 once the 60 anonymous requests are
//! spent), GitLab's `GET /api/v4/projects/O%2FR` (`visibility`; "404 Project Not Found"; 403
//! `insufficient_scope` for a token without `read_api`), Gitea's `GET /api/v1/repos/O/R`
//! (`private`), and files behind basic auth (401 with `WWW-Authenticate`, `HEAD` answered, a
//! path that refuses `HEAD`, and one that redirects to another host). Each also answers the
//! "who am I" request a login checks a token with.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::json;

use super::fake_forge::{FakeServer, Reply, Request};

/// What a forge holds: repositories `OWNER/NAME` with whether each is public, and which token
/// reads which owner's private repositories.
#[derive(Clone, Default)]
pub struct Holdings {
    pub repos: Vec<(String, bool)>,
    pub grants: Vec<(String, String)>,
    /// Tokens the forge knows that may not use its API (GitLab's `read_repository` alone).
    pub no_api: Vec<String>,
}

impl Holdings {
    /// `repos` as `("owner/name", public)`, `grants` as `(token, owner)`.
    pub fn new(repos: &[(&str, bool)], grants: &[(&str, &str)]) -> Self {
        Holdings {
            repos: repos.iter().map(|(r, p)| ((*r).to_owned(), *p)).collect(),
            grants: grants
                .iter()
                .map(|(t, o)| ((*t).to_owned(), (*o).to_owned()))
                .collect(),
            no_api: Vec::new(),
        }
    }

    pub fn knows(&self, token: &str) -> bool {
        self.grants.iter().any(|(t, _)| t == token) || self.no_api.iter().any(|t| t == token)
    }

    /// `Some(public)` for a repository that exists (names compare without regard to case).
    pub fn find(&self, owner: &str, name: &str) -> Option<(String, bool)> {
        let wanted = format!("{owner}/{name}");
        self.repos
            .iter()
            .find(|(r, _)| r.eq_ignore_ascii_case(&wanted))
            .map(|(r, public)| (r.clone(), *public))
    }

    pub fn reads(&self, token: &str, repo: &str) -> bool {
        let owner = repo.split('/').next().unwrap_or("");
        self.grants
            .iter()
            .any(|(t, o)| t == token && o.eq_ignore_ascii_case(owner))
    }
}

/// A GitHub Enterprise Server API under `/api/v3` holding `holdings`, with `anonymous` requests
/// left this hour for callers without a token.
pub fn github(holdings: Holdings, anonymous: u64) -> FakeServer {
    let left = AtomicU64::new(anonymous);
    FakeServer::start(move |r| github_rest(&holdings, &left, r))
}

/// GitHub's REST answer to `r` from `holdings`, `left` counting the anonymous requests left.
pub fn github_rest(holdings: &Holdings, left: &AtomicU64, r: &Request) -> Reply {
    let token = r
        .header("authorization")
        .and_then(|a| a.strip_prefix("token "))
        .map(str::to_owned);
    if let Some(t) = &token
        && !holdings.knows(t)
    {
        return Reply::json(401, json!({"message": "Bad credentials"}))
            .header("X-RateLimit-Limit", "60")
            .header("X-RateLimit-Remaining", "59");
    }
    let limits = |reply: Reply, remaining: u64, limit: u64| {
        reply
            .header("X-RateLimit-Limit", &limit.to_string())
            .header("X-RateLimit-Remaining", &remaining.to_string())
    };
    let (remaining, limit) = match &token {
        Some(_) => (4999, 5000),
        None => match left.load(Ordering::SeqCst) {
            0 => {
                let said = "API rate limit exceeded for 127.0.0.1. (But here's the good news: Authenticated requests get a higher rate limit.)";
                return limits(Reply::json(403, json!({ "message": said })), 0, 60);
            }
            n => {
                left.store(n - 1, Ordering::SeqCst);
                (n - 1, 60)
            }
        },
    };
    let reply = match r.path.as_str() {
        "/api/v3/user" if token.is_some() => {
            Reply::json(200, json!({"login": "octocat"})).header("X-OAuth-Scopes", "repo")
        }
        path => match path
            .strip_prefix("/api/v3/repos/")
            .and_then(|p| p.split_once('/'))
        {
            Some((owner, name)) if !name.contains('/') => match holdings.find(owner, name) {
                Some((full, public))
                    if public || token.as_deref().is_some_and(|t| holdings.reads(t, &full)) =>
                {
                    Reply::json(200, json!({"full_name": full, "private": !public}))
                }
                _ => not_found(),
            },
            _ => not_found(),
        },
    };
    limits(reply, remaining, limit)
}

fn not_found() -> Reply {
    Reply::json(
        404,
        json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}),
    )
}

/// GitLab's REST API holding `holdings`, tokens sent as `PRIVATE-TOKEN` (personal) or
/// `Authorization: Bearer` (OAuth); every answer carries `X-Gitlab-Meta`.
pub fn gitlab(holdings: Holdings) -> FakeServer {
    FakeServer::start(move |r| {
        let token = r
            .header("private-token")
            .or_else(|| {
                r.header("authorization")
                    .and_then(|a| a.strip_prefix("Bearer "))
            })
            .map(str::to_owned);
        let reply = gitlab_answer(&holdings, r, token.as_deref());
        reply.header("X-Gitlab-Meta", r#"{"correlation_id":"x","version":"1"}"#)
    })
}

pub fn gitlab_answer(holdings: &Holdings, r: &Request, token: Option<&str>) -> Reply {
    if token.is_some_and(|t| !holdings.knows(t)) {
        return Reply::json(401, json!({"message": "401 Unauthorized"}));
    }
    let path = r.path.split('?').next().unwrap_or("");
    match path {
        "/api/v4/user" if token.is_some() => Reply::json(200, json!({"username": "tanuki"})),
        "/api/v4/personal_access_tokens/self" if token.is_some() => Reply::json(
            200,
            json!({"scopes": ["read_api", "read_repository"], "active": true, "revoked": false}),
        ),
        _ if token.is_some_and(|t| holdings.no_api.iter().any(|n| n == t)) => Reply::json(
            403,
            json!({"error": "insufficient_scope",
                   "error_description": "The request requires higher privileges than provided by the access token.",
                   "scope": "api read_api"}),
        ),
        path => {
            let project = path
                .strip_prefix("/api/v4/projects/")
                .filter(|p| !p.contains('/'))
                .map(|p| p.replace("%2F", "/").replace("%2f", "/"));
            let found = project
                .as_deref()
                .and_then(|p| p.rsplit_once('/'))
                .and_then(|(owner, name)| holdings.find(owner, name));
            match found {
                Some((full, public))
                    if public || token.is_some_and(|t| holdings.reads(t, &full)) =>
                {
                    let visibility = if public { "public" } else { "private" };
                    Reply::json(
                        200,
                        json!({"path_with_namespace": full, "visibility": visibility}),
                    )
                }
                _ => Reply::json(404, json!({"message": "404 Project Not Found"})),
            }
        }
    }
}

/// Gitea's (and Forgejo's) API holding `holdings`, tokens sent as `Authorization: token …`.
pub fn gitea(holdings: Holdings) -> FakeServer {
    FakeServer::start(move |r| {
        let token = r
            .header("authorization")
            .and_then(|a| a.strip_prefix("token "));
        if token.is_some_and(|t| !holdings.knows(t)) {
            return Reply::json(
                401,
                json!({"message": "user does not exist [uid: 0, name: ]"}),
            );
        }
        match r.path.as_str() {
            "/api/v1/user" if token.is_some() => Reply::json(200, json!({"login": "forge-user"})),
            path => match path
                .strip_prefix("/api/v1/repos/")
                .and_then(|p| p.split_once('/'))
            {
                Some((owner, name)) => match holdings.find(owner, name) {
                    Some((full, public))
                        if public || token.is_some_and(|t| holdings.reads(t, &full)) =>
                    {
                        Reply::json(200, json!({"full_name": full, "private": !public}))
                    }
                    _ => Reply::json(404, json!({"errors": [], "message": "not found"})),
                },
                None => Reply::json(404, json!({"errors": [], "message": "not found"})),
            },
        }
    })
}

/// Files under `/files/NAME`: those named in `public` for anyone, the others for a client sending
/// `login:password` through basic auth (401 with `WWW-Authenticate` otherwise). Under
/// `/no-head/…` a `HEAD` is refused with 405 (a `GET` of one byte is answered 206), and
/// `/moved/…` redirects to `elsewhere`.
pub fn files(login: &str, password: &str, public: &[&str], elsewhere: &str) -> FakeServer {
    let expected = super::fake_cache::basic(login, password);
    let public: Vec<String> = public.iter().map(|p| (*p).to_owned()).collect();
    let elsewhere = elsewhere.to_owned();
    FakeServer::start(move |r| {
        let path = r.path.as_str();
        if let Some(rest) = path.strip_prefix("/moved/") {
            return Reply::html(302, "").header("Location", &format!("{elsewhere}/{rest}"));
        }
        let (refuses_head, name) = match path.strip_prefix("/no-head/") {
            Some(name) => (true, name),
            None => (false, path.strip_prefix("/files/").unwrap_or("")),
        };
        if name.is_empty() || name.starts_with("missing") {
            return Reply::json(404, json!({"message": "Not Found"}));
        }
        let allowed =
            public.iter().any(|p| p == name) || r.header("authorization") == Some(&expected);
        if !allowed {
            return Reply::json(401, json!({"message": "Unauthorized"}))
                .header("WWW-Authenticate", "Basic realm=\"files\"");
        }
        match (r.method.as_str(), refuses_head) {
            ("HEAD", true) => Reply::json(405, json!({"message": "Method Not Allowed"})),
            (_, true) if r.header("range") == Some("bytes=0-0") => Reply {
                status: 206,
                headers: vec![("Content-Range".into(), "bytes 0-0/9".into())],
                body: "x".into(),
            },
            _ => Reply {
                status: 200,
                headers: vec![("Content-Type".into(), "application/x-gzip".into())],
                body: "tarball!!".into(),
            },
        }
    })
}
