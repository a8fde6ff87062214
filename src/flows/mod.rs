//! The ways a token reaches nix-tokens from a person or a service. Provider names never appear
//! here: a flow gets what it needs (a URL, a prompt) from its caller.

pub mod auth_code;
pub mod browser;
pub mod ci;
pub mod device_code;
mod loopback;
pub mod pkce;
pub mod refresh;
pub mod token_entry;

use serde_json::Value;

use crate::secret::Secret;

/// What a token endpoint hands back at the end of a flow (RFC 6749 §5.1).
#[derive(Debug)]
pub struct Tokens {
    pub access_token: Secret<String>,
    pub refresh_token: Option<Secret<String>>,
    /// Seconds, clamped to a sane lifetime.
    pub expires_in: Option<u64>,
    /// How long the refresh token lasts, in seconds, where the provider says (GitHub's
    /// `refresh_token_expires_in`, six months for a GitHub App's user token).
    pub refresh_expires_in: Option<u64>,
}

impl Tokens {
    /// Reads a token answer; `None` when it holds no `access_token`, or a refresh token that is
    /// not one token ([`crate::secret::token_problem`], the rule every token meets). The access
    /// token is checked by the same rule where it is stored, in the words of that command.
    pub fn from_json(json: &Value) -> Option<Self> {
        let text = |key: &str| json.get(key).and_then(Value::as_str).map(str::to_owned);
        let refresh_token = match text("refresh_token") {
            Some(t) if crate::secret::token_problem(&t).is_some() => return None,
            t => t.map(Secret::new),
        };
        Some(Tokens {
            access_token: Secret::new(text("access_token")?),
            refresh_token,
            expires_in: json
                .get("expires_in")
                .and_then(Value::as_u64)
                .map(crate::time::lifetime),
            refresh_expires_in: json
                .get("refresh_token_expires_in")
                .and_then(Value::as_u64)
                .map(crate::time::lifetime),
        })
    }
}

/// The `error` of a token endpoint's answer, with its `error_description`, in a few printable
/// words: `` `access_denied` (the user said no) ``.
pub fn describe_error(json: &Value) -> Option<String> {
    let printable = |v: &str, n: usize| crate::ui::printable(v).chars().take(n).collect::<String>();
    let error = json.get("error").and_then(Value::as_str)?;
    let description = json
        .get("error_description")
        .and_then(Value::as_str)
        .map(|d| format!(" ({})", printable(d, 160)))
        .unwrap_or_default();
    Some(format!("`{}`{description}", printable(error, 60)))
}
