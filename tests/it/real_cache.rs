//! Nix itself reads a private binary cache with what nix-tokens stored: the cache is an HTTPS
//! server on port 443 of its own loopback address behind a test CA, answering `nix-cache-info`
//! only to the credential it was given, and Nix's own curl (`nix store info --store URL`, `ping`
//! before 2.19) must get through with the netrc entry nix-tokens wrote, and not without it. Each
//! test runs against each Nix found.

use crate::support::fake_cache::{CACHE_INFO, basic};
use crate::support::nix::fetching::Fetching;
use crate::support::nix::https::{Answer, HttpsServer, Request};
use crate::support::nix::{Nix, Which};
use crate::support::*;

crate::each_nix!(a_cache_token_without_login_reaches_nix);

const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.realcachetoken0123";

/// A cache that answers `nix-cache-info` to `user:TOKEN` and 401 to everyone else.
fn private_cache(f: &Fetching, user: &'static str) -> Option<HttpsServer> {
    let expected = basic(user, TOKEN);
    f.serve(&[], move |r: &Request| {
        if r.path != "/nix-cache-info" {
            return Answer::json(404, serde_json::json!({}));
        }
        if r.header("authorization") == Some(expected.as_str()) {
            return Answer::bytes("text/x-nix-cache-info", CACHE_INFO.as_bytes().to_vec());
        }
        Answer::json(401, serde_json::json!({})).header("WWW-Authenticate", "Basic realm=\"cache\"")
    })
}

/// Nix opens the store at `url` (the last `--store` given wins), which reads its
/// `nix-cache-info`.
fn open_store(f: &Fetching, nix: &Nix, url: &str) -> std::process::Output {
    let verb = if nix.at_least(2, 19) { "info" } else { "ping" };
    f.nix(nix, &["store", verb, "--store", url])
}

fn a_cache_token_without_login_reaches_nix(nix: &Nix) {
    let f = Fetching::new();
    let Some(cache) = private_cache(&f, "") else {
        return;
    };
    let url = format!("https://{}", cache.host);
    let out = open_store(&f, nix, &url);
    assert!(
        !out.status.success(),
        "{nix} read a private cache without a credential"
    );
    assert!(
        cache
            .requests()
            .iter()
            .all(|r| r.header("authorization").is_none())
    );

    let out = f.nix_tokens(
        nix,
        &[
            "login",
            &cache.host,
            "-p",
            "nix-cache",
            "--credential-only",
            "--with-token",
        ],
        TOKEN,
    );
    assert!(
        stderr(&out).contains("accepts the token"),
        "{}",
        stderr(&out)
    );
    // The netrc Nix reads is the one that holds the entry.
    let config = nix.config(&f.env);
    assert_eq!(
        config["netrc-file"]["value"],
        f.env.netrc().display().to_string()
    );
    assert!(read(&f.env.netrc()).contains(&format!("machine {} password {TOKEN}", cache.host)));

    let before = cache.requests().len();
    let out = open_store(&f, nix, &url);
    assert!(
        out.status.success(),
        "{nix} could not open {url}:\n{}",
        stderr(&out)
    );
    let sent: Vec<Option<String>> = cache.requests()[before..]
        .iter()
        .map(|r| r.header("authorization").map(str::to_owned))
        .collect();
    assert!(sent.contains(&Some(basic("", TOKEN))), "{sent:?}");
}

/// FlakeHub's token goes to its three hosts under the login `flakehub`; Nix reads
/// cache.flakehub.com with it. The cache stands in for cache.flakehub.com at its own address,
/// which a private `/etc/hosts` gives that name — for the Nix on `PATH` only (the recent Nix's
/// chroot has an `/etc/hosts` of its own that every test shares).
#[test]
fn a_flakehub_login_reaches_its_cache() {
    let Some(nix) = Nix::find(Which::Path) else {
        return;
    };
    let mut f = Fetching::new();
    let expected = basic("flakehub", TOKEN);
    let Some(cache) = f.serve(&["cache.flakehub.com"], move |r: &Request| {
        match r.header("authorization") == Some(expected.as_str()) {
            true if r.path == "/nix-cache-info" => {
                Answer::bytes("text/x-nix-cache-info", CACHE_INFO.as_bytes().to_vec())
            }
            _ => Answer::json(401, serde_json::json!({})),
        }
    }) else {
        return;
    };
    if !f.resolve("cache.flakehub.com", &cache.host) {
        return;
    }
    f.nix_tokens(&nix, &["set-token", "flakehub"], TOKEN);
    let netrc = read(&f.env.netrc());
    for host in ["flakehub.com", "api.flakehub.com", "cache.flakehub.com"] {
        let entry = format!("machine {host} login flakehub password {TOKEN}\n");
        assert!(netrc.contains(&entry), "{netrc}");
    }
    let out = open_store(&f, &nix, "https://cache.flakehub.com");
    assert!(
        out.status.success(),
        "{nix} could not open FlakeHub's cache:\n{}",
        stderr(&out)
    );
    let sent: Vec<Option<String>> = cache
        .requests()
        .iter()
        .map(|r| r.header("authorization").map(str::to_owned))
        .collect();
    assert!(sent.contains(&Some(basic("flakehub", TOKEN))), "{sent:?}");
}
