//! Adding nix-tokens as a credential helper to the user's git configuration, and taking exactly
//! that out again.
//!
//! Every change goes through `git config --global` (so git finds the file as it always does:
//! `GIT_CONFIG_GLOBAL`, `~/.gitconfig` or `$XDG_CONFIG_HOME/git/config`) and touches only
//! `credential.URL.helper` and `credential.URL.useHttpPath` entries, never `credential.helper`
//! itself: no empty `helper =` line, which would reset the user's list. What was added is
//! recorded beside nix.conf, so that `--uninstall` removes those entries and nothing else.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::nixconf::document::Document;
use crate::nixconf::{fsio, json_file};

/// What `--install` added to the git configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Installed {
    /// `credential.URL.NAME = VALUE` entries, in the order they were added.
    #[serde(default)]
    pub entries: Vec<Entry>,
    /// `credential.URL` sections that did not exist before (removed again when left empty).
    #[serde(default)]
    pub sections: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub key: String,
    pub value: String,
}

impl Document for Installed {
    fn parse(text: &str, path: &Path) -> Result<Self> {
        json_file::parse(text, path)
    }

    fn render(&self) -> String {
        json_file::render(self, self.entries.is_empty() && self.sections.is_empty())
    }
}

impl Installed {
    /// Reads the record (none yet is an empty one), refusing one others could have changed: it
    /// names what `--uninstall` removes.
    pub fn load(path: &Path) -> Result<Self> {
        let text = crate::nixconf::trust::read(path)?;
        Document::parse(text.as_deref().unwrap_or(""), path)
    }

    /// Writes the record under `lock` (removing the file when nothing is left).
    pub fn save(&self, lock: &fsio::LockGuard, path: &Path) -> Result<()> {
        let text = self.render();
        if text.is_empty() {
            fsio::remove(lock, path)
        } else {
            fsio::write_atomic(lock, path, text.as_bytes(), 0o600)
        }
    }
}

/// The helper value for git: `!nix-tokens git-credential` when `nix-tokens` on PATH is this
/// binary, else the absolute path, followed by `extra` arguments (`--config PATH`), each quoted
/// for the shell git runs it with.
pub fn helper_value(exe: &Path, on_path: bool, extra: &[String]) -> String {
    let mut value = if on_path {
        "!nix-tokens".to_owned()
    } else {
        format!("!{}", shell_quote(&exe.to_string_lossy()))
    };
    value.push_str(" git-credential");
    for arg in extra {
        value.push(' ');
        value.push_str(&shell_quote(arg));
    }
    value
}

/// `text` as one word for sh: as is when it is plain, else in single quotes.
pub fn shell_quote(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@+,".contains(c));
    if plain {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// Whether a `credential.helper` value runs nix-tokens' helper (as `--install` or the
/// home-manager module write it: `!nix-tokens git-credential`, `!/nix/store/…/bin/nix-tokens
/// git-credential --config …`).
pub fn is_nix_tokens(helper: &str) -> bool {
    let command = helper.trim_start_matches('!').trim_start();
    // The program, as `helper_value` quotes it for the shell.
    let (program, rest) = match command.strip_prefix('\'') {
        Some(quoted) => quoted.split_once('\'').unwrap_or((quoted, "")),
        None => command
            .split_once(char::is_whitespace)
            .unwrap_or((command, "")),
    };
    (program == "nix-tokens" || program.ends_with("/nix-tokens"))
        && rest.split_whitespace().next() == Some("git-credential")
}

/// Whether `nix-tokens` found on PATH is `exe`.
pub fn on_path(exe: &Path) -> bool {
    let Some(paths) = std::env::var_os("PATH") else {
        return false;
    };
    let exe = std::fs::canonicalize(exe).unwrap_or(exe.to_path_buf());
    std::env::split_paths(&paths)
        .map(|d| d.join("nix-tokens"))
        .find(|p| p.is_file())
        .and_then(|p| std::fs::canonicalize(p).ok())
        .is_some_and(|p| p == exe)
}

/// The user's global git configuration, read and changed through `git config --global`.
pub struct GitConfig {
    git: PathBuf,
}

impl GitConfig {
    pub fn new() -> Self {
        GitConfig {
            git: PathBuf::from("git"),
        }
    }

    fn run(&self, args: &[&str]) -> Result<Output> {
        Command::new(&self.git)
            .arg("config")
            .arg("--global")
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| {
                Error::failed(format!(
                    "could not run git ({e}); install git, which git+https inputs need anyway"
                ))
            })
    }

    fn fail(&self, what: &str, out: &Output) -> Error {
        let said = String::from_utf8_lossy(&out.stderr);
        let said = crate::ui::printable(said.trim());
        Error::failed(format!(
            "git could not {what} in your global git configuration ({said}); fix the file git names, then try again"
        ))
    }

    /// Every `key` and value of the global configuration (keys as git prints them: section and
    /// name in lower case, the URL as written). A missing file is an empty configuration.
    pub fn list(&self) -> Result<Vec<(String, String)>> {
        let out = self.run(&["--null", "--list"])?;
        if !out.status.success() {
            let said = String::from_utf8_lossy(&out.stderr);
            if said.contains("No such file or directory") || out.stdout.is_empty() {
                return Ok(Vec::new());
            }
            return Err(self.fail("read the settings", &out));
        }
        Ok(entries(&out.stdout))
    }

    /// Every setting git applies outside a repository (the system, global and `GIT_CONFIG_*`
    /// ones, includes followed), in the order git applies them, as [`list`](Self::list) gives
    /// them; what git reads when Nix runs it to fetch.
    pub fn list_everywhere(&self) -> Result<Vec<(String, String)>> {
        let out = Command::new(&self.git)
            .args(["config", "--null", "--list"])
            .current_dir("/")
            .env_remove("GIT_DIR")
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| Error::failed(format!("could not run git ({e})")))?;
        if !out.status.success() {
            let said = String::from_utf8_lossy(&out.stderr);
            return Err(Error::failed(format!(
                "git could not read its configuration ({})",
                crate::ui::printable(said.trim())
            )));
        }
        Ok(entries(&out.stdout))
    }

    fn add(&self, key: &str, value: &str) -> Result<()> {
        let out = self.run(&["--add", key, value])?;
        if out.status.success() {
            Ok(())
        } else {
            Err(self.fail(&format!("add {key}"), &out))
        }
    }

    /// Removes every `key` whose value is exactly `value`; none is fine (exit code 5).
    fn unset(&self, key: &str, value: &str) -> Result<()> {
        let out = self.run(&["--fixed-value", "--unset-all", key, value])?;
        match out.status.code() {
            Some(0 | 5) => Ok(()),
            _ => Err(self.fail(&format!("remove {key}"), &out)),
        }
    }

    /// Removes an empty section (newer git already does when its last entry goes).
    fn remove_section(&self, section: &str) {
        let _ = self.run(&["--remove-section", section]);
    }
}

/// `git config --null --list`'s output as keys and values (an empty value for a key without one).
fn entries(stdout: &[u8]) -> Vec<(String, String)> {
    stdout
        .split(|b| *b == 0)
        .filter(|e| !e.is_empty())
        .map(|e| {
            let text = String::from_utf8_lossy(e);
            match text.split_once('\n') {
                Some((k, v)) => (k.to_owned(), v.to_owned()),
                None => (text.into_owned(), String::new()),
            }
        })
        .collect()
}

/// One `credential.URL` setting nix-tokens wants.
pub struct Wanted {
    pub url: String,
    pub helper: String,
    /// Set `useHttpPath`, so that git names the repository and an owner's token can be chosen.
    pub use_http_path: bool,
}

fn section_of(url: &str) -> String {
    format!("credential.{url}")
}

/// Adds what is `wanted` and not yet there, recording each addition in `record`. Returns the
/// URLs that got a helper.
pub fn install(git: &GitConfig, wanted: &[Wanted], record: &mut Installed) -> Result<Vec<String>> {
    let mut added = Vec::new();
    for w in wanted {
        let section = section_of(&w.url);
        let existing = git.list()?;
        let in_section = |name: &str| {
            existing
                .iter()
                .filter(|(k, _)| {
                    k.strip_prefix(&section)
                        .and_then(|rest| rest.strip_prefix('.'))
                        .is_some_and(|n| n.eq_ignore_ascii_case(name))
                })
                .map(|(_, v)| v.as_str())
                .collect::<Vec<_>>()
        };
        let had_section = existing
            .iter()
            .any(|(k, _)| k.starts_with(&format!("{section}.")));
        let mut changes = Vec::new();
        if !in_section("helper").contains(&w.helper.as_str()) {
            changes.push((format!("{section}.helper"), w.helper.clone()));
        }
        if w.use_http_path && in_section("usehttppath").is_empty() {
            changes.push((format!("{section}.useHttpPath"), "true".to_owned()));
        }
        if changes.is_empty() {
            continue;
        }
        if !had_section && !record.sections.contains(&section) {
            record.sections.push(section.clone());
        }
        for (key, value) in changes {
            git.add(&key, &value)?;
            let entry = Entry { key, value };
            if !record.entries.contains(&entry) {
                record.entries.push(entry);
            }
        }
        added.push(w.url.clone());
    }
    Ok(added)
}

/// Removes every entry `record` holds, and the sections it created once they are empty.
pub fn uninstall(git: &GitConfig, record: &Installed) -> Result<()> {
    for entry in &record.entries {
        git.unset(&entry.key, &entry.value)?;
    }
    let left = git.list()?;
    for section in &record.sections {
        if !left
            .iter()
            .any(|(k, _)| k.starts_with(&format!("{section}.")))
        {
            git.remove_section(section);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helper_values_are_quoted_for_the_shell() {
        assert_eq!(
            helper_value(Path::new("/usr/bin/nix-tokens"), true, &[]),
            "!nix-tokens git-credential"
        );
        assert_eq!(
            helper_value(
                Path::new("/home/me/my bin/nix-tokens"),
                false,
                &["--config".into(), "/home/me/it's/nix.conf".into()]
            ),
            r"!'/home/me/my bin/nix-tokens' git-credential --config '/home/me/it'\''s/nix.conf'"
        );
    }

    #[test]
    fn tells_its_own_helper_from_others() {
        for ours in [
            "!nix-tokens git-credential",
            "!/nix/store/abc-nix-tokens-0.1.0/bin/nix-tokens git-credential --config /x",
            r"!'/home/me/my bin/nix-tokens' git-credential",
        ] {
            assert!(is_nix_tokens(ours), "{ours}");
        }
        for theirs in [
            "!gh auth git-credential",
            "store",
            "!nix-tokens-other git-credential",
            "!nix-tokens status",
        ] {
            assert!(!is_nix_tokens(theirs), "{theirs}");
        }
    }
}
