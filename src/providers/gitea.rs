//! Gitea, Forgejo and Codeberg: checking a token with `GET /api/v1/user` and
//! `Authorization: token …`. These forges do not tell a token's scopes.

use reqwest::Url;
use serde_json::Value;

use super::check::{Identity, Verdict, json_body};
use crate::http::{Http, Unreachable, join};
use crate::secret::Secret;

pub async fn check(
    http: &Http,
    base: &Url,
    token: &Secret<String>,
) -> Result<Verdict, Unreachable> {
    let header = Secret::new(format!("token {}", token.expose()));
    let response = http
        .get(&join(base, "api/v1/user"), Some(("authorization", &header)))
        .await?;
    let body = match json_body(&response, "Gitea or Forgejo") {
        Ok(body) => body,
        Err(verdict) => return Ok(verdict),
    };
    match body.get("login").and_then(Value::as_str) {
        Some(user) => Ok(Verdict::Valid(Identity {
            user: crate::ui::printable(user),
            ..Identity::default()
        })),
        None => Ok(Verdict::Unreachable(
            "answered without a user name, so it does not look like Gitea or Forgejo".into(),
        )),
    }
}
