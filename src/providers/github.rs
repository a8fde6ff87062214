//! GitHub and GitHub Enterprise Server.
//!
//! The API is at `https://api.github.com` for github.com and at `BASE/api/v3` elsewhere (GHES).
//! `GET /user` names the owner; `X-OAuth-Scopes` lists a classic or OAuth token's scopes (empty for
//! one with no scope) and is absent for fine-grained (`github_pat_`) and GitHub App user (`ghu_`)
//! tokens, whose permissions GitHub does not tell; `GitHub-Authentication-Token-Expiration` gives an
//! expiry where there is one; `X-RateLimit-*` the hourly budget. `repo`, the only classic scope
//! that reads private repositories, also writes to them: a read-only login takes a fine-grained
//! token, checked to read a private repository's contents (see [`read_only`]). `GET
//! /repos/OWNER/REPO` says whether a repository is `private`, and answers 404 for a private one the
//! caller may not read. A GHES answers `GET /api/v3` anonymously with
//! `current_user_url` or an `X-GitHub-Enterprise-Version` header. Tokens are revoked through the
//! credential revocation API; git takes any token with the user `x-access-token`.

use async_trait::async_trait;
use reqwest::Url;
use reqwest::header::HeaderMap;

use super::forge::{Audit, Forge, GitAsk, Probe, Site, TokenEntry};
use super::provider::Kind;
use super::shared::{
    BatchAnswer, Identity, OAuthRevocation, Privileges, ReadOnlyCheck, RepoAccess, RepoAnswer,
    Revoked, Verdict, json_body, json_with, named_user, repo_access,
};
use crate::http::{Response, Unreachable, join};
use crate::secret::Secret;

pub mod graphql;
pub mod limits;
pub mod read_only;

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
    /// Fine-grained and classic personal tokens, OAuth, GitHub App user, installation and
    /// refresh tokens.
    fn token_prefixes(&self) -> &'static [&'static str] {
        &["github_pat_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_"]
    }

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
            remark: None,
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
        // GitHub answers 403 (or 429) once the hour's requests are used up, or to too many at
        // once (a secondary limit, which says how long to wait).
        let (access, wait) = match limits::of(&response) {
            Some(limit) if limit.secondary => (RepoAccess::Unreachable(limit.why), limit.wait),
            Some(limit) => (RepoAccess::Forbidden(limit.why), limit.wait),
            None => (
                repo_access(&response, "GitHub", |v| {
                    v.get("private").and_then(serde_json::Value::as_bool)
                }),
                None,
            ),
        };
        Ok(RepoAnswer {
            access,
            rate_limit,
            wait,
        })
    }

    /// GraphQL needs a token.
    fn batch_size(&self, anonymous: bool) -> usize {
        if anonymous { 0 } else { graphql::BATCH }
    }

    async fn repos_access(
        &self,
        site: &Site<'_>,
        repos: &[(String, String)],
        token: Option<&Secret<String>>,
    ) -> Result<BatchAnswer, Unreachable> {
        match token {
            Some(token) => graphql::ask(site, repos, token).await,
            None => Ok(BatchAnswer::Unbatched("GraphQL needs a token".into())),
        }
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

    /// `read:…` scopes and `user:email` only read.
    fn reads_only(&self, scope: &str) -> bool {
        scope.starts_with("read:") || scope == "user:email"
    }

    /// `repo` is what Nix needs for private repositories, and it writes to them too; every other
    /// scope but the read-only ones is more than Nix needs. Without `X-OAuth-Scopes`, the token's
    /// kind says where its permissions are set.
    fn privileges(&self, audit: &Audit<'_>) -> Privileges {
        let Some(scopes) = audit.scopes else {
            return read_only::permissions_token(audit.host, audit.token);
        };
        let private = scopes.iter().any(|s| s == "repo");
        let beyond: Vec<String> = scopes
            .iter()
            .filter(|s| *s != "repo" && !self.reads_only(s))
            .cloned()
            .collect();
        let more = beyond.join(", ");
        let mut summary = match (private, beyond.is_empty()) {
            (true, true) => "can read and write your private repositories".to_owned(),
            (true, false) => format!(
                "can read and write your private repositories, and more than Nix needs: {more}"
            ),
            (false, true) => {
                "reads public repositories only, with 5,000 API requests an hour".to_owned()
            }
            (false, false) => format!(
                "cannot read your private repositories but can do more than Nix needs: {more}"
            ),
        };
        let read_only = !private && beyond.is_empty();
        if !read_only {
            summary.push_str("; `--read-only` for a read-only token");
        }
        Privileges {
            read_only: Some(read_only),
            beyond_nix: Some(beyond),
            summary,
        }
    }

    fn read_only_entry(&self, host: &str, owner: Option<&str>) -> Option<TokenEntry> {
        Some(read_only::entry(host, owner))
    }

    async fn check_read_only(
        &self,
        site: &Site<'_>,
        token: &Secret<String>,
        identity: &Identity,
        owner: Option<&str>,
        device: bool,
    ) -> Result<ReadOnlyCheck, Unreachable> {
        read_only::check(site, token, identity, owner, device).await
    }

    fn public_login(&self) -> bool {
        true
    }

    async fn revoke(
        &self,
        site: &Site<'_>,
        token: &Secret<String>,
        _oauth: Option<OAuthRevocation<'_>>,
    ) -> Revoked {
        // An installation token (a CI job's, octo-sts's) revokes itself.
        if token.expose().starts_with("ghs_") {
            let url = join(&api_base(site.host, site.base), "installation/token");
            let auth = Secret::new(format!("token {}", token.expose()));
            return match site.http.delete(&url, ("authorization", &auth)).await {
                Ok(r) => Revoked::from_status(site.host, r.status),
                Err(e) => Revoked::Failed(e.0),
            };
        }
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

/// A header's value, as text from a server is kept ([`printable`](crate::ui::printable)).
fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(crate::ui::printable)
}

/// A classic or OAuth token's scopes (none, when the header is empty); `None` when GitHub sends no
/// `X-OAuth-Scopes` (fine-grained and GitHub App user tokens).
fn scopes(headers: &HeaderMap) -> Option<Vec<String>> {
    let list = header(headers, "x-oauth-scopes")?;
    Some(
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    )
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
    use crate::providers::Registry;

    /// The audit of `token` with these scopes (`None`: no `X-OAuth-Scopes` header).
    fn audit(token: &str, scopes: Option<&[&str]>) -> Privileges {
        let registry = Registry::load(None).unwrap();
        let scopes: Option<Vec<String>> = scopes.map(|s| s.iter().map(|s| s.to_string()).collect());
        Github.privileges(&Audit {
            provider: registry.by_name("github").unwrap(),
            host: "github.com",
            token: &Secret::from(token),
            scopes: scopes.as_deref(),
        })
    }

    #[test]
    fn the_audit_flags_what_a_classic_token_can_do_beyond_reading() {
        let broad = audit(
            "ghp_x",
            Some(&[
                "repo",
                "workflow",
                "read:org",
                "delete_repo",
                "user:email",
                "admin:org",
            ]),
        );
        assert_eq!(broad.read_only, Some(false));
        assert_eq!(
            broad.beyond_nix.as_deref(),
            Some(
                &[
                    "workflow".to_owned(),
                    "delete_repo".into(),
                    "admin:org".into()
                ][..]
            )
        );
        assert_eq!(
            broad.summary,
            "can read and write your private repositories, and more than Nix needs: workflow, delete_repo, admin:org; `--read-only` for a read-only token"
        );
        assert_eq!(broad.word(), "broad");
        let repo = audit("gho_x", Some(&["repo", "read:org"]));
        assert_eq!((repo.read_only, repo.word()), (Some(false), "read-write"));
        assert_eq!(
            repo.summary,
            "can read and write your private repositories; `--read-only` for a read-only token"
        );
        let public = audit("gho_x", Some(&[]));
        assert_eq!((public.read_only, public.word()), (Some(true), "read-only"));
        assert_eq!(
            public.summary,
            "reads public repositories only, with 5,000 API requests an hour"
        );
        let gist = audit("ghp_x", Some(&["gist"]));
        assert_eq!(
            gist.summary,
            "cannot read your private repositories but can do more than Nix needs: gist; `--read-only` for a read-only token"
        );
    }

    #[test]
    fn without_a_scopes_header_the_token_kind_says_where_its_permissions_are() {
        let fine = audit("github_pat_11ABC", None);
        assert_eq!((fine.read_only, fine.beyond_nix.as_ref()), (None, None));
        assert_eq!(fine.word(), "unknown");
        assert_eq!(
            fine.summary,
            "is fine-grained: it may do what the permissions chosen when it was made allow (see https://github.com/settings/personal-access-tokens)"
        );
        assert!(
            audit("ghu_abc", None)
                .summary
                .starts_with("is a GitHub App user token:")
        );
    }

    #[test]
    fn an_empty_scopes_header_means_no_scope_and_none_means_not_told() {
        let mut headers = HeaderMap::new();
        assert_eq!(scopes(&headers), None);
        headers.insert("x-oauth-scopes", "".parse().unwrap());
        assert_eq!(scopes(&headers), Some(vec![]));
        headers.insert("x-oauth-scopes", "repo, read:org".parse().unwrap());
        assert_eq!(
            scopes(&headers),
            Some(vec!["repo".into(), "read:org".into()])
        );
    }

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
