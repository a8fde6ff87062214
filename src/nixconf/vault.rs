//! The keyring store: which store a configuration uses (the state file [`STORE_FILE`]), the
//! tokens it keeps in the OS keyring (one entry per configuration, [`Vault`]), and the text of
//! the runtime copies Nix reads (pure; [`super::runtime`] writes them).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::netrc::Netrc;
use super::paths::{Layout, STORE_FILE};
use super::tokens::{EXTRA_ACCESS_TOKENS, TokenMap, check_login, check_netrc_host, check_token};
use super::trust;
use crate::error::{Error, Result};
use crate::keyring::{self, Lookup};
use crate::secret::Secret;

/// Where a configuration keeps its tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    /// access-tokens.conf and netrc beside nix.conf (0600).
    #[default]
    File,
    /// The OS keyring; Nix reads copies in the session's private runtime directory.
    Keyring,
}

/// What the state file [`STORE_FILE`] remembers.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct StoreState {
    pub store: StoreKind,
    /// The netrc Nix read before the keyring store took over: its entries that nix-tokens does
    /// not manage are carried into the runtime netrc.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_netrc: Option<PathBuf>,
    /// `nix-tokens lock` removed the runtime copies: only `unlock` writes them again.
    #[serde(default)]
    pub locked: bool,
    /// The keys (and netrc hosts) whose tokens the keyring holds: names only, never a token, so
    /// that what nix-tokens remembers about their hosts stays.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<String>,
}

/// The state file of `layout`.
pub fn state_path(layout: &Layout) -> PathBuf {
    layout.dir().join(STORE_FILE)
}

/// Reads the state file (the defaults when there is none), strictly: owned by the user or root,
/// writable by no one else, and nothing but the fields above.
pub fn read_state(layout: &Layout) -> Result<StoreState> {
    let path = state_path(layout);
    match trust::read(&path)? {
        None => Ok(StoreState::default()),
        Some(text) => serde_json::from_str(&text).map_err(|_| {
            Error::failed(format!(
                "{} is not a store record nix-tokens wrote; remove it and run `nix-tokens store keyring` or `nix-tokens store file` again",
                path.display()
            ))
        }),
    }
}

/// One netrc entry the keyring holds.
pub struct NetrcLogin {
    pub login: String,
    pub token: Secret<String>,
}

/// The tokens of one configuration in the keyring.
#[derive(Default)]
pub struct Vault {
    pub access_tokens: TokenMap,
    pub netrc: BTreeMap<String, NetrcLogin>,
}

/// The keyring account of `layout`'s tokens.
fn account(layout: &Layout) -> String {
    format!("tokens in {}", layout.dir().display())
}

#[derive(Serialize, Deserialize)]
struct Stored {
    access_tokens: BTreeMap<String, String>,
    netrc: BTreeMap<String, (String, String)>,
}

/// The sentence for a keyring that does not answer.
pub fn unavailable() -> Error {
    Error::failed(
        "no OS keyring answers (no Secret Service on the session bus, or it stays locked), so the keyring store cannot keep the token and nothing was written; unlock or start the keyring (gnome-keyring, KeePassXC), or keep the store in files (--store file)",
    )
}

impl Vault {
    /// The tokens the keyring holds for `layout` (none yet: empty), each checked as a typed one
    /// is; an error when no keyring answers.
    pub fn load(layout: &Layout) -> Result<Self> {
        let text = match keyring::get(&account(layout)) {
            Lookup::Found(text) => text,
            Lookup::Missing => return Ok(Vault::default()),
            Lookup::Unavailable => return Err(unavailable()),
        };
        let bad = || {
            Error::failed(format!(
                "the keyring entry `{}` of service nix-tokens is not one nix-tokens wrote; remove it (seahorse, secret-tool clear) and log in again",
                account(layout)
            ))
        };
        let stored: Stored = serde_json::from_str(text.expose()).map_err(|_| bad())?;
        let mut vault = Vault::default();
        for (key, token) in stored.access_tokens {
            let token = Secret::new(token);
            check_token(&token, &key).map_err(|_| bad())?;
            vault.access_tokens.insert(&key, token);
        }
        for (host, (login, token)) in stored.netrc {
            let token = Secret::new(token);
            check_netrc_host(&host).map_err(|_| bad())?;
            if !login.is_empty() {
                check_login(&login).map_err(|_| bad())?;
            }
            check_token(&token, &host).map_err(|_| bad())?;
            vault.netrc.insert(host, NetrcLogin { login, token });
        }
        Ok(vault)
    }

    /// Stores the vault in the keyring; an error when no keyring took it.
    pub fn save(&self, layout: &Layout) -> Result<()> {
        let stored = Stored {
            access_tokens: self
                .access_tokens
                .iter()
                .map(|(k, t)| (k.to_owned(), t.expose().clone()))
                .collect(),
            netrc: self
                .netrc
                .iter()
                .map(|(h, n)| (h.clone(), (n.login.clone(), n.token.expose().clone())))
                .collect(),
        };
        let text = Secret::new(serde_json::to_string(&stored).expect("strings serialise"));
        let Stored {
            mut access_tokens,
            mut netrc,
        } = stored;
        use zeroize::Zeroize;
        access_tokens.values_mut().for_each(Zeroize::zeroize);
        netrc.values_mut().for_each(|(_, t)| t.zeroize());
        match keyring::set(&account(layout), &text) {
            true => Ok(()),
            false => Err(unavailable()),
        }
    }

    /// The keys and netrc hosts it holds.
    pub fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.access_tokens.keys().map(str::to_owned).collect();
        keys.extend(self.netrc.keys().cloned());
        keys
    }

    /// The runtime `access-tokens.conf`: the tokens added to those Nix has from elsewhere, and
    /// the runtime netrc when the keyring holds netrc entries.
    pub fn render_conf(&self, netrc: &Path) -> Secret<String> {
        let mut text = String::from(
            "# Written by nix-tokens from the OS keyring; `nix-tokens lock` removes it.\n",
        );
        if self.access_tokens.keys().next().is_some() {
            text.push_str(&format!(
                "{EXTRA_ACCESS_TOKENS} = {}\n",
                self.access_tokens.render().expose()
            ));
        }
        if !self.netrc.is_empty() {
            text.push_str(&format!("netrc-file = {}\n", netrc.display()));
        }
        Secret::new(text)
    }

    /// The runtime netrc: the user's own entries of `user` (the netrc Nix read before), but
    /// for the hosts the keyring holds, then the keyring's entries.
    pub fn render_netrc(&self, user: Option<&str>) -> Secret<String> {
        let mut netrc = Netrc::parse(user.unwrap_or(""));
        for (host, entry) in &self.netrc {
            netrc.set(host, &entry.login, &entry.token);
        }
        Secret::new(netrc.render().to_owned())
    }
}
