//! The session's edits of nix-tokens' own records: renewable OAuth logins (their refresh tokens in
//! the OS keyring where one answers), what is remembered about each host, and pixi's credential
//! store.

use std::collections::BTreeMap;
use std::path::Path;

use super::Session;
use crate::error::Result;
use crate::keyring;
use crate::nixconf::document::Staged;
use crate::nixconf::hosts::HostInfo;
use crate::nixconf::oauth::OAuthLogin;
use crate::nixconf::pixi::Credentials;
use crate::nixconf::tokens::key_host;
use crate::secret::{Secret, fingerprint};

impl Session<'_> {
    /// Whether Nix's token file no longer holds the access token `key`'s login was last written
    /// with (a commit that failed or was cut short after the OAuth file).
    pub fn oauth_out_of_step(&self, key: &str) -> bool {
        let Some(expected) = self
            .oauth
            .doc
            .logins
            .get(key)
            .and_then(|l| l.access_fingerprint.as_ref())
        else {
            return false;
        };
        self.stored_token(key).map(fingerprint).as_ref() != Some(expected)
    }

    /// The renewable OAuth logins, by token key.
    pub fn oauth_logins(&self) -> &BTreeMap<String, OAuthLogin> {
        &self.oauth.doc.logins
    }

    /// Keeps (or, with `None`, forgets) how to renew the token of `key`. The refresh token goes
    /// to the OS keyring at commit when one answers.
    pub fn set_oauth_login(&mut self, key: &str, login: Option<OAuthLogin>) {
        match login {
            Some(login) => {
                self.keyring_forget.retain(|k| k != key);
                self.oauth.doc.logins.insert(key.to_owned(), login);
            }
            None => self.forget_oauth(key),
        }
    }

    pub(super) fn forget_oauth(&mut self, key: &str) {
        if let Some(login) = self.oauth.doc.logins.remove(key)
            && login.in_keyring
        {
            self.keyring_forget.push(key.to_owned());
        }
    }

    /// The refresh token of `key`'s OAuth login, from the file or the keyring, or why it cannot
    /// be had (one sentence).
    pub fn refresh_token(&self, key: &str) -> std::result::Result<Secret<String>, String> {
        let host = key_host(key);
        let again = format!("log in again with `nix-tokens login {host}`");
        let Some(login) = self.oauth.doc.logins.get(key) else {
            return Err(format!("{key} has no renewable login; {again}"));
        };
        match (&login.refresh_token, login.in_keyring) {
            (Some(token), _) => Ok(token.clone()),
            (None, true) => match keyring::get(&self.keyring_account(key)) {
                keyring::Lookup::Found(token) => Ok(token),
                keyring::Lookup::Missing => Err(format!(
                    "the refresh token for {key} is no longer in the OS keyring; {again}"
                )),
                keyring::Lookup::Unavailable => Err(format!(
                    "the refresh token for {key} is in the OS keyring, which does not answer now; unlock it, or {again}"
                )),
            },
            (None, false) => Err(format!("the login for {key} has no refresh token; {again}")),
        }
    }

    /// The keyring account of `key` in this configuration directory.
    fn keyring_account(&self, key: &str) -> String {
        keyring_account(self.layout.dir(), key)
    }

    /// Remembers the provider (and base URL) of `host`.
    pub fn remember_host(&mut self, host: &str, info: HostInfo) {
        self.hosts.doc.hosts.insert(host.to_owned(), info);
    }

    /// What is remembered about `host`.
    pub fn host_info(&self, host: &str) -> Option<&HostInfo> {
        self.hosts.doc.hosts.get(host)
    }

    /// pixi's credential file at `path`, read under this session's lock the first time, and
    /// whether an entry changed.
    fn pixi_file(&mut self, path: &Path) -> Result<&mut (Staged<Credentials>, bool)> {
        if self.pixi.as_ref().is_none_or(|(p, _)| p.path != path) {
            super::remove_stale_temp_files(&self.guard, self.layout, &[path.to_path_buf()]);
            self.pixi = Some((Staged::read(path, 0o600)?, false));
        }
        Ok(self.pixi.as_mut().expect("loaded above"))
    }

    /// The entry `key` of pixi's credential file at `path`.
    pub fn pixi_entry(&mut self, path: &Path, key: &str) -> Result<Option<serde_json::Value>> {
        Ok(self.pixi_file(path)?.0.doc.get(key).cloned())
    }

    /// Sets (or, with `None`, removes) the entry `key` of pixi's credential file at `path`.
    pub fn set_pixi(
        &mut self,
        path: &Path,
        key: &str,
        entry: Option<serde_json::Value>,
    ) -> Result<()> {
        let (pixi, changed) = self.pixi_file(path)?;
        if pixi.doc.get(key) != entry.as_ref() {
            *changed = true;
            match entry {
                Some(entry) => pixi.doc.set(key, entry),
                None => {
                    pixi.doc.remove(key);
                }
            }
        }
        Ok(())
    }
}

/// The keyring account of `key` for the configuration directory `dir`: two configurations never
/// share a secret.
pub(super) fn keyring_account(dir: &Path, key: &str) -> String {
    format!("{key} in {}", dir.display())
}
