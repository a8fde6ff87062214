//! What nix-tokens remembers about each host it logged in to: the provider and the base URL, so
//! that `status`, `logout` and `refresh` never have to detect them again. Nothing secret is kept
//! here; the file is still private (0600) and written like every other file.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::json_file;
use crate::error::Result;

/// The facts about one host.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostInfo {
    pub provider: String,
    /// Where the host's web and API endpoints are, when not at `https://HOST`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// Who the token belonged to when it was checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The entry nix-tokens wrote for the host in pixi's credential store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pixi: Option<PixiLink>,
    /// The substituter nix-tokens added to Nix's configuration for the host's cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub substituter: Option<String>,
    /// The public keys nix-tokens added to Nix's trusted keys with it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub public_keys: Vec<String>,
}

/// Where a host's login was also written for pixi: the file and the key in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PixiLink {
    pub file: std::path::PathBuf,
    pub key: String,
}

/// The whole file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hosts {
    #[serde(default)]
    pub hosts: BTreeMap<String, HostInfo>,
}

impl Hosts {
    /// Reads the file's text; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        json_file::parse(text, path)
    }

    /// Reads the file at `path` (none yet is an empty one), refusing one others could have
    /// changed ([`super::trust`]).
    pub fn load(path: &Path) -> Result<Self> {
        let text = super::trust::read(path)?;
        Hosts::parse(text.as_deref().unwrap_or(""), path)
    }

    pub fn render(&self) -> String {
        json_file::render(self, self.hosts.is_empty())
    }

    pub fn get(&self, host: &str) -> Option<&HostInfo> {
        self.hosts.get(host)
    }
}

impl super::document::Document for Hosts {
    fn parse(text: &str, path: &Path) -> Result<Self> {
        Hosts::parse(text, path)
    }

    fn render(&self) -> String {
        Hosts::render(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_names_a_broken_file() {
        let mut hosts = Hosts::default();
        hosts.hosts.insert(
            "ghe.corp.example".into(),
            HostInfo {
                provider: "github".into(),
                base_url: Some("https://proxy.example/ghe".into()),
                user: Some("octocat".into()),
                pixi: None,
                ..HostInfo::default()
            },
        );
        let text = hosts.render();
        assert_eq!(Hosts::parse(&text, Path::new("f")).unwrap(), hosts);
        assert_eq!(Hosts::parse("", Path::new("f")).unwrap(), Hosts::default());
        let err = Hosts::parse("{\n  \"hosts\": [\n", Path::new("/x/state.json"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("/x/state.json line"), "{err}");
    }
}
