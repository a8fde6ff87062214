//! The session's edits of Nix's own files: tokens in the token file, netrc entries, the include
//! line and the tokens nix.conf itself holds (moved into the token file on the first change), and
//! what a commit settles in them.

use std::path::{Path, PathBuf};

use super::{NixConfAccess, Note, Session};
use crate::error::{Error, Result};
use crate::nixconf::conf::{ConfFile, Entry, include_path_problem, value_problem};
use crate::nixconf::netrc::Netrc;
use crate::nixconf::pasted;
use crate::nixconf::paths::TOKEN_FILE;
use crate::nixconf::tokens::{
    ACCESS_TOKENS, EXTRA_ACCESS_TOKENS, TokenMap, check_login, check_netrc_host, check_token,
    host_without_port, key_host,
};
use crate::nixconf::view;
use crate::secret::Secret;

impl Session<'_> {
    /// The tokens in the token file.
    pub fn tokens(&self) -> &TokenMap {
        &self.token_file.doc.tokens
    }

    pub fn netrc(&self) -> &Netrc {
        &self.netrc.doc
    }

    pub fn netrc_path(&self) -> &Path {
        &self.netrc.path
    }

    /// Keys that nix.conf itself sets in `access-tokens` or `extra-access-tokens`.
    pub fn nix_conf_tokens(&self) -> TokenMap {
        let mut map = TokenMap::default();
        for (_, _, value) in self.token_settings(&self.nix_conf.doc) {
            for (k, t) in TokenMap::parse(&value).iter() {
                map.insert_if_absent(k, t.clone());
            }
        }
        map
    }

    fn token_settings(&self, conf: &ConfFile) -> Vec<(usize, String, String)> {
        conf.settings()
            .filter(|(_, n, _)| n == ACCESS_TOKENS || n == EXTRA_ACCESS_TOKENS)
            .collect()
    }

    fn include_line(&self) -> Option<usize> {
        view::include_line_of(
            &self.nix_conf.doc,
            &self.layout.nix_conf,
            &self.layout.token_file,
        )
    }

    /// Moves every token nix.conf holds into the token file, keeping for each key the token Nix
    /// uses now, and every other key too, so that nothing is lost. Returns how many keys moved.
    pub fn migrate(&mut self) -> usize {
        let in_conf = self.token_settings(&self.nix_conf.doc);
        if in_conf.is_empty() || !self.nix_conf_editable() {
            return 0;
        }
        let file_settings = self.token_settings(&self.token_file.doc.conf);
        let include_at = self.include_line();
        // What Nix sees from this nix.conf and the token file, in their order …
        let mut merged = TokenMap::default();
        let apply_file = |m: &mut TokenMap| {
            for (_, n, v) in &file_settings {
                m.apply(n, v);
            }
        };
        let mut applied = false;
        for (i, entry) in self.nix_conf.doc.entries() {
            if include_at == Some(i) {
                apply_file(&mut merged);
                applied = true;
            }
            if let Entry::Setting { name, value } = entry {
                merged.apply(&name, &value);
            }
        }
        if !applied {
            apply_file(&mut merged);
        }
        // … then every key that was hidden, so that no token is lost.
        for (_, _, v) in in_conf.iter().chain(&file_settings) {
            for (k, t) in TokenMap::parse(v).iter() {
                merged.insert_if_absent(k, t.clone());
            }
        }
        let moved = self.nix_conf_tokens().keys().count();
        let lines: Vec<usize> = in_conf.iter().map(|(i, _, _)| *i).collect();
        self.nix_conf.doc.remove_lines(|i| lines.contains(&i));
        self.token_file.doc.tokens = merged;
        self.ensure_include();
        self.notes.push(Note::Info(format!(
            "moved {moved} token(s) from {} into {}",
            self.layout.nix_conf.display(),
            self.layout.token_file.display()
        )));
        moved
    }

    /// Makes sure nix.conf reads the token file, or tells the user the line to add when nix.conf
    /// cannot be edited.
    pub fn ensure_include(&mut self) {
        if self.include_line().is_some() {
            return;
        }
        match &self.access {
            NixConfAccess::ReadOnly { why } => {
                let why = why.clone();
                let file = self.layout.token_file.display().to_string();
                // An absolute include line must name the file exactly as Nix reads it.
                let nixos = match include_path_problem(&file) {
                    None => format!("nix.extraOptions = \"!include {file}\";"),
                    Some(problem) => format!(
                        "no include line can name {file} ({problem}); keep the token file in a directory whose path has no spaces or `#`"
                    ),
                };
                self.notes.push(Note::Warn(format!(
                    "{why}, so nix-tokens left it alone and Nix will not see {file} until it is included. Add this line to your configuration and rebuild:\n  home-manager: nix.extraOptions = \"!include {TOKEN_FILE}\";\n  NixOS:        {nixos}"
                )));
            }
            _ => self
                .nix_conf
                .doc
                .append_line(&format!("!include {TOKEN_FILE}")),
        }
    }

    /// Sets `key` in the token file. Returns the token it replaces.
    /// A renewable OAuth login for the key is forgotten: a caller that stores a renewable token
    /// sets it again with [`set_oauth_login`](Self::set_oauth_login).
    /// Whatever the caller checked, nothing but one token goes in ([`check_token`]): the value
    /// cannot end the line and start a setting of its own.
    pub fn set_access_token(
        &mut self,
        key: &str,
        token: Secret<String>,
    ) -> Result<Option<Secret<String>>> {
        check_token(&token, key)?;
        self.forget_oauth(key);
        self.migrate();
        self.ensure_include();
        Ok(self.token_file.doc.tokens.insert(key, token))
    }

    /// Refuses to edit a netrc curl would misread or reject.
    fn check_netrc(&self) -> Result<()> {
        match self.netrc.doc.problem() {
            Some(problem) => Err(Error::failed(format!(
                "{} {problem}, so curl would misread it and nix-tokens will not edit it; fix that line first",
                self.netrc.path.display()
            ))),
            None => Ok(()),
        }
    }

    /// Sets `host` in the netrc, and points Nix at that netrc when nix-tokens chose it.
    pub fn set_netrc(&mut self, host: &str, login: &str, token: &Secret<String>) -> Result<()> {
        self.check_netrc()?;
        // Whatever the caller checked, nothing curl would read as a keyword goes in.
        check_netrc_host(host)?;
        if !login.is_empty() {
            check_login(login)?;
        }
        check_token(token, host)?;
        // curl ignores a netrc line longer than its 4 KiB buffer.
        if token.expose().len() > 4000 {
            return Err(Error::usage(format!(
                "the token for {host} is longer than curl reads from a netrc line (4000 characters)"
            )));
        }
        // The netrc Nix reads by default needs no `netrc-file` (and so no include either).
        let default = view::default_netrc(&self.layout.system_dir);
        let named = self.netrc_is_ours && self.netrc.path != default;
        if named {
            self.check_netrc_path()?;
        }
        self.migrate();
        self.netrc.doc.set(host, login, token);
        if named {
            let path = self.netrc.path.display().to_string();
            if self.token_file.doc.conf.last_value("netrc-file").as_deref() != Some(path.as_str()) {
                self.token_file
                    .doc
                    .conf
                    .set_setting("netrc-file", Some(&path));
                self.warn_hidden_system_netrc();
            }
        }
        self.ensure_include();
        self.note_determinate_netrc();
        Ok(())
    }

    /// Refuses a netrc path that a `netrc-file` line cannot name exactly as it is.
    fn check_netrc_path(&self) -> Result<()> {
        let problem = match self.netrc.path.to_str() {
            None => Some("it is not valid UTF-8"),
            Some(path) => value_problem(path),
        };
        match problem {
            Some(problem) => Err(Error::failed(format!(
                "nix-tokens cannot point Nix's `netrc-file` at {} ({problem}), so nothing was changed; use a configuration directory without `#`, tabs or repeated spaces in its path (--config PATH)",
                self.netrc.path.display()
            ))),
            None => Ok(()),
        }
    }

    /// On Determinate Nix, Nix reads determinate-nixd's netrc: say how this one joins it.
    fn note_determinate_netrc(&mut self) {
        let determinate = self.layout.determinate.as_ref();
        if let Some(note) = determinate.and_then(|d| d.netrc_note(&self.netrc.path)) {
            self.notes.push(Note::Warn(note));
        }
    }

    fn warn_hidden_system_netrc(&mut self) {
        let system = view::system_netrc(&self.layout.system_dir)
            .map(|(netrc, _)| netrc)
            .unwrap_or_else(|_| view::default_netrc(&self.layout.system_dir));
        if system.exists() && system != self.netrc.path {
            self.notes.push(Note::Warn(format!(
                "Nix will now read {} instead of {} for this user; copy any entries you still need from {} into {}",
                self.netrc.path.display(),
                system.display(),
                system.display(),
                self.netrc.path.display()
            )));
        }
    }

    /// Whether Nix's token file no longer holds the access token `key`'s login was last written
    /// The token stored for `key`: in the token file, else (for a host) in the netrc.
    pub(super) fn stored_token(&self, key: &str) -> Option<&Secret<String>> {
        self.token_file.doc.tokens.get(key).or_else(|| {
            (!key.contains('/'))
                .then(|| self.netrc.doc.get(host_without_port(key)))
                .flatten()
                .and_then(|e| e.password.as_ref())
        })
    }

    /// Removes `key` from the token file only.
    pub fn remove_access_token(&mut self, key: &str) -> Option<Secret<String>> {
        self.token_file.doc.tokens.remove(key)
    }

    /// Every key nix-tokens manages: the token file's, nix.conf's own, and the hosts of the netrc
    /// nix-tokens created (a netrc the user named may hold entries nix-tokens never wrote).
    pub fn managed_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = Vec::new();
        let netrc_hosts = self
            .netrc
            .doc
            .entries()
            .iter()
            .filter(|_| self.netrc_is_ours)
            .filter_map(|e| e.machine.clone());
        let from_conf = self.nix_conf_tokens();
        let token_keys = self
            .token_file
            .doc
            .tokens
            .keys()
            .chain(from_conf.keys())
            .map(str::to_owned);
        for k in token_keys.chain(netrc_hosts) {
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
        keys
    }

    /// Removes `key` from every file nix-tokens manages. Returns the files it was in.
    pub fn remove(&mut self, key: &str) -> Result<Vec<PathBuf>> {
        let mut from = Vec::new();
        // What the key held, to be scrubbed from nix.conf's backups once the commit is written.
        let held = [
            self.token_file.doc.tokens.get(key).cloned(),
            self.nix_conf_tokens().get(key).cloned(),
            self.stored_token(key).cloned(),
        ];
        self.removed.extend(held.into_iter().flatten());
        if self.token_file.doc.tokens.contains(key) {
            from.push(self.layout.token_file.clone());
        }
        if self.nix_conf_tokens().contains(key) {
            if self.nix_conf_editable() {
                from.push(self.layout.nix_conf.clone());
            } else {
                self.notes.push(Note::Warn(format!(
                    "{} sets a token for {}, but it cannot be edited; remove it from the configuration that generates that file",
                    self.layout.nix_conf.display(),
                    pasted::shown(key)
                )));
            }
        }
        self.migrate();
        self.token_file.doc.tokens.remove(key);
        self.forget_oauth(key);
        let host = host_without_port(key);
        if !key.contains('/') && self.netrc.doc.has_host(host) {
            self.check_netrc()?;
            self.netrc.doc.remove(host);
            from.push(self.netrc.path.clone());
        }
        Ok(from)
    }

    /// Before a commit: facts about a host go with its last token, and the token file takes its
    /// tokens (and drops a `netrc-file` of nix-tokens' own that no entry needs any more: Nix goes
    /// back to its default netrc).
    pub(super) fn settle_tokens(&mut self) {
        let mut keys = self.managed_keys();
        keys.extend(self.keyring_keys.iter().cloned());
        let netrc_hosts: Vec<String> = self
            .netrc
            .doc
            .entries()
            .iter()
            .filter_map(|e| e.machine.clone())
            .collect();
        self.hosts.doc.hosts.retain(|host, _| {
            keys.iter()
                .any(|k| key_host(k) == host || host_without_port(key_host(k)) == host)
                || netrc_hosts.iter().any(|m| m.eq_ignore_ascii_case(host))
        });
        let name = self.token_setting_name();
        let ours = self.netrc.path.display().to_string();
        let conf = &mut self.token_file.doc.conf;
        if self.netrc_is_ours
            && self.netrc.doc.entries().is_empty()
            && conf.last_value("netrc-file").as_deref() == Some(ours.as_str())
        {
            conf.set_setting("netrc-file", None);
        }
        let new = self.token_file.orig.is_none();
        self.token_file.doc.finish(name, new);
    }
}
