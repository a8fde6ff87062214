//! One locked read-modify-write of the files beside nix.conf.
//!
//! [`Session::open`] takes the lock and reads nix.conf, the token file and the netrc; the editing
//! methods change them in memory; [`Session::commit`] writes what changed, atomically, in an order
//! that never loses a token (token file, then netrc, then a backup and nix.conf), and puts back the
//! files already written if a later write fails.

use std::fs;
use std::path::{Path, PathBuf};

use super::conf::ConfFile;
use super::fsio::{self, LockGuard};
use super::hosts::{HostInfo, Hosts};
use super::netrc::Netrc;
use super::oauth::{OAuthLogin, OAuthLogins};
use super::paths::{Layout, TOKEN_FILE};
use super::pixi::Credentials;
use super::tokens::{ACCESS_TOKENS, EXTRA_ACCESS_TOKENS, TokenMap, host_without_port, key_host};
use super::view;
use crate::error::{Error, Result};
use crate::keyring;
use crate::secret::{Secret, fingerprint};

const TOKEN_FILE_HEADER: &str = "# Access tokens for Nix, written by nix-tokens. Keep this file private (mode 0600).\n\
# nix.conf reads it through `!include access-tokens.conf`; edit it with `nix-tokens set-token` and `nix-tokens logout`.\n";

/// Whether nix.conf may be changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NixConfAccess {
    /// It can be rewritten; `real_path` is the file to replace (the target, when nix.conf is a
    /// symlink outside the Nix store), `mode` the permissions to keep.
    Writable { real_path: PathBuf, mode: u32 },
    /// It does not exist yet and will be created.
    Missing,
    /// It must be left alone: a link into the Nix store, or a file nobody may write.
    ReadOnly { why: String },
}

/// Something the user should hear about after the operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    Warn(String),
    Info(String),
}

/// The files one operation changed (or, in a dry run, would change), and what to tell the user.
#[derive(Debug, Default)]
pub struct Report {
    pub changed: Vec<PathBuf>,
    pub backup: Option<PathBuf>,
    pub notes: Vec<Note>,
}

/// A locked editing session; see the module documentation.
pub struct Session<'a> {
    guard: LockGuard,
    layout: &'a Layout,
    access: NixConfAccess,
    nix_conf: ConfFile,
    nix_conf_orig: Option<String>,
    token_conf: ConfFile,
    token_conf_orig: Option<String>,
    /// The token file's `access-tokens`, which `commit` writes back.
    tokens: TokenMap,
    netrc_path: PathBuf,
    netrc: Netrc,
    netrc_orig: Option<String>,
    /// Whether nix-tokens chose `netrc_path` (and so must point `netrc-file` at it).
    netrc_is_ours: bool,
    hosts: Hosts,
    hosts_orig: Option<String>,
    oauth: OAuthLogins,
    oauth_orig: Option<String>,
    /// Keys whose refresh token the keyring should forget once the commit is written.
    keyring_forget: Vec<String>,
    /// pixi's credential store, once the session edits it.
    pixi: Option<PixiFile>,
    pub notes: Vec<Note>,
}

/// pixi's credential file as read, and as edited.
struct PixiFile {
    path: PathBuf,
    credentials: Credentials,
    orig: Option<String>,
    changed: bool,
}

fn check_valid(conf: &ConfFile, path: &Path) -> Result<()> {
    match conf.first_invalid() {
        Some((line, reason)) => Err(Error::failed(format!(
            "{} line {line} is not valid Nix configuration ({reason}); Nix itself rejects it, so fix that line first and nothing has been changed",
            path.display()
        ))),
        None => Ok(()),
    }
}

/// Decides whether nix.conf may be edited, and which file a rewrite replaces.
fn nix_conf_access(layout: &Layout) -> Result<NixConfAccess> {
    let path = &layout.nix_conf;
    let meta = match fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(NixConfAccess::Missing),
        Err(e) => return Err(Error::io("inspect", path, &e)),
        Ok(m) => m,
    };
    let real_path = if meta.file_type().is_symlink() {
        fsio::write_target(path)?
    } else {
        path.clone()
    };
    let store = fs::canonicalize(&layout.store_dir).unwrap_or(layout.store_dir.clone());
    if real_path.starts_with(&store) {
        return Ok(NixConfAccess::ReadOnly {
            why: format!(
                "{} is managed by Nix (a link into {})",
                path.display(),
                store.display()
            ),
        });
    }
    let mode = fsio::mode_of(&real_path).unwrap_or(0o644);
    let writable =
        mode & 0o222 != 0 && fs::OpenOptions::new().append(true).open(&real_path).is_ok();
    Ok(if writable {
        NixConfAccess::Writable { real_path, mode }
    } else {
        NixConfAccess::ReadOnly {
            why: format!("{} is read-only", path.display()),
        }
    })
}

impl<'a> Session<'a> {
    /// Takes the lock and reads every file the session may change.
    pub fn open(layout: &'a Layout) -> Result<Self> {
        let guard = fsio::lock(&layout.lock)?;
        fsio::remove_stale_temp_files(&guard, layout.dir());
        let access = nix_conf_access(layout)?;
        if let NixConfAccess::Writable { real_path, .. } = &access
            && let Some(dir) = real_path.parent()
        {
            fsio::remove_stale_temp_files(&guard, dir);
        }
        let nix_conf_orig = fsio::read_optional(&layout.nix_conf)?;
        let nix_conf = ConfFile::parse(nix_conf_orig.as_deref().unwrap_or(""));
        check_valid(&nix_conf, &layout.nix_conf)?;

        let token_conf_orig = fsio::read_optional(&layout.token_file)?;
        let token_conf = ConfFile::parse(token_conf_orig.as_deref().unwrap_or(""));
        check_valid(&token_conf, &layout.token_file)?;
        let mut tokens = TokenMap::default();
        for (_, name, value) in token_conf.settings() {
            tokens.apply(&name, &value);
        }
        // A key an earlier line of the token file set and a later one hid is kept, not lost.
        for (_, _, value) in token_conf.settings() {
            for (k, t) in TokenMap::parse(&value).iter() {
                tokens.insert_if_absent(k, t.clone());
            }
        }

        // The netrc Nix reads for this user: one nix.conf itself names, else ours.
        let settings = view::file_settings(std::slice::from_ref(&layout.nix_conf))?;
        // The last `netrc-file` wins; the token file's own line is nix-tokens' to manage.
        let (netrc_path, netrc_is_ours) =
            match settings.iter().rev().find(|s| s.name == "netrc-file") {
                Some(s) => (PathBuf::from(&s.value), s.file == layout.token_file),
                None => (layout.netrc.clone(), true),
            };
        let netrc_orig = fsio::read_optional(&netrc_path)?;
        let netrc = Netrc::parse(netrc_orig.as_deref().unwrap_or(""));
        let hosts_orig = fsio::read_optional(&layout.hosts)?;
        let hosts = Hosts::parse(hosts_orig.as_deref().unwrap_or(""), &layout.hosts)?;
        let oauth_orig = fsio::read_optional(&layout.oauth)?;
        let oauth = OAuthLogins::parse(oauth_orig.as_deref().unwrap_or(""), &layout.oauth)?;

        Ok(Session {
            guard,
            layout,
            access,
            nix_conf,
            nix_conf_orig,
            token_conf,
            token_conf_orig,
            tokens,
            netrc_path,
            netrc,
            netrc_orig,
            netrc_is_ours,
            hosts,
            hosts_orig,
            oauth,
            oauth_orig,
            keyring_forget: Vec::new(),
            pixi: None,
            notes: Vec::new(),
        })
    }

    fn nix_conf_editable(&self) -> bool {
        !matches!(self.access, NixConfAccess::ReadOnly { .. })
    }

    /// The tokens in the token file.
    pub fn tokens(&self) -> &TokenMap {
        &self.tokens
    }

    pub fn netrc(&self) -> &Netrc {
        &self.netrc
    }

    pub fn netrc_path(&self) -> &Path {
        &self.netrc_path
    }

    /// Keys that nix.conf itself sets in `access-tokens` or `extra-access-tokens`.
    pub fn nix_conf_tokens(&self) -> TokenMap {
        let mut map = TokenMap::default();
        for (_, _, value) in self.token_settings(&self.nix_conf) {
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
            &self.nix_conf,
            &self.layout.nix_conf,
            &self.layout.token_file,
        )
    }

    /// Moves every token nix.conf holds into the token file, keeping for each key the token Nix
    /// uses now, and every other key too, so that nothing is lost. Returns how many keys moved.
    pub fn migrate(&mut self) -> usize {
        let in_conf = self.token_settings(&self.nix_conf);
        if in_conf.is_empty() || !self.nix_conf_editable() {
            return 0;
        }
        let file_settings = self.token_settings(&self.token_conf);
        let include_at = self.include_line();
        // What Nix sees from this nix.conf and the token file, in their order …
        let mut merged = TokenMap::default();
        let apply_file = |m: &mut TokenMap| {
            for (_, n, v) in &file_settings {
                m.apply(n, v);
            }
        };
        let mut applied = false;
        for (i, entry) in self.nix_conf.entries() {
            if include_at == Some(i) {
                apply_file(&mut merged);
                applied = true;
            }
            if let super::conf::Entry::Setting { name, value } = entry {
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
        self.nix_conf.remove_lines(|i| lines.contains(&i));
        self.tokens = merged;
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
                self.notes.push(Note::Warn(format!(
                    "{why}, so nix-tokens left it alone and Nix will not see {} until it is included. Add this line to your configuration and rebuild:\n  home-manager: nix.extraOptions = \"!include {TOKEN_FILE}\";\n  NixOS:        nix.extraOptions = \"!include {}\";",
                    self.layout.token_file.display(),
                    self.layout.token_file.display()
                )));
            }
            _ => self.nix_conf.append_line(&format!("!include {TOKEN_FILE}")),
        }
    }

    /// Sets `key` in the token file. Returns the token it replaces.
    /// A renewable OAuth login for the key is forgotten: a caller that stores a renewable token
    /// sets it again with [`set_oauth_login`](Self::set_oauth_login).
    pub fn set_access_token(&mut self, key: &str, token: Secret<String>) -> Option<Secret<String>> {
        self.forget_oauth(key);
        self.migrate();
        self.ensure_include();
        self.tokens.insert(key, token)
    }

    /// Refuses to edit a netrc curl would misread or reject.
    fn check_netrc(&self) -> Result<()> {
        match self.netrc.problem() {
            Some(problem) => Err(Error::failed(format!(
                "{} {problem}, so curl would misread it and nix-tokens will not edit it; fix that line first",
                self.netrc_path.display()
            ))),
            None => Ok(()),
        }
    }

    /// Sets `host` in the netrc, and points Nix at that netrc when nix-tokens chose it.
    pub fn set_netrc(&mut self, host: &str, login: &str, token: &Secret<String>) -> Result<()> {
        self.check_netrc()?;
        // curl ignores a netrc line longer than its 4 KiB buffer.
        if token.expose().len() > 4000 {
            return Err(Error::usage(format!(
                "the token for {host} is longer than curl reads from a netrc line (4000 characters)"
            )));
        }
        self.migrate();
        self.netrc.set(host, login, token);
        if self.netrc_is_ours {
            let path = self.netrc_path.display().to_string();
            if self.token_conf.last_value("netrc-file").as_deref() != Some(path.as_str()) {
                self.token_conf.set_setting("netrc-file", Some(&path));
                self.warn_hidden_system_netrc();
            }
        }
        self.ensure_include();
        Ok(())
    }

    fn warn_hidden_system_netrc(&mut self) {
        let system = view::file_settings(&[self.layout.system_dir.join("nix.conf")])
            .map(|s| view::netrc_file(&s, &self.layout.system_dir))
            .unwrap_or_else(|_| self.layout.system_dir.join("netrc"));
        if system.exists() && system != self.netrc_path {
            self.notes.push(Note::Warn(format!(
                "Nix will now read {} instead of {} for this user; copy any entries you still need from {} into {}",
                self.netrc_path.display(),
                system.display(),
                system.display(),
                self.netrc_path.display()
            )));
        }
    }

    /// Whether Nix's token file no longer holds the access token `key`'s login was last written
    /// with (a commit that failed or was cut short after the OAuth file).
    pub fn oauth_out_of_step(&self, key: &str) -> bool {
        let Some(expected) = self
            .oauth
            .logins
            .get(key)
            .and_then(|l| l.access_fingerprint.as_ref())
        else {
            return false;
        };
        self.stored_token(key).map(fingerprint).as_ref() != Some(expected)
    }

    /// The token stored for `key`: in the token file, else (for a host) in the netrc.
    fn stored_token(&self, key: &str) -> Option<&Secret<String>> {
        self.tokens.get(key).or_else(|| {
            (!key.contains('/'))
                .then(|| self.netrc.get(host_without_port(key)))
                .flatten()
                .and_then(|e| e.password.as_ref())
        })
    }

    /// The renewable OAuth logins, by token key.
    pub fn oauth_logins(&self) -> &std::collections::BTreeMap<String, OAuthLogin> {
        &self.oauth.logins
    }

    /// Keeps (or, with `None`, forgets) how to renew the token of `key`. The refresh token goes
    /// to the OS keyring at commit when one answers.
    pub fn set_oauth_login(&mut self, key: &str, login: Option<OAuthLogin>) {
        match login {
            Some(login) => {
                self.keyring_forget.retain(|k| k != key);
                self.oauth.logins.insert(key.to_owned(), login);
            }
            None => self.forget_oauth(key),
        }
    }

    fn forget_oauth(&mut self, key: &str) {
        if let Some(login) = self.oauth.logins.remove(key)
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
        let Some(login) = self.oauth.logins.get(key) else {
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
        self.hosts.hosts.insert(host.to_owned(), info);
    }

    /// What is remembered about `host`.
    pub fn host_info(&self, host: &str) -> Option<&HostInfo> {
        self.hosts.hosts.get(host)
    }

    /// pixi's credential file at `path`, read under this session's lock the first time.
    fn pixi_file(&mut self, path: &Path) -> Result<&mut PixiFile> {
        if self.pixi.as_ref().is_none_or(|p| p.path != path) {
            let orig = fsio::read_optional(path)?;
            let credentials = Credentials::parse(orig.as_deref().unwrap_or(""), path)?;
            self.pixi = Some(PixiFile {
                path: path.to_path_buf(),
                credentials,
                orig,
                changed: false,
            });
        }
        Ok(self.pixi.as_mut().expect("loaded above"))
    }

    /// The entry `key` of pixi's credential file at `path`.
    pub fn pixi_entry(&mut self, path: &Path, key: &str) -> Result<Option<serde_json::Value>> {
        Ok(self.pixi_file(path)?.credentials.get(key).cloned())
    }

    /// Sets (or, with `None`, removes) the entry `key` of pixi's credential file at `path`.
    pub fn set_pixi(
        &mut self,
        path: &Path,
        key: &str,
        entry: Option<serde_json::Value>,
    ) -> Result<()> {
        let pixi = self.pixi_file(path)?;
        if pixi.credentials.get(key) != entry.as_ref() {
            pixi.changed = true;
            match entry {
                Some(entry) => pixi.credentials.set(key, entry),
                None => {
                    pixi.credentials.remove(key);
                }
            }
        }
        Ok(())
    }

    /// Removes `key` from the token file only.
    pub fn remove_access_token(&mut self, key: &str) -> Option<Secret<String>> {
        self.tokens.remove(key)
    }

    /// Every key nix-tokens manages: the token file's, nix.conf's own, and the hosts of the netrc
    /// nix-tokens created (a netrc the user named may hold entries nix-tokens never wrote).
    pub fn managed_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = Vec::new();
        let netrc_hosts = self
            .netrc
            .entries()
            .iter()
            .filter(|_| self.netrc_is_ours)
            .filter_map(|e| e.machine.clone());
        let from_conf = self.nix_conf_tokens();
        let token_keys = self
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
        if self.tokens.contains(key) {
            from.push(self.layout.token_file.clone());
        }
        if self.nix_conf_tokens().contains(key) {
            if self.nix_conf_editable() {
                from.push(self.layout.nix_conf.clone());
            } else {
                self.notes.push(Note::Warn(format!(
                    "{} sets a token for {key}, but it cannot be edited; remove it from the configuration that generates that file",
                    self.layout.nix_conf.display()
                )));
            }
        }
        self.migrate();
        self.tokens.remove(key);
        self.forget_oauth(key);
        let host = host_without_port(key);
        if !key.contains('/') && self.netrc.has_host(host) {
            self.check_netrc()?;
            self.netrc.remove(host);
            from.push(self.netrc_path.clone());
        }
        Ok(from)
    }

    /// Writes every file that changed (nothing, when `dry_run`). A failure puts back the files
    /// already written and leaves nix.conf as it was.
    pub fn commit(mut self, dry_run: bool) -> Result<Report> {
        let fingerprints: Vec<(String, Option<String>)> = self
            .oauth
            .logins
            .keys()
            .map(|key| (key.clone(), self.stored_token(key).map(fingerprint)))
            .collect();
        for (key, print) in fingerprints {
            if let Some(login) = self.oauth.logins.get_mut(&key) {
                login.access_fingerprint = print;
            }
        }
        if !dry_run {
            // Refresh tokens go to the OS keyring where one answers; the file then only says so.
            for (key, login) in self.oauth.logins.iter_mut() {
                if let Some(token) = &login.refresh_token
                    && keyring::set(&keyring_account(self.layout.dir(), key), token)
                {
                    login.refresh_token = None;
                    login.in_keyring = true;
                }
            }
        }
        // Facts about a host go with its last token.
        let keys: Vec<String> = self.managed_keys();
        let netrc_hosts: Vec<String> = self
            .netrc
            .entries()
            .iter()
            .filter_map(|e| e.machine.clone())
            .collect();
        self.hosts.hosts.retain(|host, _| {
            keys.iter()
                .any(|k| key_host(k) == host || host_without_port(key_host(k)) == host)
                || netrc_hosts.iter().any(|m| m.eq_ignore_ascii_case(host))
        });
        let value = self.tokens.render();
        let value = (!value.expose().is_empty()).then(|| value.expose().clone());
        let name = self.token_setting_name();
        // With no entry left in the netrc nix-tokens created, Nix goes back to its default netrc.
        let ours = self.netrc_path.display().to_string();
        if self.netrc_is_ours
            && self.netrc.entries().is_empty()
            && self.token_conf.last_value("netrc-file").as_deref() == Some(ours.as_str())
        {
            self.token_conf.set_setting("netrc-file", None);
        }
        self.token_conf
            .set_setting_as(ACCESS_TOKENS, name, value.as_deref());
        if self.token_conf_orig.is_none() && !self.token_conf.is_empty() {
            let body = self.token_conf.render();
            self.token_conf = ConfFile::parse(&format!("{TOKEN_FILE_HEADER}{body}"));
        }
        let (nix_conf_path, nix_conf_mode) = match &self.access {
            NixConfAccess::Writable { real_path, mode } => (real_path.clone(), *mode),
            _ => (self.layout.nix_conf.clone(), 0o644),
        };
        // In this order a crash between two writes never loses a token: tokens reach their new
        // home before nix.conf stops holding them.
        let planned = [
            // First, so that a crash never leaves a new access token whose refresh token is lost.
            Write::new(
                &self.layout.oauth,
                self.oauth.render(),
                &self.oauth_orig,
                0o600,
                false,
            ),
            Write::new(
                &fsio::write_target(&self.layout.token_file)?,
                self.token_conf.render(),
                &self.token_conf_orig,
                0o600,
                false,
            ),
            Write::new(
                &fsio::write_target(&self.netrc_path)?,
                self.netrc.render().to_owned(),
                &self.netrc_orig,
                0o600,
                false,
            ),
            // pixi's credential store holds every other host's secrets too: private, like ours.
            match self.pixi.as_ref().filter(|p| p.changed) {
                Some(p) => Write::new(
                    &fsio::write_target(&p.path)?,
                    p.credentials.render(),
                    &p.orig,
                    0o600,
                    false,
                ),
                None => Write::unchanged(),
            },
            Write::new(
                &self.layout.hosts,
                self.hosts.render(),
                &self.hosts_orig,
                0o600,
                false,
            ),
            Write::new(
                &nix_conf_path,
                self.nix_conf.render(),
                &self.nix_conf_orig,
                nix_conf_mode,
                true,
            ),
        ];
        let writes: Vec<Write> = planned.into_iter().filter(Write::changes).collect();
        let mut report = Report {
            changed: writes.iter().map(|w| w.path.clone()).collect(),
            backup: None,
            notes: std::mem::take(&mut self.notes),
        };
        if let NixConfAccess::ReadOnly { why } = &self.access
            && writes.iter().any(|w| w.is_nix_conf)
        {
            return Err(Error::failed(format!(
                "{why}, so nix-tokens cannot change it"
            )));
        }
        if dry_run {
            return Ok(report);
        }
        tighten(&self.layout.token_file, &mut report.notes)?;
        if let Some(p) = self.pixi.as_ref().filter(|p| p.changed)
            && let Some(dir) = p.path.parent()
            && !dir.as_os_str().is_empty()
            && !dir.exists()
        {
            use std::os::unix::fs::DirBuilderExt;
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| Error::io("create", dir, &e))?;
        }
        for (n, w) in writes.iter().enumerate() {
            if let Err(e) = self.write_one(w, &mut report) {
                let mut failed = Vec::new();
                // The OAuth file is never put back: the provider may already have rotated the
                // pair, and only the new refresh token works. Its access-token fingerprint then
                // no longer matches Nix's file, so the next `refresh` renews at once.
                for done in writes[..n]
                    .iter()
                    .rev()
                    .filter(|w| w.path != self.layout.oauth)
                {
                    let restored = match &done.old {
                        Some(old) => {
                            fsio::write_atomic(&self.guard, &done.path, old.as_bytes(), done.mode)
                        }
                        None => fsio::remove(&self.guard, &done.path),
                    };
                    if let Err(r) = restored {
                        failed.push(r.to_string());
                    }
                }
                if failed.is_empty() {
                    return Err(e);
                }
                return Err(Error::failed(format!(
                    "{e}; putting back the files already written also failed: {}",
                    failed.join("; ")
                )));
            }
        }
        for key in &self.keyring_forget {
            keyring::delete(&self.keyring_account(key));
        }
        Ok(report)
    }

    /// How the token file sets its tokens. `extra-access-tokens` adds them to what Nix already has
    /// and so hides nothing, but never overrides a key set elsewhere; when another file Nix reads
    /// sets one of the same keys, `access-tokens` makes these win (and replaces the rest of that
    /// map, which the caller warns about).
    fn token_setting_name(&self) -> &'static str {
        let Ok(settings) = view::settings_in_order(&self.layout.nix_read_order()) else {
            return ACCESS_TOKENS;
        };
        let ours = |file: &Path| {
            file == self.layout.token_file
                || (file == self.layout.nix_conf && self.nix_conf_editable())
        };
        let others: Vec<view::Setting> = settings.into_iter().filter(|s| !ours(&s.file)).collect();
        let conflict = view::access_tokens(&others)
            .iter()
            .any(|t| t.shadowed_by.is_none() && self.tokens.contains(&t.key));
        if conflict {
            ACCESS_TOKENS
        } else {
            EXTRA_ACCESS_TOKENS
        }
    }

    fn write_one(&self, w: &Write, report: &mut Report) -> Result<()> {
        if w.is_nix_conf
            && let Some(old) = &w.old
        {
            let name = self.layout.nix_conf.file_name().map_or_else(
                || "nix.conf".to_owned(),
                |n| n.to_string_lossy().into_owned(),
            );
            report.backup = Some(fsio::backup(
                &self.guard,
                self.layout.dir(),
                &name,
                old.as_bytes(),
            )?);
        }
        fsio::write_atomic(&self.guard, &w.path, w.new.as_bytes(), w.mode)
    }
}

/// One file a commit may write: its new and old contents and the mode it gets.
struct Write {
    path: PathBuf,
    new: String,
    old: Option<String>,
    mode: u32,
    is_nix_conf: bool,
}

impl Write {
    fn new(path: &Path, new: String, old: &Option<String>, mode: u32, is_nix_conf: bool) -> Self {
        Write {
            path: path.to_path_buf(),
            new,
            old: old.clone(),
            mode,
            is_nix_conf,
        }
    }

    /// A write that does nothing.
    fn unchanged() -> Self {
        Write::new(Path::new(""), String::new(), &None, 0, false)
    }

    fn changes(&self) -> bool {
        self.old.as_deref().unwrap_or("") != self.new
    }
}

/// The keyring account of `key` for the configuration directory `dir`: two configurations never
/// share a secret.
fn keyring_account(dir: &Path, key: &str) -> String {
    format!("{key} in {}", dir.display())
}

/// Makes an existing secret file private (0600), with a warning when it was not.
fn tighten(path: &Path, notes: &mut Vec<Note>) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if let Some(mode) = fsio::mode_of(path)
        && mode & 0o077 != 0
    {
        fs::set_permissions(path, fs::Permissions::from_mode(0o600))
            .map_err(|e| Error::io("make private", path, &e))?;
        notes.push(Note::Warn(format!(
            "{} was readable by others (mode {mode:o}); it is now 0600. Consider replacing the tokens it held",
            path.display()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(dir: &Path) -> Layout {
        let conf_dir = dir.join("nix");
        fs::create_dir_all(&conf_dir).unwrap();
        Layout {
            nix_conf: conf_dir.join("nix.conf"),
            token_file: conf_dir.join(TOKEN_FILE),
            netrc: conf_dir.join("netrc"),
            lock: conf_dir.join(".nix-tokens.lock"),
            hosts: conf_dir.join(".nix-tokens-hosts.json"),
            oauth: conf_dir.join(".nix-tokens-oauth.json"),
            system_dir: dir.join("etc"),
            explicit_config: true,
            store_dir: dir.join("store"),
        }
    }

    #[test]
    fn a_failed_nix_conf_write_puts_the_token_file_back() {
        let dir = tempfile::tempdir().unwrap();
        let layout = layout(dir.path());
        // nix.conf links into a dotfiles directory that disappears before the commit, so the
        // last write of the commit (nix.conf) fails after the token file was written.
        let dotfiles = dir.path().join("dotfiles");
        fs::create_dir_all(&dotfiles).unwrap();
        fs::write(
            dotfiles.join("nix.conf"),
            "access-tokens = a.org=aaaaaaaaaaaa\n",
        )
        .unwrap();
        std::os::unix::fs::symlink(dotfiles.join("nix.conf"), &layout.nix_conf).unwrap();
        fs::write(&layout.token_file, "access-tokens = b.org=bbbbbbbbbbbb\n").unwrap();

        let mut session = Session::open(&layout).unwrap();
        session.set_access_token("c.org", Secret::from("cccccccccccc"));
        fs::rename(&dotfiles, dir.path().join("moved")).unwrap();
        let err = session.commit(false).unwrap_err().to_string();
        assert!(err.contains("dotfiles"), "{err}");

        assert_eq!(
            fs::read_to_string(&layout.token_file).unwrap(),
            "access-tokens = b.org=bbbbbbbbbbbb\n",
            "the token file is back as it was"
        );
        assert_eq!(
            fs::read_to_string(dir.path().join("moved/nix.conf")).unwrap(),
            "access-tokens = a.org=aaaaaaaaaaaa\n"
        );
    }

    #[test]
    fn migration_keeps_what_nix_uses_and_every_other_key() {
        let dir = tempfile::tempdir().unwrap();
        let layout = layout(dir.path());
        fs::write(
            &layout.nix_conf,
            "access-tokens = a=1 b=2\n!include access-tokens.conf\nextra-access-tokens = b=3 c=4\n",
        )
        .unwrap();
        fs::write(&layout.token_file, "access-tokens = b=5 d=6\n").unwrap();
        let mut session = Session::open(&layout).unwrap();
        assert_eq!(session.migrate(), 3);
        let tokens: Vec<(String, String)> = session
            .tokens()
            .iter()
            .map(|(k, t)| (k.to_owned(), t.expose().clone()))
            .collect();
        // Nix reads a=1 b=2, then the token file replaces them with b=5 d=6, then c=4 is added;
        // a=1, hidden by the token file, is kept too.
        let expected = [("b", "5"), ("d", "6"), ("c", "4"), ("a", "1")];
        assert_eq!(tokens, expected.map(|(k, v)| (k.to_owned(), v.to_owned())));
        assert_eq!(session.nix_conf.render(), "!include access-tokens.conf\n");
    }
}
