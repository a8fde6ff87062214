//! GitLab (gitlab.com and self-managed): checking a token.
//!
//! A token stored for Nix carries `PAT:` (sent as `PRIVATE-TOKEN`) or `OAuth2:` (sent as
//! `Authorization: Bearer`). `GET /api/v4/user` names the owner; a personal token's scopes and
//! expiry come from `/api/v4/personal_access_tokens/self`, an OAuth token's from
//! `/oauth/token/info`.

use reqwest::Url;
use serde_json::Value;

use super::check::{Identity, Verdict, json, json_body};
use crate::http::{Http, Unreachable, join};
use crate::secret::Secret;

pub async fn check(
    http: &Http,
    base: &Url,
    token: &Secret<String>,
) -> Result<Verdict, Unreachable> {
    let t = token.expose();
    let (oauth, bare) = match (t.strip_prefix("OAuth2:"), t.strip_prefix("PAT:")) {
        (Some(rest), _) => (true, rest),
        (None, Some(rest)) => (false, rest),
        (None, None) => (false, t.as_str()),
    };
    let (name, value) = if oauth {
        ("authorization", Secret::new(format!("Bearer {bare}")))
    } else {
        ("private-token", Secret::new(bare.to_owned()))
    };
    let response = http
        .get(&join(base, "api/v4/user"), Some((name, &value)))
        .await?;
    let body = match json_body(&response, "GitLab") {
        Ok(body) => body,
        Err(verdict) => return Ok(verdict),
    };
    let Some(user) = body.get("username").and_then(Value::as_str) else {
        return Ok(Verdict::Unreachable(
            "answered without a user name, so it does not look like GitLab".into(),
        ));
    };
    let info_path = if oauth {
        "oauth/token/info"
    } else {
        "api/v4/personal_access_tokens/self"
    };
    let info = http
        .get(&join(base, info_path), Some((name, &value)))
        .await?;
    let info = json(&info).filter(|_| info.status.is_success());
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
                .map(|date| format!("{date}T00:00:00Z")),
        ),
        None => (None, None),
    };
    if info
        .as_ref()
        .is_some_and(|i| i.get("active") == Some(&Value::Bool(false)))
    {
        return Ok(Verdict::Rejected("the token is revoked or expired".into()));
    }
    Ok(Verdict::Valid(Identity {
        user: crate::ui::printable(user),
        scopes,
        expires_at,
        rate_limit: None,
    }))
}

/// A scope list given as a JSON array or as one space-separated string.
fn list(value: Option<&Value>) -> Option<Vec<String>> {
    match value? {
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
        ),
        Value::String(s) => Some(s.split_whitespace().map(str::to_owned).collect()),
        _ => None,
    }
}
