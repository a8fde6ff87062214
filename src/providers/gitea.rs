//! Gitea, Forgejo and Codeberg: checking a token with `GET /api/v1/user` and
//! `Authorization: token …`. No endpoint tells a token its own scopes (the list of a user's tokens
//! takes basic authentication as the account), so the audit says "unknown". Whether it reads a
//! repository is `GET /api/v1/repos/OWNER/REPO` (`private`, or 404 when it may not). Both answer `GET
//! /api/v1/version`; only Forgejo answers `/api/forgejo/v1/version`, and its version string does
//! not say "forgejo", so that endpoint is what tells them apart. Nix has no fetcher for them: their
//! tokens go to netrc, and tokens are revoked by hand.
//!
//! Logins go through the browser ([`GIT_CREDENTIAL_OAUTH`], below): an OAuth access token is a
//! JWT that Gitea takes wherever it takes a personal token, `Authorization: token …` and the
//! password of HTTP basic auth (Gitea's `services/auth/oauth2.go` and `basic.go`), so it goes to
//! netrc as a personal token does.

use async_trait::async_trait;

use reqwest::Url;

use super::forge::{BrowserLogin, Forge, Probe, Site};
use super::provider::Kind;
use super::shared::{Identity, RepoAnswer, Verdict, json_body, json_with, named_user, repo_access};
use crate::http::{Response, Unreachable, join};
use crate::secret::Secret;

/// Gitea, or Forgejo (which speaks Gitea's API and answers an endpoint of its own too).
pub struct Gitea {
    forgejo: bool,
}

pub const GITEA: Gitea = Gitea { forgejo: false };
pub const FORGEJO: Gitea = Gitea { forgejo: true };

/// The public OAuth2 application Gitea (1.20 and later) and Forgejo create on every instance for
/// git-credential-oauth: `DefaultApplications` in Gitea's `modules/setting/oauth2.go` (`[oauth2]
/// DEFAULT_APPLICATIONS` in `app.ini` can leave it out), with the redirect URIs
/// `http://127.0.0.1` and `https://127.0.0.1` on any port (RFC 8252 §7.3). Being public, it must
/// send PKCE ("PKCE is required for public clients", `AuthorizeOAuth` in
/// `routers/web/auth/oauth2_provider.go`). `--client-id` picks another application, such as Git
/// Credential Manager's `e90ee53c-94e2-48ac-9358-a874fb9e0662`.
///
/// What it hands out (`NewAccessTokenResponse`, `services/oauth2_provider/access_token.go`): an
/// access token for `[oauth2] ACCESS_TOKEN_EXPIRATION_TIME` (3600 s by default) and a refresh
/// token for `REFRESH_TOKEN_EXPIRATION_TIME` (730 hours), a new one at every renewal; with
/// `INVALIDATE_REFRESH_TOKENS` (Gitea's default: off; Forgejo's, in its `modules/setting/oauth2.go`:
/// on) a used one is refused (`unauthorized_client`, "token was already used"), so the new pair is
/// stored at once. Since Gitea 1.22 a token may do everything unless the grant names scopes beyond
/// OpenID's (`GrantAdditionalScopes`); Forgejo honours such scopes only with `[oauth2]
/// ENABLE_ADDITIONAL_GRANT_SCOPES` (off by default). The login asks for the provider's
/// `read:repository read:user`, which such instances honour, and the audit says "unknown".
pub const GIT_CREDENTIAL_OAUTH: &str = "a4792ccc-144e-407e-86c9-5e7d8d9c3269";

async fn check(site: &Site<'_>, token: &Secret<String>) -> Result<Verdict, Unreachable> {
    let header = Secret::new(format!("token {}", token.expose()));
    let response = site
        .http
        .get(
            &join(site.base, "api/v1/user"),
            Some(("authorization", &header)),
        )
        .await?;
    let service = "Gitea or Forgejo";
    Ok(
        match json_body(&response, service).and_then(|b| named_user(&b, "login", service)) {
            Ok(user) => Verdict::Valid(Identity {
                user,
                ..Identity::default()
            }),
            Err(verdict) => verdict,
        },
    )
}

async fn read_access(
    site: &Site<'_>,
    owner: &str,
    repo: &str,
    token: Option<&Secret<String>>,
) -> Result<RepoAnswer, Unreachable> {
    let header = token.map(|t| Secret::new(format!("token {}", t.expose())));
    let url = join(site.base, &format!("api/v1/repos/{owner}/{repo}"));
    let response = site
        .http
        .get(&url, header.as_ref().map(|h| ("authorization", h)))
        .await?;
    let access = repo_access(&response, "Gitea or Forgejo", |v| {
        v.get("private").and_then(serde_json::Value::as_bool)
    });
    Ok(access.into())
}

fn answers_version(answer: &Response) -> bool {
    json_with(answer, "version")
}

#[async_trait]
impl Forge for Gitea {
    fn kind(&self) -> Kind {
        if self.forgejo {
            Kind::Forgejo
        } else {
            Kind::Gitea
        }
    }

    fn name(&self) -> &'static str {
        if self.forgejo { "forgejo" } else { "gitea" }
    }

    async fn check(&self, site: &Site<'_>, token: &Secret<String>) -> Result<Verdict, Unreachable> {
        check(site, token).await
    }

    async fn repo_access(
        &self,
        site: &Site<'_>,
        owner: &str,
        repo: &str,
        token: Option<&Secret<String>>,
    ) -> Result<RepoAnswer, Unreachable> {
        read_access(site, owner, repo, token).await
    }

    fn probe(&self) -> Option<Probe> {
        Some(match self.forgejo {
            true => Probe {
                path: "api/forgejo/v1/version",
                matches: answers_version,
                label: "Forgejo",
            },
            false => Probe {
                path: "api/v1/version",
                matches: answers_version,
                label: "Gitea",
            },
        })
    }

    /// Gitea's `GET /api/v1/user` recognises both; Forgejo is told apart by its own probe.
    fn identifies_tokens(&self) -> bool {
        !self.forgejo
    }

    fn variant_of(&self) -> Option<Kind> {
        self.forgejo.then_some(Kind::Gitea)
    }

    /// `/login/oauth/authorize` and `/login/oauth/access_token` (Gitea's `routers/web/web.go`).
    fn browser_login(&self, base: &Url) -> Option<BrowserLogin> {
        Some(BrowserLogin {
            client_id: GIT_CREDENTIAL_OAUTH,
            authorization_url: join(base, "login/oauth/authorize"),
            token_url: join(base, "login/oauth/access_token"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::forge::Audit;

    #[test]
    fn the_audit_of_a_token_whose_scopes_are_not_told_is_unknown() {
        let registry = crate::providers::Registry::load(None).unwrap();
        let privileges = FORGEJO.privileges(&Audit {
            provider: registry.by_name("codeberg").unwrap(),
            host: "codeberg.org",
            token: &Secret::from("0123456789abcdef"),
            scopes: None,
        });
        assert_eq!(
            (privileges.read_only, privileges.beyond_nix.as_ref()),
            (None, None)
        );
        assert_eq!(
            privileges.summary,
            "may do what its scopes allow, which codeberg does not tell (see https://codeberg.org/user/settings/applications)"
        );
        assert_eq!(privileges.word(), "unknown");
    }
}
