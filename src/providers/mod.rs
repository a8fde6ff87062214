//! What kind of service a host runs, and what that means for its token: the format Nix expects
//! and the file (sink) Nix reads it from.
//!
//! The built-in table below knows the public hosts; `--provider` names the kind for any other host.

use crate::error::{Error, Result};
use crate::nixconf::tokens::{key_host, normalize_key};
use crate::secret::Secret;

/// The protocol family of a provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Github,
    Gitlab,
    Gitea,
    Forgejo,
    Sourcehut,
    Oidc,
}

/// Where Nix reads a host's token from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sink {
    /// The `access-tokens` setting, read by Nix's `github:`, `gitlab:` and `sourcehut:` fetchers.
    AccessTokens,
    /// A netrc entry, read by every curl download Nix makes.
    Netrc,
}

/// A provider Nix-tokens knows without being told.
#[derive(Debug, Clone, Copy)]
pub struct Provider {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub kind: Kind,
    pub default_host: Option<&'static str>,
    /// Where a person creates a token by hand, `{host}` standing for the host.
    pub token_page: Option<&'static str>,
}

const BUILTIN: &[Provider] = &[
    Provider {
        name: "github",
        aliases: &["gh", "ghes"],
        kind: Kind::Github,
        default_host: Some("github.com"),
        token_page: Some("https://{host}/settings/tokens/new?description=nix-tokens&scopes=repo"),
    },
    Provider {
        name: "gitlab",
        aliases: &["gl"],
        kind: Kind::Gitlab,
        default_host: Some("gitlab.com"),
        token_page: Some(
            "https://{host}/-/user_settings/personal_access_tokens?name=nix-tokens&scopes=read_api,read_repository",
        ),
    },
    Provider {
        name: "gitea",
        aliases: &[],
        kind: Kind::Gitea,
        default_host: None,
        token_page: Some("https://{host}/user/settings/applications"),
    },
    Provider {
        name: "forgejo",
        aliases: &[],
        kind: Kind::Forgejo,
        default_host: None,
        token_page: Some("https://{host}/user/settings/applications"),
    },
    Provider {
        name: "codeberg",
        aliases: &[],
        kind: Kind::Forgejo,
        default_host: Some("codeberg.org"),
        token_page: Some("https://{host}/user/settings/applications"),
    },
    Provider {
        name: "sourcehut",
        aliases: &["srht"],
        kind: Kind::Sourcehut,
        default_host: Some("git.sr.ht"),
        token_page: Some("https://meta.sr.ht/oauth2/personal-token"),
    },
    Provider {
        name: "prefix-dev",
        aliases: &["prefix.dev", "prefix"],
        kind: Kind::Oidc,
        default_host: Some("prefix.dev"),
        token_page: Some("https://prefix.dev/settings/api_keys"),
    },
];

/// Every provider name and alias, for help texts and errors.
pub fn names() -> Vec<&'static str> {
    BUILTIN.iter().map(|p| p.name).collect()
}

/// The provider called `name` (or one of its aliases).
pub fn by_name(name: &str) -> Option<&'static Provider> {
    let name = name.to_ascii_lowercase();
    BUILTIN
        .iter()
        .find(|p| p.name == name || p.aliases.contains(&name.as_str()))
}

/// `--provider NAME`, or an error listing the names there are.
pub fn require(name: &str) -> Result<&'static Provider> {
    by_name(name).ok_or_else(|| {
        Error::usage(format!(
            "unknown provider `{name}`; use one of: {}",
            names().join(", ")
        ))
    })
}

/// The provider whose default host is `host`.
pub fn by_host(host: &str) -> Option<&'static Provider> {
    BUILTIN.iter().find(|p| p.default_host == Some(host))
}

/// Reads a `PROVIDER|HOST` argument (and `--provider`) into the token key and its provider:
/// `github` means github.com, `git.example.com` is looked up by host, `--provider` wins.
pub fn resolve_target(
    target: &str,
    provider_flag: Option<&str>,
) -> Result<(String, Option<&'static Provider>)> {
    let flagged = provider_flag.map(require).transpose()?;
    let named = by_name(target).filter(|_| !target.contains('.'));
    let key = match named {
        Some(p) => match p.default_host {
            Some(host) => host.to_owned(),
            None => {
                return Err(Error::usage(format!(
                    "{} has no default host; give the host, for example `git.example.com --provider {}`",
                    p.name, p.name
                )));
            }
        },
        None => normalize_key(target)?,
    };
    let provider = flagged.or(named).or_else(|| by_host(key_host(&key)));
    Ok((key, provider))
}

impl Provider {
    pub fn sink(&self) -> Sink {
        match self.kind {
            Kind::Github | Kind::Gitlab | Kind::Sourcehut => Sink::AccessTokens,
            Kind::Gitea | Kind::Forgejo | Kind::Oidc => Sink::Netrc,
        }
    }

    /// The token as Nix must see it: GitLab tokens always carry `PAT:` or `OAuth2:` (a bare one
    /// makes Nix print it in a warning and fail), everything else is written as given.
    pub fn nix_format(&self, token: Secret<String>) -> Secret<String> {
        let t = token.expose();
        if self.kind == Kind::Gitlab && !t.starts_with("PAT:") && !t.starts_with("OAuth2:") {
            return Secret::new(format!("PAT:{t}"));
        }
        token
    }

    /// The netrc login that goes with a token: the forges accept any name beside a token.
    pub fn netrc_login(&self) -> &'static str {
        match self.kind {
            Kind::Github => "x-access-token",
            Kind::Gitlab => "oauth2",
            _ => "nix-tokens",
        }
    }

    pub fn token_page_for(&self, host: &str) -> Option<String> {
        self.token_page.map(|p| p.replace("{host}", host))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gitlab_tokens_always_carry_a_prefix() {
        let gl = by_name("gitlab").unwrap();
        assert_eq!(gl.nix_format("glpat-x".into()).expose(), "PAT:glpat-x");
        assert_eq!(gl.nix_format("OAuth2:y".into()).expose(), "OAuth2:y");
        let gh = by_name("GitHub").unwrap();
        assert_eq!(gh.nix_format("ghp_x".into()).expose(), "ghp_x");
    }

    #[test]
    fn targets_resolve_to_keys() {
        let (key, p) = resolve_target("github", None).unwrap();
        assert_eq!((key.as_str(), p.unwrap().name), ("github.com", "github"));
        let (key, p) = resolve_target("https://Codeberg.org/", None).unwrap();
        assert_eq!(
            (key.as_str(), p.unwrap().kind),
            ("codeberg.org", Kind::Forgejo)
        );
        let (key, p) = resolve_target("git.example.com", Some("gitea")).unwrap();
        assert_eq!(
            (key.as_str(), p.unwrap().kind),
            ("git.example.com", Kind::Gitea)
        );
        let (_, p) = resolve_target("example.org", None).unwrap();
        assert!(p.is_none());
        assert!(resolve_target("gitea", None).is_err());
    }

    #[test]
    fn hosts_and_aliases_resolve() {
        assert_eq!(by_host("codeberg.org").unwrap().kind, Kind::Forgejo);
        assert_eq!(by_name("srht").unwrap().name, "sourcehut");
        assert_eq!(by_name("forgejo").unwrap().sink(), Sink::Netrc);
        assert!(
            require("bitbucket")
                .unwrap_err()
                .to_string()
                .contains("github")
        );
    }
}
