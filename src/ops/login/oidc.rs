//! A login at an OpenID Connect issuer (prefix.dev, or any issuer with `--oauth`): discovery,
//! then the authorization-code flow with PKCE where a browser can be opened here and the device
//! flow where it cannot, and the renewable login that results.

use std::time::Duration;

use reqwest::Url;

use super::{IssuerFlow, IssuerPlan, LoginPlan, device};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::flows::auth_code::{self, AuthCodeParams};
use crate::flows::device_code::DeviceParams;
use crate::flows::{Tokens, browser};
use crate::http::Http;
use crate::nixconf::oauth::OAuthLogin;
use crate::providers::oidc::{Discovery, discover};

/// Whether a browser can be opened for the person: a display, a terminal, no SSH session, and
/// no `--no-browser`.
fn browser_here(no_browser: bool) -> bool {
    !no_browser && !over_ssh() && browser::available()
}

/// Whether nix-tokens runs in an SSH session, where the person's browser is on another machine.
fn over_ssh() -> bool {
    ["SSH_CONNECTION", "SSH_TTY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|v| !v.is_empty()))
}

/// The flow to run: the one asked for, or for `auto` the authorization-code flow where a browser
/// can be opened here (`browser`), else the device flow; either needs its endpoint in the
/// discovery document.
pub fn choose_flow(
    asked: IssuerFlow,
    browser: bool,
    discovery: &Discovery,
    host: &str,
) -> Result<IssuerFlow> {
    let auth_code = discovery.authorization_endpoint.is_some();
    let device = discovery.device_authorization_endpoint.is_some();
    let missing = |what: &str, other: &str| {
        Error::failed(format!(
            "the issuer {} offers no {what} flow (its discovery document has no endpoint for it); use --oauth-flow {other}",
            discovery.issuer
        ))
    };
    match asked {
        IssuerFlow::AuthCode if !auth_code => Err(missing("authorization-code", "device-code")),
        IssuerFlow::DeviceCode if !device => Err(missing("device", "auth-code")),
        IssuerFlow::AuthCode | IssuerFlow::DeviceCode => Ok(asked),
        IssuerFlow::Auto => match (auth_code, device) {
            (true, true) if browser => Ok(IssuerFlow::AuthCode),
            (_, true) => Ok(IssuerFlow::DeviceCode),
            (true, false) => Ok(IssuerFlow::AuthCode),
            (false, false) => Err(Error::failed(format!(
                "the issuer {} of {host} offers neither the authorization-code nor the device flow; log in with --flow token",
                discovery.issuer
            ))),
        },
    }
}

/// Reads the issuer's discovery document, runs the flow it allows, and returns the tokens and the
/// renewable login they make.
pub async fn obtain(
    ctx: &Context,
    http: &Http,
    plan: &LoginPlan<'_>,
    issuer: &IssuerPlan,
) -> Result<(Tokens, Option<OAuthLogin>)> {
    let host = plan.target.host.as_str();
    ctx.ui.detail(&format!(
        "reading the discovery document of {}",
        issuer.issuer
    ));
    let discovery = discover(http, &issuer.issuer).await?;
    let flow = choose_flow(issuer.flow, browser_here(plan.no_browser), &discovery, host)?;
    let tokens = match flow {
        IssuerFlow::AuthCode => auth_code_login(ctx, http, plan, issuer, &discovery).await?,
        _ => {
            let params = DeviceParams {
                device_url: discovery
                    .device_authorization_endpoint
                    .clone()
                    .expect("chosen only with the endpoint"),
                token_url: discovery.token_endpoint.clone(),
                client_id: &issuer.client_id,
                client_secret: issuer.client_secret.as_ref(),
                scopes: &plan.scopes,
                host,
            };
            device::login(ctx, http, &params, plan.no_browser).await?
        }
    };
    let login = match (&tokens.refresh_token, tokens.expires_in) {
        (Some(refresh_token), Some(expires_in)) => Some(OAuthLogin {
            provider: plan.provider.name.clone(),
            client_id: issuer.client_id.clone(),
            token_endpoint: discovery.token_endpoint.to_string(),
            expires_at: crate::time::unix_now().saturating_add(expires_in),
            refresh_token: Some(refresh_token.clone()),
            refresh_expires_at: tokens
                .refresh_expires_in
                .map(|s| crate::time::unix_now().saturating_add(s)),
            revocation_endpoint: discovery.revocation_endpoint.as_ref().map(Url::to_string),
            client_secret: issuer.client_secret.clone(),
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

/// The authorization-code flow: the address to open (the browser opens where one can be started),
/// and a spinner while the loopback listener waits for the browser.
async fn auth_code_login(
    ctx: &Context,
    http: &Http,
    plan: &LoginPlan<'_>,
    issuer: &IssuerPlan,
    discovery: &Discovery,
) -> Result<Tokens> {
    let host = plan.target.host.as_str();
    let params = AuthCodeParams {
        authorization_url: discovery
            .authorization_endpoint
            .clone()
            .expect("chosen only with the endpoint"),
        token_url: discovery.token_endpoint.clone(),
        client_id: &issuer.client_id,
        client_secret: issuer.client_secret.as_ref(),
        scopes: &plan.scopes,
        redirect_uri: issuer.redirect_uri.as_deref(),
        host,
        otherwise: "use --oauth-flow device-code",
    };
    browser_flow(ctx, http, &params, plan.no_browser, issuer.timeout).await
}

/// Runs the authorization-code flow of `params`: prints the address to open (and opens the
/// browser where one can be started), then waits up to `deadline` with a spinner for the browser
/// to come back.
pub(super) async fn browser_flow(
    ctx: &Context,
    http: &Http,
    params: &AuthCodeParams<'_>,
    no_browser: bool,
    deadline: Duration,
) -> Result<Tokens> {
    let host = params.host;
    let pending = auth_code::start(params).await?;
    ctx.ui.essential(&format!(
        "To log in to {host}, open this address in your browser:\n  {}",
        pending.url
    ));
    // The browser's answer comes to this machine's loopback address, which a browser elsewhere
    // reaches only through a forwarded port.
    if over_ssh()
        && let Some(port) = pending.port()
    {
        ctx.ui.info(&format!(
            "Over SSH, forward the port first so that your browser's answer reaches this machine: `ssh -L {port}:127.0.0.1:{port} …`."
        ));
    }
    // The flow is settled: the browser opens wherever one can be started.
    if !no_browser && browser::can_open() && browser::open(pending.url.as_str()) {
        ctx.ui.info("Opened your browser.");
    }
    let spinner = ctx.ui.progress.then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.enable_steady_tick(Duration::from_millis(120));
        bar.set_message(format!(
            "Waiting for the login in the browser (up to {} minutes)",
            deadline.as_secs().div_ceil(60)
        ));
        bar
    });
    let tokens = auth_code::finish(http, params, pending, deadline).await;
    if let Some(bar) = spinner {
        bar.finish_and_clear();
    }
    tokens
}
