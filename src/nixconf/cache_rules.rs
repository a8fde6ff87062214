//! What a binary cache's substituter URL and public key must be before nix-tokens tells Nix to
//! use them: the one rule for each, whoever gave them (`--public-key`, a typed `--base-url`, an
//! Attic server's `cache-config`, Cachix's `/api/v1/cache/NAME`).
//!
//! - A public key is `NAME:BASE64` of exactly 32 bytes (an Ed25519 key, as
//!   `nix-store --generate-binary-cache-key` prints it); its name is printable ASCII without
//!   `#` or quotes (no white space, no invisible or look-alike characters).
//! - A substituter is one URL whose query sets no store setting but `priority`: Nix reads the
//!   query as the store's settings, and `?trusted=1` accepts paths no trusted key signed (others
//!   change where Nix writes or what it checks).
//! - A key whose name a key Nix already trusts has, with other material, is refused: Nix keeps
//!   both, and which one a signature names is then up to the cache.

use base64::Engine;

use super::view::Setting;

/// The key Nix trusts when no configuration sets `trusted-public-keys`.
pub const NIX_DEFAULT_KEY: &str = "cache.nixos.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY=";

/// The only store setting a substituter's query may hold.
const ALLOWED_QUERY: &str = "priority";

/// Why `key` is not a public key Nix can check signatures with, or `None`.
pub fn public_key_problem(key: &str) -> Option<&'static str> {
    let Some((name, material)) = key.split_once(':') else {
        return Some("it is not NAME:BASE64");
    };
    let plain = |c: char| c.is_ascii_graphic() && !"#\"'\\".contains(c);
    if name.is_empty() || !name.chars().all(plain) {
        return Some(
            "its name is empty or holds white space, `#`, quotes, or characters other than printable ASCII (such as invisible ones)",
        );
    }
    match base64::engine::general_purpose::STANDARD.decode(material) {
        Ok(bytes) if bytes.len() == 32 => None,
        _ => Some("what follows the name is not the base64 of a 32-byte key"),
    }
}

/// Why `url` cannot be a substituter nix-tokens writes, or `None`.
pub fn substituter_problem(url: &str) -> Option<String> {
    if url.is_empty()
        || url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || crate::secret::invisible(c) || c == '#')
    {
        return Some("it holds white space, `#`, or control or invisible characters".to_owned());
    }
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return Some("it is not a URL".to_owned());
    };
    for (name, value) in parsed.query_pairs() {
        if name != ALLOWED_QUERY {
            return Some(format!(
                "its query sets the store setting `{}`, and only `priority` may be set there (others change which paths Nix trusts or where it writes)",
                crate::ui::printable(&name)
            ));
        }
        if value.parse::<u32>().is_err() {
            return Some("its `priority` is not a number".to_owned());
        }
    }
    None
}

/// The public keys Nix trusts with `settings`: the last `trusted-public-keys` (else Nix's
/// default), with every `extra-trusted-public-keys` added.
pub fn trusted_keys(settings: &[Setting]) -> Vec<String> {
    let mut base = vec![NIX_DEFAULT_KEY.to_owned()];
    let mut extra = Vec::new();
    for s in settings {
        let words = s.value.split_whitespace().map(str::to_owned);
        match s.name.as_str() {
            "trusted-public-keys" => base = words.collect(),
            "extra-trusted-public-keys" => extra.extend(words),
            _ => {}
        }
    }
    base.extend(extra);
    base
}

/// The trusted key among `trusted` that has `key`'s name and other material, if any.
pub fn name_clash<'t>(key: &str, trusted: &'t [String]) -> Option<&'t str> {
    let name = key.split_once(':').map_or(key, |(n, _)| n);
    trusted
        .iter()
        .find(|t| t.split_once(':').is_some_and(|(n, _)| n == name) && *t != key)
        .map(String::as_str)
}

/// Why the substituter `substituter` and the keys `keys` must not be written (`trusted`: the keys
/// Nix already trusts), in words that name the value refused; `None` when all is well.
pub fn cache_problem(substituter: &str, keys: &[String], trusted: &[String]) -> Option<String> {
    let shown = crate::ui::printable;
    if let Some(problem) = substituter_problem(substituter) {
        return Some(format!(
            "the substituter {} ({problem})",
            shown(substituter)
        ));
    }
    for key in keys {
        if let Some(problem) = public_key_problem(key) {
            return Some(format!("the public key `{}` ({problem})", shown(key)));
        }
        if let Some(other) = name_clash(key, trusted) {
            return Some(format!(
                "the public key `{}` (Nix already trusts another key of that name, {other}; a cache may not reuse a trusted key's name)",
                shown(key)
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "team.cachix.org-1:eWNHQldwUO7G2VkjpnjDbWwy4KQ/HNxht7H4SSoMckM=";

    #[test]
    fn a_key_is_a_plain_name_and_32_bytes() {
        assert_eq!(public_key_problem(KEY), None);
        assert_eq!(public_key_problem(NIX_DEFAULT_KEY), None);
        for bad in [
            "garbage-not-a-key",
            "main:abc=",
            ":eWNHQldwUO7G2VkjpnjDbWwy4KQ/HNxht7H4SSoMckM=",
            "te\u{200b}am:eWNHQldwUO7G2VkjpnjDbWwy4KQ/HNxht7H4SSoMckM=",
            "t am:eWNHQldwUO7G2VkjpnjDbWwy4KQ/HNxht7H4SSoMckM=",
            "tëam:eWNHQldwUO7G2VkjpnjDbWwy4KQ/HNxht7H4SSoMckM=",
            "team:eWNHQldwUO7G2VkjpnjDbWwy4KQ/HNxht7H4SSoMckM=\u{200b}",
        ] {
            assert!(public_key_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn a_substituter_sets_no_store_setting_but_priority() {
        assert_eq!(substituter_problem("https://a.example/main"), None);
        assert_eq!(substituter_problem("https://a.example/?priority=41"), None);
        for bad in [
            "https://a.example/acme?trusted=1",
            "https://a.example/?priority=1&want-mass-query=true",
            "https://a.example/?priority=high",
            "https://a.example/x y",
            "https://a.example/\u{200b}",
            "not a url",
        ] {
            assert!(substituter_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn a_trusted_name_with_other_material_clashes() {
        let trusted = trusted_keys(&[]);
        let other = "cache.nixos.org-1:eWNHQldwUO7G2VkjpnjDbWwy4KQ/HNxht7H4SSoMckM=";
        assert_eq!(name_clash(other, &trusted), Some(NIX_DEFAULT_KEY));
        assert_eq!(name_clash(NIX_DEFAULT_KEY, &trusted), None);
        assert_eq!(name_clash(KEY, &trusted), None);
        let said = cache_problem("https://c.example", &[other.to_owned()], &trusted).unwrap();
        assert!(said.contains("already trusts"), "{said}");
    }
}
