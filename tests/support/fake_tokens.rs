//! Fake forges that know several tokens, each with its own scopes or permissions, and answer as
//! each provider documents it reports them, quirks included:
//! - GitHub: `X-OAuth-Scopes` lists a classic or OAuth token's scopes, comma and space between,
//!   and is empty for one with no scope; fine-grained (`github_pat_`) and GitHub App user (`ghu_`)
//!   tokens get no such header but `X-Accepted-GitHub-Permissions`. Repositories a token may not
//!   see answer 404; a private one it sees without `Contents: read` answers 403 "Resource not
//!   accessible by personal access token".
//! - GitLab: `/personal_access_tokens/self` gives a personal token's `scopes` (a JSON array);
//!   `/oauth/token/info` an OAuth token's `scope` (an array) with its deprecated alias `scopes`.
//! - Gitea: nothing tells a token's scopes; `/user` needs `read:user`, and a token without it gets
//!   Gitea's 403, which names the token's scope.

use serde_json::json;

use super::fake_forge::{FakeServer, Reply};

/// The repositories of the fake GitHub: `OWNER/NAME` and whether it is private.
pub const GITHUB_REPOS: &[(&str, bool)] = &[
    ("octo-org/app", true),
    ("octocat/dotfiles", true),
    ("octocat/hello-world", false),
];

/// What a GitHub token may do.
#[derive(Debug, Clone)]
pub enum Grant {
    /// A classic or OAuth token with these scopes (`X-OAuth-Scopes` as GitHub writes it, `""` for
    /// none).
    Scopes(String),
    /// A fine-grained token reaching these repositories, with `Contents: read` or without.
    FineGrained {
        repos: Vec<&'static str>,
        contents: bool,
    },
}

impl Grant {
    pub fn scopes(list: &str) -> Self {
        Grant::Scopes(list.to_owned())
    }

    fn has_scope(&self, scope: &str) -> bool {
        matches!(self, Grant::Scopes(s) if s.split(", ").any(|x| x == scope))
    }

    /// The repositories this token sees: with `repo`, all; a classic token without, the public
    /// ones; a fine-grained token, those it was given.
    fn sees(&self, repo: &str, private: bool) -> bool {
        match self {
            Grant::Scopes(_) => !private || self.has_scope("repo"),
            Grant::FineGrained { repos, .. } => repos.contains(&repo),
        }
    }
}

/// GitHub Enterprise Server's REST API at `/api/v3` for these tokens: `/user` (with each token's
/// headers), `/user/repos`, and `/repos/OWNER/NAME/commits`; anything else gets 401 "Bad
/// credentials" without a known token, 404 with one.
pub fn github(tokens: Vec<(&str, Grant)>) -> FakeServer {
    let tokens: Vec<(String, Grant)> = tokens
        .into_iter()
        .map(|(t, g)| (format!("token {t}"), g))
        .collect();
    FakeServer::start(move |r| {
        let path = r.path.split('?').next().unwrap_or("");
        let grant = tokens
            .iter()
            .find(|(auth, _)| r.header("authorization") == Some(auth.as_str()))
            .map(|(_, g)| g);
        match (r.method.as_str(), path, grant) {
            // Unauthenticated, as GitHub's credential revocation API is.
            ("POST", "/api/v3/credentials/revoke", _) => Reply::json(202, json!({})),
            (_, _, None) => Reply::json(
                401,
                json!({"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}),
            ),
            ("GET", "/api/v3/user", Some(grant)) => github_user(grant),
            ("GET", "/api/v3/user/repos", Some(grant)) => {
                let seen: Vec<serde_json::Value> = GITHUB_REPOS
                    .iter()
                    .filter(|(name, private)| grant.sees(name, *private))
                    .map(|(name, private)| repo_json(name, *private))
                    .collect();
                Reply::json(200, json!(seen))
            }
            ("GET", _, Some(grant)) => github_commits(path, grant),
            _ => not_found(),
        }
    })
}

fn not_found() -> Reply {
    Reply::json(
        404,
        json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}),
    )
}

fn github_user(grant: &Grant) -> Reply {
    let reply = Reply::json(200, json!({"login": "octocat", "id": 1}))
        .header(
            "GitHub-Authentication-Token-Expiration",
            "2099-12-01 12:00:00 UTC",
        )
        .header("X-RateLimit-Limit", "5000")
        .header("X-RateLimit-Remaining", "4999");
    match grant {
        Grant::Scopes(scopes) => reply
            .header("X-OAuth-Scopes", scopes)
            .header("X-Accepted-OAuth-Scopes", ""),
        Grant::FineGrained { .. } => reply.header(
            "X-Accepted-GitHub-Permissions",
            "allows_permissionless_access=true",
        ),
    }
}

fn repo_json(name: &str, private: bool) -> serde_json::Value {
    let (owner, short) = name.split_once('/').unwrap();
    json!({
        "id": name.len(),
        "name": short,
        "full_name": name,
        "private": private,
        "owner": {"login": owner, "type": if owner == "octocat" { "User" } else { "Organization" }},
        "visibility": if private { "private" } else { "public" },
    })
}

/// `GET /repos/OWNER/NAME/commits`: the commits for a token that may read them; 404 for a
/// repository it does not see; 403 for a private one a fine-grained token sees without
/// `Contents: read`.
fn github_commits(path: &str, grant: &Grant) -> Reply {
    let Some(name) = path
        .strip_prefix("/api/v3/repos/")
        .and_then(|p| p.strip_suffix("/commits"))
    else {
        return not_found();
    };
    let Some((_, private)) = GITHUB_REPOS.iter().find(|(n, _)| *n == name) else {
        return not_found();
    };
    if !grant.sees(name, *private) {
        return not_found();
    }
    let reads = match grant {
        Grant::FineGrained { contents, .. } => *contents || !private,
        Grant::Scopes(_) => true,
    };
    if !reads {
        return Reply::json(
            403,
            json!({"message": "Resource not accessible by personal access token",
                   "documentation_url": "https://docs.github.com/rest/commits/commits#list-commits",
                   "status": "403"}),
        )
        .header("X-Accepted-GitHub-Permissions", "contents=read");
    }
    Reply::json(
        200,
        json!([{"sha": "0123456789abcdef0123456789abcdef01234567", "commit": {"message": "init"}}]),
    )
}

/// GitLab's REST API for these personal tokens (sent as `PRIVATE-TOKEN`) and OAuth tokens (sent as
/// `Authorization: Bearer`), each with its scopes; every answer carries `X-Gitlab-Meta`.
pub fn gitlab(pats: Vec<(&str, &[&str])>, oauth: Vec<(&str, &[&str])>) -> FakeServer {
    let owned = |list: Vec<(&str, &[&str])>, prefix: &str| -> Vec<(String, Vec<String>)> {
        list.into_iter()
            .map(|(t, s)| {
                (
                    format!("{prefix}{t}"),
                    s.iter().map(|s| s.to_string()).collect(),
                )
            })
            .collect()
    };
    let (pats, oauth) = (owned(pats, ""), owned(oauth, "Bearer "));
    FakeServer::start(move |r| {
        let find = |list: &[(String, Vec<String>)], header: &str| {
            list.iter()
                .find(|(t, _)| r.header(header) == Some(t.as_str()))
                .map(|(_, s)| s.clone())
        };
        let pat = find(&pats, "private-token");
        let bearer = find(&oauth, "authorization");
        let reply = match (r.method.as_str(), r.path.as_str(), &pat, &bearer) {
            ("GET", "/api/v4/user", Some(_), _) | ("GET", "/api/v4/user", _, Some(_)) => {
                Reply::json(
                    200,
                    json!({"id": 1, "username": "tanuki", "name": "Tanuki", "state": "active"}),
                )
            }
            ("DELETE", "/api/v4/personal_access_tokens/self", Some(_), _) => Reply {
                status: 204,
                headers: Vec::new(),
                body: String::new(),
            },
            ("GET", "/api/v4/personal_access_tokens/self", Some(scopes), _) => Reply::json(
                200,
                json!({"id": 4, "name": "nix", "revoked": false, "created_at": "2024-01-31T15:29:17.033Z",
                       "description": null, "scopes": scopes, "user_id": 1,
                       "last_used_at": "2024-02-01T10:00:00.000Z", "active": true,
                       "expires_at": "2099-01-31"}),
            ),
            ("GET", "/oauth/token/info", _, Some(scopes)) => Reply::json(
                200,
                json!({"resource_owner_id": 1, "scope": scopes, "expires_in": 7200,
                       "application": {"uid": "41d48f9422ebd655dd9cf2947d6979681dfaddc6d0c56f7628f6ada59559af1e"},
                       "created_at": 1_700_000_000, "scopes": scopes, "expires_in_seconds": 7200}),
            ),
            _ => Reply::json(401, json!({"message": "401 Unauthorized"})),
        };
        reply.header("X-Gitlab-Meta", r#"{"correlation_id":"x","version":"1"}"#)
    })
}

/// Gitea's API for these tokens, each with its scopes: `/api/v1/user` answers a token with
/// `read:user` (or `write:user`, or `all`) the same whatever else it may do, and refuses one
/// without as Gitea 1.22 does, naming the scope it has.
pub fn gitea(tokens: Vec<(&str, &[&str])>) -> FakeServer {
    let tokens: Vec<(String, Vec<String>)> = tokens
        .into_iter()
        .map(|(t, s)| {
            (
                format!("token {t}"),
                s.iter().map(|s| s.to_string()).collect(),
            )
        })
        .collect();
    FakeServer::start(move |r| {
        let scopes = tokens
            .iter()
            .find(|(t, _)| r.header("authorization") == Some(t.as_str()))
            .map(|(_, s)| s);
        match (r.path.as_str(), scopes) {
            ("/api/v1/user", Some(scopes))
                if scopes
                    .iter()
                    .any(|s| matches!(s.as_str(), "all" | "read:user" | "write:user")) =>
            {
                Reply::json(
                    200,
                    json!({"id": 7, "login": "forge-user", "full_name": "", "is_admin": false}),
                )
            }
            ("/api/v1/user", Some(scopes)) => Reply::json(
                403,
                json!({"message": format!("token does not have at least one of required scope(s), required=[read:user], token scope={}", scopes.join(",")),
                       "url": "https://gitea.example/api/swagger"}),
            ),
            ("/api/v1/user", None) => Reply::json(
                401,
                json!({"message": "token is required", "url": "https://gitea.example/api/swagger"}),
            ),
            _ => Reply::json(404, json!({"message": "not found"})),
        }
    })
}
