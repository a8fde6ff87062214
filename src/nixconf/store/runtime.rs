//! The session's edits for the keyring store: the absolute include of the runtime copy in
//! nix.conf, and taking a token's plaintext copies out of the token file and the netrc.

use std::path::Path;

use super::{NixConfAccess, Note, Session};
use crate::error::{Error, Result};
use crate::nixconf::conf::{Entry, include_path_problem};
use crate::nixconf::tokens::TokenMap;
use crate::secret::Secret;

/// The access tokens and the netrc entries `(host, login, token)` moved to the keyring.
pub type MovedTokens = (TokenMap, Vec<(String, String, Secret<String>)>);

impl Session<'_> {
    /// Makes nix.conf include `file` (the runtime copy) by its absolute path, as its last line so
    /// that its tokens and `netrc-file` come after everything else nix.conf sets. A missing file
    /// is skipped by Nix (`!include`), which is what a locked store relies on.
    pub fn ensure_runtime_include(&mut self, file: &Path) -> Result<()> {
        let path = file.display().to_string();
        if let Some(problem) = include_path_problem(&path) {
            return Err(Error::failed(format!(
                "no include line can name {path} ({problem}), so the keyring store cannot hand tokens to Nix there and nothing was written"
            )));
        }
        let present = self
            .nix_conf
            .doc
            .entries()
            .any(|(_, e)| matches!(e, Entry::Include { path: p, .. } if Path::new(&p) == file));
        if present {
            return Ok(());
        }
        if let NixConfAccess::ReadOnly { why } = &self.access {
            return Err(Error::failed(format!(
                "{why}, so nix-tokens cannot make Nix read the keyring store's copy; add `!include {path}` to your configuration (home-manager: nix.extraOptions) and run the command again"
            )));
        }
        self.nix_conf.doc.append_line(&format!("!include {path}"));
        Ok(())
    }

    /// Takes nix.conf's include of the runtime copy `file` out (the file store is back).
    pub fn remove_runtime_include(&mut self, file: &Path) {
        let lines: Vec<usize> = self
            .nix_conf
            .doc
            .entries()
            .filter(|(_, e)| matches!(e, Entry::Include { path, .. } if Path::new(path) == file))
            .map(|(i, _)| i)
            .collect();
        self.nix_conf.doc.remove_lines(|i| lines.contains(&i));
        self.keyring_keys.clear();
    }

    /// Whether the keyring store holds `key`'s token (or its host's netrc entry).
    pub fn holds_in_keyring(&self, key: &str) -> bool {
        let host = crate::nixconf::tokens::key_host(key);
        self.keyring_keys.iter().any(|k| k == key || k == host)
    }

    /// The files this session works on.
    pub fn layout(&self) -> &crate::nixconf::paths::Layout {
        self.layout
    }

    /// Keeps the facts of `keys`' hosts, whose tokens the keyring holds.
    pub fn held_in_keyring(&mut self, keys: Vec<String>) {
        self.keyring_keys.extend(keys);
    }

    /// Takes every token out of the files Nix reads for the keyring store: nix.conf's own (moved
    /// into the token file first), the token file's, and the netrc entries of hosts nix-tokens
    /// remembers (others are the user's own). They leave nix.conf's backups too, once committed.
    /// Returns the access tokens and the netrc entries `(host, login, token)`.
    pub fn move_to_keyring(&mut self, runtime: &Path) -> Result<MovedTokens> {
        self.migrate();
        let tokens = std::mem::take(&mut self.token_file.doc.tokens);
        let mut netrc = Vec::new();
        if !self.netrc.path.starts_with(runtime) {
            // The netrc nix-tokens created is all its own; one the user named, only the hosts
            // nix-tokens remembers.
            let hosts: Vec<String> = match self.netrc_is_ours {
                true => self
                    .netrc
                    .doc
                    .entries()
                    .iter()
                    .filter_map(|e| e.machine.clone())
                    .collect(),
                false => self.hosts.doc.hosts.keys().cloned().collect(),
            };
            for host in hosts {
                let Some(entry) = self.netrc.doc.get(&host) else {
                    continue;
                };
                let (Some(token), login) = (entry.password.clone(), entry.login.clone()) else {
                    continue;
                };
                self.netrc.doc.remove(&host);
                netrc.push((host, login.unwrap_or_default(), token));
            }
        }
        // pixi's entries nix-tokens wrote hold the tokens too: they go, and pixi is told about.
        let links: Vec<(String, crate::nixconf::hosts::PixiLink)> = self
            .hosts
            .doc
            .hosts
            .iter()
            .filter_map(|(h, i)| i.pixi.clone().map(|l| (h.clone(), l)))
            .collect();
        for (host, link) in links {
            self.set_pixi(&link.file, &link.key, None)?;
            if let Some(info) = self.hosts.doc.hosts.get_mut(&host) {
                info.pixi = None;
            }
            self.notes.push(Note::Info(format!(
                "took the login of {host} out of pixi's {}; run `pixi auth login {host}` for pixi to keep it in its own keyring entry",
                link.file.display()
            )));
        }
        self.removed.extend(tokens.iter().map(|(_, t)| t.clone()));
        self.removed.extend(netrc.iter().map(|(_, _, t)| t.clone()));
        self.scrub_every_backup = true;
        Ok((tokens, netrc))
    }

    /// Takes `host`'s entry out of the netrc this session edits (not the runtime netrc, which the
    /// keyring store rewrites itself). Returns its token.
    pub fn remove_netrc_entry(&mut self, host: &str, runtime: &Path) -> Option<Secret<String>> {
        if self.netrc.path.starts_with(runtime) {
            return None;
        }
        let token = self.netrc.doc.get(host).and_then(|e| e.password.clone())?;
        self.netrc.doc.remove(host);
        self.notes.push(Note::Info(format!(
            "took the token for {host} out of {}",
            self.netrc.path.display()
        )));
        Some(token)
    }
}
