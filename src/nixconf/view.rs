//! What Nix sees: every setting of every configuration file, in the order Nix applies them,
//! following includes, and the access tokens and netrc file that come out of it.
//!
//! Nix reads the system nix.conf, then the user files, then `$NIX_CONFIG`; an include is read in
//! place of its line. `include` of a missing file is fatal, `!include` skips it, and a file that
//! exists but cannot be read is skipped by both (REFERENCE.md §1).

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use super::conf::{ConfFile, Entry, resolve_include};
use super::pasted;
use super::seen;
use super::tokens::{ACCESS_TOKENS, EXTRA_ACCESS_TOKENS, TokenMap};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// One `name = value` as Nix applies it, and where it came from.
#[derive(Debug, Clone)]
pub struct Setting {
    pub file: PathBuf,
    /// 1-based.
    pub line: usize,
    pub name: String,
    pub value: String,
}

/// Everything Nix applies: the settings of `files` (see [`file_settings`]), then `$NIX_CONFIG`
/// (whose relative includes Nix resolves against the current directory).
pub fn settings_in_order(files: &[PathBuf]) -> Result<Vec<Setting>> {
    let mut out = file_settings(files)?;
    if let Some(env) = std::env::var_os("NIX_CONFIG") {
        let text = env.to_string_lossy();
        let name = std::env::current_dir()
            .unwrap_or_default()
            .join("$NIX_CONFIG");
        apply_text(&text, &name, &mut vec![name.clone()], &mut out)?;
        for s in out.iter_mut().filter(|s| s.file == name) {
            s.file = PathBuf::from("$NIX_CONFIG");
        }
    }
    Ok(out)
}

/// Reads `files` (and everything they include) in order, as Nix would. A missing top-level file
/// is skipped, as Nix does.
pub fn file_settings(files: &[PathBuf]) -> Result<Vec<Setting>> {
    let mut out = Vec::new();
    for file in files {
        walk(file, &mut Vec::new(), &mut out)?;
    }
    Ok(out)
}

fn walk(file: &Path, stack: &mut Vec<PathBuf>, out: &mut Vec<Setting>) -> Result<()> {
    if stack.iter().any(|p| p == file) {
        let chain: Vec<String> = stack
            .iter()
            .chain([&file.to_path_buf()])
            .map(|p| p.display().to_string())
            .collect();
        return Err(Error::failed(format!(
            "the Nix configuration includes itself in a loop ({}); remove one of those include lines",
            chain.join(" → ")
        )));
    }
    // Nix reads any bytes, and skips a file it cannot read (missing, a directory, no permission);
    // a FIFO, a device or a file too large is refused rather than waited on or read without end.
    let Some(bytes) = read(file)? else {
        return Ok(());
    };
    stack.push(file.to_path_buf());
    apply_text(&String::from_utf8_lossy(&bytes), file, stack, out)?;
    stack.pop();
    Ok(())
}

/// The bytes of `file` as Nix would read them, or `None` where Nix skips it.
fn read(file: &Path) -> Result<Option<Vec<u8>>> {
    match seen::read(file)? {
        seen::Read::Bytes(bytes) => Ok(Some(bytes.to_vec())),
        seen::Read::Missing | seen::Read::Directory | seen::Read::Unreadable(_) => Ok(None),
    }
}

/// The settings of `text`, read from `file`, with its includes followed.
fn apply_text(
    text: &str,
    file: &Path,
    stack: &mut Vec<PathBuf>,
    out: &mut Vec<Setting>,
) -> Result<()> {
    let conf = ConfFile::parse(text);
    for (i, entry) in conf.entries() {
        match entry {
            Entry::Blank => {}
            Entry::Invalid { reason } => {
                return Err(Error::failed(format!(
                    "{} line {} is not valid Nix configuration ({reason}), and Nix refuses the whole file; fix that line first",
                    file.display(),
                    i + 1
                )));
            }
            Entry::Setting { name, value } => out.push(Setting {
                file: file.to_path_buf(),
                line: i + 1,
                name,
                value,
            }),
            Entry::Include { path, optional } => {
                let target = resolve_include(file, &path);
                // Like Nix, "exists" does not follow a final symbolic link.
                if !optional && fs::symlink_metadata(&target).is_err() {
                    return Err(Error::failed(format!(
                        "{} line {} includes {}, which does not exist, so Nix stops with an error; create it or change the line to `!include`",
                        file.display(),
                        i + 1,
                        target.display()
                    )));
                }
                walk(&target, stack, out)?;
            }
        }
    }
    Ok(())
}

/// A token as Nix sees it.
#[derive(Debug, Clone)]
pub struct SeenToken {
    pub key: String,
    pub token: Secret<String>,
    pub file: PathBuf,
    pub line: usize,
    /// Where a later setting hides this token from Nix, if one does.
    pub shadowed_by: Option<PathBuf>,
}

/// Every access token in `settings`: the ones Nix uses, in its final map's order, then the ones
/// that a later `access-tokens` (or an earlier pair for the same key) hides.
pub fn access_tokens(settings: &[Setting]) -> Vec<SeenToken> {
    // The map Nix builds, remembering which setting each token came from.
    let mut map = TokenMap::default();
    let mut origin: Vec<(String, usize)> = Vec::new();
    let mut all: Vec<(usize, String, Secret<String>)> = Vec::new();
    for (idx, s) in settings.iter().enumerate() {
        let pairs = TokenMap::parse(&s.value);
        match s.name.as_str() {
            ACCESS_TOKENS => origin.clear(),
            EXTRA_ACCESS_TOKENS => {}
            _ => continue,
        }
        map.apply(&s.name, &s.value);
        for (key, token) in pairs.iter() {
            all.push((idx, key.to_owned(), token.clone()));
            if !origin.iter().any(|(k, _)| k == key) {
                origin.push((key.to_owned(), idx));
            }
        }
    }
    let mut seen: Vec<SeenToken> = Vec::new();
    for key in map.keys() {
        let idx = origin.iter().find(|(k, _)| k == key).map_or(0, |(_, i)| *i);
        seen.push(SeenToken {
            key: key.to_owned(),
            token: map.get(key).cloned().unwrap_or_else(|| Secret::from("")),
            file: settings[idx].file.clone(),
            line: settings[idx].line,
            shadowed_by: None,
        });
    }
    for (idx, key, token) in all {
        let used = seen
            .iter()
            .any(|t| t.key == key && t.file == settings[idx].file && t.line == settings[idx].line);
        if !used {
            let winner = seen.iter().find(|t| t.key == key).map(|t| t.file.clone());
            let later_reset = settings[idx + 1..]
                .iter()
                .find(|s| s.name == ACCESS_TOKENS)
                .map(|s| s.file.clone());
            seen.push(SeenToken {
                key,
                token,
                file: settings[idx].file.clone(),
                line: settings[idx].line,
                shadowed_by: winner.or(later_reset),
            });
        }
    }
    seen
}

/// What a change did to the tokens Nix uses that the user did not ask for, as sentences: the key
/// that was `set` if Nix does not use the new token, every other key whose token Nix stopped
/// using, started using or swapped, and `removed` keys Nix still gets from another file.
pub fn surprises(
    before: &[SeenToken],
    after: &[SeenToken],
    set: Option<(&str, &Secret<String>)>,
    removed: &[String],
) -> Vec<String> {
    let find = |list: &[SeenToken], key: &str| list.iter().find(|t| t.key == key).cloned();
    let place = |t: &SeenToken| format!("{} line {}", t.file.display(), t.line);
    let mut out = Vec::new();
    if let Some((key, token)) = set {
        let shown = pasted::shown(key);
        match find(after, key) {
            Some(t) if t.token == *token => {}
            Some(t) => out.push(format!(
                "Nix will not use the new token for {shown}: {} sets another one that takes precedence",
                place(&t)
            )),
            None => out.push(format!(
                "Nix will not use the new token for {shown}: a later `access-tokens` setting replaces it; run `nix-tokens status` to see which"
            )),
        }
    }
    let mut keys: Vec<&str> = Vec::new();
    for t in before.iter().chain(after) {
        if !keys.contains(&t.key.as_str()) && set.is_none_or(|(k, _)| k != t.key) {
            keys.push(&t.key);
        }
    }
    for key in keys {
        let asked = removed.iter().any(|r| r == key);
        let found = (find(before, key), find(after, key));
        let key = &pasted::shown(key);
        match found {
            (_, Some(new)) if asked => out.push(format!(
                "Nix still has a token for {key}, from {}, which nix-tokens does not manage",
                place(&new)
            )),
            (Some(old), None) if !asked => out.push(format!(
                "Nix no longer uses the token for {key} from {}: an `access-tokens` setting of nix-tokens replaces it (the last `access-tokens` replaces the whole list); store it with `nix-tokens set-token {key}` to keep it",
                place(&old)
            )),
            (None, Some(new)) => out.push(format!(
                "Nix now also uses a token for {key}, from {}",
                place(&new)
            )),
            (Some(old), Some(new)) if old.token != new.token => out.push(format!(
                "Nix now uses a different token for {key}: the one from {} instead of the one from {}",
                place(&new),
                place(&old)
            )),
            _ => {}
        }
    }
    out
}

/// The netrc file Nix uses: the last `netrc-file` setting, else [`default_netrc`]. The one rule
/// for which netrc a Nix process reads, given the settings it applies: the user's whole picture
/// ([`super::picture`]), or the system configuration's alone ([`system_netrc`], what a daemon
/// reads for a user it does not trust).
pub fn netrc_file(settings: &[Setting], system_dir: &Path) -> PathBuf {
    settings
        .iter()
        .rev()
        .find(|s| s.name == "netrc-file")
        .map(|s| PathBuf::from(&s.value))
        .unwrap_or_else(|| default_netrc(system_dir))
}

/// The netrc Nix reads when no `netrc-file` names one: `SYSTEM_DIR/netrc`.
pub fn default_netrc(system_dir: &Path) -> PathBuf {
    system_dir.join("netrc")
}

/// The system configuration's netrc, with the system configuration's settings it comes from.
pub fn system_netrc(system_dir: &Path) -> Result<(PathBuf, Vec<Setting>)> {
    let system = file_settings(&[system_dir.join("nix.conf")])?;
    Ok((netrc_file(&system, system_dir), system))
}

/// The line of `conf` (read from `conf_path`) through which `target` is included, directly or
/// through other included files, in any spelling of its path.
pub fn include_line_of(conf: &ConfFile, conf_path: &Path, target: &Path) -> Option<usize> {
    let target_canon = fs::canonicalize(target).ok();
    let same = |p: &Path| {
        p == target || (target_canon.is_some() && fs::canonicalize(p).ok() == target_canon)
    };
    let mut visited = HashSet::new();
    conf.entries().find_map(|(i, e)| match e {
        Entry::Include { path, .. } => {
            let p = resolve_include(conf_path, &path);
            (same(&p) || includes_transitively(&p, &same, &mut visited)).then_some(i)
        }
        _ => None,
    })
}

fn includes_transitively(
    file: &Path,
    same: &dyn Fn(&Path) -> bool,
    visited: &mut HashSet<PathBuf>,
) -> bool {
    if !visited.insert(file.to_path_buf()) {
        return false;
    }
    let Ok(Some(text)) = seen::read_text(file) else {
        return false;
    };
    ConfFile::parse(&text).entries().any(|(_, e)| match e {
        Entry::Include { path, .. } => {
            let p = resolve_include(file, &path);
            same(&p) || includes_transitively(&p, same, visited)
        }
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setting(file: &str, line: usize, name: &str, value: &str) -> Setting {
        Setting {
            file: file.into(),
            line,
            name: name.into(),
            value: value.into(),
        }
    }

    #[test]
    fn later_access_tokens_shadow_earlier_ones() {
        let s = [
            setting("/etc/nix/nix.conf", 1, ACCESS_TOKENS, "a=1 b=2"),
            setting("/u/nix.conf", 3, EXTRA_ACCESS_TOKENS, "b=9 c=3"),
            setting("/u/tokens.conf", 2, ACCESS_TOKENS, "c=4"),
        ];
        let seen = access_tokens(&s);
        let used: Vec<_> = seen
            .iter()
            .filter(|t| t.shadowed_by.is_none())
            .map(|t| (t.key.as_str(), t.token.expose().as_str(), t.line))
            .collect();
        assert_eq!(used, [("c", "4", 2)]);
        let hidden: Vec<_> = seen
            .iter()
            .filter(|t| t.shadowed_by.is_some())
            .map(|t| t.key.as_str())
            .collect();
        assert_eq!(hidden, ["a", "b", "b", "c"]);
    }

    #[test]
    fn surprises_name_what_the_user_did_not_ask_for() {
        let token = |key: &str, value: &str, file: &str| SeenToken {
            key: key.into(),
            token: value.into(),
            file: file.into(),
            line: 1,
            shadowed_by: None,
        };
        let before = [
            token("sys.org", "s", "/etc/nix/nix.conf"),
            token("gone.org", "g", "/a"),
            token("swap.org", "1", "/etc/nix/nix.conf"),
        ];
        let after = [
            token("new.org", "old", "/later.conf"),
            token("gone.org", "x", "/etc"),
            token("swap.org", "2", "/u"),
            token("revived.org", "r", "/u"),
        ];
        let new: Secret<String> = "new".into();
        let got = surprises(
            &before,
            &after,
            Some(("new.org", &new)),
            &["gone.org".into()],
        );
        assert_eq!(got.len(), 5, "{got:?}");
        assert!(got[3].contains("different token for swap.org: the one from /u line 1"));
        assert!(got[4].contains("now also uses a token for revived.org"));
        assert!(got[0].contains("will not use the new token for new.org: /later.conf line 1"));
        assert!(got[1].contains("no longer uses the token for sys.org"));
        assert!(got[2].contains("still has a token for gone.org"));
        assert!(surprises(&after, &after, None, &[]).is_empty());
    }

    #[test]
    fn extra_keeps_the_first_source() {
        let s = [
            setting("/a", 1, EXTRA_ACCESS_TOKENS, "h=1"),
            setting("/b", 1, EXTRA_ACCESS_TOKENS, "h=2 g=3"),
        ];
        let seen = access_tokens(&s);
        assert_eq!(seen[0].file, PathBuf::from("/a"));
        assert_eq!(seen[1].key, "g");
        assert_eq!(seen[2].shadowed_by, Some(PathBuf::from("/a")));
    }
}
