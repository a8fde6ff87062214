//! `login`'s plan for a binary cache: the host of a named cache (`--cache`), the substituter the
//! token is checked at, and whether the process that downloads from caches will read it.

use reqwest::Url;

use super::{Facts, LoginArgs};
use crate::error::{Error, Result};
use crate::http;
use crate::nixconf::cache_rules::{public_key_problem, substituter_problem};
use crate::ops::login::UseCache;
use crate::ops::save::{Target, check_cache_destination};
use crate::providers::cache_use::{CacheUse, config_url};
use crate::providers::{Provider, Registry};

/// The target of `login TARGET --cache NAME`: the cache's own host for a provider whose caches
/// each have one (`cachix` → `NAME.cachix.org`), else `TARGET` for a cache of that provider.
pub fn target(
    registry: &Registry,
    target: &str,
    provider: Option<&str>,
    cache: &str,
) -> Result<String> {
    let named = provider.unwrap_or(target);
    let provider = registry
        .by_name(named)
        .or_else(|| registry.by_host(target))
        .filter(|p| p.forge().serves_substitutes());
    let Some(provider) = provider else {
        return Err(Error::usage(format!(
            "--cache names a binary cache (of cachix, attic, flakehub or nix-cache), and `{named}` is not one; drop it, or pass --provider"
        )));
    };
    let plain = !cache.is_empty()
        && cache
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c));
    if !plain {
        return Err(Error::usage(
            "--cache takes the name of a cache (letters, digits, `-` and `_`), such as my-cache",
        ));
    }
    Ok(provider
        .cache_host(cache)
        .unwrap_or_else(|| target.to_owned()))
}

/// A binary cache's substituter (where the token is checked, and which is remembered when it is
/// not `https://HOST`); refused where the process that downloads from caches would not read the
/// token.
pub fn substituter(
    args: &LoginArgs,
    provider: &Provider,
    target: &Target,
    facts: &Facts,
) -> Result<(Url, Option<String>)> {
    let host = &target.host;
    let substituter = args
        .base_url
        .clone()
        .or_else(|| provider.substituter(host, args.cache.as_deref()))
        .ok_or_else(|| {
            Error::usage(format!(
                "a {} cache on {host} is named in its substituter's URL: pass --cache NAME (or the substituter with --base-url)",
                provider.name
            ))
        })?;
    let url = http::base_url(host, Some(&substituter))?;
    // The URL becomes the substituter Nix uses: the rule every substituter meets.
    if let Some(problem) = substituter_problem(url.as_str()) {
        return Err(Error::usage(format!(
            "the substituter {} cannot be used: {problem}; give the cache's URL without it",
            crate::ui::printable(url.as_str())
        )));
    }
    let mut again = format!("login {host} --provider {}", provider.name);
    for (flag, value) in [("--cache", &args.cache), ("--base-url", &args.base_url)] {
        if let Some(value) = value {
            again.push_str(&format!(" {flag} {value}"));
        }
    }
    for key in &args.public_keys {
        again.push_str(&format!(" --public-key {key}"));
    }
    for (given, flag) in [
        (args.no_key, " --no-key"),
        (args.credential_only, " --credential-only"),
    ] {
        if given {
            again.push_str(flag);
        }
    }
    check_cache_destination(target, &facts.install, facts.system, &again)?;
    let plain = http::base_url(host, None).ok();
    let remembered = (Some(&url) != plain.as_ref()).then(|| url.to_string());
    Ok((url, remembered))
}

/// How the login makes Nix use the cache checked at `substituter`: nothing for
/// `--credential-only` (or a provider that is no cache, or one whose own Nix sets its cache up),
/// the provider's API where it has one, else
/// the substituter with `--public-key` (or the provider's own keys; none with `--no-key`).
pub fn use_cache(
    args: &LoginArgs,
    provider: &Provider,
    target: &Target,
    substituter: &Url,
) -> Result<Option<UseCache>> {
    let Some(spec) = provider
        .cache
        .as_ref()
        .filter(|_| provider.forge().serves_substitutes())
    else {
        if let Some(flag) = cache_flag(args) {
            return Err(Error::usage(format!(
                "{flag} is for binary caches, and {} is not one; drop it",
                provider.name
            )));
        }
        return Ok(None);
    };
    if args.credential_only || (spec.set_up_by.is_some() && args.public_keys.is_empty()) {
        return Ok(None);
    }
    for key in &args.public_keys {
        check_public_key(key)?;
    }
    if let Some(api) = spec
        .api
        .as_ref()
        .filter(|_| args.public_keys.is_empty() && !args.no_key)
    {
        let host = &target.host;
        let cache = args
            .cache
            .as_deref()
            .or_else(|| provider.cache_name(host))
            .ok_or_else(|| {
                Error::usage(format!(
                    "name the {} cache on {host} with --cache NAME (or pass --credential-only)",
                    provider.name
                ))
            })?;
        let url = config_url(api, host, cache, substituter).ok_or_else(|| {
            Error::failed(format!(
                "the provider file of {} gives no valid cache API URL for {cache}",
                provider.name
            ))
        })?;
        return Ok(Some(UseCache::Ask {
            kind: api.kind,
            url,
        }));
    }
    let keys = match (&args.public_keys[..], args.no_key) {
        ([], false) if spec.public_keys.is_empty() => {
            return Err(Error::usage(format!(
                "Nix trusts a cache's paths only when they are signed with a key it trusts: pass the cache's key with --public-key NAME:KEY (ask the administrator of {}), --no-key to use the cache without one, or --credential-only",
                target.host
            )));
        }
        ([], false) => spec.public_keys.clone(),
        (given, _) => given.to_vec(),
    };
    Ok(Some(UseCache::Known(CacheUse {
        substituter: substituter.as_str().trim_end_matches('/').to_owned(),
        public_keys: keys,
    })))
}

/// What to say when the provider's own Nix sets up its cache, so that only the credential is
/// stored (FlakeHub's, by Determinate Nix).
pub fn set_up_elsewhere(args: &LoginArgs, provider: &Provider, used: bool) -> Option<String> {
    let by = provider.cache.as_ref()?.set_up_by.as_ref()?;
    (!used && !args.credential_only).then(|| {
        format!(
            "{by} sets up the substituter and keys of {}'s cache itself, so only the credential is stored (pass --public-key to trust a key here too)",
            provider.name
        )
    })
}

/// The first flag given that only a cache login takes.
fn cache_flag(args: &LoginArgs) -> Option<&'static str> {
    [
        (args.credential_only, "--credential-only"),
        (!args.public_keys.is_empty(), "--public-key"),
        (args.no_key, "--no-key"),
    ]
    .into_iter()
    .find_map(|(given, flag)| given.then_some(flag))
}

/// A public key as Nix reads one ([`public_key_problem`], the rule every key meets).
fn check_public_key(key: &str) -> Result<()> {
    match public_key_problem(key) {
        None => Ok(()),
        Some(problem) => Err(Error::usage(format!(
            "--public-key takes a cache's public key as NAME:BASE64 (such as cache.example.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY=), and `{}` is not one: {problem}",
            crate::ui::printable(key)
        ))),
    }
}
