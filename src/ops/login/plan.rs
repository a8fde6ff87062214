//! What a login will do, decided before any token is read: the provider, the target, how the
//! token is obtained (guided entry, the device flow, the browser, an issuer), what is checked,
//! and, for a cache, how Nix will use it; and the one sentence `--dry-run` prints of it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::Url;

use crate::ops::save::Target;
use crate::providers::Provider;
use crate::providers::cache_use::CacheUse;
use crate::providers::forge::{DeviceEndpoints, TokenEntry};
use crate::providers::provider::CacheApiKind;
use crate::secret::Secret;

/// Everything a login will do, decided before any token is read.
pub struct LoginPlan<'r> {
    /// The key, host, provider, file and netrc login the token is stored with.
    pub target: Target<'r>,
    pub provider: &'r Provider,
    /// What the token may do, as asked.
    pub access: Access,
    pub obtain: Obtain,
    /// The scopes an OAuth flow asks for (and a person is told to tick).
    pub scopes: Vec<String>,
    /// Where the token is checked: the host's API, or an issuer without one.
    pub check_base: Url,
    /// The base URL to remember for the host.
    pub remembered_base: Option<String>,
    /// pixi's credential store, for an issuer's login.
    pub pixi_file: Option<PathBuf>,
    /// How a binary cache's login makes Nix use the cache too (none: the credential only).
    pub use_cache: Option<UseCache>,
    /// Save a refused or unchecked token, and replace another without asking.
    pub force: bool,
    pub no_browser: bool,
    /// `--store`: files or the OS keyring (default: the configuration's store).
    pub store: Option<crate::nixconf::vault::StoreKind>,
}

/// How a login makes Nix use a binary cache: its substituter and signing keys.
#[derive(Debug, Clone)]
pub enum UseCache {
    /// The provider's API tells them, asked with the token.
    Ask { kind: CacheApiKind, url: Url },
    /// Known already (`--public-key`, or keys the provider publishes).
    Known(CacheUse),
}

/// What the token may do, as the person asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// What the provider's login asks for (on GitHub `repo`, which also writes).
    Default,
    /// A token that can only read, made by hand and checked to read (`--read-only`), for the
    /// owner of an owner key.
    ReadOnly { owner: Option<String> },
    /// No scope at all: public data only (`--public`).
    Public,
}

/// How the token is obtained.
pub enum Obtain {
    /// Guided entry: a hidden prompt, or standard input (`--with-token`, which opens no page),
    /// told where to make the token.
    Token { with_token: bool, entry: TokenEntry },
    /// The OAuth device flow on the host.
    Device {
        client_id: String,
        endpoints: DeviceEndpoints,
    },
    /// An OpenID Connect issuer's flows, whose endpoints come from its discovery document.
    Issuer(IssuerPlan),
    /// The authorization-code flow on the host itself (Gitea, Forgejo), falling back to guided
    /// entry where the host refuses the application.
    Browser(BrowserPlan),
}

/// A browser login on the host itself, as a public application.
pub struct BrowserPlan {
    pub client_id: String,
    pub authorization_url: Url,
    pub token_url: Url,
    /// How long to wait for the browser.
    pub timeout: Duration,
    /// Guided entry, where the host refuses the application.
    pub entry: TokenEntry,
}

/// A login at an OpenID Connect issuer.
pub struct IssuerPlan {
    pub issuer: Url,
    pub client_id: String,
    pub flow: IssuerFlow,
    pub client_secret: Option<Secret<String>>,
    pub redirect_uri: Option<String>,
    /// How long to wait for the browser in the authorization-code flow.
    pub timeout: Duration,
}

/// The issuer flow asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssuerFlow {
    /// The authorization-code flow where a browser can be opened here, else the device flow.
    Auto,
    AuthCode,
    DeviceCode,
}

impl LoginPlan<'_> {
    /// One sentence saying what the login would do, for `--dry-run`.
    pub fn describe(&self, token_file: &Path, netrc: &Path) -> String {
        let file = match self.target.sink {
            crate::providers::Sink::AccessTokens => token_file,
            crate::providers::Sink::Netrc => netrc,
        };
        let (flow, issuer) = match (&self.obtain, &self.access) {
            (Obtain::Token { entry, .. }, Access::ReadOnly { .. }) => (
                "personal token".to_owned(),
                entry
                    .page
                    .as_ref()
                    .map(|p| format!(" for a read-only token made at {p}"))
                    .unwrap_or_default(),
            ),
            (Obtain::Token { .. }, _) => ("personal token".to_owned(), String::new()),
            (Obtain::Device { .. }, Access::Public) => (
                "device-code".to_owned(),
                " asking for no scope (public data only)".to_owned(),
            ),
            (Obtain::Device { .. }, _) => ("device-code".to_owned(), String::new()),
            (Obtain::Browser(b), _) => (
                "auth-code".to_owned(),
                format!(" as the application {}", b.client_id),
            ),
            (Obtain::Issuer(i), _) => (
                match i.flow {
                    IssuerFlow::Auto => "auth-code (or device-code without a browser)",
                    IssuerFlow::AuthCode => "auth-code",
                    IssuerFlow::DeviceCode => "device-code",
                }
                .to_owned(),
                format!(" at the issuer {} as the client {}", i.issuer, i.client_id),
            ),
        };
        let scopes = if self.scopes.is_empty() {
            String::new()
        } else {
            format!(" (scopes {})", self.scopes.join(", "))
        };
        let pixi = self
            .pixi_file
            .as_ref()
            .map(|p| format!(" and in pixi's {}", p.display()))
            .unwrap_or_default();
        let cache = match &self.use_cache {
            None => String::new(),
            Some(UseCache::Ask { url, .. }) => format!(
                ", with the substituter and key {url} gives in {}",
                token_file.display()
            ),
            Some(UseCache::Known(c)) => format!(
                ", with the substituter {} and the key(s) {} in {}",
                c.substituter,
                match c.public_keys.as_slice() {
                    [] => "(none: --no-key)".to_owned(),
                    keys => keys.join(" "),
                },
                token_file.display()
            ),
        };
        format!(
            "Dry run: would log in to {} (provider {}) with the {flow} flow{issuer}{scopes}, check the token with {}, and store it for {} in {}{pixi}{cache}. Nothing was read or written.",
            self.target.host,
            self.provider.name,
            self.check_base,
            self.target.key,
            file.display()
        )
    }
}
