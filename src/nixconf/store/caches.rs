//! The session's edits that make Nix use a binary cache: its substituter and public keys in the
//! token file's `extra-substituters` and `extra-trusted-public-keys` lines (the `extra-` forms add
//! to what the other files set, never replace it), and the record in the host facts of what was
//! added for which host, so that `logout` takes out exactly that.
//!
//! The token file is the file nix-tokens owns and nix.conf already includes, at the level its
//! credentials are read: so the settings that name a cache land beside the credential for it, in
//! the same locked, atomic commit.

use super::Session;

/// A cache as Nix is told to use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheUse {
    /// The substituter URL (`extra-substituters`).
    pub substituter: String,
    /// The keys its paths are signed with (`extra-trusted-public-keys`); none only when the
    /// person said so (`--no-key`).
    pub public_keys: Vec<String>,
}

/// The setting that lists substituters beside the ones set elsewhere.
const EXTRA_SUBSTITUTERS: &str = "extra-substituters";
/// The setting that lists trusted public keys beside the ones set elsewhere.
const EXTRA_TRUSTED_PUBLIC_KEYS: &str = "extra-trusted-public-keys";

impl Session<'_> {
    /// Makes Nix use `cache` for `host`: adds its substituter and keys where they are missing,
    /// takes out what an earlier login added for the host and the cache no longer names (a
    /// rotated key, a moved substituter), and remembers them with the host (whose facts
    /// [`remember_host`](Self::remember_host) set).
    pub fn use_cache(&mut self, host: &str, cache: &CacheUse) {
        if let Some(info) = self.hosts.doc.hosts.get_mut(host) {
            let old_substituter = info.substituter.replace(cache.substituter.clone());
            let old_keys = std::mem::replace(&mut info.public_keys, cache.public_keys.clone());
            let stale: Vec<String> = old_substituter
                .into_iter()
                .filter(|s| *s != cache.substituter)
                .collect();
            let stale_keys: Vec<String> = old_keys
                .into_iter()
                .filter(|k| !cache.public_keys.contains(k))
                .collect();
            self.drop_unused(host, &stale, &stale_keys);
        }
        self.add_words(EXTRA_SUBSTITUTERS, std::slice::from_ref(&cache.substituter));
        self.add_words(EXTRA_TRUSTED_PUBLIC_KEYS, &cache.public_keys);
        self.ensure_include();
    }

    /// Takes out what [`use_cache`](Self::use_cache) added for `host` (what another host's cache
    /// still needs stays). Returns whether anything went.
    pub fn stop_using_cache(&mut self, host: &str) -> bool {
        let Some(info) = self.hosts.doc.hosts.get_mut(host) else {
            return false;
        };
        let substituters: Vec<String> = info.substituter.take().into_iter().collect();
        let keys = std::mem::take(&mut info.public_keys);
        self.drop_unused(host, &substituters, &keys)
    }

    /// Removes `substituters` and `keys` from the token file, but those another host's cache
    /// than `host`'s still uses. Returns whether anything went.
    fn drop_unused(&mut self, host: &str, substituters: &[String], keys: &[String]) -> bool {
        let others: Vec<_> = self
            .hosts
            .doc
            .hosts
            .iter()
            .filter(|(h, _)| *h != host)
            .map(|(_, i)| (i.substituter.clone(), i.public_keys.clone()))
            .collect();
        let used = |s: &String| others.iter().any(|(u, _)| u.as_ref() == Some(s));
        let trusted = |k: &String| others.iter().any(|(_, t)| t.contains(k));
        let substituters: Vec<String> = substituters.iter().filter(|s| !used(s)).cloned().collect();
        let keys: Vec<String> = keys.iter().filter(|k| !trusted(k)).cloned().collect();
        let a = self.remove_words(EXTRA_SUBSTITUTERS, &substituters);
        let b = self.remove_words(EXTRA_TRUSTED_PUBLIC_KEYS, &keys);
        a || b
    }

    /// The words of the token file's `name` lines.
    fn words(&self, name: &str) -> Vec<String> {
        let mut words: Vec<String> = Vec::new();
        let values = self.token_file.doc.conf.settings();
        for (_, _, value) in values.filter(|(_, n, _)| n == name) {
            for word in value.split_whitespace() {
                if !words.iter().any(|w| w == word) {
                    words.push(word.to_owned());
                }
            }
        }
        words
    }

    fn add_words(&mut self, name: &str, new: &[String]) {
        let mut words = self.words(name);
        let before = words.len();
        for word in new {
            if !words.contains(word) {
                words.push(word.clone());
            }
        }
        if words.len() != before {
            self.token_file
                .doc
                .conf
                .set_setting(name, Some(&words.join(" ")));
        }
    }

    fn remove_words(&mut self, name: &str, gone: &[String]) -> bool {
        let mut words = self.words(name);
        let before = words.len();
        words.retain(|w| !gone.contains(w));
        if words.len() == before {
            return false;
        }
        let value = (!words.is_empty()).then(|| words.join(" "));
        self.token_file.doc.conf.set_setting(name, value.as_deref());
        true
    }
}
