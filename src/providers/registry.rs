//! The provider registry: the files built into the binary, then the user's own, which add
//! providers or replace one of the same name.

use std::path::{Path, PathBuf};

use super::provider::Provider;
use crate::error::{Error, Result};
use crate::nixconf::hosts::Hosts;
use crate::nixconf::tokens::{key_host, normalize_key};
use crate::ui::printable;

include!(concat!(env!("OUT_DIR"), "/builtin_providers.rs"));

#[derive(Debug, Clone)]
pub struct Registry {
    providers: Vec<Provider>,
}

/// Reads one provider file; `origin` names it in errors (a path, or `built-in NAME`).
fn parse(origin: &str, text: &str) -> Result<Provider> {
    toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|s| format!(" line {}", text[..s.start].matches('\n').count() + 1))
            .unwrap_or_default();
        // The message quotes the file, whose strings may hold escaped newlines or terminal codes.
        Error::failed(printable(&format!(
            "the provider file {origin}{line} is not valid: {}; fix or remove it",
            e.message().trim_end_matches('\n')
        )))
    })
}

/// `$XDG_CONFIG_HOME/nix-tokens/providers`, or `~/.config/nix-tokens/providers`.
pub fn user_dir() -> Option<PathBuf> {
    let var = |name| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let config = var("XDG_CONFIG_HOME").or_else(|| var("HOME").map(|h| h.join(".config")))?;
    Some(config.join("nix-tokens").join("providers"))
}

impl Registry {
    /// The built-in providers and the user's own from `user_dir`.
    pub fn load(user_dir: Option<&Path>) -> Result<Self> {
        let mut providers = Vec::new();
        for (file, text) in BUILTIN {
            providers.push(parse(&format!("built-in {file}"), text)?);
        }
        let mut registry = Registry { providers };
        if let Some(dir) = user_dir {
            registry.add_user_files(dir)?;
        }
        Ok(registry)
    }

    fn add_user_files(&mut self, dir: &Path) -> Result<()> {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(Error::io("read the provider directory", dir, &e)),
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        files.sort();
        for path in files {
            // A provider file says where a host's tokens go: one others could change is refused.
            let Some(text) = crate::nixconf::trust::read(&path)? else {
                continue;
            };
            let provider = parse(&path.display().to_string(), &text)?;
            match self.providers.iter_mut().find(|p| p.name == provider.name) {
                Some(slot) => *slot = provider,
                None => self.providers.push(provider),
            }
        }
        Ok(())
    }

    /// Every provider name, for help texts and errors.
    pub fn names(&self) -> Vec<&str> {
        self.providers.iter().map(|p| p.name.as_str()).collect()
    }

    /// The provider called `name` or with that alias (case does not matter).
    pub fn by_name(&self, name: &str) -> Option<&Provider> {
        let name = name.to_ascii_lowercase();
        self.providers
            .iter()
            .find(|p| p.name == name || p.aliases.contains(&name))
    }

    /// `--provider NAME`, or an error listing the names there are.
    pub fn require(&self, name: &str) -> Result<&Provider> {
        self.by_name(name).ok_or_else(|| {
            Error::usage(format!(
                "unknown provider `{name}`; use one of: {} (or add a file to {})",
                self.names().join(", "),
                user_dir().map_or_else(
                    || "~/.config/nix-tokens/providers".to_owned(),
                    |d| d.display().to_string()
                )
            ))
        })
    }

    /// The provider whose default host is `host`, else one of whose caches or netrc hosts `host`
    /// is (`mycache.cachix.org`, `api.flakehub.com`); a user's file wins over a built-in one.
    pub fn by_host(&self, host: &str) -> Option<&Provider> {
        let hosts = |p: &&Provider| {
            p.cache_name(host).is_some()
                || p.cache
                    .as_ref()
                    .is_some_and(|c| c.hosts.iter().any(|h| h == host))
        };
        let found = self.providers.iter().rev();
        found
            .clone()
            .find(|p| p.default_host.as_deref() == Some(host))
            .or_else(|| found.clone().find(hosts))
    }

    /// The one answer to which provider serves `host`: the one nix-tokens remembers for it (named
    /// in the hosts file at login), else [`Registry::by_host`]. A remembered name the registry no
    /// longer has (its provider file was removed) counts as none remembered: the host's provider is
    /// then found by its host, else it is unknown (and `status` detects what the host runs).
    pub fn serving(&self, host: &str, remembered: &Hosts) -> Option<&Provider> {
        remembered
            .get(host)
            .and_then(|h| self.by_name(&h.provider))
            .or_else(|| self.by_host(host))
    }

    /// Reads a `PROVIDER|HOST` argument (and `--provider`) into the token key and its provider:
    /// `github` means github.com, `git.example.com` is looked up by host, `--provider` wins.
    pub fn resolve_target(
        &self,
        target: &str,
        provider_flag: Option<&str>,
    ) -> Result<(String, Option<&Provider>)> {
        let flagged = provider_flag.map(|p| self.require(p)).transpose()?;
        let named = self
            .by_name(target)
            .filter(|p| !target.contains('.') || p.aliases.iter().any(|a| a == target));
        let key = match named {
            Some(p) => match &p.default_host {
                Some(host) => host.clone(),
                // Each cache has a host of its own: the cache's name says which.
                None if let Some(host) = p.cache_host("NAME") => {
                    return Err(Error::usage(format!(
                        "each {} cache has a host of its own ({host}): name the cache with --cache NAME (`nix-tokens login {} --cache NAME`), or give its host",
                        p.name, p.name
                    )));
                }
                None => {
                    return Err(Error::usage(format!(
                        "{} has no default host; give the host, for example `git.example.com --provider {}`",
                        p.name, p.name
                    )));
                }
            },
            None => normalize_key(target)?,
        };
        let provider = flagged.or(named).or_else(|| self.by_host(key_host(&key)));
        Ok((key, provider))
    }
}

#[cfg(test)]
mod tests;
