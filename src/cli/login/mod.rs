//! `nix-tokens login [PROVIDER|HOST]`: the OAuth device flow where the provider has one (and a
//! client id for the host), else guided personal-token entry; either way the token is checked
//! with the provider before anything is saved.
//!
//! Device flow: the person sees a code and a URL (the browser opens when it can) while a spinner
//! shows the time left. Token entry: the person is told where to create a token and which scopes
//! to tick, then types it at a hidden prompt (or pipes it with `--with-token`). The provider names
//! the owner, scopes and expiry, and only a token it accepts is stored (`--force` stores it
//! anyway).

mod oidc;

use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, ValueEnum};

use super::Context;
use super::save::{PixiWrite, SaveOptions, Saved, Target, save};
use crate::error::{Error, Result, exit};
use crate::flows::device_code::{self, DeviceParams};
use crate::flows::{browser, token_entry::read_token};
use crate::http::{self, Http, join};
use crate::nixconf::hosts::PixiLink;
use crate::nixconf::oauth::OAuthLogin;
use crate::nixconf::pixi;
use crate::providers::check::{self, Identity, Verdict, missing_scopes};
use crate::providers::{Kind, Provider, Sink, detect};
use crate::secret::Secret;

/// How the token is obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Flow {
    /// OpenID Connect: auth-code where a browser can be opened here, else device-code. Forges:
    /// the device flow where the provider offers it and a client id is known, else a token
    Auto,
    /// The OAuth authorization-code flow with PKCE through the browser (OpenID Connect issuers)
    AuthCode,
    /// The OAuth device flow (RFC 8628)
    DeviceCode,
    /// A personal token, entered at a prompt or piped with --with-token
    Token,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// A provider name (github, gitlab, gitea, forgejo, codeberg, sourcehut, prefix-dev) or a host;
    /// default github
    pub target: Option<String>,
    /// Store the token for this owner (user, organisation or group) only: under HOST/OWNER, which
    /// git through `git-credential` and Nix 2.27 or later prefer for that owner's repositories
    #[arg(long, value_name = "OWNER")]
    pub owner: Option<String>,
    /// The provider the host runs, when no provider file names the host
    #[arg(long, short = 'p', value_name = "NAME")]
    pub provider: Option<String>,
    /// The OAuth client (application) id, for the device flow of self-hosted instances and for
    /// OpenID Connect issuers
    #[arg(long, visible_alias = "oauth-client-id", value_name = "ID")]
    pub client_id: Option<String>,
    /// Where the provider's web and API endpoints are, when not at https://HOST (plain http only
    /// for a loopback address)
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// How to obtain the token
    #[arg(long, visible_alias = "oauth-flow", value_enum, default_value_t = Flow::Auto)]
    pub flow: Flow,
    /// A scope to request in an OAuth flow instead of the provider's (repeatable)
    #[arg(long = "scope", visible_alias = "oauth-scope", value_name = "SCOPE")]
    pub scopes: Vec<String>,
    /// Log in with OAuth to a host that an OpenID Connect issuer guards (as --provider oidc)
    #[arg(long)]
    pub oauth: bool,
    /// The OpenID Connect issuer (default: the provider's own, else https://HOST); implies --oauth
    #[arg(long, value_name = "URL")]
    pub oauth_issuer_url: Option<String>,
    /// The secret of a confidential OAuth client (command-line clients are usually public and
    /// have none)
    #[arg(
        long,
        value_name = "SECRET",
        env = "NIX_TOKENS_OAUTH_CLIENT_SECRET",
        hide_env_values = true
    )]
    pub oauth_client_secret: Option<String>,
    /// The loopback redirect URI the OAuth client is registered with, such as
    /// http://127.0.0.1:8000/auth/oidc (default: http://127.0.0.1 on a random port)
    #[arg(long, value_name = "URI")]
    pub oauth_redirect_uri: Option<String>,
    /// How many seconds to wait for the browser in the authorization-code flow
    #[arg(long, default_value_t = crate::flows::auth_code::DEADLINE.as_secs(), hide = true, value_name = "SECONDS")]
    pub oauth_timeout: u64,
    /// Do not write the login to pixi's credential store (RATTLER_AUTH_FILE, else
    /// ~/.rattler/credentials.json)
    #[arg(long)]
    pub no_pixi: bool,
    /// Read a token from standard input instead of running a flow, for scripts and CI
    #[arg(long, conflicts_with = "flow")]
    pub with_token: bool,
    /// Save the token even when the provider refuses it or cannot be reached, and replace an
    /// existing one without asking
    #[arg(long, short = 'f')]
    pub force: bool,
    /// Show the provider, host, flow, scopes and file, without reading a token or writing
    #[arg(long, short = 'n')]
    pub dry_run: bool,
    /// Do not open a browser
    #[arg(long)]
    pub no_browser: bool,
    /// Write the token to netrc instead of access-tokens
    #[arg(long)]
    pub netrc: bool,
}

pub fn run(ctx: &Context, args: LoginArgs) -> Result<ExitCode> {
    let registry = ctx.registry()?;
    let mut target_arg = args.target.as_deref().unwrap_or("github").to_owned();
    if let Some(owner) = &args.owner {
        target_arg = owner_key(&registry, &target_arg, args.provider.as_deref(), owner)?;
    }
    let target_arg = target_arg.as_str();
    let resolve =
        |provider: Option<&str>| Target::resolve(&registry, target_arg, provider, args.netrc, None);
    let mut target = resolve(args.provider.as_deref())?;
    // `--oauth` names the kind of login for a host no provider file knows: OpenID Connect.
    let oauth_asked = args.oauth || args.oauth_issuer_url.is_some();
    match target.provider {
        None if oauth_asked => target = resolve(Some("oidc"))?,
        Some(p) if oauth_asked && p.kind != Kind::Oidc => {
            return Err(Error::usage(format!(
                "--oauth is for hosts an OpenID Connect issuer guards, and {} runs {}; drop it",
                target.host, p.name
            )));
        }
        _ => {}
    }
    let base = http::base_url(&target.host, args.base_url.as_deref())?;
    let http = Http::new()?;
    let runtime = http::runtime()?;
    if target.provider.is_none() {
        ctx.ui.detail(&format!("detecting what {base} runs"));
        match runtime.block_on(detect::detect(&http, &base)) {
            Ok(kind) => {
                let name = detect::provider_name(kind);
                ctx.ui.info(&format!("{} runs {name}.", target.host));
                target = resolve(Some(name))?;
            }
            Err(tried) => {
                return Err(Error::failed(format!(
                    "could not tell what {} runs (tried {}); pass --provider with one of: {}",
                    target.host,
                    tried.join("; "),
                    registry.names().join(", ")
                )));
            }
        }
    }
    let Some(provider) = target.provider else {
        return Err(Error::usage(format!(
            "pass --provider for {} with one of: {}",
            target.host,
            registry.names().join(", ")
        )));
    };
    let is_oidc = provider.kind == Kind::Oidc;
    let oidc_only = [
        (args.oauth_client_secret.is_some(), "--oauth-client-secret"),
        (args.oauth_redirect_uri.is_some(), "--oauth-redirect-uri"),
        (args.flow == Flow::AuthCode, "--oauth-flow auth-code"),
    ];
    if let Some((_, flag)) = oidc_only.iter().find(|(given, _)| *given && !is_oidc) {
        return Err(Error::usage(format!(
            "{flag} is for OpenID Connect issuers, and {} is not one; drop it",
            provider.name
        )));
    }
    let client_id = provider.device_client_id(&target.host, args.client_id.as_deref());
    let oauth_flow = match (args.flow, args.with_token) {
        (Flow::Token, _) | (_, true) => false,
        (Flow::Auto, false) => is_oidc || client_id.is_some(),
        (Flow::AuthCode, false) => true,
        (Flow::DeviceCode, false) => {
            if provider.device.is_none() && !is_oidc {
                return Err(Error::usage(format!(
                    "{} has no device flow; log in with --flow token",
                    provider.name
                )));
            }
            if client_id.is_none() && !is_oidc {
                return Err(Error::usage(format!(
                    "the device flow on {} needs the client id of an OAuth app registered there; pass --client-id",
                    target.host
                )));
            }
            true
        }
    };
    if oauth_flow && args.netrc && provider.kind == Kind::Gitlab {
        return Err(Error::usage(
            "a GitLab OAuth login expires after two hours and is renewed in access-tokens, not in netrc; drop --netrc, or log in with --flow token for a personal token in netrc",
        ));
    }
    if args.client_id.is_some() && provider.device.is_none() && !is_oidc {
        ctx.ui.warn(&format!(
            "--client-id is ignored: {} logs in with a personal token",
            provider.name
        ));
    }
    if args.with_token && std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        return Err(Error::usage(
            "--with-token reads the token from standard input; pipe it in, for example `gh auth token | nix-tokens login github --with-token`",
        ));
    }
    let scopes = if args.scopes.is_empty() {
        provider.scopes.clone()
    } else {
        args.scopes.clone()
    };
    // An OpenID Connect provider without an API of its own has its tokens checked at the issuer.
    let issuer = is_oidc
        .then(|| oidc::issuer(provider, &target.host, &args))
        .transpose()?;
    let graphql = provider.oidc.as_ref().and_then(|o| o.graphql_path.as_ref());
    let (base, remembered_base) = match (&issuer, graphql) {
        (Some(issuer), None) => (issuer.clone(), Some(issuer.to_string())),
        _ => (base, args.base_url.clone()),
    };
    let oidc_client = match (is_oidc && oauth_flow, issuer.as_ref()) {
        (true, Some(_)) => Some(oidc::client_id(provider, &target.host, &args)?),
        _ => None,
    };
    let pixi_file = (is_oidc && !args.no_pixi).then(pixi::path).flatten();
    if args.dry_run {
        let file = match target.sink {
            Sink::AccessTokens => &ctx.layout.token_file,
            Sink::Netrc => &ctx.layout.netrc,
        };
        let flow = match (oauth_flow, is_oidc, args.flow) {
            (false, _, _) => "personal token".to_owned(),
            (true, false, _) => "device-code".to_owned(),
            (true, true, Flow::Auto) => "auth-code (or device-code without a browser)".to_owned(),
            (true, true, flow) => format!("{flow:?}").to_lowercase().replace("code", "-code"),
        };
        let issuer_text = match (&issuer, &oidc_client) {
            (Some(i), Some(c)) => format!(" at the issuer {i} as the client {c}"),
            _ => String::new(),
        };
        let pixi_text = pixi_file
            .as_ref()
            .map(|p| format!(" and in pixi's {}", p.display()))
            .unwrap_or_default();
        ctx.ui.info(&format!(
            "Dry run: would log in to {} (provider {}) with the {flow} flow{issuer_text}{}, check the token with {base}, and store it for {} in {}{pixi_text}. Nothing was read or written.",
            target.host,
            provider.name,
            if scopes.is_empty() {
                String::new()
            } else {
                format!(" (scopes {})", scopes.join(", "))
            },
            target.key,
            file.display()
        ));
        return Ok(ExitCode::from(exit::OK));
    }
    let mut oauth = None;
    let token = match (oidc_client, client_id.filter(|_| oauth_flow)) {
        (Some(client_id), _) => {
            let issuer = issuer.expect("an OpenID Connect login has an issuer");
            ctx.ui
                .detail(&format!("reading the discovery document of {issuer}"));
            let discovery = runtime.block_on(crate::providers::oidc::discover(&http, &issuer))?;
            let flow = oidc::choose_flow(&args, &discovery, &target.host)?;
            let plan = oidc::Plan { client_id, flow };
            let (tokens, login) = runtime.block_on(oidc::obtain(
                ctx,
                &http,
                &args,
                provider,
                &target.host,
                &discovery,
                &plan,
                &scopes,
            ))?;
            oauth = login.map(|l| OAuthLogin {
                netrc_login: (target.sink == Sink::Netrc).then(|| target.login.clone()),
                ..l
            });
            target.prepare(tokens.access_token)?
        }
        (None, Some(client_id)) => {
            let params = device_params(provider, &target.host, &base, &client_id, &scopes)?;
            let tokens = runtime.block_on(device_login(ctx, &http, &params, args.no_browser))?;
            // A renewable login: the refresh token is kept so that `refresh` can renew it.
            if let (Some(refresh_token), Some(expires_in)) =
                (tokens.refresh_token, tokens.expires_in)
            {
                oauth = Some(OAuthLogin {
                    provider: provider.name.clone(),
                    client_id: client_id.clone(),
                    token_endpoint: params.token_url.to_string(),
                    expires_at: crate::time::unix_now().saturating_add(expires_in),
                    refresh_token: Some(refresh_token),
                    netrc_login: (target.sink == Sink::Netrc).then(|| target.login.clone()),
                    ..OAuthLogin::default()
                });
            } else if tokens.expires_in.is_some() {
                ctx.ui.warn(&format!(
                    "{} issued a token that expires and cannot be renewed; log in again when it does",
                    target.host
                ));
            }
            let token = match target.sink {
                Sink::AccessTokens => provider.oauth_format(tokens.access_token),
                Sink::Netrc => tokens.access_token,
            };
            target.prepare(token)?
        }
        (None, None) => {
            let advice = provider.token_advice(&target.host);
            // The token page, pre-filled where the provider allows it, opens beside the prompt.
            if let Some(page) = provider.token_page_for(&target.host)
                && !args.with_token
                && !args.no_browser
                && browser::available()
                && browser::open(&page)
            {
                ctx.ui.info("Opened the token page in your browser.");
            }
            let (token, _source) = read_token(&ctx.ui, &target.key, None, advice.as_deref())?;
            target.prepare(token)?
        }
    };

    ctx.ui.detail(&format!("checking the token with {base}"));
    let verdict = runtime.block_on(check::check(&http, provider, &target.host, &base, &token));
    let identity = match verdict {
        Verdict::Valid(identity) => Some(identity),
        Verdict::Unverified(why) => {
            ctx.ui.info(&format!("{why}; saving it unchecked."));
            None
        }
        Verdict::Rejected(why) | Verdict::Unreachable(why) if args.force => {
            ctx.ui.warn(&format!(
                "{} did not accept the token ({why}); saving it anyway (--force)",
                target.host
            ));
            None
        }
        Verdict::Rejected(why) => {
            return Err(Error::failed(format!(
                "{} refused the token ({why}); nothing was saved. Check that you copied the whole token, or pass --force to save it anyway",
                target.host
            )));
        }
        Verdict::Unreachable(why) => {
            return Err(Error::failed(format!(
                "could not check the token with {base} ({why}); nothing was saved. Check the host (or --base-url), or pass --force to save it unchecked"
            )));
        }
    };
    if let Some(scopes) = identity.as_ref().and_then(|i| i.scopes.as_ref()) {
        let missing = missing_scopes(&provider.scopes, scopes);
        if !missing.is_empty() {
            ctx.ui.warn(&format!(
                "the token lacks the scope(s) {} that Nix needs to read private repositories",
                missing.join(", ")
            ));
        }
    }
    let pixi = pixi_file.map(|file| PixiWrite {
        entry: pixi_entry(&token, oauth.as_ref()),
        link: PixiLink {
            key: pixi::key_for(&target.host),
            file,
        },
    });
    let options = SaveOptions {
        force: args.force,
        dry_run: args.dry_run,
        base_url: remembered_base.as_deref(),
        oauth,
        user: identity.as_ref().map(|i| i.user.clone()),
        pixi,
    };
    let pixi_key = options.pixi.as_ref().map(|p| p.link.key.clone());
    match save(ctx, &target, token, options)? {
        Saved::Written(file) | Saved::Unchanged(file) => {
            ctx.ui.info(&summary(&target.key, identity.as_ref(), &file));
            if let Some(key) = pixi_key {
                warn_pixi_keyring(ctx, &target.host, &key);
            }
        }
        Saved::DryRun => {}
        Saved::Declined => return Ok(ExitCode::from(exit::FAILURE)),
    }
    Ok(ExitCode::from(exit::OK))
}

/// pixi reads its keyring entry before its credential file unless `RATTLER_AUTH_FILE` is set: an
/// older login it kept there would hide the one just written.
fn warn_pixi_keyring(ctx: &Context, host: &str, key: &str) {
    if std::env::var_os("RATTLER_AUTH_FILE").is_none() && crate::keyring::holds("rattler", key) {
        ctx.ui.warn(&format!(
            "pixi keeps an older login for {key} in the OS keyring, which it reads before its credential file; run `pixi auth logout {host}` so that pixi uses this login"
        ));
    }
}

/// The login as pixi keeps it: an OAuth login it can renew, else a bearer token.
fn pixi_entry(token: &Secret<String>, oauth: Option<&OAuthLogin>) -> serde_json::Value {
    match oauth {
        Some(login) => pixi::OAuthEntry {
            access_token: token,
            refresh_token: login.refresh_token.as_ref(),
            expires_at: login.expires_at,
            token_endpoint: &login.token_endpoint,
            revocation_endpoint: login.revocation_endpoint.as_deref(),
            client_id: &login.client_id,
        }
        .to_json(),
        None => pixi::bearer_entry(token),
    }
}

/// The key `HOST/OWNER` for `login TARGET --owner OWNER`.
fn owner_key(
    registry: &crate::providers::Registry,
    target: &str,
    provider: Option<&str>,
    owner: &str,
) -> Result<String> {
    let (key, _) = registry.resolve_target(target, provider)?;
    let owner = owner.trim().trim_matches('/');
    if key.contains('/') || owner.is_empty() {
        return Err(Error::usage(format!(
            "--owner takes one owner (such as my-org) for a host; give `{}` and the owner alone",
            crate::nixconf::tokens::key_host(&key)
        )));
    }
    Ok(format!("{key}/{owner}"))
}

fn device_params<'a>(
    provider: &Provider,
    host: &'a str,
    base: &reqwest::Url,
    client_id: &'a str,
    scopes: &'a [String],
) -> Result<DeviceParams<'a>> {
    let device = provider
        .device
        .as_ref()
        .ok_or_else(|| Error::usage(format!("{} has no device flow", provider.name)))?;
    Ok(DeviceParams {
        device_url: join(base, &device.authorization_path),
        token_url: join(base, &device.token_path),
        client_id,
        client_secret: None,
        scopes,
        host,
    })
}

/// Runs the device flow: shows the code and URL, opens the browser when it can, and waits with a
/// spinner showing the time left.
async fn device_login(
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

/// One line: host, user, scopes, expiry, and the file written.
fn summary(key: &str, identity: Option<&Identity>, file: &std::path::Path) -> String {
    let Some(id) = identity else {
        return format!("Saved the token for {key} in {}.", file.display());
    };
    let scopes = match &id.scopes {
        Some(s) => format!("scopes {}", s.join(", ")),
        None => "scopes not reported".to_owned(),
    };
    let expiry = id
        .expires_at
        .as_ref()
        .map_or_else(|| "no expiry".to_owned(), |e| format!("expires {e}"));
    format!(
        "Logged in to {key} as {} ({scopes}; {expiry}); the token is in {}.",
        id.user,
        file.display()
    )
}
