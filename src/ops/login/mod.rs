//! Running a login plan: obtain the token (guided entry, the device flow on the host, or an OpenID
//! Connect issuer's flows), check it with the provider (and, for a read-only login, that it reads
//! and cannot write; see [`audit`]), and save it where Nix reads it — in pixi's credential store
//! too, for an issuer's login. Only a token the provider accepts is saved, unless the plan says
//! `force`; the success line says what the token can do.

mod audit;
mod cache;
pub mod ci;
mod device;
mod forge_browser;
mod oidc;
mod plan;

pub use plan::{Access, BrowserPlan, IssuerFlow, IssuerPlan, LoginPlan, Obtain, UseCache};

use std::path::Path;

use super::save::{PixiWrite, SaveOptions, Saved, save};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::flows::{browser, token_entry::read_token};
use crate::http::Http;
use crate::nixconf::hosts::PixiLink;
use crate::nixconf::oauth::OAuthLogin;
use crate::nixconf::pixi;
use crate::providers::cache_use::CacheUse;
use crate::providers::forge::{Site, TokenEntry};
use crate::providers::shared::{Identity, Privileges, Verdict};
use crate::secret::Secret;

/// Runs `plan`: obtains the token, checks it, and saves it. Returns whether it was saved.
pub fn run(ctx: &Context, plan: LoginPlan) -> Result<bool> {
    let http = Http::new()?;
    let runtime = crate::http::runtime()?;
    let (token, oauth) = runtime.block_on(obtain(ctx, &http, &plan))?;
    ctx.ui
        .detail(&format!("checking the token with {}", plan.check_base));
    let site = Site {
        http: &http,
        provider: plan.provider,
        host: &plan.target.host,
        base: &plan.check_base,
        login: Some(&plan.target.login),
    };
    let verdict = runtime
        .block_on(plan.provider.forge().check(&site, &token))
        .unwrap_or_else(|e| Verdict::Unreachable(e.0));
    let mut identity = accept(ctx, &plan, verdict)?;
    // An OAuth access token the provider does not date (Gitea's) expires when its login says.
    if let (Some(id), Some(login)) = (identity.as_mut(), oauth.as_ref())
        && id.expires_at.is_none()
    {
        id.expires_at = Some(crate::time::rfc3339_unix(login.expires_at));
    }
    if let Some(remark) = identity.as_ref().and_then(|i| i.remark.as_ref()) {
        ctx.ui.info(&format!("{remark}."));
    }
    let privileges = match &identity {
        Some(identity) => {
            Some(runtime.block_on(audit::audit(ctx, &plan, &site, &token, identity))?)
        }
        None => None,
    };
    let cache_use = runtime.block_on(cache::settings(ctx, &http, &plan, &token))?;
    store(ctx, &plan, token, (oauth, cache_use), identity, privileges)
}

/// Obtains the token as the plan says, in the format Nix reads it in; with the renewable login it
/// makes, for an OAuth flow that issued a refresh token.
async fn obtain(
    ctx: &Context,
    http: &Http,
    plan: &LoginPlan<'_>,
) -> Result<(Secret<String>, Option<OAuthLogin>)> {
    let target = &plan.target;
    let netrc_login = (target.sink == crate::providers::Sink::Netrc).then(|| target.login.clone());
    match &plan.obtain {
        Obtain::Issuer(issuer) => {
            let (tokens, login) = oidc::obtain(ctx, http, plan, issuer).await?;
            let login = login.map(|l| OAuthLogin { netrc_login, ..l });
            Ok((target.prepare(tokens.access_token)?, login))
        }
        Obtain::Device {
            client_id,
            endpoints,
        } => {
            let (token, login) = device::obtain(ctx, http, plan, client_id, endpoints).await?;
            let login = login.map(|l| OAuthLogin { netrc_login, ..l });
            Ok((target.prepare(token)?, login))
        }
        Obtain::Browser(browser) => match forge_browser::obtain(ctx, http, plan, browser).await? {
            Some((tokens, login)) => {
                let login = login.map(|l| OAuthLogin { netrc_login, ..l });
                Ok((target.prepare(tokens.access_token)?, login))
            }
            None => Ok((guided(ctx, plan, false, &browser.entry)?, None)),
        },
        Obtain::Token { with_token, entry } => Ok((guided(ctx, plan, *with_token, entry)?, None)),
    }
}

/// Guided entry of a token made by hand: the token page (pre-filled where the provider allows
/// it) opens beside the prompt, unless the token comes on standard input.
fn guided(
    ctx: &Context,
    plan: &LoginPlan,
    with_token: bool,
    entry: &TokenEntry,
) -> Result<Secret<String>> {
    if let Some(page) = &entry.page
        && !with_token
        && !plan.no_browser
        && browser::available()
        && browser::open(page)
    {
        ctx.ui.info("Opened the token page in your browser.");
    }
    let key = &plan.target.key;
    let (token, _source) = read_token(&ctx.ui, key, None, entry.advice.as_deref())?;
    plan.target.prepare(token)
}

/// The identity behind an accepted token (`None` when it could not be checked and is saved
/// anyway), or the error that a refused or unchecked token is.
fn accept(ctx: &Context, plan: &LoginPlan, verdict: Verdict) -> Result<Option<Identity>> {
    let host = &plan.target.host;
    match verdict {
        Verdict::Valid(identity) => Ok(Some(identity)),
        Verdict::Unverified(why) => {
            ctx.ui.info(&format!("{why}; saving it unchecked."));
            Ok(None)
        }
        Verdict::Rejected(why) | Verdict::Unreachable(why) if plan.force => {
            ctx.ui.warn(&format!(
                "{host} did not accept the token ({why}); saving it anyway (--force)"
            ));
            Ok(None)
        }
        Verdict::Rejected(why) => Err(Error::failed(format!(
            "{host} refused the token ({why}); nothing was saved. Check that you copied the whole token, or pass --force to save it anyway"
        ))),
        Verdict::Unreachable(why) => Err(Error::failed(format!(
            "could not check the token with {} ({why}); nothing was saved. Check the host (or --base-url), or pass --force to save it unchecked",
            plan.check_base
        ))),
    }
}

/// Saves the checked token (and pixi's entry), and says so.
fn store(
    ctx: &Context,
    plan: &LoginPlan,
    token: Secret<String>,
    (oauth, cache_use): (Option<OAuthLogin>, Option<CacheUse>),
    identity: Option<Identity>,
    privileges: Option<Privileges>,
) -> Result<bool> {
    let target = &plan.target;
    let pixi = plan.pixi_file.clone().map(|file| PixiWrite {
        entry: pixi_entry(&token, oauth.as_ref()),
        link: PixiLink {
            key: pixi::key_for(&target.host),
            file,
        },
    });
    let pixi_key = pixi.as_ref().map(|p| p.link.key.clone());
    let renewal = oauth.as_ref().map(Renewal::of);
    let options = SaveOptions {
        force: plan.force,
        dry_run: false,
        base_url: plan.remembered_base.as_deref(),
        oauth,
        user: identity.as_ref().map(|i| i.user.clone()),
        pixi,
        cache_use: cache_use.clone(),
        store: plan.store,
    };
    match save(ctx, target, token, options)? {
        Saved::Written(file) | Saved::Unchanged(file) => {
            let said = summary(plan, identity.as_ref(), privileges.as_ref(), renewal, &file);
            ctx.ui.info(&said);
            if let Some(cache) = &cache_use {
                cache::say_used(ctx, plan, cache);
            }
            if let Some(key) = pixi_key {
                warn_pixi_keyring(ctx, &target.host, &key);
            }
            Ok(true)
        }
        Saved::DryRun => Ok(true),
        Saved::Declined => Ok(false),
    }
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

/// When a renewable login's token expires, and until when its refresh token renews it (when the
/// provider said).
#[derive(Debug, Clone, Copy)]
struct Renewal {
    expires_at: u64,
    until: Option<u64>,
}

impl Renewal {
    fn of(login: &OAuthLogin) -> Self {
        Renewal {
            expires_at: login.expires_at,
            until: login.refresh_expires_at,
        }
    }

    /// "expires T, renewed automatically [until U]".
    fn words(self) -> String {
        let until = self
            .until
            .map(|u| format!(" until {}", crate::time::rfc3339_unix(u)))
            .unwrap_or_default();
        format!(
            "expires {}, renewed automatically{until}",
            crate::time::rfc3339_unix(self.expires_at)
        )
    }
}

/// One line: host, user, scopes, expiry (a renewable login's own, where the provider does not
/// say), the file written, and what the token can do.
fn summary(
    plan: &LoginPlan,
    identity: Option<&Identity>,
    privileges: Option<&Privileges>,
    renewal: Option<Renewal>,
    file: &Path,
) -> String {
    let key = &plan.target.key;
    let Some(id) = identity else {
        return format!("Saved the token for {key} in {}.", file.display());
    };
    // A binary cache knows no user: it takes the token or not.
    if id.user.is_empty() {
        return format!(
            "Logged in to {key}: {} accepts the token, which is in {}.",
            plan.check_base,
            file.display()
        );
    }
    let scopes = match id.scopes.as_deref() {
        Some([]) => "no scope".to_owned(),
        Some(s) => format!("scopes {}", s.join(", ")),
        None => "scopes not reported".to_owned(),
    };
    let can = privileges
        .map(|p| format!(" and {}", p.summary))
        .unwrap_or_default();
    let expiry = match (renewal, id.expires_at.as_ref()) {
        (Some(r), _) => r.words(),
        (None, Some(e)) => format!("expires {e}"),
        (None, None) => "no expiry".to_owned(),
    };
    format!(
        "Logged in to {key} as {} ({scopes}; {expiry}); the token is in {}{can}.",
        id.user,
        file.display()
    )
}
