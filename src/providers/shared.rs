//! What every kind of provider shares: the verdict on a token and the identity behind a valid one,
//! what a valid token may do beyond reading (the privilege audit), whether a caller can read a
//! repository, the outcome of a revocation, reading a provider's JSON answers, and OAuth token
//! revocation (RFC 7009). The kinds import this module; it imports none of them.

use reqwest::Url;
use serde::Serialize;
use serde_json::Value;

use super::lifetime_policy;
use super::provider::Provider;
use crate::http::{Http, Response};
use crate::secret::Secret;
use crate::ui::printable;

/// Who a valid token belongs to, and what it may do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    pub user: String,
    /// `None` where the provider does not say (fine-grained GitHub tokens, Gitea).
    pub scopes: Option<Vec<String>>,
    /// RFC 3339, where the token expires.
    pub expires_at: Option<String>,
    /// GitHub's remaining and total requests per hour.
    pub rate_limit: Option<(u64, u64)>,
    /// What else the answer showed that a person should know (a cache that needs no token).
    pub remark: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Valid(Identity),
    /// The provider answered and refused the token; the reason is safe to show.
    Rejected(String),
    /// No usable answer (no connection, a timeout, a server error, not the expected service).
    Unreachable(String),
    /// nix-tokens cannot check this kind of token.
    Unverified(String),
}

/// What a valid token may do beyond what Nix needs (Nix only ever reads), as far as its provider
/// tells; `status --json` shows it as `privileges`, with the keys docs/privileges.md documents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Privileges {
    /// Whether the token can only read; `None` where the provider does not tell.
    pub read_only: Option<bool>,
    /// Its scopes that grant more than Nix needs (writing, deleting, administering); `None` where
    /// the provider does not tell.
    pub beyond_nix: Option<Vec<String>>,
    /// What it can do, as a clause for people: "can read and write your private repositories".
    pub summary: String,
}

impl Privileges {
    /// A token whose provider does not tell what it may do.
    pub fn unknown(summary: impl Into<String>) -> Self {
        Privileges {
            read_only: None,
            beyond_nix: None,
            summary: summary.into(),
        }
    }

    /// From the scopes a provider reported: `reads_only` tells a scope that grants reading alone;
    /// every other scope is more than Nix needs, which is `needed` (the scopes a login asks for).
    pub fn from_scopes(
        scopes: &[String],
        reads_only: impl Fn(&str) -> bool,
        needed: &[String],
    ) -> Self {
        let beyond: Vec<String> = scopes.iter().filter(|s| !reads_only(s)).cloned().collect();
        let summary = if beyond.is_empty() && scopes.is_empty() {
            "has no scope".to_owned()
        } else if beyond.is_empty() {
            format!("can only read (scopes {})", scopes.join(", "))
        } else if needed.is_empty() {
            format!("can do more than Nix needs: {}", beyond.join(", "))
        } else {
            format!(
                "can do more than Nix needs: {}; Nix needs only {}",
                beyond.join(", "),
                needed.join(", ")
            )
        };
        Privileges {
            read_only: Some(beyond.is_empty()),
            beyond_nix: Some(beyond),
            summary,
        }
    }

    /// One word for a table: `read-only`, `read-write`, `broad` (more than Nix needs) or
    /// `unknown`.
    pub fn word(&self) -> &'static str {
        match (self.read_only, self.beyond_nix.as_deref()) {
            (None, _) => "unknown",
            (_, Some([_, ..])) => "broad",
            (Some(true), _) => "read-only",
            (Some(false), _) => "read-write",
        }
    }
}

/// What the check of a read-only login found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadOnlyCheck {
    /// The token reads, as this clause shows ("reads the contents of octo-org/app").
    Reads(String),
    /// It is not a read-only token that can read; the sentence says why and what to do.
    Refused(String),
}

/// What an answer that is not 200 means: refused (401/403) or no usable answer.
pub fn verdict_for_status(response: &Response, service: &str) -> Verdict {
    let message = json(response)
        .and_then(|v| {
            v.get("message")
                .or_else(|| v.get("error_description"))
                .or_else(|| v.get("error"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .map(|m| format!(": {}", said_by_server(&m)))
        .unwrap_or_default();
    match response.status.as_u16() {
        401 | 403 => Verdict::Rejected(format!(
            "refused with HTTP {}{message}",
            response.status.as_u16()
        )),
        404 => Verdict::Unreachable(format!("does not answer like {service} (HTTP 404)")),
        code => Verdict::Unreachable(format!("answered HTTP {code}{message}")),
    }
}

/// A server's error message as shown: GitHub's token-lifetime refusal explained
/// ([`lifetime_policy`]), anything else made printable and cut to 120 characters.
fn said_by_server(message: &str) -> String {
    lifetime_policy::explain(message)
        .unwrap_or_else(|| printable(message).chars().take(120).collect())
}

/// The body as JSON, if it is.
pub fn json(response: &Response) -> Option<Value> {
    serde_json::from_slice(&response.body).ok()
}

/// The JSON body of a 200 answer, or the reason it is not usable.
pub fn json_body(response: &Response, service: &str) -> Result<Value, Verdict> {
    if !response.status.is_success() {
        return Err(verdict_for_status(response, service));
    }
    json(response).ok_or_else(|| {
        Verdict::Unreachable(format!(
            "did not answer with JSON, so it does not look like {service}"
        ))
    })
}

/// Whether an answer is a 200 with a JSON object holding `key`.
pub fn json_with(answer: &Response, key: &str) -> bool {
    answer.status.is_success() && json(answer).is_some_and(|v| v.get(key).is_some())
}

/// The user a valid answer names under `key`, or why the answer does not look like `service`.
pub fn named_user(body: &Value, key: &str, service: &str) -> Result<String, Verdict> {
    body.get(key)
        .and_then(Value::as_str)
        .map(printable)
        .ok_or_else(|| {
            Verdict::Unreachable(format!(
                "answered without a user name, so it does not look like {service}"
            ))
        })
}

/// What a forge says when asked whether a caller (a token, or no one) can read a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RepoAccess {
    /// Anyone may read it.
    Public,
    /// It is not public, and the token reads it.
    Private,
    /// The forge shows no such repository to this caller: it is private and the caller may not
    /// read it, or it does not exist (GitHub, GitLab and Gitea answer 404 to both).
    Hidden,
    /// The forge refused the token itself (HTTP 401); the reason is safe to show.
    Refused(String),
    /// The token is good but may not do this (HTTP 403: a missing scope, a used-up rate limit).
    Forbidden(String),
    /// No usable answer.
    Unreachable(String),
    /// This kind cannot say.
    Unknown(String),
}

/// A forge's answer about a repository, with GitHub's remaining and total requests per hour
/// where it sends them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoAnswer {
    pub access: RepoAccess,
    pub rate_limit: Option<(u64, u64)>,
    /// A rate limit refused the question and the forge said how many seconds to wait before
    /// asking again; `access` is what to tell when there is no time to.
    pub wait: Option<u64>,
}

impl From<RepoAccess> for RepoAnswer {
    fn from(access: RepoAccess) -> Self {
        RepoAnswer {
            access,
            rate_limit: None,
            wait: None,
        }
    }
}

/// A forge's answer to one batched question about several repositories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchAnswer {
    /// What each repository asked about comes to, in the order asked.
    Each(Vec<RepoAccess>),
    /// The kind has no batch here, or the batch was refused as a whole (no token, an old server,
    /// an error about the whole query): each repository is to be asked alone. The text says why.
    Unbatched(String),
    /// A rate limit refused the batch: `wait` seconds (where the forge said) before asking again;
    /// `why` is what to tell when there is no time to.
    Limited { why: String, wait: Option<u64> },
}

/// What an answer about a repository means: on a 200 with JSON, `private` reads whether the
/// repository is public from the body (`None` when the body does not look like `service`'s).
pub fn repo_access(
    response: &Response,
    service: &str,
    private: fn(&Value) -> Option<bool>,
) -> RepoAccess {
    let said = || {
        json(response)
            .and_then(|v| {
                v.get("message")
                    .or_else(|| v.get("error_description"))
                    .or_else(|| v.get("error"))
                    .and_then(Value::as_str)
                    .map(said_by_server)
            })
            .unwrap_or_default()
    };
    let code = response.status.as_u16();
    let with = |what: String| match what.is_empty() {
        true => format!("HTTP {code}"),
        false => format!("HTTP {code}: {what}"),
    };
    match code {
        200 => match json(response).as_ref().and_then(private) {
            Some(true) => RepoAccess::Private,
            Some(false) => RepoAccess::Public,
            None => RepoAccess::Unreachable(format!(
                "did not answer like {service} about the repository"
            )),
        },
        401 => RepoAccess::Refused(with(said())),
        403 | 429 => RepoAccess::Forbidden(with(said())),
        404 => RepoAccess::Hidden,
        _ => RepoAccess::Unreachable(format!("answered {}", with(said()))),
    }
}

/// What a revocation came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Revoked {
    Done,
    /// The provider offers no way for nix-tokens; the text says where to do it.
    ByHand(String),
    /// The provider was asked and did not confirm; the text says why.
    Failed(String),
}

impl Revoked {
    /// The outcome an answer's status means.
    pub fn from_status(host: &str, status: reqwest::StatusCode) -> Revoked {
        if status.is_success() {
            Revoked::Done
        } else {
            Revoked::Failed(format!("{host} answered HTTP {}", status.as_u16()))
        }
    }

    /// Where to revoke a token for `host` by hand.
    pub fn by_hand(provider: &Provider, host: &str) -> Revoked {
        Revoked::ByHand(provider.revoke_by_hand(host))
    }
}

/// An OAuth login's revocation details.
pub struct OAuthRevocation<'a> {
    pub client_id: &'a str,
    pub client_secret: Option<&'a Secret<String>>,
    pub refresh_token: Option<Secret<String>>,
    /// The issuer's revocation endpoint, where discovery named one.
    pub endpoint: Option<Url>,
}

/// RFC 7009: the refresh token first (which, on most servers, ends the whole grant), then the
/// access token. The outcome is the last answer's.
pub async fn rfc7009(
    http: &Http,
    host: &str,
    url: &Url,
    oauth: &OAuthRevocation<'_>,
    access: &Secret<String>,
) -> Revoked {
    let mut last = Revoked::Done;
    let tokens = oauth
        .refresh_token
        .iter()
        .map(|r| (r, "refresh_token"))
        .chain([(access, "access_token")]);
    for (secret, hint) in tokens {
        let mut form = vec![
            ("client_id", oauth.client_id),
            ("token", secret.expose().as_str()),
            ("token_type_hint", hint),
        ];
        if let Some(s) = oauth.client_secret {
            form.push(("client_secret", s.expose().as_str()));
        }
        last = match http.post_form(url, &form).await {
            Ok(r) => Revoked::from_status(host, r.status),
            Err(e) => Revoked::Failed(e.0),
        };
    }
    last
}
