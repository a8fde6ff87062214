//! Files as documents, and the one transaction that writes them.
//!
//! Every file nix-tokens writes (nix.conf, the token file, netrc, the OAuth logins, the host facts,
//! pixi's credentials, and the record of the git settings `git-credential --install` added, which
//! is written on its own) is a [`Document`]: it parses from and renders to
//! text. A [`Staged`] document remembers where it lives, the text it was read with and the mode a
//! write gives it. [`commit`] writes the changed ones in the order of [`Role`] — the one place
//! that order and its rollback are written down.

use std::path::{Path, PathBuf};

use super::backup;
use super::fsio::{self, LockGuard};
use crate::error::{Error, Result};

/// A file's contents as nix-tokens edits them.
pub trait Document: Sized {
    /// Reads the file's text; `path` names the file in errors.
    fn parse(text: &str, path: &Path) -> Result<Self>;
    /// The text to write.
    fn render(&self) -> String;
}

/// A document read under the lock, with what a commit needs to write it back.
#[derive(Debug)]
pub struct Staged<T> {
    pub doc: T,
    /// The file as named (a symbolic link stays one; [`Staged::write`] follows it).
    pub path: PathBuf,
    /// The text it held when read; `None` when it did not exist.
    pub orig: Option<String>,
    /// The permission bits a write gives it.
    pub mode: u32,
    /// The file a write replaces, when it was settled on reading (else `path`, or the target of
    /// the link `path` is when the commit writes).
    pub write_path: Option<PathBuf>,
}

impl<T: Document> Staged<T> {
    /// Reads `path` from the file itself (a missing file is an empty document): under the lock,
    /// the verification before a write (see [`super::seen`]).
    pub fn read(path: &Path, mode: u32) -> Result<Self> {
        Self::from_text(path, mode, super::seen::read_text_fresh(path)?)
    }

    /// The document `path` holds, read already as `orig` (`None` when it does not exist).
    pub fn from_text(path: &Path, mode: u32, orig: Option<String>) -> Result<Self> {
        Ok(Staged {
            doc: T::parse(orig.as_deref().unwrap_or(""), path)?,
            path: path.to_path_buf(),
            orig,
            mode,
            write_path: None,
        })
    }

    /// The write that puts this document in its file as `role`, through a symbolic link to its
    /// target.
    pub fn write(&self, role: Role) -> Result<Write> {
        Ok(Write {
            path: match &self.write_path {
                Some(path) => path.clone(),
                None => fsio::write_target(&self.path)?,
            },
            named: self.path.clone(),
            new: self.doc.render(),
            old: self.orig.clone(),
            mode: self.mode,
            role,
        })
    }
}

/// What a file is to a commit. The variants are in the order a commit writes them, so that a crash
/// between two writes never loses a token: tokens reach their new home before nix.conf stops
/// holding them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// The renewable OAuth logins: first, so that a crash never leaves a new access token whose
    /// refresh token is lost. Never put back after a failure: the provider may already have
    /// rotated the pair, and only the new refresh token works (its access-token fingerprint then
    /// no longer matches Nix's file, so the next `refresh` renews at once).
    OAuthLogins,
    /// Nix's token file.
    TokenFile,
    /// The netrc Nix reads.
    Netrc,
    /// pixi's credential store, which holds every other host's secrets too.
    Pixi,
    /// What nix-tokens remembers about each host.
    Hosts,
    /// nix.conf: last, and backed up before it changes.
    NixConf,
}

/// One file a commit may write: its new and old contents and the mode it gets.
#[derive(Debug)]
pub struct Write {
    pub path: PathBuf,
    /// The file as it was read (a link, when `path` is where it leads).
    pub named: PathBuf,
    pub new: String,
    pub old: Option<String>,
    pub mode: u32,
    pub role: Role,
}

impl Write {
    /// Whether writing changes the file. An empty document that did not exist stays absent.
    pub fn changes(&self) -> bool {
        self.old.as_deref().unwrap_or("") != self.new
    }
}

/// The writes of `writes` that change their file, in the order of their [`Role`].
pub fn plan(mut writes: Vec<Write>) -> Vec<Write> {
    writes.retain(Write::changes);
    writes.sort_by_key(|w| w.role);
    writes
}

/// Where nix.conf is backed up before it changes: the directory, and the name the backups start
/// with.
pub struct BackupTo<'a> {
    pub dir: &'a Path,
    pub name: &'a str,
}

/// Writes `writes` (from [`plan`]) atomically, one after the other, backing nix.conf up first.
/// Returns the backup, if one was made. When a write fails, the files already written are put
/// back (all but the OAuth logins, see [`Role::OAuthLogins`]) and the error says what failed.
pub fn commit(guard: &LockGuard, writes: &[Write], backup: &BackupTo) -> Result<Option<PathBuf>> {
    let mut made = None;
    for (n, w) in writes.iter().enumerate() {
        if let Err(e) = write_one(guard, w, backup, &mut made) {
            let failed: Vec<String> = writes[..n]
                .iter()
                .rev()
                .filter(|w| w.role != Role::OAuthLogins)
                .filter_map(|done| restore(guard, done).err())
                .map(|r| r.to_string())
                .collect();
            if failed.is_empty() {
                return Err(e);
            }
            return Err(Error::failed(format!(
                "{e}; putting back the files already written also failed: {}",
                failed.join("; ")
            )));
        }
    }
    Ok(made)
}

fn write_one(
    guard: &LockGuard,
    w: &Write,
    backup: &BackupTo,
    made: &mut Option<PathBuf>,
) -> Result<()> {
    if w.role == Role::NixConf
        && let Some(old) = &w.old
    {
        *made = Some(backup::backup(
            guard,
            backup.dir,
            backup.name,
            old.as_bytes(),
        )?);
    }
    fsio::write_atomic(guard, &w.path, w.new.as_bytes(), w.mode)?;
    super::seen::wrote(&[&w.path, &w.named], w.new.as_bytes());
    Ok(())
}

/// Puts a written file back as it was (removes it when it did not exist).
fn restore(guard: &LockGuard, done: &Write) -> Result<()> {
    match &done.old {
        Some(old) => fsio::write_atomic(guard, &done.path, old.as_bytes(), done.mode),
        None => fsio::remove(guard, &done.path),
    }
}
