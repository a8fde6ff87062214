//! One locked read-modify-write of the files beside nix.conf.
//!
//! [`Session::open`] takes the lock and reads every file as a [`Staged`] document: nix.conf, the
//! token file, the netrc Nix reads, the OAuth logins and the host facts (pixi's credential store
//! when a command first touches it). The editing methods change them in memory —
//! [`tokens`](self::tokens) for tokens, netrc and nix.conf, [`logins`](self::logins) for OAuth
//! logins, host facts and pixi — and [`Session::commit`] hands the changed documents to
//! [`document::commit`], which writes them in its loss-free order and puts them back on failure.

mod access;
mod caches;
mod logins;
mod runtime;
#[cfg(test)]
mod tests;
mod tokens;

use std::path::{Path, PathBuf};

pub use access::{NixConfAccess, nix_conf_access};
pub use caches::CacheUse;

use super::backup;
use super::conf::ConfFile;
use super::document::{self, BackupTo, Role, Staged, Write};
use super::fsio::{self, LockGuard};
use super::hosts::Hosts;
use super::netrc::Netrc;
use super::oauth::OAuthLogins;
use super::paths::Layout;
use super::pixi::Credentials;
use super::token_file::TokenFile;
use super::tokens::{ACCESS_TOKENS, EXTRA_ACCESS_TOKENS};
use super::trust;
use super::view;
use crate::error::{Error, Result};
use crate::keyring;
use crate::secret::{Secret, fingerprint};

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
    nix_conf: Staged<ConfFile>,
    token_file: Staged<TokenFile>,
    netrc: Staged<Netrc>,
    /// Whether nix-tokens chose the netrc (and so must point `netrc-file` at it).
    netrc_is_ours: bool,
    hosts: Staged<Hosts>,
    oauth: Staged<OAuthLogins>,
    /// Keys whose refresh token the keyring should forget once the commit is written.
    keyring_forget: Vec<String>,
    /// Tokens `remove` took away, to scrub from nix.conf's backups after the commit.
    removed: Vec<Secret<String>>,
    /// pixi's credential store once the session reads it, and whether an entry changed.
    pixi: Option<(Staged<Credentials>, bool)>,
    /// Keys whose tokens the OS keyring holds (the keyring store): their hosts' facts stay.
    keyring_keys: Vec<String>,
    /// The removed tokens leave every backup, this commit's too (their copy is in the keyring).
    scrub_every_backup: bool,
    pub notes: Vec<Note>,
}

impl<'a> Session<'a> {
    /// Takes the lock and reads every file the session may change.
    pub fn open(layout: &'a Layout) -> Result<Self> {
        let guard = fsio::lock(&layout.lock)?;
        let access = access::nix_conf_access(layout)?;
        let mut nix_conf = Staged::read(&layout.nix_conf, 0o644)?;
        if let NixConfAccess::Writable { real_path, mode } = &access {
            nix_conf.mode = *mode;
            nix_conf.write_path = Some(real_path.clone());
        }
        let token_file = Staged::read(&layout.token_file, 0o600)?;
        // The netrc Nix reads for this user: one nix.conf itself names, else ours. The last
        // `netrc-file` wins; the token file's own line is nix-tokens' to manage.
        let settings = view::file_settings(std::slice::from_ref(&layout.nix_conf))?;
        let (netrc_path, netrc_is_ours) =
            match settings.iter().rev().find(|s| s.name == "netrc-file") {
                Some(s) => (PathBuf::from(&s.value), s.file == layout.token_file),
                None => (layout.netrc.clone(), true),
            };
        let mut written = vec![
            layout.nix_conf.clone(),
            layout.token_file.clone(),
            netrc_path.clone(),
            layout.hosts.clone(),
            layout.oauth.clone(),
        ];
        if let NixConfAccess::Writable { real_path, .. } = &access {
            written.push(real_path.clone());
        }
        remove_stale_temp_files(&guard, layout, &written);
        Ok(Session {
            netrc: Staged::read(&netrc_path, 0o600)?,
            hosts: Staged::from_text(&layout.hosts, 0o600, trust::read_fresh(&layout.hosts)?)?,
            oauth: Staged::from_text(&layout.oauth, 0o600, trust::read_fresh(&layout.oauth)?)?,
            guard,
            layout,
            access,
            nix_conf,
            token_file,
            netrc_is_ours,
            keyring_forget: Vec::new(),
            removed: Vec::new(),
            pixi: None,
            keyring_keys: super::vault::read_state(layout)?.keys,
            scrub_every_backup: false,
            notes: Vec::new(),
        })
    }

    fn nix_conf_editable(&self) -> bool {
        !matches!(self.access, NixConfAccess::ReadOnly { .. })
    }

    /// Writes every file that changed (nothing, when `dry_run`). A failure puts back the files
    /// already written and leaves nix.conf as it was.
    pub fn commit(mut self, dry_run: bool) -> Result<Report> {
        self.settle_logins(dry_run);
        self.settle_tokens();
        let writes = document::plan(self.writes()?);
        let mut report = Report {
            changed: writes.iter().map(|w| w.path.clone()).collect(),
            backup: None,
            notes: std::mem::take(&mut self.notes),
        };
        if let NixConfAccess::ReadOnly { why } = &self.access
            && writes.iter().any(|w| w.role == Role::NixConf)
        {
            return Err(Error::failed(format!(
                "{why}, so nix-tokens cannot change it"
            )));
        }
        self.refuse_store_files(&writes)?;
        if dry_run {
            return Ok(report);
        }
        if access::store_managed(self.layout, &self.layout.token_file).is_none() {
            tighten(&self.layout.token_file, &mut report.notes)?;
        }
        if let Some((pixi, true)) = &self.pixi {
            create_private_dir(&pixi.path)?;
        }
        let name = self.layout.nix_conf.file_name().map_or_else(
            || "nix.conf".to_owned(),
            |n| n.to_string_lossy().into_owned(),
        );
        let backup = BackupTo {
            dir: self.layout.dir(),
            name: &name,
        };
        report.backup = document::commit(&self.guard, &writes, &backup)?;
        self.scrub_backups(&name, &mut report);
        for key in &self.keyring_forget {
            keyring::delete(&logins::keyring_account(self.layout.dir(), key));
        }
        Ok(report)
    }

    /// Refuses a commit that would write a file in the Nix store or through a link into it (the
    /// token file, a netrc, a state file): like nix.conf there, it belongs to the module that
    /// made it.
    fn refuse_store_files(&self, writes: &[Write]) -> Result<()> {
        let mut named = vec![
            (Role::OAuthLogins, &self.oauth.path),
            (Role::TokenFile, &self.token_file.path),
            (Role::Netrc, &self.netrc.path),
            (Role::Hosts, &self.hosts.path),
        ];
        if let Some((pixi, _)) = &self.pixi {
            named.push((Role::Pixi, &pixi.path));
        }
        for (role, path) in named {
            if writes.iter().any(|w| w.role == role)
                && let Some(why) = access::store_managed(self.layout, path)
            {
                return Err(Error::failed(why));
            }
        }
        Ok(())
    }

    /// After a commit: the tokens `remove` took away that no file holds any more leave the
    /// backups of nix.conf too, all but the one this commit made (the copy to undo it with), which
    /// the user is told about.
    fn scrub_backups(&self, name: &str, report: &mut Report) {
        let mut held: Vec<&Secret<String>> =
            self.token_file.doc.tokens.iter().map(|(_, t)| t).collect();
        let in_conf = self.nix_conf_tokens();
        held.extend(in_conf.iter().map(|(_, t)| t));
        held.extend(
            self.netrc
                .doc
                .entries()
                .iter()
                .filter_map(|e| e.password.as_ref()),
        );
        let gone: Vec<&str> = self
            .removed
            .iter()
            .filter(|t| !held.contains(t))
            .map(|t| t.expose().as_str())
            .collect();
        let dir = self.layout.dir();
        let keep = report
            .backup
            .as_deref()
            .filter(|_| !self.scrub_every_backup);
        match backup::scrub(&self.guard, dir, name, &gone, keep) {
            Ok(holding) => report.notes.extend(holding.iter().map(|p| {
                Note::Info(format!(
                    "{} (nix.conf as it was before this change) still holds the removed token; delete it once you no longer need it",
                    p.display()
                ))
            })),
            Err(e) => report.notes.push(Note::Warn(format!(
                "the removed token may still be in a backup of nix.conf in {}: {e}",
                dir.display()
            ))),
        }
    }

    /// Every document the session holds, as writes (unchanged ones included).
    fn writes(&self) -> Result<Vec<Write>> {
        let mut writes = vec![
            self.oauth.write(Role::OAuthLogins)?,
            self.token_file.write(Role::TokenFile)?,
            self.netrc.write(Role::Netrc)?,
            self.hosts.write(Role::Hosts)?,
            self.nix_conf.write(Role::NixConf)?,
        ];
        if let Some((pixi, true)) = &self.pixi {
            writes.push(pixi.write(Role::Pixi)?);
        }
        Ok(writes)
    }

    /// Before a commit: the access-token fingerprints of the OAuth logins, and their refresh
    /// tokens into the OS keyring where one answers (the file then only says so).
    fn settle_logins(&mut self, dry_run: bool) {
        let prints: Vec<(String, Option<String>)> = self
            .oauth
            .doc
            .logins
            .keys()
            .map(|key| (key.clone(), self.stored_token(key).map(fingerprint)))
            .collect();
        for (key, print) in prints {
            if let Some(login) = self.oauth.doc.logins.get_mut(&key) {
                login.access_fingerprint = print;
            }
        }
        if dry_run {
            return;
        }
        for (key, login) in self.oauth.doc.logins.iter_mut() {
            if let Some(token) = &login.refresh_token
                && keyring::set(&logins::keyring_account(self.layout.dir(), key), token)
            {
                login.refresh_token = None;
                login.in_keyring = true;
            }
        }
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
            .any(|t| t.shadowed_by.is_none() && self.token_file.doc.tokens.contains(&t.key));
        if conflict {
            ACCESS_TOKENS
        } else {
            EXTRA_ACCESS_TOKENS
        }
    }
}

/// Removes what killed runs left in the directory of every file in `files` (or of the file a link
/// there points to): wherever a write goes, its temporary file may be. The Nix store, where
/// nix-tokens never writes, is not even listed.
fn remove_stale_temp_files(guard: &LockGuard, layout: &Layout, files: &[PathBuf]) {
    let store = std::fs::canonicalize(&layout.store_dir).unwrap_or(layout.store_dir.clone());
    let mut dirs: Vec<PathBuf> = Vec::new();
    for file in files {
        let target = fsio::write_target(file).unwrap_or_else(|_| file.clone());
        for path in [file, &target] {
            if let Some(dir) = path.parent()
                && !dir.starts_with(&store)
                && !dirs.iter().any(|d| d == dir)
            {
                dirs.push(dir.to_path_buf());
            }
        }
    }
    for dir in dirs {
        fsio::remove_stale_temp_files(guard, &dir);
    }
}

/// Creates the directory of a file that will hold secrets, private (0700), when it is missing.
fn create_private_dir(file: &Path) -> Result<()> {
    match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => fsio::create_private_dirs(dir),
        _ => Ok(()),
    }
}

/// Makes an existing secret file private (0600), with a warning when it was not.
fn tighten(path: &Path, notes: &mut Vec<Note>) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if let Some(mode) = fsio::mode_of(path)
        && mode & 0o077 != 0
    {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| Error::io("make private", path, &e))?;
        notes.push(Note::Warn(format!(
            "{} was readable by others (mode {mode:o}); it is now 0600. Consider replacing the tokens it held",
            path.display()
        )));
    }
    Ok(())
}
