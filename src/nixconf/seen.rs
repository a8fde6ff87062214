//! The files this run has read, so that one command reads each configuration file once: a read
//! under the lock before a write verifies by `stat` that the file is still the one read.
//!
//! A file's bytes are kept with its stamp (device, inode, size, change and modification times):
//! a later read that finds the same stamp by `stat` takes the kept bytes instead of opening the
//! file again, and one that finds another stamp (another run replaced it, which always makes a
//! new inode, or an editor changed it in place) reads it again. Missing files are kept as
//! missing. What a commit writes is kept as written ([`wrote`]).
//!
//! Only reads before the lock come from here: the file times the kernel keeps are coarse, so a
//! change of the same size within one clock tick could leave the stamp as it was. A session reads
//! every file it may write afresh under the lock ([`read_fresh`], [`super::trust::read_fresh`]),
//! which is the verification before a write; those reads are kept for the rest of the command.

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::fsio::{MAX_SIZE, Opened, open_regular, read_limited};
use crate::error::{Error, Result};

/// What identifies one version of a file (or its absence).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stamp {
    Missing,
    File([i64; 10]),
}

fn stamp_of(meta: &fs::Metadata) -> Stamp {
    Stamp::File([
        meta.dev() as i64,
        meta.ino() as i64,
        meta.size() as i64,
        meta.mtime(),
        meta.mtime_nsec(),
        meta.ctime(),
        meta.ctime_nsec(),
        i64::from(meta.mode()),
        i64::from(meta.uid()),
        i64::from(meta.gid()),
    ])
}

/// The stamp `stat` finds now, when it is one a kept read can stand for.
fn stamp_now(path: &Path) -> Option<Stamp> {
    match fs::metadata(path) {
        Ok(meta) if meta.is_file() => Some(stamp_of(&meta)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some(Stamp::Missing),
        _ => None,
    }
}

/// A kept read: its stamp, its bytes (`None`: missing), and whether it passed the checks of a
/// state file ([`super::trust::read_of`]).
type Kept = HashMap<PathBuf, (Stamp, Option<Arc<Vec<u8>>>, bool)>;

static KEPT: Mutex<Option<Kept>> = Mutex::new(None);

fn keep(path: &Path, stamp: Stamp, bytes: Option<Arc<Vec<u8>>>) {
    keep_as(path, stamp, bytes, false);
}

fn keep_as(path: &Path, stamp: Stamp, bytes: Option<Arc<Vec<u8>>>, checked: bool) {
    let mut kept = KEPT.lock().unwrap_or_else(|e| e.into_inner());
    kept.get_or_insert_with(HashMap::new)
        .insert(path.to_path_buf(), (stamp, bytes, checked));
}

/// The bytes kept for `path` while `stat` finds it unchanged (`Some(None)`: it is still
/// missing); with `checked`, only a read that passed a state file's checks counts.
fn kept(path: &Path, checked: bool) -> Option<Option<Arc<Vec<u8>>>> {
    let now = stamp_now(path)?;
    let kept = KEPT.lock().unwrap_or_else(|e| e.into_inner());
    let (stamp, bytes, was_checked) = kept.as_ref()?.get(path)?;
    (*stamp == now && (*was_checked || !checked)).then(|| bytes.clone())
}

/// A state file's bytes as a checked read of this run found them, while `stat` finds the file
/// unchanged (a change of owner or mode changes its stamp too).
pub fn kept_checked(path: &Path) -> Option<Vec<u8>> {
    kept(path, true).flatten().map(|b| b.to_vec())
}

/// Keeps a state file's bytes, read from the file opened with `meta`, that passed its checks.
pub fn keep_checked(path: &Path, meta: &fs::Metadata, bytes: &[u8]) {
    keep_as(path, stamp_of(meta), Some(Arc::new(bytes.to_vec())), true);
}

/// What reading a path found.
#[derive(Debug)]
pub enum Read {
    Missing,
    Directory,
    Unreadable(std::io::Error),
    Bytes(Arc<Vec<u8>>),
}

/// `path` as [`open_regular`] and [`read_limited`] read it, from what this run kept when the
/// file has not changed since.
pub fn read(path: &Path) -> Result<Read> {
    match kept(path, false) {
        Some(Some(bytes)) => Ok(Read::Bytes(bytes)),
        Some(None) => Ok(Read::Missing),
        None => read_fresh(path),
    }
}

/// `path` read from the file itself (as under the lock before a write), and kept.
pub fn read_fresh(path: &Path) -> Result<Read> {
    Ok(match open_regular(path)? {
        Opened::Missing => {
            keep(path, Stamp::Missing, None);
            Read::Missing
        }
        Opened::Directory => Read::Directory,
        Opened::Unreadable(e) => Read::Unreadable(e),
        Opened::File(file, meta) => {
            let bytes = Arc::new(read_limited(file, path, MAX_SIZE)?);
            keep(path, stamp_of(&meta), Some(bytes.clone()));
            Read::Bytes(bytes)
        }
    })
}

/// The text of `path` as [`crate::nixconf::fsio::read_optional`] reads it (`None` when it is
/// missing; a directory, an unreadable file or one that is not UTF-8 is an error naming it), from
/// what this run kept when the file has not changed since.
pub fn read_text(path: &Path) -> Result<Option<String>> {
    text(path, read(path)?)
}

/// The same, read from the file itself (under the lock, before a write), and kept.
pub fn read_text_fresh(path: &Path) -> Result<Option<String>> {
    text(path, read_fresh(path)?)
}

fn text(path: &Path, read: Read) -> Result<Option<String>> {
    match read {
        Read::Missing => Ok(None),
        Read::Unreadable(e) => Err(Error::io("read", path, &e)),
        Read::Directory => Err(Error::failed(format!(
            "{} is a directory, not a file; move it out of the way and try again",
            path.display()
        ))),
        Read::Bytes(bytes) => String::from_utf8(bytes.to_vec()).map(Some).map_err(|_| {
            Error::failed(format!(
                "{} is not valid UTF-8, so nix-tokens will not edit it; fix its encoding and try again",
                path.display()
            ))
        }),
    }
}

/// Keeps what a commit wrote to `path` (named as it is read, and as the file written, when a
/// link leads there), so that reading it afterwards needs no open.
pub fn wrote(paths: &[&Path], contents: &[u8]) {
    let bytes = Arc::new(contents.to_vec());
    for path in paths {
        if let Some(stamp @ Stamp::File(_)) = stamp_now(path) {
            keep(path, stamp, Some(bytes.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(read: Read) -> Option<String> {
        match read {
            Read::Bytes(b) => Some(String::from_utf8_lossy(&b).into_owned()),
            _ => None,
        }
    }

    #[test]
    fn a_changed_file_is_read_again_and_an_unchanged_one_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nix.conf");
        assert!(matches!(read(&path).unwrap(), Read::Missing));
        fs::write(&path, "a = 1\n").unwrap();
        assert_eq!(text(read(&path).unwrap()).as_deref(), Some("a = 1\n"));
        // Replaced, as every writer does (a new inode): read again.
        let other = dir.path().join("other");
        fs::write(&other, "a = 2\n").unwrap();
        fs::rename(&other, &path).unwrap();
        assert_eq!(text(read(&path).unwrap()).as_deref(), Some("a = 2\n"));
        // Kept: the bytes come from memory while the stamp holds, and a fresh read goes to the
        // file.
        let stamp = stamp_now(&path).unwrap();
        keep(&path, stamp, Some(Arc::new(b"kept".to_vec())));
        assert_eq!(text(read(&path).unwrap()).as_deref(), Some("kept"));
        // A state file counts as read only after its checks passed.
        assert_eq!(kept_checked(&path), None);
        assert_eq!(text(read_fresh(&path).unwrap()).as_deref(), Some("a = 2\n"));
        keep_as(&path, stamp, Some(Arc::new(b"checked".to_vec())), true);
        assert_eq!(kept_checked(&path).as_deref(), Some(&b"checked"[..]));
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o666))
            .unwrap();
        assert_eq!(kept_checked(&path), None, "a new mode is a new stamp");
    }
}
