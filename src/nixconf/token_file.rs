//! The documents of Nix's own files: nix.conf and the token file (`access-tokens.conf`) as
//! [`ConfFile`]s, netrc, and the token file's tokens.
//!
//! The token file is nix-tokens' own: one `access-tokens` (or `extra-access-tokens`) line, a
//! `netrc-file` line when nix-tokens chose the netrc, and the `extra-substituters` and
//! `extra-trusted-public-keys` of the caches it logged in to, under a header saying what the file
//! is. A key
//! that an earlier line of the file set and a later one hid is kept, not lost.

use std::path::Path;

use super::conf::ConfFile;
use super::document::Document;
use super::netrc::Netrc;
use super::tokens::{ACCESS_TOKENS, EXTRA_ACCESS_TOKENS, TokenMap};
use crate::error::{Error, Result};

const HEADER: &str = "# Access tokens for Nix, written by nix-tokens. Keep this file private (mode 0600).\n\
# nix.conf reads it through `!include access-tokens.conf`; edit it with `nix-tokens set-token` and `nix-tokens logout`.\n";

/// A configuration file Nix itself would refuse is refused here too.
impl Document for ConfFile {
    fn parse(text: &str, path: &Path) -> Result<Self> {
        let conf = ConfFile::parse(text);
        match conf.first_invalid() {
            Some((line, reason)) => Err(Error::failed(format!(
                "{} line {line} is not valid Nix configuration ({reason}); Nix itself rejects it, so fix that line first and nothing has been changed",
                path.display()
            ))),
            None => Ok(conf),
        }
    }

    fn render(&self) -> String {
        ConfFile::render(self)
    }
}

impl Document for Netrc {
    fn parse(text: &str, _path: &Path) -> Result<Self> {
        Ok(Netrc::parse(text))
    }

    fn render(&self) -> String {
        Netrc::render(self).to_owned()
    }
}

/// The token file: its lines, and the tokens its `access-tokens` line will hold.
#[derive(Debug)]
pub struct TokenFile {
    pub conf: ConfFile,
    /// What the file's `access-tokens` line holds; [`TokenFile::finish`] writes it back.
    pub tokens: TokenMap,
}

impl Document for TokenFile {
    fn parse(text: &str, path: &Path) -> Result<Self> {
        let conf: ConfFile = Document::parse(text, path)?;
        let mut tokens = TokenMap::default();
        for (_, name, value) in conf.settings() {
            tokens.apply(&name, &value);
        }
        // A key an earlier line of the token file set and a later one hid is kept, not lost. Only
        // these two settings hold tokens: any other value with `=` in it stays a value.
        let token_lines = conf
            .settings()
            .filter(|(_, name, _)| name == ACCESS_TOKENS || name == EXTRA_ACCESS_TOKENS);
        for (_, _, value) in token_lines {
            for (k, t) in TokenMap::parse(&value).iter() {
                tokens.insert_if_absent(k, t.clone());
            }
        }
        Ok(TokenFile { conf, tokens })
    }

    fn render(&self) -> String {
        self.conf.render()
    }
}

impl TokenFile {
    /// Writes the tokens into the file's lines as `name` (`access-tokens` or
    /// `extra-access-tokens`), removing the line when none is left, and puts the header on a file
    /// that is `new`.
    pub fn finish(&mut self, name: &str, new: bool) {
        let value = self.tokens.render();
        let value = (!value.expose().is_empty()).then(|| value.expose().clone());
        self.conf
            .set_setting_as(ACCESS_TOKENS, name, value.as_deref());
        if new && !self.conf.is_empty() {
            let body = self.conf.render();
            self.conf = ConfFile::parse(&format!("{HEADER}{body}"));
        }
    }
}
