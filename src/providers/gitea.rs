//! Gitea, Forgejo and Codeberg: checking a token with `GET /api/v1/user` and
//! `Authorization: token …`. No endpoint tells a token its own scopes (the list of a user's tokens
//! takes basic authentication as the account), so the audit says "unknown". Whether it reads a
//! repository is `GET /api/v1/repos/OWNER/REPO` (`private`, or 404 when it may not). Both answer `GET
//! /api/v1/version`; only Forgejo answers `/api/forgejo/v1/version`, and its version string does
//! not say "forgejo", so that endpoint is what tells them apart. Nix has no fetcher for them: their
//! tokens go to netrc, and tokens are revoked by hand.

use async_trait::async_trait;

use super::forge::{Forge, Probe, Site};
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
