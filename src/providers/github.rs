//! GitHub and GitHub Enterprise Server.
//!
//! The API is at `https://api.github.com` for github.com and at `BASE/api/v3` elsewhere (GHES).
//! `GET /user` names the owner; `X-OAuth-Scopes` lists a classic token's scopes (it is empty for
//! fine-grained tokens); `GitHub-Authentication-Token-Expiration` gives an expiry where there is
//! one; `X-RateLimit-*` the hourly budget. `GET /repos/OWNER/REPO` says whether a repository is
//! `private`, and answers 404 for a private one the caller may not read. A GHES answers `GET /api/v3` anonymously with
//! `current_user_url` or an `X-GitHub-Enterprise-Version` header. Tokens are revoked through the
//! credential revocation API; git takes any token with the user `x-access-token`.

use async_trait::async_trait;
use reqwest::Url;
use reqwest::header::HeaderMap;

use super::forge::{Forge, GitAsk, Probe, Site};
use super::provider::Kind;
use super::shared::{
    Identity, OAuthRevocation, RepoAccess, RepoAnswer, Revoked, Verdict, json_body, json_with,
    named_user, repo_access,
};
use crate::http::{Response, Unreachable, join};
use crate::secret::Secret;

pub struct Github;

/// Where the REST API of `host` is.
pub fn api_base(host: &str, base: &Url) -> Url {
    if host == "github.com" && base.as_str() == "https://github.com/" {
        Url::parse("https://api.github.com").expect("a valid URL")
    } else {
        join(base, "api/v3")
    }
}

#[async_trait]
impl Forge for Github {
    fn kind(&self) -> Kind {
        Kind::Github
    }

    fn name(&self) -> &'static str {
        "github"
    }

    async fn check(&self, site: &Site<'_>, token: &Secret<String>) -> Result<Verdict, Unreachable> {
        let auth = Secret::new(format!("token {}", token.expose()));
        let url = join(&api_base(site.host, site.base), "user");
        let response = site.http.get(&url, Some(("authorization", &auth))).await?;
        let user =
            match json_body(&response, "GitHub").and_then(|b| named_user(&b, "login", "GitHub")) {
                Ok(user) => user,
                Err(verdict) => return Ok(verdict),
            };
        Ok(Verdict::Valid(Identity {
            user,
            scopes: scopes(&response.headers),
            expires_at: header(&response.headers, "github-authentication-token-expiration")
                .and_then(|e| crate::time::rfc3339_from_header(&e)),
            rate_limit: rate_limit(&response.headers),
        }))
    }

    async fn repo_access(
        &self,
        site: &Site<'_>,
        owner: &str,
        repo: &str,
        token: Option<&Secret<String>>,
    ) -> Result<RepoAnswer, Unreachable> {
        let auth = token.map(|t| Secret::new(format!("token {}", t.expose())));
        let url = join(
            &api_base(site.host, site.base),
            &format!("repos/{owner}/{repo}"),
        );
        let response = site
            .http
            .get(&url, auth.as_ref().map(|a| ("authorization", a)))
            .await?;
        let rate_limit = rate_limit(&response.headers);
        let access = match rate_limit {
            // GitHub answers 403 (or 429) once the hour's requests are used up.
            Some((0, limit)) if matches!(response.status.as_u16(), 403 | 429) => {
                RepoAccess::Forbidden(format!(
                    "GitHub's rate limit is used up (0 of {limit} requests left this hour)"
                ))
            }
            _ => repo_access(&response, "GitHub", |v| {
                v.get("private").and_then(serde_json::Value::as_bool)
            }),
        };
        Ok(RepoAnswer { access, rate_limit })
    }

    fn probe(&self) -> Option<Probe> {
        Some(Probe {
            path: "api/v3",
            matches: is_ghes,
            label: "GitHub Enterprise",
        })
    }

    fn identifies_tokens(&self) -> bool {
        true
    }

    async fn revoke(
        &self,
        site: &Site<'_>,
        token: &Secret<String>,
        _oauth: Option<OAuthRevocation<'_>>,
    ) -> Revoked {
        let url = join(&api_base(site.host, site.base), "credentials/revoke");
        let body = serde_json::json!({ "credentials": [token.expose()] });
        match site.http.post_json(&url, &body, None).await {
            Ok(r) => Revoked::from_status(site.host, r.status),
            Err(e) => Revoked::Failed(e.0),
        }
    }

    /// The user git named, else `x-access-token`, which every kind of GitHub token accepts.
    fn git_credential(&self, token: &Secret<String>, ask: &GitAsk<'_>) -> (String, Secret<String>) {
        let user = ask.named().unwrap_or("x-access-token");
        (user.to_owned(), token.clone())
    }
}

fn is_ghes(answer: &Response) -> bool {
    json_with(answer, "current_user_url")
        || answer.headers.contains_key("x-github-enterprise-version")
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// A classic token's scopes; `None` when GitHub does not say (fine-grained tokens).
fn scopes(headers: &HeaderMap) -> Option<Vec<String>> {
    let list = header(headers, "x-oauth-scopes")?;
    let scopes: Vec<String> = list
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    (!scopes.is_empty()).then_some(scopes)
}

fn rate_limit(headers: &HeaderMap) -> Option<(u64, u64)> {
    let number = |name| header(headers, name)?.parse().ok();
    Some((
        number("x-ratelimit-remaining")?,
        number("x-ratelimit-limit")?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_of_github_com_and_of_ghes() {
        let gh = Url::parse("https://github.com").unwrap();
        assert_eq!(
            api_base("github.com", &gh).as_str(),
            "https://api.github.com/"
        );
        let ghes = Url::parse("https://ghe.corp.example").unwrap();
        assert_eq!(
            api_base("ghe.corp.example", &ghes).as_str(),
            "https://ghe.corp.example/api/v3"
        );
    }
}
