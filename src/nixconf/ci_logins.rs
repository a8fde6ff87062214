//! `ci-logins.json` beside nix.conf: the `login --ci` calls of this job, each with when its
//! credential was obtained and when it expires (a JWT's `exp`), so that `refresh --ci` can make
//! the same calls again before the credentials run out. It holds no secret: only what was asked.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::fsio;
use super::json_file;
use super::paths::Layout;
use crate::error::Result;

/// One `login TARGET --ci` call, keyed by TARGET.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CiLogin {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub octo_sts: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token_env: Option<String>,
    #[serde(default)]
    pub no_pixi: bool,
    /// Unix seconds.
    pub obtained_at: u64,
    /// Unix seconds; `None` for a credential that lasts the job (a job token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
}

impl CiLogin {
    /// When to renew: once less than a third of the credential's life is left.
    pub fn renew_at(&self) -> Option<u64> {
        let expires = self.expires_at?;
        let life = expires.saturating_sub(self.obtained_at);
        Some(expires.saturating_sub(life / 3))
    }
}

pub type CiLogins = BTreeMap<String, CiLogin>;

pub fn path(layout: &Layout) -> PathBuf {
    layout.ci_logins()
}

/// The CI logins recorded in `path` (none when it does not exist), read as every state file is
/// ([`super::trust::read`]): it names where the job's ID token is sent, so a file another user
/// owns or may write is refused.
pub fn load(path: &Path) -> Result<CiLogins> {
    match super::trust::read(path)? {
        Some(text) => json_file::parse(&text, path),
        None => Ok(CiLogins::new()),
    }
}

/// Records `login` for `target` under the lock, replacing what was recorded for it.
pub fn record(layout: &Layout, target: &str, login: CiLogin) -> Result<()> {
    let path = path(layout);
    let lock = fsio::lock(&layout.lock)?;
    let mut logins = load(&path)?;
    logins.insert(target.to_owned(), login);
    let text = json_file::render(&logins, false);
    fsio::write_atomic(&lock, &path, text.as_bytes(), 0o600)
}

/// Forgets, under the lock, every CI login whose target `gone` says was logged out, so that
/// `refresh --ci` does not bring its credential back. The file goes when none is left.
pub fn forget(layout: &Layout, gone: impl Fn(&str) -> bool) -> Result<()> {
    let path = path(layout);
    let lock = fsio::lock(&layout.lock)?;
    let mut logins = load(&path)?;
    let before = logins.len();
    logins.retain(|target, _| !gone(target));
    match (logins.len(), before) {
        (n, m) if n == m => Ok(()),
        (0, _) => fsio::remove(&lock, &path),
        _ => fsio::write_atomic(
            &lock,
            &path,
            json_file::render(&logins, false).as_bytes(),
            0o600,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renewal_comes_when_a_third_of_the_life_is_left() {
        let login = CiLogin {
            obtained_at: 1000,
            expires_at: Some(1300),
            ..CiLogin::default()
        };
        assert_eq!(login.renew_at(), Some(1200));
        assert_eq!(CiLogin::default().renew_at(), None);
    }
}
