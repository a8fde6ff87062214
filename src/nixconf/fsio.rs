//! Safe file I/O: the lock, atomic writes, private directories and the cleanup of what killed
//! runs left.
//!
//! Every write goes to a temporary file created 0600 in the target's directory, is fsynced,
//! renamed over the target, and the directory fsynced, so a crash leaves the old file or the new
//! one, never a mix. A write needs a [`LockGuard`], so nothing can write without holding the lock.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rustix::fs::OFlags;
use rustix::io::Errno;

use crate::error::{Error, Result};

/// Proof that the caller holds the exclusive lock on a configuration directory. Dropping it
/// releases the lock.
#[derive(Debug)]
pub struct LockGuard {
    _file: File,
}

/// Takes the exclusive lock at `path`, waiting for any other nix-tokens run that holds it.
/// The directory is created (private) if it does not exist yet. The lock is opened without
/// following a symbolic link, so a link planted there can never make nix-tokens create or change
/// the file it points to.
pub fn lock(path: &Path) -> Result<LockGuard> {
    if let Some(dir) = path.parent() {
        create_private_dirs(dir)?;
    }
    let refused = || {
        Error::failed(format!(
            "{} is a symbolic link or not a plain file, so nix-tokens will not use it as its lock; remove it and try again",
            path.display()
        ))
    };
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags((OFlags::NOFOLLOW | OFlags::NONBLOCK).bits() as i32)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(code) if code == Errno::LOOP.raw_os_error() => refused(),
            _ => Error::io("open the lock file", path, &e),
        })?;
    let is_file = file.metadata().is_ok_and(|m| m.is_file());
    if !is_file {
        return Err(refused());
    }
    file.lock().map_err(|e| Error::io("lock", path, &e))?;
    Ok(LockGuard { _file: file })
}

/// Creates `dir` and any missing parent, each private (0700) whatever the umask. Directories that
/// already exist keep their mode.
pub fn create_private_dirs(dir: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    let mut missing = Vec::new();
    let mut at = dir;
    while !at.as_os_str().is_empty() && fs::symlink_metadata(at).is_err() {
        missing.push(at);
        match at.parent() {
            Some(parent) => at = parent,
            None => break,
        }
    }
    for d in missing.into_iter().rev() {
        match fs::DirBuilder::new().mode(0o700).create(d) {
            // The umask may have taken bits away; 0700 is what a directory of secrets needs.
            Ok(()) => fs::set_permissions(d, fs::Permissions::from_mode(0o700))
                .map_err(|e| Error::io("make private", d, &e))?,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::io("create the directory", d, &e)),
        }
    }
    Ok(())
}

/// The most nix-tokens reads of a configuration file, netrc or state file.
pub const MAX_SIZE: u64 = 4 * 1024 * 1024;

/// What is at a path, opened for reading by [`open_regular`].
#[derive(Debug)]
pub enum Opened {
    /// Nothing is there (or a link leads nowhere).
    Missing,
    Directory,
    /// It could not be opened (no permission, a loop of links, …).
    Unreadable(io::Error),
    /// A regular file, and what `fstat` says of the file opened.
    File(File, fs::Metadata),
}

/// Opens `path` (following links) for reading, without ever waiting: it is opened non-blocking,
/// so a FIFO opens at once, and judged by what was opened, so it cannot be swapped in between. A
/// FIFO, device or socket is refused with one sentence: it could make a read wait for a writer,
/// or never end (`/dev/zero`). Every file nix-tokens reads is opened here.
pub fn open_regular(path: &Path) -> Result<Opened> {
    let opened = OpenOptions::new()
        .read(true)
        .custom_flags((OFlags::NONBLOCK | OFlags::NOCTTY).bits() as i32)
        .open(path);
    let file = match opened {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Opened::Missing),
        Err(e) => return Ok(Opened::Unreadable(e)),
        Ok(file) => file,
    };
    let meta = match file.metadata() {
        Err(e) => return Ok(Opened::Unreadable(e)),
        Ok(m) => m,
    };
    if meta.is_dir() {
        return Ok(Opened::Directory);
    }
    if !meta.is_file() {
        return Err(Error::failed(format!(
            "{} is not a regular file (a FIFO, device or socket, or a link to one), so nix-tokens will not read it; put the file itself there",
            path.display()
        )));
    }
    Ok(Opened::File(file, meta))
}

/// Reads `file` (opened from `path`) to its end, but never more than `limit` bytes: one that
/// holds more, or grows past it while it is read, is refused with one sentence.
pub fn read_limited(file: File, path: &Path, limit: u64) -> Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io("read", path, &e))?;
    if bytes.len() as u64 > limit {
        return Err(Error::failed(format!(
            "{} is larger than {} MiB, which no file nix-tokens reads should be; check that it is the right file",
            path.display(),
            limit >> 20
        )));
    }
    Ok(bytes)
}

/// Reads a file that may not exist: `Ok(None)` when it is missing. A file that is not UTF-8, is a
/// directory or anything but a regular file, or is larger than [`MAX_SIZE`] is an error naming it.
pub fn read_optional(path: &Path) -> Result<Option<String>> {
    let (file, meta) = match open_regular(path)? {
        Opened::Missing => return Ok(None),
        Opened::Unreadable(e) => return Err(Error::io("read", path, &e)),
        Opened::Directory => {
            return Err(Error::failed(format!(
                "{} is a directory, not a file; move it out of the way and try again",
                path.display()
            )));
        }
        Opened::File(file, meta) => (file, meta),
    };
    if meta.len() > MAX_SIZE {
        return Err(Error::failed(format!(
            "{} is larger than 4 MiB, which no Nix configuration file should be; check that it is the right file",
            path.display()
        )));
    }
    let bytes = read_limited(file, path, MAX_SIZE)?;
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

/// The start and end of the name of every temporary file nix-tokens writes.
const TEMP_PREFIX: &str = ".nix-tokens-";
const TEMP_SUFFIX: &str = ".tmp";
/// Random characters between them (earlier versions wrote 6).
const TEMP_RANDOM: usize = 12;

/// Replaces `path` with `contents` atomically, leaving it with permission bits `mode`. Temporary
/// files that killed runs left in `path`'s directory are removed first (see
/// [`remove_stale_temp_files`]).
pub fn write_atomic(lock: &LockGuard, path: &Path, contents: &[u8], mode: u32) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("/"));
    remove_stale_temp_files(lock, dir);
    let mut tmp = create_temp(dir)?;
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

/// A new temporary file (0600) in `dir`, holding an exclusive `flock` for as long as it is open:
/// the kernel drops that lock when its writer exits, however it exits, which is how
/// [`remove_stale_temp_files`] tells a live writer's file from one a killed run left.
fn create_temp(dir: &Path) -> Result<tempfile::NamedTempFile> {
    for _ in 0..8 {
        let tmp = tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .suffix(TEMP_SUFFIX)
            .rand_bytes(TEMP_RANDOM)
            .permissions(fs::Permissions::from_mode(0o600))
            .tempfile_in(dir)
            .map_err(|e| Error::io("create a temporary file in", dir, &e))?;
        if tmp.as_file().lock().is_err() {
            // A file system without flock: the cleaner cannot lock the file either, so it is
            // never taken for stale (and a killed run's stays, as before).
            return Ok(tmp);
        }
        // A cleaner that found the file before it was locked has removed it: make another.
        if same_file(tmp.path(), tmp.as_file()) {
            return Ok(tmp);
        }
    }
    Err(Error::failed(format!(
        "temporary files in {} keep disappearing while nix-tokens writes them; check what else removes files there",
        dir.display()
    )))
}

/// Whether `path` names the file `file` has open.
fn same_file(path: &Path, file: &File) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (fs::symlink_metadata(path), file.metadata()) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Whether `name` is one nix-tokens gives its temporary files.
fn is_temp_name(name: &str) -> bool {
    name.strip_prefix(TEMP_PREFIX)
        .and_then(|rest| rest.strip_suffix(TEMP_SUFFIX))
        .is_some_and(|r| {
            (6..=TEMP_RANDOM).contains(&r.len()) && r.bytes().all(|b| b.is_ascii_alphanumeric())
        })
}

/// Removes the temporary files killed nix-tokens runs left in `dir`, which may hold a token:
/// plain files named as nix-tokens names them whose writer is gone (nobody holds their `flock`).
/// A file another nix-tokens run is writing right now (one for another configuration, whose
/// lock this is not) is locked, and stays. Any directory a write targets is cleaned, not only the
/// configuration directory: a netrc in the home directory, a token file linked into dotfiles.
pub fn remove_stale_temp_files(_lock: &LockGuard, dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if !is_temp_name(&entry.file_name().to_string_lossy()) {
            continue;
        }
        let path = entry.path();
        let Ok(file) = OpenOptions::new()
            .read(true)
            .custom_flags((OFlags::NOFOLLOW | OFlags::NONBLOCK).bits() as i32)
            .open(&path)
        else {
            continue;
        };
        let plain = file.metadata().is_ok_and(|m| m.is_file());
        // Locked by us, it can no longer be taken by its writer: still the same file, it is stale.
        if plain && file.try_lock().is_ok() && same_file(&path, &file) {
            let _ = fs::remove_file(&path);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_stale_temporary_files_of_nix_tokens_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let guard = lock(&dir.path().join(".lock")).unwrap();
        let stale = dir.path().join(".nix-tokens-AbCdEf123456.tmp");
        let old_style = dir.path().join(".nix-tokens-x1Y2z3.tmp");
        for p in [&stale, &old_style] {
            fs::write(p, "machine h password sek").unwrap();
        }
        // A write in progress elsewhere: its writer holds the lock on it.
        let live = create_temp(dir.path()).unwrap();
        let keep = [".nix-tokens-hosts.json", ".nix-tokens-ab.tmp", "x.tmp"];
        for name in keep {
            fs::write(dir.path().join(name), "mine").unwrap();
        }
        let link = dir.path().join(".nix-tokens-LinkLinkLink.tmp");
        std::os::unix::fs::symlink(dir.path().join("x.tmp"), &link).unwrap();
        remove_stale_temp_files(&guard, dir.path());
        assert!(!stale.exists() && !old_style.exists());
        assert!(live.path().exists(), "a live writer's file stays");
        for name in keep {
            assert!(dir.path().join(name).exists(), "{name}");
        }
        assert!(fs::symlink_metadata(&link).is_ok(), "a link is not ours");
        drop(live);
    }

    #[test]
    fn only_regular_files_are_read_and_never_past_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        // Opened at once (no writer is waited for), then refused for what it is.
        let err = open_regular(&fifo).unwrap_err().to_string();
        assert!(err.contains("not a regular file"), "{err}");
        let err = read_optional(Path::new("/dev/zero"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a regular file"), "{err}");
        assert!(matches!(open_regular(dir.path()), Ok(Opened::Directory)));
        assert!(matches!(
            open_regular(&dir.path().join("none")),
            Ok(Opened::Missing)
        ));
        // The limit holds on what is read, not on what the file's size said.
        let big = dir.path().join("big");
        fs::write(&big, vec![b'x'; 4096]).unwrap();
        let Opened::File(file, _) = open_regular(&big).unwrap() else {
            panic!("a regular file");
        };
        assert!(read_limited(file, &big, 4095).is_err());
        let Opened::File(file, _) = open_regular(&big).unwrap() else {
            panic!("a regular file");
        };
        assert_eq!(read_limited(file, &big, 4096).unwrap().len(), 4096);
        // A file whose size says 0 (as /proc's do) is still read, and still limited.
        let Opened::File(file, meta) = open_regular(Path::new("/proc/self/status")).unwrap() else {
            panic!("a regular file");
        };
        assert_eq!(meta.len(), 0);
        assert!(read_limited(file, Path::new("/proc/self/status"), 8).is_err());
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
