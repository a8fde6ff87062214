//! The second half of a binary cache's login: what Nix needs besides the credential to use the
//! cache (its substituter and signing keys), from the provider's API (asked with the token, after
//! the cache accepted it) or from the plan. Nothing is written here: a refusal ends the login
//! before anything is saved.

use super::{LoginPlan, UseCache};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::http::{Http, may_carry_token};
use crate::nixconf::cache_rules::{cache_problem, trusted_keys};
use crate::nixconf::hosts::Hosts;
use crate::nixconf::picture::Picture;
use crate::nixconf::store::{NixConfAccess, nix_conf_access};
use crate::providers::cache_use::{self, CacheUse};
use crate::secret::Secret;

/// The substituter and keys Nix is to use the cache with; `None` for the credential alone (asked
/// for, or `--force` saving a token the API refused).
pub async fn settings(
    ctx: &Context,
    http: &Http,
    plan: &LoginPlan<'_>,
    token: &Secret<String>,
) -> Result<Option<CacheUse>> {
    let (kind, url) = match &plan.use_cache {
        None => return Ok(None),
        Some(UseCache::Known(known)) => {
            return rule(ctx, plan, known, "nix-tokens was given").map(|()| Some(known.clone()));
        }
        Some(UseCache::Ask { kind, url }) => (*kind, url),
    };
    ctx.ui
        .detail(&format!("asking {url} for the cache's substituter and key"));
    let why = match cache_use::ask(http, kind, url, token).await {
        Ok(found) => {
            rule(ctx, plan, &found, &format!("{url} named"))?;
            return checked(ctx, plan, url, found).map(Some);
        }
        Err(why) => why,
    };
    let host = &plan.target.host;
    if plan.force {
        ctx.ui.warn(&format!(
            "{url} did not say how to use the cache ({why}); saving the credential only (--force), so Nix will not use {host} until its substituter and key are in its configuration"
        ));
        return Ok(None);
    }
    Err(Error::failed(format!(
        "{url} did not say the substituter and signing key of the cache on {host} ({why}); nothing was saved. Check the token and the cache's name, or pass --credential-only to save the credential alone"
    )))
}

/// Refuses `cache` unless its substituter and keys meet the rule every substituter and key meets
/// ([`cache_problem`]), whoever gave them; a key whose name Nix already trusts with other
/// material included (what this host's own earlier login added is being replaced, so it does
/// not count). `source` says who gave them (`was given`, `URL named`).
fn rule(ctx: &Context, plan: &LoginPlan, cache: &CacheUse, source: &str) -> Result<()> {
    let settings = Picture::read(&ctx.layout)
        .map(|p| p.settings)
        .unwrap_or_default();
    let replaced = Hosts::load(&ctx.layout.hosts)
        .ok()
        .and_then(|h| h.get(&plan.target.host).map(|i| i.public_keys.clone()))
        .unwrap_or_default();
    let trusted: Vec<String> = trusted_keys(&settings)
        .into_iter()
        .filter(|k| !replaced.contains(k))
        .collect();
    match cache_problem(&cache.substituter, &cache.public_keys, &trusted) {
        None => Ok(()),
        Some(what) => Err(Error::failed(format!(
            "{source} {what} for the cache on {}; Nix is not told to use it, and nothing was saved",
            plan.target.host
        ))),
    }
}

/// The API's substituter, refused unless curl would send the credential to it safely (https, or
/// plain http to this machine); with a warning when it is on a host the credential is not for.
fn checked(
    ctx: &Context,
    plan: &LoginPlan,
    api: &reqwest::Url,
    found: CacheUse,
) -> Result<CacheUse> {
    let parsed = reqwest::Url::parse(&found.substituter).ok();
    if !parsed.as_ref().is_some_and(may_carry_token) {
        return Err(Error::failed(format!(
            "{api} named {} as the cache's substituter, which is not https; nothing was saved",
            found.substituter
        )));
    }
    let host = parsed.as_ref().and_then(|u| u.host_str()).unwrap_or("");
    let credential_hosts = plan.provider.netrc_hosts(&plan.target.host);
    if !credential_hosts
        .iter()
        .any(|h| h.eq_ignore_ascii_case(host))
    {
        ctx.ui.warn(&format!(
            "the cache's substituter {} is on {host}, and the credential is for {} only (curl matches netrc entries by host): if {host} is private, log in to it too (`nix-tokens login {host} --provider nix-cache --credential-only`)",
            found.substituter, plan.target.host
        ));
    }
    Ok(found)
}

/// Says how Nix now uses the cache, and what it cannot check without a key; where a NixOS module
/// owns the system nix.conf, the module option that does the same.
pub fn say_used(ctx: &Context, plan: &LoginPlan, cache: &CacheUse) {
    let module_owned = ctx.layout.system
        && matches!(
            nix_conf_access(&ctx.layout),
            Ok(NixConfAccess::ReadOnly { .. })
        );
    if module_owned {
        let key = cache
            .public_keys
            .first()
            .map(|k| format!(" publicKey = \"{k}\";"))
            .unwrap_or_default();
        ctx.ui.info(&format!(
            "On NixOS, the module does the same (the substituter, the key and the token file merged into the daemon's netrc):\n  programs.nix-tokens.caches = [ {{ url = \"{}\";{key} tokenFile = \"/run/secrets/…\"; provider = \"{}\"; }} ];",
            crate::secret::mask_url(&cache.substituter), plan.provider.name
        ));
    }
    let file = ctx.layout.token_file.display();
    let substituter = crate::secret::mask_url(&cache.substituter);
    if cache.public_keys.is_empty() {
        ctx.ui
            .info(&format!("Nix now uses {substituter} (set in {file})."));
        ctx.ui.warn(&format!(
            "no key is trusted for {substituter} (--no-key): Nix accepts only the paths from it that it can check otherwise (signed by a key it already trusts, or content-addressed)"
        ));
        return;
    }
    ctx.ui.info(&format!(
        "Nix now uses {substituter}, trusting the key(s) {} (set in {file}).",
        cache.public_keys.join(" ")
    ));
}
