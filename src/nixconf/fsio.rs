//! Safe file I/O: the lock, atomic writes, mode tightening and nix.conf backups.
//!
//! Every write goes to a temporary file created 0600 in the target's directory, is fsynced,
//! renamed over the target, and the directory fsynced, so a crash leaves the old file or the new
//! one, never a mix. A write needs a [`LockGuard`], so nothing can write without holding the lock.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};

/// Proof that the caller holds the exclusive lock on a configuration directory. Dropping it
/// releases the lock.
#[derive(Debug)]
pub struct LockGuard {
    _file: File,
}

/// Takes the exclusive lock at `path`, waiting for any other nix-tokens run that holds it.
/// The directory is created if it does not exist yet.
pub fn lock(path: &Path) -> Result<LockGuard> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| Error::io("create the directory", dir, &e))?;
    }
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(|e| Error::io("open the lock file", path, &e))?;
    file.lock().map_err(|e| Error::io("lock", path, &e))?;
    Ok(LockGuard { _file: file })
}

/// Reads a file that may not exist: `Ok(None)` when it is missing. A file that is not UTF-8, is a
/// directory, or is larger than `MAX_SIZE` is an error naming it.
pub fn read_optional(path: &Path) -> Result<Option<String>> {
    const MAX_SIZE: u64 = 4 * 1024 * 1024;
    match fs::metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("read", path, &e)),
        Ok(m) if m.is_dir() => {
            return Err(Error::failed(format!(
                "{} is a directory, not a file; move it out of the way and try again",
                path.display()
            )));
        }
        Ok(m) if m.len() > MAX_SIZE => {
            return Err(Error::failed(format!(
                "{} is larger than 4 MiB, which no Nix configuration file should be; check that it is the right file",
                path.display()
            )));
        }
        Ok(_) => {}
    }
    let bytes = fs::read(path).map_err(|e| Error::io("read", path, &e))?;
    String::from_utf8(bytes).map(Some).map_err(|_| {
        Error::failed(format!(
            "{} is not valid UTF-8, so nix-tokens will not edit it; fix its encoding and try again",
            path.display()
        ))
    })
}

/// The file a write to `path` must replace: the target when `path` is a symbolic link (so the link
/// stays a link), else `path` itself. A link to nothing is an error naming it.
pub fn write_target(path: &Path) -> Result<PathBuf> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => fs::canonicalize(path).map_err(|_| {
            Error::failed(format!(
                "{} is a symbolic link to a file that does not exist; remove the link or create its target, then try again",
                path.display()
            ))
        }),
        _ => Ok(path.to_path_buf()),
    }
}

/// The permission bits of an existing file, or `None` when it does not exist.
pub fn mode_of(path: &Path) -> Option<u32> {
    fs::metadata(path)
        .ok()
        .map(|m| m.permissions().mode() & 0o7777)
}

/// Replaces `path` with `contents` atomically, leaving it with permission bits `mode`.
pub fn write_atomic(_lock: &LockGuard, path: &Path, contents: &[u8], mode: u32) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("/"));
    let mut tmp = tempfile::Builder::new()
        .prefix(".nix-tokens-")
        .suffix(".tmp")
        .permissions(fs::Permissions::from_mode(0o600))
        .tempfile_in(dir)
        .map_err(|e| Error::io("create a temporary file in", dir, &e))?;
    tmp.write_all(contents)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| Error::io("write", path, &e))?;
    if mode != 0o600 {
        fs::set_permissions(tmp.path(), fs::Permissions::from_mode(mode))
            .map_err(|e| Error::io("set the permissions of", path, &e))?;
    }
    tmp.persist(path)
        .map_err(|e| Error::io("replace", path, &e.error))?;
    sync_dir(dir)
}

/// Removes temporary files a killed nix-tokens run left in `dir`. Only a run holding the lock
/// writes them, so while the caller holds it every one found is stale, and may hold a token.
pub fn remove_stale_temp_files(_lock: &LockGuard, dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(".nix-tokens-") && name.ends_with(".tmp") {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Removes `path` under the lock (a missing file is fine).
pub fn remove(_lock: &LockGuard, path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(Error::io("remove", path, &e)),
        _ => sync_dir(path.parent().unwrap_or(Path::new("/"))),
    }
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io("sync the directory", dir, &e))
}

/// How many nix.conf backups are kept; older ones are removed.
pub const BACKUPS_KEPT: usize = 5;

/// Copies `contents` (nix.conf before a change) to `NAME.backup-YYYYMMDDTHHMMSS.NNNNNNNNNZ` in
/// `dir`, created 0600 (a nix.conf may hold tokens), and keeps only the newest [`BACKUPS_KEPT`].
pub fn backup(lock: &LockGuard, dir: &Path, name: &str, contents: &[u8]) -> Result<PathBuf> {
    let stamp = crate::time::utc_stamp(SystemTime::now());
    let prefix = format!("{name}.backup-");
    let mut path = dir.join(format!("{prefix}{stamp}"));
    let mut n = 1;
    let mut file = loop {
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(f) => break f,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                path = dir.join(format!("{prefix}{stamp}-{n}"));
                n += 1;
            }
            Err(e) => return Err(Error::io("create the backup", &path, &e)),
        }
    };
    if let Err(e) = file.write_all(contents).and_then(|()| file.sync_all()) {
        // A truncated backup is worse than none: it would pass for a copy of nix.conf.
        drop(file);
        let _ = fs::remove_file(&path);
        return Err(Error::io("write the backup", &path, &e));
    }
    prune_backups(lock, dir, &prefix)?;
    Ok(path)
}

fn prune_backups(_lock: &LockGuard, dir: &Path, prefix: &str) -> Result<()> {
    let mut backups: Vec<(SystemTime, PathBuf)> = fs::read_dir(dir)
        .map_err(|e| Error::io("list", dir, &e))?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
        .map(|e| {
            let modified = e
                .metadata()
                .and_then(|m| m.modified())
                .unwrap_or(UNIX_EPOCH);
            (modified, e.path())
        })
        .collect();
    backups.sort();
    let excess = backups.len().saturating_sub(BACKUPS_KEPT);
    for (_, old) in backups.into_iter().take(excess) {
        fs::remove_file(&old).map_err(|e| Error::io("remove the old backup", &old, &e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backups_never_collide_and_are_pruned() {
        let dir = tempfile::tempdir().unwrap();
        let guard = lock(&dir.path().join(".lock")).unwrap();
        let mut made = Vec::new();
        for i in 0..8 {
            made.push(backup(&guard, dir.path(), "nix.conf", format!("v{i}").as_bytes()).unwrap());
        }
        let left: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().contains("nix.conf.backup-"))
            .collect();
        assert_eq!(left.len(), BACKUPS_KEPT);
        for p in &left {
            assert_eq!(mode_of(p), Some(0o600));
        }
        assert!(left.contains(made.last().unwrap()));
    }

    #[test]
    fn atomic_write_sets_the_mode() {
        let dir = tempfile::tempdir().unwrap();
        let guard = lock(&dir.path().join(".lock")).unwrap();
        let target = dir.path().join("f");
        write_atomic(&guard, &target, b"one", 0o644).unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"one");
        assert_eq!(mode_of(&target), Some(0o644));
        write_atomic(&guard, &target, b"two", 0o600).unwrap();
        assert_eq!(mode_of(&target), Some(0o600));
        let leftovers = fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 2, "only the lock and the target remain");
    }
}
