//! Nix binary caches (Cachix, Attic, FlakeHub Cache, or any HTTPS substituter behind a login).
//!
//! Nix downloads from a substituter with curl and the netrc its downloading process reads, so a
//! cache's token always goes to netrc, as the password beside the provider's login (or beside none:
//! curl then sends `:TOKEN`). A cache answers `GET SUBSTITUTER/nix-cache-info` with lines such as
//! `StoreDir: /nix/store`; that request, sent exactly as Nix's curl sends it, is the check. A cache
//! that answers it without credentials is public and needs no token. Cache tokens are revoked by
//! hand, where the provider file says.

use async_trait::async_trait;

use super::forge::{Forge, Probe, Site};
use super::provider::Kind;
use super::shared::{Identity, Verdict, verdict_for_status};
use crate::http::{Http, Response, Unreachable, join};
use crate::secret::Secret;

pub struct NixCache;

/// What `GET URL/nix-cache-info` says of a cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheAnswer {
    /// A cache answered (200 with a `StoreDir:` line).
    Cache,
    /// It refused the request (401 or 403), with the reason to show.
    Refused(String),
    /// No cache answered; why.
    Unreachable(String),
}

/// Whether an answer is a binary cache's `nix-cache-info`.
pub fn is_cache_info(answer: &Response) -> bool {
    answer.status.is_success()
        && String::from_utf8_lossy(&answer.body)
            .lines()
            .any(|l| l.trim_start().starts_with("StoreDir:"))
}

/// The `Authorization` header curl sends from a netrc entry: basic auth with the login (empty
/// when the entry has none) and the token as the password.
pub fn basic_auth(login: &str, token: &Secret<String>) -> Secret<String> {
    use base64::Engine;
    let pair = Secret::new(format!("{login}:{}", token.expose()));
    let encoded = base64::engine::general_purpose::STANDARD.encode(pair.expose());
    Secret::new(format!("Basic {encoded}"))
}

/// Asks the cache at `substituter` for its `nix-cache-info`, with the netrc credential `login`
/// and `token` when given, else anonymously.
pub async fn ask(
    http: &Http,
    substituter: &reqwest::Url,
    credential: Option<(&str, &Secret<String>)>,
) -> CacheAnswer {
    ask_info(http, substituter, credential).await.0
}

/// [`ask`], with the `Priority:` the cache's `nix-cache-info` gives, when it answered one.
pub async fn ask_info(
    http: &Http,
    substituter: &reqwest::Url,
    credential: Option<(&str, &Secret<String>)>,
) -> (CacheAnswer, Option<u32>) {
    let url = join(substituter, "nix-cache-info");
    let auth = credential.map(|(login, token)| basic_auth(login, token));
    let answer = match http
        .get(&url, auth.as_ref().map(|a| ("authorization", a)))
        .await
    {
        Ok(answer) => answer,
        Err(Unreachable(why)) => return (CacheAnswer::Unreachable(why), None),
    };
    if is_cache_info(&answer) {
        return (CacheAnswer::Cache, priority(&answer));
    }
    let refused = match verdict_for_status(&answer, "a Nix binary cache") {
        Verdict::Rejected(why) => CacheAnswer::Refused(why),
        _ if answer.status.is_success() => CacheAnswer::Unreachable(
            "answered without `StoreDir:`, so it does not look like a Nix binary cache".into(),
        ),
        Verdict::Unreachable(why) => CacheAnswer::Unreachable(why),
        _ => CacheAnswer::Unreachable(format!("answered HTTP {}", answer.status.as_u16())),
    };
    (refused, None)
}

/// The `Priority:` line of a `nix-cache-info` answer.
fn priority(answer: &Response) -> Option<u32> {
    String::from_utf8_lossy(&answer.body)
        .lines()
        .find_map(|l| l.trim().strip_prefix("Priority:"))
        .and_then(|p| p.trim().parse().ok())
}

#[async_trait]
impl Forge for NixCache {
    fn kind(&self) -> Kind {
        Kind::NixCache
    }

    fn name(&self) -> &'static str {
        "nix-cache"
    }

    /// `site.base` is the substituter. Asked anonymously first: a public cache needs no token.
    async fn check(&self, site: &Site<'_>, token: &Secret<String>) -> Result<Verdict, Unreachable> {
        let login = site.login.unwrap_or(&site.provider.netrc_login);
        let (anonymous, with_token) = tokio::join!(
            ask(site.http, site.base, None),
            ask(site.http, site.base, Some((login, token)))
        );
        let remark = (anonymous == CacheAnswer::Cache)
            .then(|| format!("{} is public: Nix needs no token for it", site.base));
        Ok(match with_token {
            CacheAnswer::Cache => Verdict::Valid(Identity {
                remark,
                ..Identity::default()
            }),
            CacheAnswer::Refused(why) => Verdict::Rejected(why),
            CacheAnswer::Unreachable(why) => Verdict::Unreachable(why),
        })
    }

    fn probe(&self) -> Option<Probe> {
        Some(Probe {
            path: "nix-cache-info",
            matches: is_cache_info,
            label: "Nix binary cache",
        })
    }

    fn serves_substitutes(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_go_as_curl_sends_them_from_netrc() {
        // `machine H password T` (no login): curl sends `:T`.
        assert_eq!(
            basic_auth("", &"sekrit".into()).expose(),
            "Basic OnNla3JpdA=="
        );
        assert_eq!(
            basic_auth("bob", &"sekrit".into()).expose(),
            "Basic Ym9iOnNla3JpdA=="
        );
    }
}
