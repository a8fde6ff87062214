//! Asking a provider who a token belongs to: the verdict, and the identity behind a valid token.

use serde_json::Value;

use super::{Kind, Provider, gitea, github, gitlab, oidc};
use crate::http::{Http, Response, Unreachable};
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

/// Checks `token` (as stored for Nix, GitLab's `PAT:`/`OAuth2:` included) against the provider's
/// API at `base` (for an OpenID Connect provider without an API of its own: its issuer).
pub async fn check(
    http: &Http,
    provider: &Provider,
    host: &str,
    base: &reqwest::Url,
    token: &Secret<String>,
) -> Verdict {
    let result = match provider.kind {
        Kind::Github => github::check(http, host, base, token).await,
        Kind::Gitlab => gitlab::check(http, base, token).await,
        Kind::Gitea | Kind::Forgejo => gitea::check(http, base, token).await,
        Kind::Oidc => {
            let graphql = provider
                .oidc
                .as_ref()
                .and_then(|o| o.graphql_path.as_deref());
            oidc::check(http, base, graphql, token).await
        }
        Kind::Sourcehut => {
            return Verdict::Unverified(format!(
                "nix-tokens cannot check {} tokens yet",
                provider.name
            ));
        }
    };
    result.unwrap_or_else(|Unreachable(why)| Verdict::Unreachable(why))
}

/// The scopes in `wanted` that `scopes` does not grant, where a broader scope grants a narrower
/// one (GitLab's `api` grants `read_api` and `read_repository`).
pub fn missing_scopes(wanted: &[String], scopes: &[String]) -> Vec<String> {
    let grants = |have: &str, want: &str| {
        have == want
            || (have == "api" && matches!(want, "read_api" | "read_repository"))
            || (have == "write_repository" && want == "read_repository")
    };
    wanted
        .iter()
        .filter(|w| !scopes.iter().any(|s| grants(s, w)))
        .cloned()
        .collect()
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
        .map(|m| format!(": {}", printable(&m).chars().take(120).collect::<String>()))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn broader_scopes_grant_narrower_ones() {
        let wanted = strings(&["read_api", "read_repository"]);
        assert!(missing_scopes(&wanted, &strings(&["api"])).is_empty());
        assert_eq!(
            missing_scopes(&wanted, &strings(&["read_repository"])),
            ["read_api"]
        );
        assert_eq!(
            missing_scopes(&strings(&["repo"]), &strings(&["gist"])),
            ["repo"]
        );
    }
}
