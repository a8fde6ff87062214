//! OAuth logins that can be renewed: for each token key, when the access token expires, and where
//! and as which client to renew it, kept beside nix.conf in a 0600 file that every commit writes
//! together with Nix's token file, under the same lock. The refresh token itself goes to the OS
//! keyring when one answers (the file then only says so), else into this file.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use super::json_file;
use crate::error::Result;
use crate::secret::Secret;

/// One renewable login.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthLogin {
    pub provider: String,
    pub client_id: String,
    pub token_endpoint: String,
    /// Unix seconds at which the access token stops working.
    pub expires_at: u64,
    /// The refresh token, when it is kept in this file rather than in the keyring.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "secret_string"
    )]
    pub refresh_token: Option<Secret<String>>,
    /// Unix seconds at which the refresh token stops working, when the provider said (GitHub
    /// Apps: six months); the login must be made again by then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_expires_at: Option<u64>,
    /// The refresh token is in the OS keyring (service `nix-tokens`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub in_keyring: bool,
    /// The fingerprint of the access token Nix's file holds for this login; when the file holds
    /// another (a write that never happened), the login is renewed at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_fingerprint: Option<String>,
    /// The access token lives in the netrc under this login name, not in access-tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub netrc_login: Option<String>,
    /// Where the provider revokes tokens (RFC 7009), when it said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint: Option<String>,
    /// The secret of a confidential client, which renewing needs too.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "secret_string"
    )]
    pub client_secret: Option<Secret<String>>,
}

/// Every renewable login, by token key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthLogins {
    #[serde(default)]
    pub logins: BTreeMap<String, OAuthLogin>,
}

impl OAuthLogins {
    /// Reads the file's text; `path` names it in errors (which never quote the file).
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        json_file::parse(text, path)
    }

    /// Reads the file at `path` (none yet is an empty one), refusing one others could have
    /// changed ([`super::trust`]).
    pub fn load(path: &Path) -> Result<Self> {
        let text = super::trust::read(path)?;
        OAuthLogins::parse(text.as_deref().unwrap_or(""), path)
    }

    /// The file's text (it holds refresh tokens: it is only ever written 0600).
    pub fn render(&self) -> String {
        json_file::render(self, self.logins.is_empty())
    }
}

mod secret_string {
    use super::*;

    pub fn serialize<S: serde::Serializer>(
        v: &Option<Secret<String>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.serialize_str(v.expose()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Secret<String>>, D::Error> {
        let Some(mut text) = Option::<String>::deserialize(d)? else {
            return Ok(None);
        };
        let secret = Secret::new(text.clone());
        text.zeroize();
        Ok(Some(secret))
    }
}

impl super::document::Document for OAuthLogins {
    fn parse(text: &str, path: &Path) -> Result<Self> {
        OAuthLogins::parse(text, path)
    }

    fn render(&self) -> String {
        OAuthLogins::render(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_never_quotes_a_broken_file() {
        let mut logins = OAuthLogins::default();
        logins.logins.insert(
            "gitlab.com".into(),
            OAuthLogin {
                provider: "gitlab".into(),
                client_id: "abc".into(),
                token_endpoint: "https://gitlab.com/oauth/token".into(),
                expires_at: 1_800_000_000,
                refresh_expires_at: Some(1_815_000_000),
                refresh_token: Some(Secret::from("refresh-secret")),
                in_keyring: false,
                access_fingerprint: None,
                netrc_login: None,
                revocation_endpoint: None,
                client_secret: None,
            },
        );
        let text = logins.render();
        assert_eq!(OAuthLogins::parse(&text, Path::new("f")).unwrap(), logins);
        let broken = text.replace("\"expires_at\"", "\"expires_at");
        let err = OAuthLogins::parse(&broken, Path::new("/x/o.json"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("/x/o.json line"), "{err}");
        assert!(!err.contains("refresh-secret"), "{err}");
    }
}
