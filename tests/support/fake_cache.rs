//! A fake Nix binary cache on 127.0.0.1: `GET PREFIX/nix-cache-info` answers as a cache does
//! (`StoreDir: /nix/store`…), to anyone when it is public, else only to the basic-auth
//! credentials it was given, and 401 with `WWW-Authenticate: Basic` to everyone else, as Cachix,
//! Attic and a nix-serve behind a proxy do.

use super::fake_forge::{FakeServer, Reply, Request};

/// What a cache answers at `nix-cache-info`.
pub const CACHE_INFO: &str = "StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 40\n";

/// `user:password` as basic auth sends it.
pub fn basic(user: &str, password: &str) -> String {
    use base64::Engine;
    let pair = format!("{user}:{password}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

/// How a fake cache answers.
pub fn answer(prefix: &str, accepted: &[(String, String)], request: &Request) -> Reply {
    if request.path != format!("{prefix}/nix-cache-info") {
        return Reply::html(404, "not found");
    }
    let public = accepted.is_empty();
    let allowed = request
        .header("authorization")
        .is_some_and(|a| accepted.iter().any(|(u, p)| a == basic(u, p)));
    if public || allowed {
        return Reply {
            status: 200,
            headers: vec![("Content-Type".into(), "text/x-nix-cache-info".into())],
            body: CACHE_INFO.into(),
        };
    }
    Reply::html(401, "Unauthorized").header("WWW-Authenticate", "Basic realm=\"cache\"")
}

/// A cache under `prefix` (`""`, or `/main` for an Attic cache) that only the `accepted`
/// `(user, password)` pairs may read; public when there are none.
pub fn start(prefix: &str, accepted: &[(&str, &str)]) -> FakeServer {
    let prefix = prefix.to_owned();
    let accepted: Vec<(String, String)> = accepted
        .iter()
        .map(|(u, p)| ((*u).to_owned(), (*p).to_owned()))
        .collect();
    FakeServer::start(move |r| answer(&prefix, &accepted, r))
}
