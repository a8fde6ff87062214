//! The device flow as a person sees it: the code and URL (the browser opens when it can), a
//! spinner with the time left, and for a forge the renewable login its tokens make.

use std::time::Duration;

use super::LoginPlan;
use crate::context::Context;
use crate::error::Result;
use crate::flows::browser;
use crate::flows::device_code::{self, DeviceParams};
use crate::http::Http;
use crate::nixconf::oauth::OAuthLogin;
use crate::providers::Sink;
use crate::providers::forge::{DeviceEndpoints, Origin};
use crate::secret::Secret;

/// Runs the device flow on the host and returns the token as Nix reads it in the plan's file,
/// and the renewable login when the provider issued a refresh token.
pub async fn obtain(
    ctx: &Context,
    http: &Http,
    plan: &LoginPlan<'_>,
    client_id: &str,
    endpoints: &DeviceEndpoints,
) -> Result<(Secret<String>, Option<OAuthLogin>)> {
    let host = plan.target.host.as_str();
    let params = DeviceParams {
        device_url: endpoints.device_url.clone(),
        token_url: endpoints.token_url.clone(),
        client_id,
        client_secret: None,
        scopes: &plan.scopes,
        host,
    };
    let tokens = login(ctx, http, &params, plan.no_browser).await?;
    // A renewable login: the refresh token is kept so that `refresh` can renew it.
    let oauth = match (tokens.refresh_token, tokens.expires_in) {
        (Some(refresh_token), Some(expires_in)) => Some(OAuthLogin {
            provider: plan.provider.name.clone(),
            client_id: client_id.to_owned(),
            token_endpoint: params.token_url.to_string(),
            expires_at: crate::time::unix_now().saturating_add(expires_in),
            refresh_token: Some(refresh_token),
            refresh_expires_at: tokens
                .refresh_expires_in
                .map(|s| crate::time::unix_now().saturating_add(s)),
            ..OAuthLogin::default()
        }),
        (None, Some(_)) => {
            ctx.ui.warn(&format!(
                "{host} issued a token that expires and cannot be renewed; log in again when it does"
            ));
            None
        }
        (Some(_), None) | (None, None) => None,
    };
    let token = match plan.target.sink {
        Sink::AccessTokens => plan
            .provider
            .forge()
            .access_token(tokens.access_token, Origin::OAuth),
        Sink::Netrc => tokens.access_token,
    };
    Ok((token, oauth))
}

/// Runs the device flow: shows the code and URL, opens the browser when it can, and waits with a
/// spinner showing the time left.
pub async fn login(
    ctx: &Context,
    http: &Http,
    params: &DeviceParams<'_>,
    no_browser: bool,
) -> Result<device_code::Tokens> {
    let auth = device_code::start(http, params).await?;
    ctx.ui.essential(&format!(
        "To log in to {}, open {} and enter the code {}",
        params.host, auth.verification_uri, auth.user_code
    ));
    if let Some(complete) = &auth.verification_uri_complete {
        ctx.ui
            .essential(&format!("  (or open {complete}, which fills in the code)"));
    }
    let url = auth
        .verification_uri_complete
        .as_deref()
        .unwrap_or(&auth.verification_uri);
    if !no_browser && browser::available() && browser::open(url) {
        ctx.ui.info("Opened your browser.");
    }
    let spinner = ctx.ui.progress.then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    });
    let host = params.host.to_owned();
    let tokens = device_code::poll(http, params, &auth, |left| {
        if let Some(bar) = &spinner {
            let secs = left.as_secs();
            bar.set_message(format!(
                "Waiting for the authorization on {host} ({}:{:02} left)",
                secs / 60,
                secs % 60
            ));
        }
    })
    .await;
    if let Some(bar) = spinner {
        bar.finish_and_clear();
    }
    tokens
}
