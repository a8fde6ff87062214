//! What `status` says of each substituter besides its credential: whether Nix trusts a public key
//! for it (without one, Nix refuses the cache's paths unless another trusted key signed them or
//! they are content-addressed), and the priority Nix gives it (`?priority=N` in the URL, else the
//! `Priority:` of its `nix-cache-info`, else Nix's default of 50).
//!
//! Nix does not tie a key to a substituter, so "a key for it" means: a key nix-tokens wrote with
//! that substituter (the host facts), or a trusted key named after the cache as Cachix
//! (`HOST-1`), Nix's own cache (`cache.nixos.org-1`) and Attic (the cache's name, the last part
//! of its URL) name them.

use reqwest::Url;

use crate::nixconf::hosts::Hosts;
#[cfg(test)]
use crate::nixconf::view::Setting;

/// The priority Nix gives a cache that states none.
pub const DEFAULT_PRIORITY: u32 = 50;

#[cfg(test)]
use crate::nixconf::cache_rules::NIX_DEFAULT_KEY;
pub use crate::nixconf::cache_rules::trusted_keys;

/// The trusted key that is the substituter `url`'s (see the module documentation).
pub fn key_for(url: &str, keys: &[String], hosts: &Hosts) -> Option<String> {
    let parsed = Url::parse(url).ok();
    let host = parsed.as_ref().and_then(|u| u.host_str()).unwrap_or("");
    let cache = parsed
        .as_ref()
        .and_then(|u| u.path_segments()?.rev().find(|s| !s.is_empty()))
        .unwrap_or("");
    let bare = url.split('?').next().unwrap_or(url).trim_end_matches('/');
    let written: Vec<&String> = hosts
        .hosts
        .values()
        .filter(|i| i.substituter.as_deref().map(|s| s.trim_end_matches('/')) == Some(bare))
        .flat_map(|i| &i.public_keys)
        .collect();
    keys.iter()
        .find(|key| {
            let name = key.split_once(':').map_or("", |(n, _)| n);
            written.contains(key)
                || (!host.is_empty() && (name == host || name.starts_with(&format!("{host}-"))))
                || (!cache.is_empty() && name == cache)
        })
        .cloned()
}

/// The priority the URL sets with `?priority=N`.
pub fn url_priority(url: &str) -> Option<u32> {
    let parsed = Url::parse(url).ok()?;
    parsed
        .query_pairs()
        .find(|(k, _)| k == "priority")
        .and_then(|(_, v)| v.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setting(name: &str, value: &str) -> Setting {
        Setting {
            file: "/etc/nix/nix.conf".into(),
            line: 1,
            name: name.into(),
            value: value.into(),
        }
    }

    #[test]
    fn keys_are_read_as_nix_reads_them_and_matched_by_name() {
        let keys = trusted_keys(&[
            setting("extra-trusted-public-keys", "team.cachix.org-1:a="),
            setting("trusted-public-keys", "cache.nixos.org-1:b="),
            setting("extra-trusted-public-keys", "main:c="),
        ]);
        assert_eq!(
            keys,
            ["cache.nixos.org-1:b=", "team.cachix.org-1:a=", "main:c="]
        );
        let hosts = Hosts::default();
        let key = |url| key_for(url, &keys, &hosts);
        assert_eq!(
            key("https://team.cachix.org").as_deref(),
            Some("team.cachix.org-1:a=")
        );
        assert_eq!(
            key("https://attic.example/main/").as_deref(),
            Some("main:c=")
        );
        assert_eq!(key("https://other.example"), None);
        assert_eq!(trusted_keys(&[]), [NIX_DEFAULT_KEY]);
        assert_eq!(url_priority("https://a.example?priority=10"), Some(10));
        assert_eq!(url_priority("https://a.example"), None);
    }
}
