//! The OAuth 2.0 device authorization grant (RFC 8628), written against how providers really
//! answer: an error may come with HTTP 200 (GitHub) or 400 (GitLab), so the body's `error` is
//! read whatever the status; `slow_down` adds 5 seconds to this and every later poll; polling
//! stops at `expires_in` even if the server keeps saying "pending"; any other error ends the flow.

use std::time::{Duration, Instant};

use reqwest::Url;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::http::{Http, Response};
use crate::secret::Secret;
use crate::time::pause;
use crate::ui::printable;

/// Where and as whom to run the flow.
pub struct DeviceParams<'a> {
    pub device_url: Url,
    pub token_url: Url,
    pub client_id: &'a str,
    /// For a confidential client only.
    pub client_secret: Option<&'a Secret<String>>,
    pub scopes: &'a [String],
    /// The host, for messages.
    pub host: &'a str,
}

/// What the person must do: open `verification_uri` and enter `user_code`.
#[derive(Debug)]
pub struct Authorization {
    device_code: Secret<String>,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: Option<String>,
    pub expires_in: Duration,
    pub interval: Duration,
}

pub use super::Tokens;

fn body(response: &Response) -> Option<Value> {
    serde_json::from_slice(&response.body).ok()
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// Asks for a device code.
pub async fn start(http: &Http, p: &DeviceParams<'_>) -> Result<Authorization> {
    let scope = p.scopes.join(" ");
    let text = |v: &Value, key: &str| text(v, key).map(|t| printable(&t));
    let mut form = vec![("client_id", p.client_id)];
    // No scope at all is asked without the field (GitHub: a token for public data only).
    if !scope.is_empty() {
        form.push(("scope", scope.as_str()));
    }
    if let Some(secret) = p.client_secret {
        form.push(("client_secret", secret.expose().as_str()));
    }
    let response = http.post_form(&p.device_url, &form).await.map_err(|e| {
        Error::failed(format!(
            "could not start the device flow with {}: {}",
            p.host, e.0
        ))
    })?;
    let json = body(&response);
    if let Some(error) = json.as_ref().and_then(|j| text(j, "error")) {
        return Err(flow_error(p, &error, json.as_ref()));
    }
    let json = json
        .filter(|_| response.status.is_success())
        .ok_or_else(|| {
            Error::failed(format!(
                "{} has no device flow at {} (HTTP {}); log in with --flow token instead",
                p.host,
                p.device_url,
                response.status.as_u16()
            ))
        })?;
    let field = |key: &str| {
        text(&json, key).ok_or_else(|| {
            Error::failed(format!(
                "{} answered the device flow without `{key}`; log in with --flow token instead",
                p.host
            ))
        })
    };
    let seconds =
        |key: &str, default: u64| json.get(key).and_then(Value::as_u64).unwrap_or(default);
    Ok(Authorization {
        device_code: Secret::new(field("device_code")?),
        user_code: field("user_code")?,
        verification_uri: text(&json, "verification_uri")
            .or_else(|| text(&json, "verification_url"))
            .ok_or_else(|| {
                Error::failed(format!(
                    "{} answered the device flow without `verification_uri`",
                    p.host
                ))
            })?,
        verification_uri_complete: text(&json, "verification_uri_complete"),
        // At most an hour to enter the code, whatever the server says.
        expires_in: Duration::from_secs(seconds("expires_in", 900).min(3600)),
        // RFC 8628 §3.2: 5 seconds when the server does not say; between 1 second and 5 minutes.
        interval: Duration::from_secs(seconds("interval", 5).clamp(1, 300)),
    })
}

/// Polls until the person authorizes (or denies, or the code expires). `waiting` is called
/// before each wait with the time left. The intervals and the code's lifetime pass on the tests'
/// time scale ([`crate::time::pause`]).
pub async fn poll(
    http: &Http,
    p: &DeviceParams<'_>,
    auth: &Authorization,
    mut waiting: impl FnMut(Duration),
) -> Result<Tokens> {
    let deadline = Instant::now() + pause(auth.expires_in);
    let mut interval = auth.interval;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left < pause(interval) {
            return Err(Error::failed(format!(
                "the code for {} expired before the authorization was completed; run the login again",
                p.host
            )));
        }
        waiting(left);
        tokio::time::sleep(pause(interval)).await;
        let mut form = vec![
            ("client_id", p.client_id),
            ("device_code", auth.device_code.expose().as_str()),
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ];
        if let Some(secret) = p.client_secret {
            form.push(("client_secret", secret.expose().as_str()));
        }
        let response = match http.post_form(&p.token_url, &form).await {
            Ok(r) => r,
            // A dropped connection is not the end: the code stays valid until its deadline.
            Err(_) => continue,
        };
        let json = body(&response);
        if let Some(tokens) = json.as_ref().and_then(Tokens::from_json) {
            return Ok(tokens);
        }
        match json.as_ref().and_then(|j| text(j, "error")).as_deref() {
            Some("authorization_pending") => {}
            Some("slow_down") => {
                // RFC 8628 §3.5: add 5 seconds to this and every later interval; GitHub also
                // sends the new interval, which is never less.
                let said = json
                    .as_ref()
                    .and_then(|j| j.get("interval"))
                    .and_then(Value::as_u64)
                    .map(|s| Duration::from_secs(s.min(300)))
                    .unwrap_or_default();
                interval = (interval + Duration::from_secs(5))
                    .max(said)
                    .min(Duration::from_secs(300));
            }
            Some(error) => return Err(flow_error(p, error, json.as_ref())),
            None if response.status.is_server_error() => {}
            None => {
                return Err(Error::failed(format!(
                    "{} answered the device flow with HTTP {} and no token nix-tokens can use (none, or one that is not a single word); run the login again",
                    p.host,
                    response.status.as_u16()
                )));
            }
        }
    }
}

/// One sentence for an `error` that ends the flow.
fn flow_error(p: &DeviceParams<'_>, error: &str, json: Option<&Value>) -> Error {
    let host = p.host;
    match error {
        "access_denied" => Error::failed(format!(
            "the authorization for {host} was denied; nothing was saved"
        )),
        "expired_token" => Error::failed(format!(
            "the code for {host} expired before it was entered; run the login again"
        )),
        "device_flow_disabled" => Error::failed(format!(
            "the OAuth app {} on {host} does not allow the device flow; enable it in the app's settings, or log in with --flow token",
            p.client_id
        )),
        "incorrect_client_credentials" | "invalid_client" | "unauthorized_client" => {
            Error::failed(format!(
                "{host} does not know the OAuth client id {}; register an OAuth app there and pass its id with --client-id, or log in with --flow token",
                p.client_id
            ))
        }
        other => {
            let description = json
                .and_then(|j| text(j, "error_description"))
                .map(|d| printable(&d))
                .map(|d| format!(" ({})", d.chars().take(160).collect::<String>()))
                .unwrap_or_default();
            Error::failed(format!(
                "{host} ended the device flow with `{}`{description}; run the login again",
                printable(other).chars().take(60).collect::<String>()
            ))
        }
    }
}
