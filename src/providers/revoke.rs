//! Revoking a token at its provider, where the provider allows it: GitHub's credential revocation
//! API, GitLab's self-revocation of a personal token and its OAuth revocation endpoint
//! and an OpenID Connect issuer's revocation endpoint (RFC 7009: the refresh token first, then
//! the access token). Best effort: the outcome says
//! what happened, and where to revoke by hand when nix-tokens cannot.

use reqwest::Url;

use super::{Kind, Provider, github};
use crate::http::{Http, join};
use crate::secret::Secret;

/// What a revocation came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Revoked {
    Done,
    /// The provider offers no way for nix-tokens; the text says where to do it.
    ByHand(String),
    /// The provider was asked and did not confirm; the text says why.
    Failed(String),
}

/// An OAuth login's revocation details.
pub struct OAuthRevocation<'a> {
    pub client_id: &'a str,
    pub client_secret: Option<&'a Secret<String>>,
    pub refresh_token: Option<Secret<String>>,
    /// The issuer's revocation endpoint, where discovery named one.
    pub endpoint: Option<Url>,
}

/// Revokes `token` (as stored for Nix) for `host` at `base`.
pub async fn revoke(
    http: &Http,
    provider: &Provider,
    host: &str,
    base: &Url,
    token: &Secret<String>,
    oauth: Option<OAuthRevocation<'_>>,
) -> Revoked {
    let confirmed = |status: reqwest::StatusCode| {
        if status.is_success() {
            Revoked::Done
        } else {
            Revoked::Failed(format!("{host} answered HTTP {}", status.as_u16()))
        }
    };
    let t = token.expose();
    match provider.kind {
        Kind::Github => {
            let url = join(&github::api_base(host, base), "credentials/revoke");
            let body = serde_json::json!({ "credentials": [t] });
            match http.post_json(&url, &body, None).await {
                Ok(r) => confirmed(r.status),
                Err(e) => Revoked::Failed(e.0),
            }
        }
        Kind::Gitlab => match (t.strip_prefix("OAuth2:"), oauth) {
            (Some(access), Some(oauth)) => {
                let url = join(base, "oauth/revoke");
                let access = Secret::new(access.to_owned());
                rfc7009(http, &url, &oauth, &access, confirmed).await
            }
            (Some(_), None) => Revoked::ByHand(format!(
                "revoke it under Applications at {}",
                join(base, "-/user_settings/applications")
            )),
            (None, _) => {
                let bare = Secret::new(t.strip_prefix("PAT:").unwrap_or(t).to_owned());
                let url = join(base, "api/v4/personal_access_tokens/self");
                match http.delete(&url, ("private-token", &bare)).await {
                    Ok(r) => confirmed(r.status),
                    Err(e) => Revoked::Failed(e.0),
                }
            }
        },
        Kind::Oidc => match oauth.as_ref().and_then(|o| Some((o, o.endpoint.as_ref()?))) {
            Some((oauth, url)) => rfc7009(http, url, oauth, token, confirmed).await,
            None => by_hand(provider, host),
        },
        _ => by_hand(provider, host),
    }
}

/// Where to revoke a token by hand.
fn by_hand(provider: &Provider, host: &str) -> Revoked {
    Revoked::ByHand(match provider.token_page_for(host) {
        Some(page) => format!("revoke it at {page}"),
        None => format!("revoke it in {host}'s settings"),
    })
}

/// RFC 7009: the refresh token first (which, on most servers, ends the whole grant), then the
/// access token. The outcome is the last answer's.
async fn rfc7009(
    http: &Http,
    url: &Url,
    oauth: &OAuthRevocation<'_>,
    access: &Secret<String>,
    confirmed: impl Fn(reqwest::StatusCode) -> Revoked,
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
            Ok(r) => confirmed(r.status),
            Err(e) => Revoked::Failed(e.0),
        };
    }
    last
}
