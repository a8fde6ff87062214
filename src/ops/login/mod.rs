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

use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::Url;

use super::save::{PixiWrite, SaveOptions, Saved, Target, save};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::flows::{browser, token_entry::read_token};
use crate::http::Http;
use crate::nixconf::hosts::PixiLink;
use crate::nixconf::oauth::OAuthLogin;
use crate::nixconf::pixi;
use crate::providers::Provider;
use crate::providers::cache_use::CacheUse;
use crate::providers::forge::{DeviceEndpoints, Site, TokenEntry};
use crate::providers::provider::CacheApiKind;
use crate::providers::shared::{Identity, Privileges, Verdict};
use crate::secret::Secret;

/// Everything a login will do, decided before any token is read.
pub struct LoginPlan<'r> {
    /// The key, host, provider, file and netrc login the token is stored with.
    pub target: Target<'r>,
    pub provider: &'r Provider,
    /// What the token may do, as asked.
    pub access: Access,
    pub obtain: Obtain,
    /// The scopes an OAuth flow asks for (and a person is told to tick).
    pub scopes: Vec<String>,
    /// Where the token is checked: the host's API, or an issuer without one.
    pub check_base: Url,
    /// The base URL to remember for the host.
    pub remembered_base: Option<String>,
    /// pixi's credential store, for an issuer's login.
    pub pixi_file: Option<PathBuf>,
    /// How a binary cache's login makes Nix use the cache too (none: the credential only).
    pub use_cache: Option<UseCache>,
    /// Save a refused or unchecked token, and replace another without asking.
    pub force: bool,
    pub no_browser: bool,
}

/// How a login makes Nix use a binary cache: its substituter and signing keys.
#[derive(Debug, Clone)]
pub enum UseCache {
    /// The provider's API tells them, asked with the token.
    Ask { kind: CacheApiKind, url: Url },
    /// Known already (`--public-key`, or keys the provider publishes).
    Known(CacheUse),
}

/// What the token may do, as the person asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// What the provider's login asks for (on GitHub `repo`, which also writes).
    Default,
    /// A token that can only read, made by hand and checked to read (`--read-only`), for the
    /// owner of an owner key.
    ReadOnly { owner: Option<String> },
    /// No scope at all: public data only (`--public`).
    Public,
}

/// How the token is obtained.
pub enum Obtain {
    /// Guided entry: a hidden prompt, or standard input (`--with-token`, which opens no page),
    /// told where to make the token.
    Token { with_token: bool, entry: TokenEntry },
    /// The OAuth device flow on the host.
    Device {
        client_id: String,
        endpoints: DeviceEndpoints,
    },
    /// An OpenID Connect issuer's flows, whose endpoints come from its discovery document.
    Issuer(IssuerPlan),
    /// The authorization-code flow on the host itself (Gitea, Forgejo), falling back to guided
    /// entry where the host refuses the application.
    Browser(BrowserPlan),
}

/// A browser login on the host itself, as a public application.
pub struct BrowserPlan {
    pub client_id: String,
    pub authorization_url: Url,
    pub token_url: Url,
    /// How long to wait for the browser.
    pub timeout: Duration,
    /// Guided entry, where the host refuses the application.
    pub entry: TokenEntry,
}

/// A login at an OpenID Connect issuer.
pub struct IssuerPlan {
    pub issuer: Url,
    pub client_id: String,
    pub flow: IssuerFlow,
    pub client_secret: Option<Secret<String>>,
    pub redirect_uri: Option<String>,
    /// How long to wait for the browser in the authorization-code flow.
    pub timeout: Duration,
}

/// The issuer flow asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssuerFlow {
    /// The authorization-code flow where a browser can be opened here, else the device flow.
    Auto,
    AuthCode,
    DeviceCode,
}

impl LoginPlan<'_> {
    /// One sentence saying what the login would do, for `--dry-run`.
    pub fn describe(&self, token_file: &Path, netrc: &Path) -> String {
        let file = match self.target.sink {
            crate::providers::Sink::AccessTokens => token_file,
            crate::providers::Sink::Netrc => netrc,
        };
        let (flow, issuer) = match (&self.obtain, &self.access) {
            (Obtain::Token { entry, .. }, Access::ReadOnly { .. }) => (
                "personal token".to_owned(),
                entry
                    .page
                    .as_ref()
                    .map(|p| format!(" for a read-only token made at {p}"))
                    .unwrap_or_default(),
            ),
            (Obtain::Token { .. }, _) => ("personal token".to_owned(), String::new()),
            (Obtain::Device { .. }, Access::Public) => (
                "device-code".to_owned(),
                " asking for no scope (public data only)".to_owned(),
            ),
            (Obtain::Device { .. }, _) => ("device-code".to_owned(), String::new()),
            (Obtain::Browser(b), _) => (
                "auth-code".to_owned(),
                format!(" as the application {}", b.client_id),
            ),
            (Obtain::Issuer(i), _) => (
                match i.flow {
                    IssuerFlow::Auto => "auth-code (or device-code without a browser)",
                    IssuerFlow::AuthCode => "auth-code",
                    IssuerFlow::DeviceCode => "device-code",
                }
                .to_owned(),
                format!(" at the issuer {} as the client {}", i.issuer, i.client_id),
            ),
        };
        let scopes = if self.scopes.is_empty() {
            String::new()
        } else {
            format!(" (scopes {})", self.scopes.join(", "))
        };
        let pixi = self
            .pixi_file
            .as_ref()
            .map(|p| format!(" and in pixi's {}", p.display()))
            .unwrap_or_default();
        let cache = match &self.use_cache {
            None => String::new(),
            Some(UseCache::Ask { url, .. }) => format!(
                ", with the substituter and key {url} gives in {}",
                token_file.display()
            ),
            Some(UseCache::Known(c)) => format!(
                ", with the substituter {} and the key(s) {} in {}",
                c.substituter,
                match c.public_keys.as_slice() {
                    [] => "(none: --no-key)".to_owned(),
                    keys => keys.join(" "),
                },
                token_file.display()
            ),
        };
        format!(
            "Dry run: would log in to {} (provider {}) with the {flow} flow{issuer}{scopes}, check the token with {}, and store it for {} in {}{pixi}{cache}. Nothing was read or written.",
            self.target.host,
            self.provider.name,
            self.check_base,
            self.target.key,
            file.display()
        )
    }
}

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
