//! OpenID Connect issuers (prefix.dev, and Keycloak, Okta, Auth0 or any other): finding their
//! endpoints through discovery (`ISSUER/.well-known/openid-configuration`), and checking a token
//! — with a GraphQL `viewer` query where the provider file names one (prefix.dev), else at the
//! issuer's `userinfo_endpoint`. Logins go through the issuer (authorization code with PKCE, or
//! its device flow), and are revoked at its revocation endpoint (RFC 7009).

use async_trait::async_trait;
use reqwest::Url;
use serde_json::Value;

use super::forge::{Forge, Probe, Site};
use super::provider::Kind;
use super::shared::{Identity, OAuthRevocation, Revoked, Verdict, json_body, json_with, rfc7009};
use crate::error::{Error, Result};
use crate::http::{self, Http, Response, Unreachable, join};
use crate::secret::Secret;
use crate::ui::printable;

pub struct Oidc;

#[async_trait]
impl Forge for Oidc {
    /// prefix.dev's API keys, the one issuer's keys nix-tokens knows to carry a prefix.
    fn token_prefixes(&self) -> &'static [&'static str] {
        &["pfx_"]
    }

    fn kind(&self) -> Kind {
        Kind::Oidc
    }

    fn name(&self) -> &'static str {
        "oidc"
    }

    /// `site.base` is the host's API for a provider with a GraphQL path, else the issuer.
    async fn check(
        &self,
        site: &Site<'_>,
        token: &Secret<String>,
    ) -> std::result::Result<Verdict, Unreachable> {
        let graphql = site
            .provider
            .oidc
            .as_ref()
            .and_then(|o| o.graphql_path.as_deref());
        match graphql {
            Some(path) => check_graphql(site.http, &join(site.base, path), token).await,
            None => check_userinfo(site.http, site.base, token).await,
        }
    }

    /// A forge may also be an issuer (GitLab is), so discovery is the last thing detection asks.
    fn probe(&self) -> Option<Probe> {
        Some(Probe {
            path: ".well-known/openid-configuration",
            matches: |answer: &Response| json_with(answer, "token_endpoint"),
            label: "OpenID Connect",
        })
    }

    fn logs_in_at_issuer(&self) -> bool {
        true
    }

    async fn revoke(
        &self,
        site: &Site<'_>,
        token: &Secret<String>,
        oauth: Option<OAuthRevocation<'_>>,
    ) -> Revoked {
        match oauth.as_ref().and_then(|o| Some((o, o.endpoint.as_ref()?))) {
            Some((oauth, url)) => rfc7009(site.http, site.host, url, oauth, token).await,
            None => Revoked::by_hand(site.provider, site.host),
        }
    }
}

/// The endpoints an issuer publishes.
#[derive(Debug, Clone)]
pub struct Discovery {
    pub issuer: Url,
    pub authorization_endpoint: Option<Url>,
    pub token_endpoint: Url,
    pub device_authorization_endpoint: Option<Url>,
    pub revocation_endpoint: Option<Url>,
    pub userinfo_endpoint: Option<Url>,
}

/// The discovery document's URL for `issuer` (an issuer may have a path, as Keycloak's realms do).
pub fn discovery_url(issuer: &Url) -> Url {
    join(issuer, ".well-known/openid-configuration")
}

/// Reads the issuer's discovery document. Every failure is one sentence naming the document.
pub async fn discover(http: &Http, issuer: &Url) -> Result<Discovery> {
    let url = discovery_url(issuer);
    let response = http.get(&url, None).await.map_err(|Unreachable(why)| {
        Error::failed(format!(
            "could not read the OpenID Connect discovery document {url} ({why}); check the issuer URL (--oauth-issuer-url)"
        ))
    })?;
    if !response.status.is_success() {
        return Err(Error::failed(format!(
            "{issuer} has no OpenID Connect discovery document at {url} (HTTP {}); check the issuer URL (--oauth-issuer-url)",
            response.status.as_u16()
        )));
    }
    let json: Value = serde_json::from_slice(&response.body)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| {
            Error::failed(format!(
                "the discovery document {url} is not JSON, so {issuer} does not look like an OpenID Connect issuer; check --oauth-issuer-url"
            ))
        })?;
    // OpenID Connect Discovery §4.3: the document names the issuer it was fetched for.
    let named = json.get("issuer").and_then(Value::as_str).unwrap_or("");
    if named.trim_end_matches('/') != issuer.as_str().trim_end_matches('/') {
        return Err(Error::failed(format!(
            "the discovery document {url} names the issuer `{}`, not {issuer}; pass the issuer URL it names with --oauth-issuer-url",
            printable(named).chars().take(120).collect::<String>()
        )));
    }
    let endpoint = |key: &str| -> Result<Option<Url>> {
        let Some(text) = json.get(key).and_then(Value::as_str) else {
            return Ok(None);
        };
        // Tokens travel to these endpoints: https only, plain http only on this machine.
        http::base_url("", Some(text)).map(Some).map_err(|_| {
            Error::failed(format!(
                "the discovery document {url} gives `{key}` as `{}`, which is not an https URL; nix-tokens sends tokens only over https",
                printable(text).chars().take(120).collect::<String>()
            ))
        })
    };
    let token_endpoint = endpoint("token_endpoint")?.ok_or_else(|| {
        Error::failed(format!(
            "the discovery document {url} has no `token_endpoint`, so no OAuth flow can run against {issuer}"
        ))
    })?;
    Ok(Discovery {
        issuer: issuer.clone(),
        authorization_endpoint: endpoint("authorization_endpoint")?,
        token_endpoint,
        device_authorization_endpoint: endpoint("device_authorization_endpoint")?,
        revocation_endpoint: endpoint("revocation_endpoint")?,
        userinfo_endpoint: endpoint("userinfo_endpoint")?,
    })
}

/// Checks a bearer token with a GraphQL `viewer` query at `url` (prefix.dev's API).
async fn check_graphql(
    http: &Http,
    url: &Url,
    token: &Secret<String>,
) -> std::result::Result<Verdict, Unreachable> {
    let bearer = Secret::new(format!("Bearer {}", token.expose()));
    let query = serde_json::json!({ "query": "query { viewer { login } }" });
    let response = http
        .post_json(url, &query, Some(("authorization", &bearer)))
        .await?;
    let body = match json_body(&response, "a GraphQL API") {
        Ok(body) => body,
        Err(verdict) => return Ok(verdict),
    };
    let Some(viewer) = body.get("data").and_then(|d| d.get("viewer")) else {
        return Ok(Verdict::Unreachable(
            "answered the GraphQL query without `data.viewer`".into(),
        ));
    };
    Ok(match viewer.get("login").and_then(Value::as_str) {
        Some(user) => Verdict::Valid(Identity {
            user: printable(user),
            ..Identity::default()
        }),
        None => Verdict::Rejected("the API does not know the token (no viewer)".into()),
    })
}

/// Checks a bearer token at the `userinfo_endpoint` of the issuer `issuer`.
async fn check_userinfo(
    http: &Http,
    issuer: &Url,
    token: &Secret<String>,
) -> std::result::Result<Verdict, Unreachable> {
    let bearer = Secret::new(format!("Bearer {}", token.expose()));
    let Ok(discovery) = discover(http, issuer).await else {
        return Err(Unreachable(format!(
            "no usable discovery document at {}",
            discovery_url(issuer)
        )));
    };
    let Some(userinfo) = discovery.userinfo_endpoint else {
        return Ok(Verdict::Unverified(format!(
            "{issuer} publishes no userinfo endpoint to check the token with"
        )));
    };
    let response = http
        .get(&userinfo, Some(("authorization", &bearer)))
        .await?;
    let body = match json_body(&response, "an OpenID Connect userinfo endpoint") {
        Ok(body) => body,
        Err(verdict) => return Ok(verdict),
    };
    let user = ["preferred_username", "email", "sub"]
        .iter()
        .find_map(|k| body.get(*k).and_then(Value::as_str));
    Ok(match user {
        Some(user) => Verdict::Valid(Identity {
            user: printable(user),
            ..Identity::default()
        }),
        None => Verdict::Unreachable("the userinfo answer names no user".into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_sits_under_the_issuer_path() {
        let realm = Url::parse("https://id.example/realms/conda").unwrap();
        assert_eq!(
            discovery_url(&realm).as_str(),
            "https://id.example/realms/conda/.well-known/openid-configuration"
        );
        let root = Url::parse("https://prefix.dev").unwrap();
        assert_eq!(
            discovery_url(&root).as_str(),
            "https://prefix.dev/.well-known/openid-configuration"
        );
    }
}
