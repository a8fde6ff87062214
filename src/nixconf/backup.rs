//! nix.conf's backups: made (0600, never two with one name) before nix.conf changes, pruned to
//! the newest [`BACKUPS_KEPT`], and scrubbed of the tokens a `logout` removed.
//!
//! Only files named exactly as [`backup`] names them are nix-tokens' backups: a user's
//! `nix.conf.backup-before-upgrade`, a directory or a link of a similar name are never touched.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use super::conf::{Entry, parse_line};
use super::fsio::{self, LockGuard};
use super::tokens::{ACCESS_TOKENS, EXTRA_ACCESS_TOKENS};
use crate::error::{Error, Result};

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
    prune_backups(lock, dir, name)?;
    Ok(path)
}

/// Whether `name` is one of the backups [`backup`] makes: `PREFIX` then exactly
/// `YYYYMMDDTHHMMSS.NNNNNNNNNZ`, maybe followed by `-N`. Anything else (a user's
/// `nix.conf.backup-before-upgrade`) is not nix-tokens' to remove.
pub fn is_backup_name(name: &str, prefix: &str) -> bool {
    let Some(rest) = name.strip_prefix(prefix) else {
        return false;
    };
    let digits = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
    let (stamp, counter) = match rest.split_once('-') {
        Some((stamp, n)) => (stamp.as_bytes(), Some(n.as_bytes())),
        None => (rest.as_bytes(), None),
    };
    let shape = stamp.len() == 26
        && digits(&stamp[..8])
        && stamp[8] == b'T'
        && digits(&stamp[9..15])
        && stamp[15] == b'.'
        && digits(&stamp[16..25])
        && stamp[25] == b'Z';
    shape && counter.is_none_or(digits)
}

/// The backups [`backup`] made in `dir` for the file `name`, oldest first: plain files whose name
/// is exactly one nix-tokens gives (never a directory, a link or a file of the user's).
pub fn backups(dir: &Path, name: &str) -> Result<Vec<PathBuf>> {
    let prefix = format!("{name}.backup-");
    let mut found: Vec<(SystemTime, PathBuf)> = fs::read_dir(dir)
        .map_err(|e| Error::io("list", dir, &e))?
        .filter_map(|e| e.ok())
        .filter(|e| is_backup_name(&e.file_name().to_string_lossy(), &prefix))
        .filter_map(|e| {
            let meta = fs::symlink_metadata(e.path()).ok()?;
            let modified = meta.modified().unwrap_or(UNIX_EPOCH);
            meta.is_file().then(|| (modified, e.path()))
        })
        .collect();
    found.sort();
    Ok(found.into_iter().map(|(_, p)| p).collect())
}

fn prune_backups(_lock: &LockGuard, dir: &Path, name: &str) -> Result<()> {
    let backups = backups(dir, name)?;
    let excess = backups.len().saturating_sub(BACKUPS_KEPT);
    for old in backups.into_iter().take(excess) {
        fs::remove_file(&old).map_err(|e| Error::io("remove the old backup", &old, &e))?;
    }
    Ok(())
}

/// Takes `tokens` out of every backup of `name` in `dir` but `keep` (the backup this very change
/// made: the copy to undo it with), each rewritten atomically, 0600, with every other line as it
/// was. Returns the backups that still hold one of them (`keep`, when it does).
pub fn scrub(
    lock: &LockGuard,
    dir: &Path,
    name: &str,
    tokens: &[&str],
    keep: Option<&Path>,
) -> Result<Vec<PathBuf>> {
    let mut holding = Vec::new();
    if tokens.is_empty() {
        return Ok(holding);
    }
    for path in backups(dir, name)? {
        let Some(text) = fsio::read_optional(&path)? else {
            continue;
        };
        let Some(scrubbed) = scrub_text(&text, tokens) else {
            continue;
        };
        if keep == Some(path.as_path()) {
            holding.push(path);
        } else {
            fsio::write_atomic(lock, &path, scrubbed.as_bytes(), 0o600)?;
        }
    }
    Ok(holding)
}

/// `text` (a nix.conf) without `tokens`, or `None` when it holds none of them. A token's
/// `KEY=TOKEN` pair leaves its `access-tokens` or `extra-access-tokens` line (the line goes when
/// it was the last pair); any other line that holds one (a comment) goes whole.
fn scrub_text(text: &str, tokens: &[&str]) -> Option<String> {
    let holds = |s: &str| tokens.iter().any(|t| !t.is_empty() && s.contains(t));
    if !holds(text) {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        if !holds(line) {
            out.push_str(line);
            continue;
        }
        let Entry::Setting { name, value } = parse_line(line.trim_end_matches('\n')) else {
            continue;
        };
        if name != ACCESS_TOKENS && name != EXTRA_ACCESS_TOKENS {
            continue;
        }
        let pairs: Vec<&str> = value
            .split(' ')
            .filter(|pair| {
                !pair
                    .split_once('=')
                    .is_some_and(|(_, t)| tokens.contains(&t))
            })
            .collect();
        let rebuilt = format!("{name} = {}\n", pairs.join(" "));
        if !pairs.is_empty() && !holds(&rebuilt) {
            out.push_str(&rebuilt);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nixconf::fsio::{lock, mode_of};

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
    fn only_names_backup_gives_are_backups() {
        let p = "nix.conf.backup-";
        assert!(is_backup_name(
            "nix.conf.backup-20260102T030405.123456789Z",
            p
        ));
        assert!(is_backup_name(
            "nix.conf.backup-20260102T030405.123456789Z-12",
            p
        ));
        for other in [
            "nix.conf.backup-before-upgrade",
            "nix.conf.backup-20260102T030405Z",
            "nix.conf.backup-20260102T030405.123456789Z-",
            "nix.conf.backup-20260102T030405.123456789Z-x",
            "nix.conf.backup-20260102T030405.12345678éZ",
            "nix.conf.backup-2026010éT030405.123456789Z",
            "other.conf.backup-20260102T030405.123456789Z",
        ] {
            assert!(!is_backup_name(other, p), "{other}");
        }
    }

    #[test]
    fn scrubbing_takes_out_only_the_tokens_pairs_and_lines() {
        let text = "# mine\nmax-jobs = 4\naccess-tokens = a.org=AAAAAAAAAA b.org=BBBBBBBBBB # c\n# old: a.org=AAAAAAAAAA\nextra-access-tokens = a.org=AAAAAAAAAA\nlast = 1";
        assert_eq!(
            scrub_text(text, &["AAAAAAAAAA"]).as_deref(),
            Some("# mine\nmax-jobs = 4\naccess-tokens = b.org=BBBBBBBBBB\nlast = 1")
        );
        assert_eq!(scrub_text(text, &["ZZZZZZZZZZ"]), None);
    }
}
