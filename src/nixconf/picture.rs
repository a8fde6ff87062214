//! The picture: what Nix sees, worked out from the configuration files every operation reads —
//! Nix's settings in order, the access tokens they give (used and hidden, with where each comes
//! from), the netrc Nix reads and every credential Nix will send. Built from what this run has
//! read already ([`super::seen`]), so building it again after a write opens nothing.
//!
//! The install (single-user or daemon, trust, which Nix) is [`super::install::Install`], built from
//! the same settings; which netrc the process that downloads reads is its `netrc`.

use std::path::{Path, PathBuf};

use super::netrc::Netrc;
use super::pasted;
use super::paths::Layout;
use super::seen;
use super::view::{self, SeenToken, Setting};
use crate::error::Result;
use crate::secret::Secret;

/// What Nix sees for the user of `layout`.
#[derive(Debug)]
pub struct Picture {
    /// Every setting Nix applies, in order.
    pub settings: Vec<Setting>,
    /// Every access token, the ones Nix uses first (see [`view::access_tokens`]).
    pub tokens: Vec<SeenToken>,
    /// The netrc Nix reads: the last `netrc-file`, else the system directory's `netrc`.
    pub netrc_path: PathBuf,
    /// That netrc (`None` when missing), or why it cannot be read.
    pub netrc: std::result::Result<Option<Netrc>, String>,
}

/// Where a credential Nix sends comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    AccessTokens,
    Netrc,
}

/// One credential Nix will send.
#[derive(Debug, Clone)]
pub struct Credential {
    /// The `access-tokens` key (`host` or `host/owner`), or the netrc's `machine`.
    pub key: String,
    pub secret: Secret<String>,
    pub origin: Origin,
    pub file: PathBuf,
    /// The line of an `access-tokens` setting (netrc entries have none).
    pub line: Option<usize>,
    /// A netrc entry's login.
    pub login: Option<String>,
    /// A token pasted where the host belongs: no credential for any host.
    pub pasted: bool,
}

impl Credential {
    /// The sentence that says which line to fix, for a pasted token.
    pub fn fix_sentence(&self) -> String {
        pasted::fix_sentence(&self.key, &self.file, self.line)
    }
}

impl Picture {
    /// The picture for `layout`'s files.
    pub fn read(layout: &Layout) -> Result<Self> {
        Ok(Self::of(
            view::settings_in_order(&layout.nix_read_order())?,
            &layout.system_dir,
        ))
    }

    /// The picture of `settings` (from [`view::settings_in_order`]).
    pub fn of(settings: Vec<Setting>, system_dir: &Path) -> Self {
        let tokens = view::access_tokens(&settings);
        let netrc_path = view::netrc_file(&settings, system_dir);
        let netrc = seen::read_text(&netrc_path)
            .map(|text| text.map(|t| Netrc::parse(&t)))
            .map_err(|e| e.to_string());
        Picture {
            settings,
            tokens,
            netrc_path,
            netrc,
        }
    }

    /// The access tokens Nix uses (no later setting hides them).
    pub fn tokens_used(&self) -> impl Iterator<Item = &SeenToken> {
        self.tokens.iter().filter(|t| t.shadowed_by.is_none())
    }

    /// Every credential Nix will send: the access tokens it uses, then its netrc's entries that
    /// hold a password. Pasted tokens are flagged, for the caller to warn about and leave out.
    pub fn credentials(&self) -> Vec<Credential> {
        let mut out: Vec<Credential> = self
            .tokens_used()
            .map(|t| Credential {
                key: t.key.clone(),
                secret: t.token.clone(),
                origin: Origin::AccessTokens,
                file: t.file.clone(),
                line: Some(t.line),
                login: None,
                pasted: pasted::token_shaped(&t.key),
            })
            .collect();
        if let Ok(Some(netrc)) = &self.netrc {
            for entry in netrc.entries() {
                if let (Some(host), Some(password)) = (&entry.machine, &entry.password) {
                    out.push(Credential {
                        key: host.clone(),
                        secret: password.clone(),
                        origin: Origin::Netrc,
                        file: self.netrc_path.clone(),
                        line: None,
                        login: entry.login.clone(),
                        pasted: pasted::token_shaped(host),
                    });
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_credential_nix_sends_with_where_it_comes_from() {
        let dir = tempfile::tempdir().unwrap();
        let netrc = dir.path().join("netrc");
        std::fs::write(
            &netrc,
            "machine cache.example.org password p1\nmachine ghp_0123456789abcdefghijklmnopqrstuvwxyz password p2\nmachine nopassword.org\n",
        )
        .unwrap();
        let setting = |line, name: &str, value: &str| Setting {
            file: dir.path().join("nix.conf"),
            line,
            name: name.into(),
            value: value.into(),
        };
        let picture = Picture::of(
            vec![
                setting(1, "access-tokens", "old.org=x"),
                setting(2, "access-tokens", "github.com=t1 github.com/work=t2"),
                setting(3, "netrc-file", &netrc.display().to_string()),
            ],
            dir.path(),
        );
        let got: Vec<_> = picture
            .credentials()
            .into_iter()
            .map(|c| (c.key, c.origin, c.line, c.pasted))
            .collect();
        assert_eq!(
            got,
            [
                ("github.com".into(), Origin::AccessTokens, Some(2), false),
                (
                    "github.com/work".into(),
                    Origin::AccessTokens,
                    Some(2),
                    false
                ),
                ("cache.example.org".into(), Origin::Netrc, None, false),
                (
                    "ghp_0123456789abcdefghijklmnopqrstuvwxyz".into(),
                    Origin::Netrc,
                    None,
                    true
                ),
            ]
        );
        assert_eq!(picture.tokens.len(), 3, "the hidden token is still seen");
        assert_eq!(picture.netrc_path, netrc);
    }
}
