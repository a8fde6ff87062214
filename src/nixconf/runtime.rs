//! The session's private runtime directory, `$XDG_RUNTIME_DIR/nix-tokens/`, where the keyring
//! store puts the copies Nix reads (an `access-tokens.conf` that nix.conf includes by absolute
//! path, and a netrc). It is used only when it is a tmpfs that the user owns with mode 0700, so
//! that the copies never reach a disk nor another user; anything else is refused with one
//! sentence, and nothing is written.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The file system type of a tmpfs (`TMPFS_MAGIC` of `statfs(2)`).
const TMPFS_MAGIC: u64 = 0x0102_1994;

/// The name of the runtime copy of the access tokens.
pub const ACCESS_TOKENS: &str = "access-tokens.conf";
/// The name of the runtime netrc.
pub const NETRC: &str = "netrc";

/// The checked runtime directory of nix-tokens.
#[derive(Debug, Clone)]
pub struct RuntimeDir {
    pub dir: PathBuf,
}

fn refuse(what: String) -> Error {
    Error::failed(format!(
        "{what}, so the keyring store has no private place to hand tokens to Nix and nothing was written; log in on a session with a per-user runtime directory (systemd-logind), use `nix-tokens exec`, or keep the store in files (--store file)"
    ))
}

/// Whether `path` lies on a tmpfs.
#[cfg(target_os = "linux")]
fn on_tmpfs(path: &Path) -> bool {
    rustix::fs::statfs(path).is_ok_and(|s| s.f_type as u64 == TMPFS_MAGIC)
}

#[cfg(not(target_os = "linux"))]
fn on_tmpfs(_path: &Path) -> bool {
    false
}

/// Checks that `dir` is a directory of this user with mode 0700 on a tmpfs.
fn check_private(dir: &Path, name: &str) -> Result<()> {
    let meta = fs::symlink_metadata(dir)
        .map_err(|_| refuse(format!("{name} ({}) does not exist", dir.display())))?;
    if !meta.is_dir() {
        return Err(refuse(format!(
            "{name} ({}) is not a directory",
            dir.display()
        )));
    }
    if meta.uid() != rustix::process::geteuid().as_raw() {
        return Err(refuse(format!(
            "{name} ({}) belongs to another user",
            dir.display()
        )));
    }
    if meta.mode() & 0o777 != 0o700 {
        return Err(refuse(format!(
            "{name} ({}) has mode {:o}, not 0700",
            dir.display(),
            meta.mode() & 0o777
        )));
    }
    if !on_tmpfs(dir) {
        return Err(refuse(format!("{name} ({}) is not a tmpfs", dir.display())));
    }
    Ok(())
}

impl RuntimeDir {
    /// `$XDG_RUNTIME_DIR/nix-tokens`, created (0700) when missing, after both are checked.
    pub fn find() -> Result<Self> {
        let base = std::env::var_os("XDG_RUNTIME_DIR")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .ok_or_else(|| refuse("XDG_RUNTIME_DIR is not set".to_owned()))?;
        if !base.is_absolute() {
            return Err(refuse(format!(
                "XDG_RUNTIME_DIR ({}) is not an absolute path",
                base.display()
            )));
        }
        check_private(&base, "XDG_RUNTIME_DIR")?;
        let dir = base.join("nix-tokens");
        if fs::symlink_metadata(&dir).is_err() {
            fs::DirBuilder::new()
                .mode(0o700)
                .create(&dir)
                .map_err(|e| Error::io("create", &dir, &e))?;
        }
        check_private(&dir, "the runtime directory")?;
        Ok(RuntimeDir { dir })
    }

    pub fn access_tokens(&self) -> PathBuf {
        self.dir.join(ACCESS_TOKENS)
    }

    pub fn netrc(&self) -> PathBuf {
        self.dir.join(NETRC)
    }

    /// Writes `name` atomically with mode 0600 (a temporary file in the directory, synced, then
    /// renamed over it).
    pub fn write(&self, name: &str, contents: &[u8]) -> Result<()> {
        let path = self.dir.join(name);
        let mut tmp = tempfile::Builder::new()
            .prefix(".nix-tokens-tmp-")
            .permissions(fs::Permissions::from_mode(0o600))
            .tempfile_in(&self.dir)
            .map_err(|e| Error::io("create a temporary file in", &self.dir, &e))?;
        tmp.write_all(contents)
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(|e| Error::io("write", &path, &e))?;
        tmp.persist(&path)
            .map_err(|e| Error::io("replace", &path, &e.error))?;
        Ok(())
    }

    /// Removes `name` if it is there.
    pub fn remove(&self, name: &str) -> Result<()> {
        let path = self.dir.join(name);
        match fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(Error::io("remove", &path, &e))
            }
            _ => Ok(()),
        }
    }
}
