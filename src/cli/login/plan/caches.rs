//! `login`'s plan for a binary cache: the host of a named cache (`--cache`), the substituter the
//! token is checked at, and whether the process that downloads from caches will read it.

use reqwest::Url;

use super::{Facts, LoginArgs};
use crate::error::{Error, Result};
use crate::http;
use crate::ops::save::{Target, check_cache_destination};
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
    let mut again = format!("login {host} --provider {}", provider.name);
    for (flag, value) in [("--cache", &args.cache), ("--base-url", &args.base_url)] {
        if let Some(value) = value {
            again.push_str(&format!(" {flag} {value}"));
        }
    }
    check_cache_destination(target, &facts.install, facts.system, &again)?;
    let plain = http::base_url(host, None).ok();
    let remembered = (Some(&url) != plain.as_ref()).then(|| url.to_string());
    Ok((url, remembered))
}
