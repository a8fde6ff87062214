//! Renewing an OAuth access token with its refresh token (RFC 6749 §6). Providers that rotate
//! (GitLab) answer with a new refresh token and invalidate the old pair; when the answer has no
//! new refresh token, the old one stays.

use reqwest::Url;
use serde_json::Value;

use crate::http::Http;
use crate::secret::Secret;

/// A renewed pair.
#[derive(Debug)]
pub struct Renewed {
    pub access_token: Secret<String>,
    /// `None` when the provider keeps the old refresh token.
    pub refresh_token: Option<Secret<String>>,
    pub expires_in: Option<u64>,
}

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
    refresh_token: &Secret<String>,
) -> Result<Renewed, RefreshError> {
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token.expose().as_str()),
        ("client_id", client_id),
    ];
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
    if let Some(access) = text("access_token").filter(|_| response.status.is_success()) {
        return Ok(Renewed {
            access_token: Secret::new(access),
            refresh_token: text("refresh_token").map(Secret::new),
            expires_in: json
                .as_ref()
                .and_then(|j| j.get("expires_in"))
                .and_then(Value::as_u64)
                .map(crate::time::lifetime),
        });
    }
    match text("error").as_deref() {
        // GitHub says `bad_refresh_token`, with HTTP 200.
        Some("invalid_grant" | "bad_refresh_token") => Err(RefreshError::InvalidGrant),
        Some(error) => Err(RefreshError::Other(format!(
            "the provider answered `{}`",
            crate::ui::printable(error)
                .chars()
                .take(60)
                .collect::<String>()
        ))),
        None => Err(RefreshError::Other(format!(
            "the provider answered HTTP {} without a token",
            response.status.as_u16()
        ))),
    }
}
