//! `login`'s plan for an OpenID Connect issuer: which issuer, and which client there.

use reqwest::Url;

use super::LoginArgs;
use crate::error::{Error, Result};
use crate::http;
use crate::providers::Provider;

/// The issuer: `--oauth-issuer-url`, else the base URL given with `--base-url`, else the
/// provider's own issuer for its default host, else `https://HOST`.
pub fn issuer_url(provider: &Provider, host: &str, args: &LoginArgs) -> Result<Url> {
    let own = provider.own_oidc(host, |o| &o.issuer);
    let text = args
        .oauth_issuer_url
        .as_deref()
        .or(args.base_url.as_deref())
        .or(own);
    http::base_url(host, text)
}

/// The client id at the issuer: `--oauth-client-id`, else the provider's public client for its
/// default host.
pub fn issuer_client_id(provider: &Provider, host: &str, args: &LoginArgs) -> Result<String> {
    let own = provider.own_oidc(host, |o| &o.client_id).map(str::to_owned);
    args.client_id.clone().or(own).ok_or_else(|| {
        Error::usage(format!(
            "pass --oauth-client-id with the id of the OAuth client registered for nix-tokens (or pixi) at the issuer of {host}"
        ))
    })
}
