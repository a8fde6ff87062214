//! `login` for an OpenID Connect provider (prefix.dev, or any issuer with `--oauth`): discovery,
//! then the authorization-code flow with PKCE where a browser can be opened here and the device
//! flow where it cannot, and the renewable login that results.

use std::time::Duration;

use reqwest::Url;

use super::{Flow, LoginArgs, device_login};
use crate::cli::Context;
use crate::error::{Error, Result};
use crate::flows::auth_code::{self, AuthCodeParams};
use crate::flows::device_code::DeviceParams;
use crate::flows::{Tokens, browser};
use crate::http::{self, Http};
use crate::nixconf::oauth::OAuthLogin;
use crate::providers::oidc::Discovery;
use crate::providers::{OidcIssuer, Provider};
use crate::secret::Secret;

/// Who the login is with: the client, and the flow chosen.
pub struct Plan {
    pub client_id: String,
    pub flow: Flow,
}

/// A setting of the provider file's `[oidc]` table, which holds for its default host only.
fn own<'p>(
    provider: &'p Provider,
    host: &str,
    field: fn(&OidcIssuer) -> &Option<String>,
) -> Option<&'p str> {
    let oidc = provider.oidc.as_ref()?;
    field(oidc)
        .as_deref()
        .filter(|_| provider.default_host.as_deref() == Some(host))
}

/// The issuer: `--oauth-issuer-url`, else the base URL given with `--base-url`, else the
/// provider's own issuer for its default host, else `https://HOST`.
pub fn issuer(provider: &Provider, host: &str, args: &LoginArgs) -> Result<Url> {
    let own = own(provider, host, |o| &o.issuer);
    let text = args
        .oauth_issuer_url
        .as_deref()
        .or(args.base_url.as_deref())
        .or(own);
    http::base_url(host, text)
}

/// The client id: `--oauth-client-id`, else the provider's public client for its default host.
pub fn client_id(provider: &Provider, host: &str, args: &LoginArgs) -> Result<String> {
    let own = own(provider, host, |o| &o.client_id).map(str::to_owned);
    args.client_id.clone().or(own).ok_or_else(|| {
        Error::usage(format!(
            "pass --oauth-client-id with the id of the OAuth client registered for nix-tokens (or pixi) at the issuer of {host}"
        ))
    })
}

/// Whether a browser can be opened for the person: a display, a terminal, no SSH session, and
/// no `--no-browser`.
fn browser_here(args: &LoginArgs) -> bool {
    let ssh = ["SSH_CONNECTION", "SSH_TTY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|v| !v.is_empty()));
    !args.no_browser && !ssh && browser::available()
}

/// The flow to run: the one asked for, or for `auto` the authorization-code flow where a browser
/// can be opened here, else the device flow; either needs its endpoint in the discovery document.
pub fn choose_flow(args: &LoginArgs, discovery: &Discovery, host: &str) -> Result<Flow> {
    let auth_code = discovery.authorization_endpoint.is_some();
    let device = discovery.device_authorization_endpoint.is_some();
    let missing = |what: &str, other: &str| {
        Error::failed(format!(
            "the issuer {} offers no {what} flow (its discovery document has no endpoint for it); use --oauth-flow {other}",
            discovery.issuer
        ))
    };
    match args.flow {
        Flow::AuthCode if !auth_code => Err(missing("authorization-code", "device-code")),
        Flow::DeviceCode if !device => Err(missing("device", "auth-code")),
        Flow::AuthCode | Flow::DeviceCode => Ok(args.flow),
        Flow::Token => Ok(Flow::Token),
        Flow::Auto => match (auth_code, device) {
            (true, true) if browser_here(args) => Ok(Flow::AuthCode),
            (_, true) => Ok(Flow::DeviceCode),
            (true, false) => Ok(Flow::AuthCode),
            (false, false) => Err(Error::failed(format!(
                "the issuer {} of {host} offers neither the authorization-code nor the device flow; log in with --flow token",
                discovery.issuer
            ))),
        },
    }
}

/// Runs the chosen flow and returns the tokens and the renewable login they make.
#[allow(clippy::too_many_arguments)]
pub async fn obtain(
    ctx: &Context,
    http: &Http,
    args: &LoginArgs,
    provider: &Provider,
    host: &str,
    discovery: &Discovery,
    plan: &Plan,
    scopes: &[String],
) -> Result<(Tokens, Option<OAuthLogin>)> {
    let secret = args.oauth_client_secret.clone().map(Secret::new);
    let tokens = match plan.flow {
        Flow::AuthCode => {
            let params = AuthCodeParams {
                authorization_url: discovery
                    .authorization_endpoint
                    .clone()
                    .expect("chosen only with the endpoint"),
                token_url: discovery.token_endpoint.clone(),
                client_id: &plan.client_id,
                client_secret: secret.as_ref(),
                scopes,
                redirect_uri: args.oauth_redirect_uri.as_deref(),
                host,
            };
            let pending = auth_code::start(&params).await?;
            ctx.ui.essential(&format!(
                "To log in to {host}, open this address in your browser:\n  {}",
                pending.url
            ));
            // The flow is settled: the browser opens wherever one can be started.
            if !args.no_browser && browser::can_open() && browser::open(pending.url.as_str()) {
                ctx.ui.info("Opened your browser.");
            }
            let deadline = Duration::from_secs(args.oauth_timeout);
            let spinner = ctx.ui.progress.then(|| {
                let bar = indicatif::ProgressBar::new_spinner();
                bar.enable_steady_tick(Duration::from_millis(120));
                bar.set_message(format!(
                    "Waiting for the login in the browser (up to {} minutes)",
                    deadline.as_secs().div_ceil(60)
                ));
                bar
            });
            let tokens = auth_code::finish(http, &params, pending, deadline).await;
            if let Some(bar) = spinner {
                bar.finish_and_clear();
            }
            tokens?
        }
        _ => {
            let params = DeviceParams {
                device_url: discovery
                    .device_authorization_endpoint
                    .clone()
                    .expect("chosen only with the endpoint"),
                token_url: discovery.token_endpoint.clone(),
                client_id: &plan.client_id,
                client_secret: secret.as_ref(),
                scopes,
                host,
            };
            device_login(ctx, http, &params, args.no_browser).await?
        }
    };
    let login = match (&tokens.refresh_token, tokens.expires_in) {
        (Some(refresh_token), Some(expires_in)) => Some(OAuthLogin {
            provider: provider.name.clone(),
            client_id: plan.client_id.clone(),
            token_endpoint: discovery.token_endpoint.to_string(),
            expires_at: crate::time::unix_now().saturating_add(expires_in),
            refresh_token: Some(refresh_token.clone()),
            revocation_endpoint: discovery.revocation_endpoint.as_ref().map(Url::to_string),
            client_secret: secret,
            ..OAuthLogin::default()
        }),
        (None, Some(_)) => {
            ctx.ui.warn(&format!(
                "{host} issued a token that expires and cannot be renewed (no refresh token; ask for the offline_access scope); log in again when it does"
            ));
            None
        }
        _ => None,
    };
    Ok((tokens, login))
}
