//! [`Forge`]: what differs from one kind of provider to the next, behind one trait. Each kind's
//! module implements it; [`super::kinds`] hands out the implementation of a [`Kind`].
//!
//! Everything a kind answers has a default that suits a plain forge reached through netrc (Gitea
//! and the like): a kind overrides only where its protocol differs. That includes the privilege
//! audit: what a valid token may do beyond reading, which each kind knows from its own scopes.

use async_trait::async_trait;
use reqwest::Url;

use super::provider::{Kind, Provider};
use super::shared::{
    BatchAnswer, Identity, OAuthRevocation, Privileges, ReadOnlyCheck, RepoAccess, RepoAnswer,
    Revoked, Verdict,
};
use crate::http::{Http, Response, Unreachable, join};
use crate::secret::Secret;

/// Where a kind is asked about a token: the client, the host, its provider and base URL.
pub struct Site<'a> {
    pub http: &'a Http,
    pub provider: &'a Provider,
    pub host: &'a str,
    pub base: &'a Url,
    /// The netrc login beside the token, for kinds that are sent netrc's basic auth (default:
    /// the provider's).
    pub login: Option<&'a str>,
}

/// An anonymous request that tells a kind from the others: the path under the base URL, what
/// marks this kind's answer, and the kind's name in a report of what was tried.
pub struct Probe {
    pub path: &'static str,
    pub matches: fn(&Response) -> bool,
    pub label: &'static str,
}

/// How a token came to nix-tokens, which decides its format for Nix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A token a person made and entered.
    Personal,
    /// An access token from an OAuth flow.
    OAuth,
}

/// What git has and knows when it asks for a host's credential.
pub struct GitAsk<'a> {
    /// The user git named (in the URL, or its `credential.username`).
    pub git_user: Option<&'a str>,
    /// The account the token belongs to, remembered at login.
    pub account: Option<&'a str>,
    /// The login beside the token in netrc.
    pub netrc_login: Option<&'a str>,
}

impl GitAsk<'_> {
    /// The user git named, unless it named none.
    pub fn named(&self) -> Option<&str> {
        self.git_user.filter(|u| !u.is_empty())
    }
}

/// A valid token under audit: its provider and host, the token as stored for Nix, and the scopes
/// its check reported (`None` where the provider does not report them).
pub struct Audit<'a> {
    pub provider: &'a Provider,
    pub host: &'a str,
    pub token: &'a Secret<String>,
    pub scopes: Option<&'a [String]>,
}

/// Guided entry of a token a person makes: the page where it is made (pre-filled where the
/// provider allows it), and what to pick there, as a clause ("create a token with … at URL").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenEntry {
    pub page: Option<String>,
    pub advice: Option<String>,
}

/// The authorization-code login with PKCE that a kind offers on the host itself: the public
/// application every instance knows, and the endpoints.
pub struct BrowserLogin {
    pub client_id: &'static str,
    pub authorization_url: Url,
    pub token_url: Url,
}

/// The device flow's endpoints on a host.
pub struct DeviceEndpoints {
    pub device_url: Url,
    pub token_url: Url,
}

/// One kind of provider; see the module documentation.
#[async_trait]
pub trait Forge: Sync {
    /// The kind this implements.
    fn kind(&self) -> Kind;

    /// The kind as provider files name it (`kind = "github"`); the built-in provider of that name
    /// speaks for the kind.
    fn name(&self) -> &'static str;

    /// Asks the provider who `token` (as stored for Nix) belongs to, what it may do and when it
    /// expires.
    async fn check(&self, site: &Site<'_>, token: &Secret<String>) -> Result<Verdict, Unreachable>;

    /// Whether `token` (as stored for Nix), or no one when `None`, can read the repository
    /// `owner/repo` on the site, as the forge's API answers; by default the kind cannot say.
    async fn repo_access(
        &self,
        site: &Site<'_>,
        _owner: &str,
        _repo: &str,
        _token: Option<&Secret<String>>,
    ) -> Result<RepoAnswer, Unreachable> {
        Ok(RepoAccess::Unknown(format!(
            "nix-tokens cannot ask {} about repositories",
            site.provider.name
        ))
        .into())
    }

    /// How many repositories one batched question names at most (see
    /// [`repos_access`](Self::repos_access)); 0 where the kind has no batch, or none for a caller
    /// without a token (`anonymous`).
    fn batch_size(&self, _anonymous: bool) -> usize {
        0
    }

    /// Whether `token` (or no one) can read each of `repos` (`(owner, repo)`, at most
    /// [`batch_size`](Self::batch_size) of them), asked in one question, with the same verdict
    /// per repository as [`repo_access`](Self::repo_access) gives.
    async fn repos_access(
        &self,
        _site: &Site<'_>,
        _repos: &[(String, String)],
        _token: Option<&Secret<String>>,
    ) -> Result<BatchAnswer, Unreachable> {
        Ok(BatchAnswer::Unbatched("no batch".into()))
    }

    /// The anonymous request that recognises this kind on an unknown host, if any.
    fn probe(&self) -> Option<Probe> {
        None
    }

    /// Whether [`check`](Self::check) on a host no provider is known for both recognises this
    /// kind and checks the token (a "who am I" endpoint that only this kind has).
    fn identifies_tokens(&self) -> bool {
        false
    }

    /// The kind whose API this one also answers (Forgejo answers Gitea's): a token that kind
    /// accepts belongs to this one when this kind's [`probe`](Self::probe) matches too.
    fn variant_of(&self) -> Option<Kind> {
        None
    }

    /// Whether a scope the token has grants one Nix needs (a broader scope grants narrower ones).
    fn grants(&self, have: &str, want: &str) -> bool {
        have == want
    }

    /// The scopes in `wanted` that `scopes` does not grant.
    fn missing_scopes(&self, wanted: &[String], scopes: &[String]) -> Vec<String> {
        wanted
            .iter()
            .filter(|w| !scopes.iter().any(|s| self.grants(s, w)))
            .cloned()
            .collect()
    }

    /// Whether `scope` grants reading alone; the audit counts every other scope as more than Nix
    /// needs. By default, the scopes whose names begin with `read`.
    fn reads_only(&self, scope: &str) -> bool {
        scope.starts_with("read")
    }

    /// What a valid token may do beyond reading (the privilege audit), from the scopes its check
    /// reported; where the provider reports none, "unknown", with the page where it was made.
    fn privileges(&self, audit: &Audit<'_>) -> Privileges {
        match audit.scopes {
            Some(scopes) => {
                Privileges::from_scopes(scopes, |s| self.reads_only(s), &audit.provider.scopes)
            }
            None => {
                let page = audit
                    .provider
                    .token_page_for(audit.host)
                    .map(|p| format!(" (see {p})"))
                    .unwrap_or_default();
                Privileges::unknown(format!(
                    "may do what its scopes allow, which {} does not tell{page}",
                    audit.provider.name
                ))
            }
        }
    }

    /// Guided entry of a token that can only read, for `login --read-only`, where this kind's
    /// plain login can write; `None` where there is no such login (its logins read only already).
    fn read_only_entry(&self, _host: &str, _owner: Option<&str>) -> Option<TokenEntry> {
        None
    }

    /// For `login --read-only`: whether the valid `token` (as stored for Nix) reads and cannot
    /// write (for `owner`'s repositories, when one is named), or why it is refused; `device` when
    /// the token came from the host's device flow as the app the user named. By default, what the
    /// audit says.
    async fn check_read_only(
        &self,
        site: &Site<'_>,
        token: &Secret<String>,
        identity: &Identity,
        _owner: Option<&str>,
        _device: bool,
    ) -> Result<ReadOnlyCheck, Unreachable> {
        let audit = Audit {
            provider: site.provider,
            host: site.host,
            token,
            scopes: identity.scopes.as_deref(),
        };
        let privileges = self.privileges(&audit);
        Ok(match privileges.read_only {
            Some(true) => ReadOnlyCheck::Reads(privileges.summary),
            _ => ReadOnlyCheck::Refused(format!("the token {}", privileges.summary)),
        })
    }

    /// Whether the device flow asking for no scope at all gives a token for public data, for
    /// `login --public` (GitHub: its higher rate limit, and no private code).
    fn public_login(&self) -> bool {
        false
    }

    /// The token as Nix must see it in `access-tokens` (netrc holds tokens as they are).
    fn access_token(&self, token: Secret<String>, _origin: Origin) -> Secret<String> {
        token
    }

    /// Whether `token`, as stored for Nix, is in this kind's own format (GitLab's `PAT:`).
    fn claims_token(&self, token: &str) -> bool {
        self.stored_markers().iter().any(|m| token.starts_with(m))
    }

    /// The markers this kind's format for Nix puts before a token (GitLab's `PAT:` and
    /// `OAuth2:`); masks show them.
    fn stored_markers(&self) -> &'static [&'static str] {
        &[]
    }

    /// The prefixes this kind's tokens carry (`ghp_`, `glpat-`), which say what a token is
    /// without revealing it. Masks show them from `secret::PREFIXES`, a copy below the providers
    /// that a test checks against these (the binary itself reads the copy alone).
    #[cfg_attr(not(test), allow(dead_code))]
    fn token_prefixes(&self) -> &'static [&'static str] {
        &[]
    }

    /// Whether the kind serves substitutes: a binary cache, whose token the process that downloads
    /// from substituters must read (the nix-daemon, on a multi-user install).
    fn serves_substitutes(&self) -> bool {
        false
    }

    /// Whether logins go through an OpenID Connect issuer found by discovery, rather than a
    /// device flow on the host itself.
    fn logs_in_at_issuer(&self) -> bool {
        false
    }

    /// Why an OAuth login of this kind cannot be put in netrc with `--netrc`, if it cannot.
    fn oauth_netrc_refusal(&self) -> Option<&'static str> {
        None
    }

    /// The device flow's endpoints at `base`, from the provider file's `[device]` table.
    fn device_endpoints(&self, provider: &Provider, base: &Url) -> Option<DeviceEndpoints> {
        let device = provider.device.as_ref()?;
        Some(DeviceEndpoints {
            device_url: join(base, &device.authorization_path),
            token_url: join(base, &device.token_path),
        })
    }

    /// The authorization-code login with PKCE on the host at `base`, where the kind has one
    /// (Gitea and Forgejo, whose instances all know the same public application).
    fn browser_login(&self, _base: &Url) -> Option<BrowserLogin> {
        None
    }

    /// Revokes `token` (as stored for Nix) at the provider, where it allows that.
    async fn revoke(
        &self,
        site: &Site<'_>,
        _token: &Secret<String>,
        _oauth: Option<OAuthRevocation<'_>>,
    ) -> Revoked {
        Revoked::by_hand(site.provider, site.host)
    }

    /// The username and password git should send for `token` (as stored for Nix) over HTTPS;
    /// by default [`plain_git_credential`].
    fn git_credential(&self, token: &Secret<String>, ask: &GitAsk<'_>) -> (String, Secret<String>) {
        plain_git_credential(token, ask)
    }
}

/// The credential a forge reached over netrc takes: the user git named, else the account the
/// token belongs to, else the netrc login, beside the token itself.
pub fn plain_git_credential(token: &Secret<String>, ask: &GitAsk<'_>) -> (String, Secret<String>) {
    let user = ask
        .named()
        .or(ask.account)
        .or(ask.netrc_login)
        .unwrap_or("nix-tokens");
    (user.to_owned(), token.clone())
}
