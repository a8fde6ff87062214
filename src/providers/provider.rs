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
}

/// Where Nix reads a host's token from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Sink {
    /// The `access-tokens` setting, read by Nix's `github:`, `gitlab:` and `sourcehut:` fetchers.
    AccessTokens,
    /// A netrc entry, read by every curl download Nix makes.
    Netrc,
}

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
    /// The netrc login written beside a token; the forges accept any name beside a token.
    #[serde(default = "default_login")]
    pub netrc_login: String,
    /// The scopes a token needs for Nix to read private repositories.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Where a person creates a token by hand, `{host}` standing for the host.
    pub token_page: Option<String>,
    /// The OAuth device flow, where the provider offers one.
    pub device: Option<DeviceFlow>,
    /// The OpenID Connect issuer, for `kind = "oidc"`.
    pub oidc: Option<OidcIssuer>,
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

    /// One sentence telling a person where to create a token for `host` and what to tick.
    pub fn token_advice(&self, host: &str) -> Option<String> {
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
}
