//! A forge's own browser login (Gitea, Forgejo, Codeberg): the authorization-code flow with PKCE
//! against the host, as the public application every instance knows (or `--client-id`), and the
//! renewable login its refresh token makes.
//!
//! Before the browser opens, the token endpoint is asked whether it knows the application: a
//! refresh grant with a made-up refresh token, which sends no secret. Gitea answers
//! `invalid_client` ("cannot load client with client id") for an application it does not have
//! (left out of `[oauth2] DEFAULT_APPLICATIONS`, or an instance older than 1.20), and 404 where
//! its OAuth2 provider is off (`[oauth2] ENABLED = false`) or missing; another OAuth error
//! (`unauthorized_client`, "unable to parse refresh token") means the application is there
//! (`handleRefreshToken`, `routers/web/auth/oauth2_provider.go`). Anything else is no Gitea. The
//! authorization page could not tell: it wants a signed-in user, and for an unknown application
//! it shows an error page instead of sending the browser back. A refused application ends in one
//! sentence, and the login falls back to a token made by hand.

use reqwest::StatusCode;
use serde_json::Value;

use super::{BrowserPlan, LoginPlan, oidc};
use crate::context::Context;
use crate::error::Result;
use crate::flows::Tokens;
use crate::flows::auth_code::AuthCodeParams;
use crate::http::Http;
use crate::nixconf::oauth::OAuthLogin;

/// Runs the browser login; `None` when the host refuses the application (said in one sentence),
/// for the caller to fall back to guided token entry.
pub async fn obtain(
    ctx: &Context,
    http: &Http,
    plan: &LoginPlan<'_>,
    browser: &BrowserPlan,
) -> Result<Option<(Tokens, Option<OAuthLogin>)>> {
    let host = plan.target.host.as_str();
    match probe(http, browser, host).await {
        Probe::Ready => {}
        Probe::Refused(why) => {
            ctx.ui.info(&format!(
                "{why}, so nix-tokens cannot log in through the browser there; make a token by hand instead (or pass --client-id with an application the instance has)."
            ));
            return Ok(None);
        }
        // The token's check, next, says what is wrong with the host.
        Probe::NotGitea(why) => {
            ctx.ui
                .detail(&format!("{why}; asking for a token made by hand"));
            return Ok(None);
        }
    }
    let params = AuthCodeParams {
        authorization_url: browser.authorization_url.clone(),
        token_url: browser.token_url.clone(),
        client_id: &browser.client_id,
        client_secret: None,
        scopes: &plan.scopes,
        redirect_uri: None,
        host,
        // No device flow on Gitea or Forgejo: a token made by hand is the other way in.
        otherwise: "log in with --flow token and a token made by hand",
    };
    let tokens = oidc::browser_flow(ctx, http, &params, plan.no_browser, browser.timeout).await?;
    let login = match (&tokens.refresh_token, tokens.expires_in) {
        (Some(refresh_token), Some(expires_in)) => Some(OAuthLogin {
            provider: plan.provider.name.clone(),
            client_id: browser.client_id.clone(),
            token_endpoint: browser.token_url.to_string(),
            expires_at: crate::time::unix_now().saturating_add(expires_in),
            refresh_token: Some(refresh_token.clone()),
            ..OAuthLogin::default()
        }),
        (None, Some(_)) => {
            ctx.ui.warn(&format!(
                "{host} issued a token that expires and cannot be renewed (no refresh token); log in again when it does"
            ));
            None
        }
        _ => None,
    };
    Ok(Some((tokens, login)))
}

/// What the token endpoint says of the application.
enum Probe {
    /// It knows the application: the browser may go there.
    Ready,
    /// A Gitea or Forgejo that refuses the application, and why.
    Refused(String),
    /// An answer that is not Gitea's (or none at all), and what it was.
    NotGitea(String),
}

/// Asks the token endpoint about the application; see the module documentation. Only an answer as
/// Gitea's own (an OAuth error other than `invalid_client`, for the made-up refresh token) sends
/// the person's browser there.
async fn probe(http: &Http, browser: &BrowserPlan, host: &str) -> Probe {
    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", browser.client_id.as_str()),
        ("refresh_token", "nix-tokens-probe"),
    ];
    let response = match http.post_form(&browser.token_url, &form).await {
        Ok(response) => response,
        Err(e) => {
            return Probe::NotGitea(format!(
                "could not reach {host}'s OAuth2 provider ({})",
                e.0
            ));
        }
    };
    if response.status == StatusCode::NOT_FOUND {
        return Probe::Refused(format!(
            "{host} offers no OAuth2 login (it is older than Gitea 1.20, or its administrator turned the OAuth2 provider off)"
        ));
    }
    let json: Option<Value> = serde_json::from_slice(&response.body).ok();
    match json
        .as_ref()
        .and_then(|j| j.get("error"))
        .and_then(Value::as_str)
    {
        Some("invalid_client") => Probe::Refused(format!(
            "{host} does not know the application {} (its administrator left it out of `[oauth2] DEFAULT_APPLICATIONS`, or it is older than Gitea 1.20)",
            crate::ui::printable(&browser.client_id)
        )),
        Some(_) => Probe::Ready,
        None => Probe::NotGitea(format!(
            "{host} did not answer as Gitea's OAuth2 provider does (HTTP {} at {})",
            response.status.as_u16(),
            browser.token_url
        )),
    }
}
