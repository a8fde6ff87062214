//! What Nix needs besides the credential to use a binary cache: its substituter URL and the public
//! keys its paths are signed with, as the cache's provider tells them.
//!
//! - Cachix: `GET https://app.cachix.org/api/v1/cache/NAME`, with the token as a bearer for a
//!   private cache (a public one answers without), gives a `BinaryCache` (cachix/cachix,
//!   `cachix-api/src/Cachix/Types/BinaryCache.hs`): `name`, `uri`, `isPublic`,
//!   `publicSigningKeys` (a list), `githubUsername`, `permission`.
//! - Attic: `GET https://HOST/_api/v1/cache-config/CACHE` with the token as a bearer gives a
//!   `CacheConfig` (zhaofengli/attic, `attic/src/api/v1/cache_config.rs`, served by
//!   `server/src/api/v1/cache_config.rs`): `substituter_endpoint`, `api_endpoint`, `public_key`,
//!   `is_public`, `store_dir`, `priority` — each optional in the type, so a missing one is an
//!   answer that cannot be used.

use reqwest::Url;
use serde_json::Value;

use super::provider::{CacheApi, CacheApiKind};
use super::shared::{Verdict, json, verdict_for_status};
use crate::http::Http;
use crate::secret::Secret;
use crate::ui::printable;

/// A cache as Nix is told to use it (the settings the store writes).
pub use crate::nixconf::store::CacheUse;

/// The URL of the cache `cache`'s configuration at `api`, for the cache on `host` whose
/// substituter (where the token is checked) is `checked_at`.
pub fn config_url(api: &CacheApi, host: &str, cache: &str, checked_at: &Url) -> Option<Url> {
    let origin = checked_at.origin().ascii_serialization();
    let text = api
        .url
        .replace("{cache}", cache)
        .replace("{host}", host)
        .replace("{origin}", &origin);
    Url::parse(&text).ok()
}

/// Asks the cache API at `url` for the cache's substituter and keys, with `token` as a bearer;
/// else why it did not tell them (a refusal, or an answer that cannot be used).
pub async fn ask(
    http: &Http,
    kind: CacheApiKind,
    url: &Url,
    token: &Secret<String>,
) -> Result<CacheUse, String> {
    let bearer = Secret::new(format!("Bearer {}", token.expose()));
    let service = match kind {
        CacheApiKind::Cachix => "Cachix's API",
        CacheApiKind::Attic => "an Attic server",
    };
    let answer = http
        .get(url, Some(("authorization", &bearer)))
        .await
        .map_err(|e| e.0)?;
    if !answer.status.is_success() {
        return Err(match verdict_for_status(&answer, service) {
            Verdict::Rejected(why) | Verdict::Unreachable(why) | Verdict::Unverified(why) => why,
            Verdict::Valid(_) => format!("answered HTTP {}", answer.status.as_u16()),
        });
    }
    let body = json(&answer).ok_or("answered something other than JSON")?;
    read_answer(kind, &body).ok_or_else(|| format!("answered without them, unlike {service}"))
}

/// The substituter and keys in an API's answer.
fn read_answer(kind: CacheApiKind, body: &Value) -> Option<CacheUse> {
    let text = |field: &str| body.get(field).and_then(Value::as_str).map(clean);
    let (substituter, public_keys) = match kind {
        CacheApiKind::Cachix => (
            text("uri")?,
            body.get("publicSigningKeys")?
                .as_array()?
                .iter()
                .filter_map(Value::as_str)
                .map(clean)
                .collect::<Vec<_>>(),
        ),
        CacheApiKind::Attic => (text("substituter_endpoint")?, vec![text("public_key")?]),
    };
    let word = |s: &String| !s.is_empty() && !s.contains(char::is_whitespace) && !s.contains('#');
    let usable = word(&substituter)
        && Url::parse(&substituter).is_ok()
        && !public_keys.is_empty()
        && public_keys.iter().all(word);
    usable.then(|| CacheUse {
        substituter: substituter.trim_end_matches('/').to_owned(),
        public_keys,
    })
}

fn clean(s: &str) -> String {
    printable(s.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cachix_and_attic_answers() {
        let cachix = serde_json::json!({"name": "team", "uri": "https://team.cachix.org",
            "isPublic": false, "publicSigningKeys": ["team.cachix.org-1:abc="],
            "githubUsername": "", "permission": "Read"});
        assert_eq!(
            read_answer(CacheApiKind::Cachix, &cachix),
            Some(CacheUse {
                substituter: "https://team.cachix.org".into(),
                public_keys: vec!["team.cachix.org-1:abc=".into()],
            })
        );
        let attic = serde_json::json!({"substituter_endpoint": "https://a.example/main/",
            "api_endpoint": "https://a.example/", "public_key": "main:xyz=",
            "is_public": false, "store_dir": "/nix/store", "priority": 41});
        assert_eq!(
            read_answer(CacheApiKind::Attic, &attic).map(|u| u.substituter),
            Some("https://a.example/main".into())
        );
        // A value Nix would split or cut at a comment is refused.
        let bad = serde_json::json!({"uri": "https://x y", "publicSigningKeys": ["k"]});
        assert_eq!(read_answer(CacheApiKind::Cachix, &bad), None);
    }
}
