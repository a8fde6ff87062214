//! Whether a state file nix-tokens keeps beside nix.conf may be believed. The host facts name the
//! URL a host's token is sent to, the OAuth logins name where refresh tokens go, and the record of
//! git settings names what `--uninstall` removes, and the user's provider files say what each host
//! runs: whoever can change them can send the user's tokens elsewhere. So such a file is read only when it (and, for a symbolic link, the link too)
//! belongs to the user running nix-tokens or to root, and no other user may write it.
//!
//! The file is opened once and judged by what was opened, so it cannot be swapped between the
//! check and the read. A directory others can write is no way around this: whatever another user
//! puts there is theirs, and is refused.

use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::fsio::{self, Opened};
use crate::error::{Error, Result};

/// Reads the state file `path` (`None` when there is none), refusing it with one sentence when
/// another user owns it or other users may write it.
pub fn read(path: &Path) -> Result<Option<String>> {
    text(path, read_as(path, None, false)?)
}

/// The same, from the file itself (under the lock, before a write).
pub fn read_fresh(path: &Path) -> Result<Option<String>> {
    text(path, read_as(path, None, true)?)
}

fn text(path: &Path, bytes: Option<Vec<u8>>) -> Result<Option<String>> {
    let Some(bytes) = bytes else {
        return Ok(None);
    };
    String::from_utf8(bytes).map(Some).map_err(|_| {
        Error::failed(format!(
            "{} is not valid UTF-8; remove it and log in again",
            path.display()
        ))
    })
}

/// The bytes of `path` (`None` when there is none), a file of the user running nix-tokens, or
/// with `Some(uid)` of that user (whose files root's `import` reads, with their permissions):
/// refused with one sentence when it, or the link that names it, belongs to anyone but that user
/// or root, when other users may write it, when that user may not read it, or when it is not a
/// regular file of at most 4 MiB.
pub fn read_of(path: &Path, user: Option<u32>) -> Result<Option<Vec<u8>>> {
    read_as(path, user, false)
}

/// [`read_of`]; the current user's file comes from what this run read of it (see
/// [`super::seen`]) unless `fresh`.
fn read_as(path: &Path, user: Option<u32>, fresh: bool) -> Result<Option<Vec<u8>>> {
    let owner = user.unwrap_or_else(|| rustix::process::geteuid().as_raw());
    let link = match fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("read", path, &e)),
        Ok(m) => m,
    };
    if link.file_type().is_symlink() {
        check_owner(path, link.uid(), owner, user.is_none())?;
    }
    // Read already in this run, and unchanged since (owner and mode included): not again.
    if user.is_none()
        && !fresh
        && let Some(bytes) = super::seen::kept_checked(path)
    {
        return Ok(Some(bytes));
    }
    let (file, meta) = match fsio::open_regular(path)? {
        // A link to nothing: there is no state yet (a write says what to do about the link).
        Opened::Missing => return Ok(None),
        Opened::Unreadable(e) if user.is_some() && e.kind() == io::ErrorKind::PermissionDenied => {
            return Err(Error::failed(format!(
                "{} cannot be read by its user (uid {owner}): it is, or links to, a file they may not read, so nix-tokens will not read it for them; put a file of their own there",
                path.display()
            )));
        }
        Opened::Unreadable(e) => return Err(Error::io("read", path, &e)),
        Opened::Directory => {
            return Err(Error::failed(format!(
                "{} is not a regular file; move it out of the way and try again",
                path.display()
            )));
        }
        Opened::File(file, meta) => (file, meta),
    };
    check_owner(path, meta.uid(), owner, user.is_none())?;
    let mode = meta.mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(Error::failed(format!(
            "{} is a file other users can write (mode {mode:o}), so nix-tokens will not trust what it says; check what it holds, then run `chmod 600 {}`",
            path.display(),
            path.display()
        )));
    }
    let bytes = fsio::read_limited(file, path, fsio::MAX_SIZE)?;
    if user.is_none() {
        super::seen::keep_checked(path, &meta, &bytes);
    }
    Ok(Some(bytes))
}

/// Refuses `path` when `uid`, its owner, is neither `owner` (`mine`: the user running nix-tokens)
/// nor root.
fn check_owner(path: &Path, uid: u32, owner: u32, mine: bool) -> Result<()> {
    if uid == owner || uid == 0 {
        return Ok(());
    }
    let fix = if mine {
        "remove it (or, if you made it, `chown` it to yourself)".to_owned()
    } else {
        format!("remove it (or, if its user made it, `chown` it to uid {owner})")
    };
    Err(Error::failed(format!(
        "{} belongs to another user (uid {uid}), so nix-tokens will not trust what it says; {fix} and try again",
        path.display()
    )))
}

/// Refuses the configuration directory `dir` (while it does not exist yet, the directory it will
/// be made in) when users other than its owner may write it and no sticky bit keeps them from
/// replacing what is in it: whatever nix-tokens then read or wrote there, they could swap.
pub fn check_dir(dir: &Path) -> Result<()> {
    let Some((at, meta)) = dir
        .ancestors()
        .find_map(|d| Some((d, fs::metadata(d).ok()?)))
    else {
        return Ok(());
    };
    let mode = meta.mode() & 0o7777;
    if !meta.is_dir() || mode & 0o1000 != 0 || mode & 0o022 == 0 {
        return Ok(());
    }
    let who = if mode & 0o002 != 0 {
        "every user".to_owned()
    } else {
        format!("the members of its group (gid {})", meta.gid())
    };
    Err(Error::failed(format!(
        "{} is a directory {who} can write (mode {mode:o}, no sticky bit), so others could replace what nix-tokens reads and writes there; run `chmod go-w {}` and try again",
        at.display(),
        at.display()
    )))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn reads_own_private_files_and_refuses_writable_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        assert_eq!(read(&path).unwrap(), None);
        fs::write(&path, "{}").unwrap();
        for mode in [0o600, 0o644, 0o400] {
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
            assert_eq!(read(&path).unwrap().as_deref(), Some("{}"));
        }
        for mode in [0o620, 0o602, 0o666] {
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
            let err = read(&path).unwrap_err().to_string();
            assert!(err.contains("other users can write"), "{err}");
            assert!(err.contains("chmod 600"), "{err}");
        }
        let dangling = dir.path().join("link.json");
        std::os::unix::fs::symlink(dir.path().join("none"), &dangling).unwrap();
        assert_eq!(read(&dangling).unwrap(), None);
        assert!(read(dir.path()).is_err());
    }
}
