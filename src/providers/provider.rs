//! One provider as its TOML file describes it (`providers/*.toml`, or the user's own): its name,
//! its kind, the file Nix reads its tokens from, and where people create tokens. Data only; what a
//! kind does with it is in the kind's module (see [`super::kinds`]).

use serde::Deserialize;

/// The protocol family of a provider; [`super::kinds`] says which module implements each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Github,
    Gitlab,
    Gitea,
    Forgejo,
    Sourcehut,
    Oidc,
    #[serde(rename = "nix-cache")]
    NixCache,
}

pub use crate::nixconf::install::Sink;

/// One provider, as its file describes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provider {
    pub name: String,
    pub kind: Kind,
    #[serde(default)]
    pub aliases: Vec<String>,
    /// The host a bare provider name means (`github` → github.com), if there is one.
    pub default_host: Option<String>,
    pub sink: Sink,
    /// The netrc login written beside a token; the forges accept any name beside a token. Empty:
    /// no login at all (curl then sends the token as the password of an empty user).
    #[serde(default = "default_login")]
    pub netrc_login: String,
    /// The scopes a token needs for Nix to read private repositories.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Where a person creates a token by hand, `{host}` standing for the host.
    pub token_page: Option<String>,
    /// What to tell a person about making a token, instead of the token page and scopes;
    /// `{host}` and `{cache}` stand for the host and the cache.
    pub token_help: Option<String>,
    /// Where or how to revoke a token by hand, instead of the token page; `{host}` stands for
    /// the host.
    pub revoke_hint: Option<String>,
    /// The OAuth device flow, where the provider offers one.
    pub device: Option<DeviceFlow>,
    /// The OpenID Connect issuer, for `kind = "oidc"`.
    pub oidc: Option<OidcIssuer>,
    /// The binary cache, for `kind = "nix-cache"`.
    pub cache: Option<CacheSpec>,
    /// What a CI job's own identity is traded for here (`login PROVIDER --ci`), where anything.
    pub ci: Option<CiIdentity>,
}

/// The credential a CI job's own identity gives for a provider: the `[ci]` table, whose
/// `identity` says which.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "identity", rename_all = "kebab-case", deny_unknown_fields)]
pub enum CiIdentity {
    /// The job's own token for its forge: GitHub Actions' `GITHUB_TOKEN` (kind `github`), GitLab
    /// CI's `CI_JOB_TOKEN` (kind `gitlab`).
    JobToken {
        /// An owner or repository (`HOST/OWNER[/REPO] --octo-sts IDENTITY`) is logged in to with
        /// an installation token from octo-sts's exchange of the job's ID token.
        #[serde(default)]
        octo_sts: bool,
    },
    /// The job's ID token itself, requested for `audience`.
    IdToken { audience: String },
    /// The job's ID token, requested for `audience`, traded at the provider's mint: a `POST` to
    /// `path`, relative to the host's base URL.
    Mint { audience: String, path: String },
}

/// A binary cache provider: where its substituter is and which hosts its token is written for.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheSpec {
    /// The substituter's URL: `{host}` stands for the host, `{cache}` for the cache's name
    /// (`login … --cache NAME`).
    pub substituter: String,
    /// The host of the cache `{cache}` (`{cache}.cachix.org`), for providers whose caches each
    /// have a host of their own.
    pub host: Option<String>,
    /// Every host whose netrc entry carries the token (default: the host alone).
    #[serde(default)]
    pub hosts: Vec<String>,
    /// The API that tells a cache's substituter and signing keys (`login` asks it so that Nix
    /// uses the cache), where the provider has one.
    pub api: Option<CacheApi>,
    /// The keys the provider signs its cache with, where it publishes them instead of an API.
    #[serde(default)]
    pub public_keys: Vec<String>,
    /// What sets up the substituter and keys of the provider's cache itself, so that a login
    /// stores the credential alone (unless `--public-key` is given).
    pub set_up_by: Option<String>,
}

/// Which cache API a provider runs, and where.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheApi {
    pub kind: CacheApiKind,
    /// The cache's configuration: `{cache}` stands for its name, `{host}` for the host and
    /// `{origin}` for the scheme, host and port of the substituter the token is checked at.
    pub url: String,
}

/// The shape of a cache API's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CacheApiKind {
    /// Cachix's `GET /api/v1/cache/NAME`.
    Cachix,
    /// Attic's `GET /_api/v1/cache-config/CACHE`.
    Attic,
}

/// An OpenID Connect provider's issuer and public client; its endpoints come from discovery.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcIssuer {
    /// The issuer URL for the provider's default host (other hosts: `https://HOST`, or
    /// `--oauth-issuer-url`).
    pub issuer: Option<String>,
    /// The public client for the default host; other hosts need `--oauth-client-id`.
    pub client_id: Option<String>,
    /// Where a GraphQL API answers `query { viewer { login } }` (prefix.dev), relative to the
    /// host's base URL; without it a token is checked at the issuer's `userinfo_endpoint`.
    pub graphql_path: Option<String>,
}

/// A provider's OAuth device flow: endpoints relative to the host's base URL.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceFlow {
    /// The public OAuth app for the provider's default host; other hosts need `--client-id`.
    pub client_id: Option<String>,
    pub authorization_path: String,
    pub token_path: String,
    /// `client_id` is an app whose permissions decide what its tokens may do (a GitHub App with
    /// Contents: Read-only): `login --read-only` takes its device flow, and the provider's
    /// read-only check decides, as with `--client-id`.
    #[serde(default)]
    pub app: bool,
}

fn default_login() -> String {
    "nix-tokens".to_owned()
}

impl Provider {
    pub fn token_page_for(&self, host: &str) -> Option<String> {
        self.token_page.as_ref().map(|p| p.replace("{host}", host))
    }

    /// The device flow's client id for `host`: `--client-id`, else the provider's own app when
    /// `host` is its default host.
    pub fn device_client_id(&self, host: &str, given: Option<&str>) -> Option<String> {
        let device = self.device.as_ref()?;
        given.map(str::to_owned).or_else(|| {
            device
                .client_id
                .clone()
                .filter(|_| self.default_host.as_deref() == Some(host))
        })
    }

    /// Whether the provider's own device client for `host` is an app whose permissions decide what
    /// its tokens may do (`app = true` in the provider file).
    pub fn device_is_app(&self, host: &str) -> bool {
        self.device.as_ref().is_some_and(|d| d.app) && self.device_client_id(host, None).is_some()
    }

    /// One sentence telling a person where to create a token for `host` and what to tick.
    pub fn token_advice(&self, host: &str) -> Option<String> {
        if let Some(help) = &self.token_help {
            let cache = self.cache_name(host).unwrap_or("CACHE");
            return Some(help.replace("{host}", host).replace("{cache}", cache));
        }
        let page = self.token_page_for(host)?;
        Some(match self.scopes.as_slice() {
            [] => format!("create a token at {page}"),
            scopes => format!(
                "create a token with the scopes {} at {page}",
                scopes.join(", ")
            ),
        })
    }

    /// A setting of the provider file's `[oidc]` table, which holds for its default host only.
    pub fn own_oidc(&self, host: &str, field: fn(&OidcIssuer) -> &Option<String>) -> Option<&str> {
        let oidc = self.oidc.as_ref()?;
        field(oidc)
            .as_deref()
            .filter(|_| self.default_host.as_deref() == Some(host))
    }

    /// The host of the cache `name`, for a provider whose caches each have a host.
    pub fn cache_host(&self, name: &str) -> Option<String> {
        let pattern = self.cache.as_ref()?.host.as_ref()?;
        Some(pattern.replace("{cache}", name))
    }

    /// The cache `host` is the host of, for a provider whose caches each have a host
    /// (`mycache.cachix.org` → `mycache`).
    pub fn cache_name<'h>(&self, host: &'h str) -> Option<&'h str> {
        let pattern = self.cache.as_ref()?.host.as_ref()?;
        let (before, after) = pattern.split_once("{cache}")?;
        let name = host.strip_prefix(before)?.strip_suffix(after)?;
        (!name.is_empty() && !name.contains('.')).then_some(name)
    }

    /// The substituter of the cache `cache` on `host`, or `None` when the provider's URL needs a
    /// cache name and none is known.
    pub fn substituter(&self, host: &str, cache: Option<&str>) -> Option<String> {
        let template = &self.cache.as_ref()?.substituter;
        let cache = cache.or_else(|| self.cache_name(host));
        match cache {
            Some(cache) => Some(template.replace("{cache}", cache)),
            None if template.contains("{cache}") => None,
            None => Some(template.clone()),
        }
        .map(|url| url.replace("{host}", host))
    }

    /// Every host whose netrc entry carries the token for `host`.
    pub fn netrc_hosts(&self, host: &str) -> Vec<String> {
        match self.cache.as_ref().map(|c| c.hosts.as_slice()) {
            Some(hosts) if !hosts.is_empty() => hosts.to_vec(),
            _ => vec![host.to_owned()],
        }
    }

    /// One sentence on where to revoke a token for `host` by hand.
    pub fn revoke_by_hand(&self, host: &str) -> String {
        match (&self.revoke_hint, self.token_page_for(host)) {
            (Some(hint), _) => hint.replace("{host}", host),
            (None, Some(page)) => format!("revoke it at {page}"),
            (None, None) => format!("revoke it in {host}'s settings"),
        }
    }
}
