//! Stand-ins for the cache APIs that tell a cache's substituter and signing key, answering as the
//! real ones do, on the same server as the cache itself (a fake from [`super::fake_cache`]).
//!
//! - Cachix: `GET /api/v1/cache/NAME` (cachix/cachix, `Cachix.Types.BinaryCache`): `name`, `uri`,
//!   `isPublic`, `publicSigningKeys`, `githubUsername`, `permission`; a public cache answers
//!   without a token, a private one 401 without the right bearer token, an unknown one 404.
//! - Attic: `GET /_api/v1/cache-config/CACHE` (zhaofengli/attic, `CacheConfig`):
//!   `substituter_endpoint`, `api_endpoint`, `public_key`, `is_public`, `store_dir`, `priority`;
//!   401 without the right bearer token for a private cache, 404 for an unknown one.

use super::fake_cache;
use super::fake_forge::{FakeServer, Reply, Request};

/// A key as `nix-store --generate-binary-cache-key` prints it (32 bytes of Ed25519).
pub const KEY: &str = "team.cachix.org-1:eWNHQldwUO7G2VkjpnjDbWwy4KQ/HNxht7H4SSoMckM=";

/// Which API a stand-in speaks.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Cachix,
    Attic,
}

/// The cache `name` under `prefix`: readable at `nix-cache-info` with `cache_token` (public when
/// `None`), and described by `api` to `api_token` (to anyone when `None`).
pub struct Stand {
    pub api: Api,
    pub name: &'static str,
    pub prefix: &'static str,
    pub cache_token: Option<&'static str>,
    pub api_token: Option<&'static str>,
    pub key: &'static str,
}

/// Starts the server of `stand`.
pub fn start(stand: Stand) -> FakeServer {
    let base = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let url = base.clone();
    let server = FakeServer::start(move |r: &Request| answer(&stand, &url.lock().unwrap(), r));
    *base.lock().unwrap() = server.url.clone();
    server
}

fn answer(stand: &Stand, base: &str, r: &Request) -> Reply {
    let accepted: Vec<(String, String)> = stand
        .cache_token
        .map(|t| vec![(String::new(), t.to_owned())])
        .unwrap_or_default();
    let path = match stand.api {
        Api::Cachix => "/api/v1/cache/",
        Api::Attic => "/_api/v1/cache-config/",
    };
    let Some(name) = r.path.strip_prefix(path) else {
        return fake_cache::answer(stand.prefix, &accepted, r);
    };
    if name != stand.name {
        return match stand.api {
            Api::Cachix => Reply::json(404, serde_json::json!({"error": "Not Found"})),
            // Attic's `ErrorKind::NoSuchCache` (server/src/error.rs).
            Api::Attic => Reply::json(
                404,
                serde_json::json!({"code": 404, "error": "NoSuchCache", "message": "The requested cache does not exist."}),
            ),
        };
    }
    let allowed = match stand.api_token {
        None => true,
        Some(t) => r.header("authorization") == Some(format!("Bearer {t}").as_str()),
    };
    if !allowed {
        return match stand.api {
            Api::Cachix => Reply::json(401, serde_json::json!({"error": "Unauthorized"})),
            Api::Attic => Reply::json(
                401,
                serde_json::json!({"code": 401, "error": "Unauthorized", "message": "Unauthorized."}),
            ),
        };
    }
    let substituter = format!("{base}{}", stand.prefix);
    Reply::json(
        200,
        match stand.api {
            Api::Cachix => serde_json::json!({
                "name": stand.name, "uri": substituter, "isPublic": stand.api_token.is_none(),
                "publicSigningKeys": [stand.key], "githubUsername": "", "permission": "Read",
            }),
            Api::Attic => serde_json::json!({
                "substituter_endpoint": format!("{substituter}/"), "api_endpoint": format!("{base}/"),
                "public_key": stand.key, "is_public": stand.api_token.is_none(),
                "store_dir": "/nix/store", "priority": 41,
            }),
        },
    )
}

/// A provider file for Cachix whose API is the stand-in at `api_url`.
pub fn cachix_provider(api_url: &str) -> String {
    include_str!("../../providers/cachix.toml").replace("https://app.cachix.org", api_url)
}
