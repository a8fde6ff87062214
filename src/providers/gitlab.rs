//! GitLab (gitlab.com and self-managed).
//!
//! A token stored for Nix carries `PAT:` (sent as `PRIVATE-TOKEN`) or `OAuth2:` (sent as
//! `Authorization: Bearer`); a bare one makes Nix print it in a warning and fail. `GET
//! /api/v4/user` names the owner; a personal token's scopes and expiry come from
//! `/api/v4/personal_access_tokens/self`, an OAuth token's from `/oauth/token/info`; the audit
//! counts every scope but the `read_…` ones and OpenID Connect's as more than Nix needs (`api`,
//! `write_repository`, `write_registry`, `sudo`, `admin_mode`, …). Anonymous answers carry
//! `X-Gitlab-Meta`. `GET /api/v4/projects/OWNER%2FREPO` gives a project's `visibility`, and 404 for
//! one the caller may not read. A personal token revokes itself; an OAuth login is revoked at
//! `/oauth/revoke` (RFC 7009). OAuth tokens last two hours and are renewed in access-tokens.

use async_trait::async_trait;
use reqwest::Url;
use serde_json::Value;

#[cfg(test)]
use super::forge::Audit;
use super::forge::{Forge, GitAsk, Origin, Probe, Site};
use super::provider::Kind;
use super::shared::{
    BatchAnswer, Identity, OAuthRevocation, RepoAccess, RepoAnswer, Revoked, Verdict, json,
    json_body, named_user, repo_access, rfc7009,
};
use crate::http::{Http, Response, Unreachable, join};
use crate::secret::Secret;
use crate::ui::printable;

pub mod graphql;

pub struct Gitlab;

/// The header that carries a token as stored for Nix: `Authorization: Bearer` for `OAuth2:`,
/// `PRIVATE-TOKEN` otherwise (what Nix sends).
fn auth_header(token: &Secret<String>) -> (&'static str, Secret<String>) {
    match split(token) {
        (true, bare) => ("authorization", Secret::new(format!("Bearer {bare}"))),
        (false, bare) => ("private-token", Secret::new(bare.to_owned())),
    }
}

/// The marker before a personal (or project, group or job) token stored for Nix: Nix sends it as
/// `PRIVATE-TOKEN`.
pub const PERSONAL_MARKER: &str = "PAT:";

/// The marker before an OAuth token stored for Nix: Nix sends it as `Authorization: Bearer`.
pub const OAUTH_MARKER: &str = "OAuth2:";

/// A token as stored for Nix: whether it is an OAuth token, and the token without its prefix.
fn split(token: &Secret<String>) -> (bool, &str) {
    let t = token.expose();
    match (
        t.strip_prefix(OAUTH_MARKER),
        t.strip_prefix(PERSONAL_MARKER),
    ) {
        (Some(rest), _) => (true, rest),
        (None, Some(rest)) => (false, rest),
        (None, None) => (false, t.as_str()),
    }
}

#[async_trait]
impl Forge for Gitlab {
    fn kind(&self) -> Kind {
        Kind::Gitlab
    }

    fn name(&self) -> &'static str {
        "gitlab"
    }

    async fn check(&self, site: &Site<'_>, token: &Secret<String>) -> Result<Verdict, Unreachable> {
        let (oauth, _) = split(token);
        let (name, value) = auth_header(token);
        let response = site
            .http
            .get(&join(site.base, "api/v4/user"), Some((name, &value)))
            .await?;
        let user = match json_body(&response, "GitLab")
            .and_then(|b| named_user(&b, "username", "GitLab"))
        {
            Ok(user) => user,
            Err(verdict) => return Ok(verdict),
        };
        let info = token_info(site.http, site.base, oauth, (name, &value)).await?;
        if info
            .as_ref()
            .is_some_and(|i| i.get("active") == Some(&Value::Bool(false)))
        {
            return Ok(Verdict::Rejected("the token is revoked or expired".into()));
        }
        let (scopes, expires_at) = match &info {
            Some(info) if oauth => (
                list(info.get("scope").or_else(|| info.get("scopes"))),
                info.get("expires_in")
                    .and_then(Value::as_u64)
                    .map(crate::time::rfc3339_in),
            ),
            Some(info) => (
                list(info.get("scopes")),
                info.get("expires_at")
                    .and_then(Value::as_str)
                    .map(|date| format!("{}T00:00:00Z", printable(date))),
            ),
            None => (None, None),
        };
        Ok(Verdict::Valid(Identity {
            user,
            scopes,
            expires_at,
            rate_limit: None,
            remark: None,
        }))
    }

    /// The project `OWNER/REPO` as Nix names it (`OWNER%2FREPO`; a subgroup's owner carries its
    /// own `%2F`, and a `/` in it is encoded the same way).
    async fn repo_access(
        &self,
        site: &Site<'_>,
        owner: &str,
        repo: &str,
        token: Option<&Secret<String>>,
    ) -> Result<RepoAnswer, Unreachable> {
        let auth = token.map(auth_header);
        let url = project_url(site.base, owner, repo);
        let response = site
            .http
            .get(&url, auth.as_ref().map(|(name, value)| (*name, value)))
            .await?;
        if response.status.as_u16() == 429 {
            return Ok(RepoAnswer {
                access: RepoAccess::Unreachable("GitLab's rate limit refused it (HTTP 429)".into()),
                rate_limit: None,
                wait: response.number("retry-after"),
            });
        }
        let access = repo_access(&response, "GitLab", |v| {
            v.get("visibility")
                .and_then(Value::as_str)
                .map(|visibility| visibility != "public")
        });
        Ok(access.into())
    }

    fn batch_size(&self, _anonymous: bool) -> usize {
        graphql::BATCH
    }

    /// `projects(fullPaths: …)` of GitLab's GraphQL API.
    async fn repos_access(
        &self,
        site: &Site<'_>,
        repos: &[(String, String)],
        token: Option<&Secret<String>>,
    ) -> Result<BatchAnswer, Unreachable> {
        graphql::ask(site, repos, token.map(split)).await
    }

    fn probe(&self) -> Option<Probe> {
        Some(Probe {
            path: "users/sign_in",
            matches: |answer: &Response| answer.headers.contains_key("x-gitlab-meta"),
            label: "GitLab (X-Gitlab-Meta)",
        })
    }

    fn identifies_tokens(&self) -> bool {
        true
    }

    /// `api` grants `read_api` and `read_repository`; `write_repository` grants `read_repository`.
    fn grants(&self, have: &str, want: &str) -> bool {
        have == want
            || (have == "api" && matches!(want, "read_api" | "read_repository"))
            || (have == "write_repository" && want == "read_repository")
    }

    /// `read_…` scopes, and OpenID Connect's `openid`, `profile` and `email`, only read.
    fn reads_only(&self, scope: &str) -> bool {
        scope.starts_with("read_") || matches!(scope, "openid" | "profile" | "email")
    }

    /// `PAT:` for a personal token unless it carries a prefix already, `OAuth2:` for an OAuth one.
    fn access_token(&self, token: Secret<String>, origin: Origin) -> Secret<String> {
        let t = token.expose();
        match origin {
            Origin::OAuth => Secret::new(format!("{OAUTH_MARKER}{t}")),
            Origin::Personal if self.claims_token(t) => token,
            Origin::Personal => Secret::new(format!("{PERSONAL_MARKER}{t}")),
        }
    }

    fn stored_markers(&self) -> &'static [&'static str] {
        &[PERSONAL_MARKER, OAUTH_MARKER]
    }

    /// Personal, OAuth application secret and runner tokens.
    fn token_prefixes(&self) -> &'static [&'static str] {
        &["glpat-", "gloas-", "glrt-"]
    }

    fn oauth_netrc_refusal(&self) -> Option<&'static str> {
        Some(
            "a GitLab OAuth login expires after two hours and is renewed in access-tokens, not in netrc; drop --netrc, or log in with --flow token for a personal token in netrc",
        )
    }

    async fn revoke(
        &self,
        site: &Site<'_>,
        token: &Secret<String>,
        oauth: Option<OAuthRevocation<'_>>,
    ) -> Revoked {
        let (is_oauth, bare) = split(token);
        let bare = Secret::new(bare.to_owned());
        match (is_oauth, oauth) {
            (true, Some(oauth)) => {
                let url = join(site.base, "oauth/revoke");
                rfc7009(site.http, site.host, &url, &oauth, &bare).await
            }
            (true, None) => Revoked::ByHand(format!(
                "revoke it under Applications at {}",
                join(site.base, "-/user_settings/applications")
            )),
            (false, _) => {
                let url = join(site.base, "api/v4/personal_access_tokens/self");
                match site.http.delete(&url, ("private-token", &bare)).await {
                    Ok(r) => Revoked::from_status(site.host, r.status),
                    Err(e) => Revoked::Failed(e.0),
                }
            }
        }
    }

    /// `oauth2` with an OAuth token; with a personal token the user git named, else the token's
    /// account, else `oauth2`. Nix's prefixes are not sent.
    fn git_credential(&self, token: &Secret<String>, ask: &GitAsk<'_>) -> (String, Secret<String>) {
        let (oauth, bare) = split(token);
        let user = match oauth {
            true => "oauth2",
            // A CI job token is taken only with the user `gitlab-ci-token`, its netrc login.
            false => ask
                .named()
                .or(ask.account)
                .or(ask.netrc_login.filter(|l| *l == JOB_TOKEN_USER))
                .unwrap_or("oauth2"),
        };
        (user.to_owned(), Secret::from(bare))
    }
}

/// The user git over HTTPS must send with a CI job's `CI_JOB_TOKEN`.
pub const JOB_TOKEN_USER: &str = "gitlab-ci-token";

/// `BASE/api/v4/projects/OWNER%2FREPO`, as Nix asks for it (a `/` in the owner, a subgroup's,
/// encoded the same way).
fn project_url(base: &Url, owner: &str, repo: &str) -> Url {
    let mut url = join(base, "api/v4/projects/");
    url.set_path(&format!(
        "{}{}%2F{repo}",
        url.path(),
        owner.replace('/', "%2F")
    ));
    url
}

/// The token's own record: scopes, expiry, and whether it is still active; `None` when GitLab
/// does not give it.
async fn token_info(
    http: &Http,
    base: &Url,
    oauth: bool,
    auth: (&'static str, &Secret<String>),
) -> Result<Option<Value>, Unreachable> {
    let path = if oauth {
        "oauth/token/info"
    } else {
        "api/v4/personal_access_tokens/self"
    };
    let info = http.get(&join(base, path), Some(auth)).await?;
    Ok(json(&info).filter(|_| info.status.is_success()))
}

/// A scope list given as a JSON array or as one space-separated string.
fn list(value: Option<&Value>) -> Option<Vec<String>> {
    match value? {
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(Value::as_str)
                .map(printable)
                .collect(),
        ),
        Value::String(s) => Some(s.split_whitespace().map(printable).collect()),
        _ => None,
    }
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
        assert!(
            Gitlab
                .missing_scopes(&wanted, &strings(&["api"]))
                .is_empty()
        );
        assert_eq!(
            Gitlab.missing_scopes(&wanted, &strings(&["read_repository"])),
            ["read_api"]
        );
        assert_eq!(
            super::super::github::Github.missing_scopes(&strings(&["repo"]), &strings(&["gist"])),
            ["repo"]
        );
    }

    #[test]
    fn the_audit_flags_every_scope_but_the_read_ones() {
        let registry = crate::providers::Registry::load(None).unwrap();
        let audit = |scopes: &[&str]| {
            let scopes = strings(scopes);
            Gitlab.privileges(&Audit {
                provider: registry.by_name("gitlab").unwrap(),
                host: "gitlab.com",
                token: &Secret::from("PAT:glpat-x"),
                scopes: Some(&scopes),
            })
        };
        let narrow = audit(&["read_api", "read_repository"]);
        assert_eq!((narrow.read_only, narrow.word()), (Some(true), "read-only"));
        assert_eq!(narrow.beyond_nix, Some(vec![]));
        assert_eq!(
            narrow.summary,
            "can only read (scopes read_api, read_repository)"
        );
        let broad = audit(&["api", "read_user", "write_repository", "sudo", "admin_mode"]);
        assert_eq!(
            broad.beyond_nix,
            Some(strings(&["api", "write_repository", "sudo", "admin_mode"]))
        );
        assert_eq!(
            broad.summary,
            "can do more than Nix needs: api, write_repository, sudo, admin_mode; Nix needs only read_api, read_repository"
        );
        assert_eq!((broad.read_only, broad.word()), (Some(false), "broad"));
        assert_eq!(audit(&["openid", "read_registry"]).read_only, Some(true));
        assert_eq!(audit(&["write_registry"]).read_only, Some(false));
    }

    #[test]
    fn projects_are_named_as_nix_names_them() {
        let base = Url::parse("https://gitlab.example/proxy/").unwrap();
        for (owner, want) in [
            (
                "group",
                "https://gitlab.example/proxy/api/v4/projects/group%2Fapp",
            ),
            (
                "group/sub",
                "https://gitlab.example/proxy/api/v4/projects/group%2Fsub%2Fapp",
            ),
            (
                "group%2Fsub",
                "https://gitlab.example/proxy/api/v4/projects/group%2Fsub%2Fapp",
            ),
        ] {
            assert_eq!(project_url(&base, owner, "app").as_str(), want);
        }
    }

    #[test]
    fn tokens_always_carry_a_prefix() {
        let nix = |t: &str| {
            Gitlab
                .access_token(t.into(), Origin::Personal)
                .expose()
                .clone()
        };
        assert_eq!(nix("glpat-x"), "PAT:glpat-x");
        assert_eq!(nix("OAuth2:y"), "OAuth2:y");
        assert_eq!(
            Gitlab.access_token("z".into(), Origin::OAuth).expose(),
            "OAuth2:z"
        );
    }
}
