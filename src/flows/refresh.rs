//! Renewing an OAuth access token with its refresh token (RFC 6749 §6). Providers that rotate
//! (GitLab) answer with a new refresh token and invalidate the old pair; when the answer has no
//! new refresh token, the old one stays.

use reqwest::Url;
use serde_json::Value;

use super::Tokens;
use crate::http::Http;
use crate::secret::Secret;

/// A renewed pair; `refresh_token` is `None` when the provider keeps the old one.
pub type Renewed = Tokens;

/// Why a renewal failed.
#[derive(Debug)]
pub enum RefreshError {
    /// `invalid_grant`: the refresh token is no longer accepted; only a new login helps.
    InvalidGrant,
    /// Anything else, in a few words.
    Other(String),
}

pub async fn refresh(
    http: &Http,
    token_url: &Url,
    client_id: &str,
    client_secret: Option<&Secret<String>>,
    refresh_token: &Secret<String>,
) -> Result<Renewed, RefreshError> {
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token.expose().as_str()),
        ("client_id", client_id),
    ];
    if let Some(secret) = client_secret {
        form.push(("client_secret", secret.expose().as_str()));
    }
    let response = http
        .post_form(token_url, &form)
        .await
        .map_err(|e| RefreshError::Other(e.0))?;
    let json: Option<Value> = serde_json::from_slice(&response.body).ok();
    let text = |key: &str| {
        json.as_ref()
            .and_then(|j| j.get(key))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    if let Some(tokens) = json
        .as_ref()
        .filter(|_| response.status.is_success())
        .and_then(Tokens::from_json)
    {
        return Ok(tokens);
    }
    match text("error").as_deref() {
        // GitHub says `bad_refresh_token`, with HTTP 200. Gitea and Forgejo say
        // `unauthorized_client` for a refresh token that expired, cannot be read, or was used
        // already (`handleRefreshToken`, `routers/web/auth/oauth2_provider.go`).
        Some("invalid_grant" | "bad_refresh_token" | "unauthorized_client") => {
            Err(RefreshError::InvalidGrant)
        }
        Some(error) => Err(RefreshError::Other(format!(
            "the provider answered `{}`",
            crate::ui::printable(error)
                .chars()
                .take(60)
                .collect::<String>()
        ))),
        None => Err(RefreshError::Other(format!(
            "the provider answered HTTP {} without a token nix-tokens can use",
            response.status.as_u16()
        ))),
    }
}
