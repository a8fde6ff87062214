//! A cache API's answer (Attic's `cache-config`, Cachix's `/api/v1/cache/NAME`) is checked exactly
//! as `--public-key` and a typed substituter are: a key is `NAME:` and the base64 of 32 bytes,
//! with a plain name; a substituter's query sets no store setting but `priority`; a key named as
//! one Nix already trusts (`cache.nixos.org-1`), with other material, is refused. Each refusal is
//! one sentence, and nothing is written.

use serde_json::json;

use crate::support::fake_cache;
use crate::support::fake_cache_api::{self, KEY};
use crate::support::fake_forge::{FakeServer, Reply};
use crate::support::*;

const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.cachetoken0123456789";
/// 32 bytes of base64 that are not the key of cache.nixos.org-1.
const MATERIAL: &str = "b3RoZXJrZXlvdGhlcmtleW90aGVya2V5b3RoZXJrZXk=";

/// An Attic server whose `cache-config` for `main` answers `config` (its substituter and key
/// given as they are, `{base}` replaced by the server's URL); the cache itself is at `/main`.
fn attic(substituter: &'static str, key: &'static str) -> FakeServer {
    let base = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let url = base.clone();
    let server = FakeServer::start(move |r| {
        let base = url.lock().unwrap().clone();
        if r.path == "/_api/v1/cache-config/main" {
            return Reply::json(
                200,
                json!({"substituter_endpoint": substituter.replace("{base}", &base),
                    "api_endpoint": format!("{base}/"), "public_key": key, "is_public": false,
                    "store_dir": "/nix/store", "priority": 41}),
            );
        }
        fake_cache::answer("/main", &[(String::new(), TOKEN.to_owned())], r)
    });
    *base.lock().unwrap() = server.url.clone();
    server
}

fn login_attic(env: &TestEnv, server: &FakeServer) -> std::process::Output {
    let base = format!("{}/main", server.url);
    env.run(
        &[
            "login",
            "attic.example.org",
            "-p",
            "attic",
            "--cache",
            "main",
            "--base-url",
            &base,
            "--with-token",
        ],
        &format!("{TOKEN}\n"),
    )
}

/// The login failed with one sentence holding `said`, and wrote nothing.
fn refused(
    env: &TestEnv,
    before: &std::collections::BTreeMap<std::path::PathBuf, (Vec<u8>, u32)>,
    out: &std::process::Output,
    code: i32,
    said: &str,
) {
    assert_clean_failure(out, code);
    assert!(stderr(out).contains(said), "{}", stderr(out));
    assert_eq!(&env.snapshot(), before);
}

#[test]
fn an_attic_answer_is_checked_as_a_typed_key_and_url_are() {
    let oddly_named: &'static str = Box::leak(format!("ma\u{200b}in:{MATERIAL}").into_boxed_str());
    let clash: &'static str = Box::leak(format!("cache.nixos.org-1:{MATERIAL}").into_boxed_str());
    let good_key: &'static str = Box::leak(format!("main:{MATERIAL}").into_boxed_str());
    for (substituter, key, said) in [
        (
            "{base}/main?trusted=1",
            good_key,
            "its query sets the store setting `trusted`",
        ),
        (
            "{base}/main/",
            "garbage-not-a-key",
            "the public key `garbage-not-a-key` (it is not NAME:BASE64)",
        ),
        ("{base}/main/", oddly_named, "its name is empty or holds"),
        (
            "{base}/main/",
            clash,
            "Nix already trusts another key of that name, cache.nixos.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY=",
        ),
    ] {
        let server = attic(substituter, key);
        let env = TestEnv::new();
        let before = env.snapshot();
        let out = login_attic(&env, &server);
        refused(&env, &before, &out, 1, said);
        assert!(
            stderr(&out).contains("/_api/v1/cache-config/main named"),
            "{}",
            stderr(&out)
        );
    }
    // The same answer with a plain substituter and key is used.
    let server = attic("{base}/main/?priority=41", good_key);
    let env = TestEnv::new();
    assert_success(&login_attic(&env, &server));
    assert!(read(&env.token_file()).contains(good_key));
}

#[test]
fn a_key_named_as_one_the_system_trusts_is_refused_there_too() {
    // The system's nix.conf trusts a key of its own; Cachix names a key of the same name.
    let theirs = format!("team.cachix.org-1:{MATERIAL}");
    let server = FakeServer::start(|r| {
        if r.path == "/api/v1/cache/team" {
            return Reply::json(
                200,
                json!({"name": "team", "uri": "https://team.cachix.org", "isPublic": false,
                    "publicSigningKeys": [KEY], "githubUsername": "", "permission": "Read"}),
            );
        }
        fake_cache::answer("", &[(String::new(), TOKEN.to_owned())], r)
    });
    let env = TestEnv::new();
    env.write(
        &env.home.join(".config/nix-tokens/providers/cachix.toml"),
        &fake_cache_api::cachix_provider(&server.url),
    );
    env.write(
        &env.etc.join("nix.conf"),
        &format!("extra-trusted-public-keys = {theirs}\n"),
    );
    let before = env.snapshot();
    let out = env.run(
        &[
            "login",
            "cachix",
            "--cache",
            "team",
            "--base-url",
            &server.url,
            "--with-token",
        ],
        &format!("{TOKEN}\n"),
    );
    refused(
        &env,
        &before,
        &out,
        1,
        &format!("Nix already trusts another key of that name, {theirs}"),
    );
}

#[test]
fn a_typed_key_or_substituter_meets_the_same_rule() {
    let cache = fake_cache::start("", &[("", TOKEN)]);
    let env = TestEnv::new();
    let login = |base: &str, key: &str| {
        env.run(
            &[
                "login",
                "cache.example.org",
                "-p",
                "nix-cache",
                "--base-url",
                base,
                "--public-key",
                key,
                "--with-token",
            ],
            &format!("{TOKEN}\n"),
        )
    };
    let before = env.snapshot();
    let trusted_url = format!("{}/?trusted=1", cache.url);
    refused(
        &env,
        &before,
        &login(&trusted_url, KEY),
        2,
        "its query sets the store setting `trusted`",
    );
    let clash = format!("cache.nixos.org-1:{MATERIAL}");
    refused(
        &env,
        &before,
        &login(&cache.url, &clash),
        1,
        "Nix already trusts another key of that name",
    );
    refused(
        &env,
        &before,
        &login(&cache.url, &format!("c\u{200b}ache:{MATERIAL}")),
        2,
        "its name is empty or holds",
    );
    assert_success(&login(&cache.url, KEY));
}

#[test]
fn login_cachix_without_a_cache_names_the_cache_option() {
    let env = TestEnv::new();
    let before = env.snapshot();
    let out = env.run(&["login", "cachix", "--with-token"], &format!("{TOKEN}\n"));
    assert_clean_failure(&out, 2);
    let err = stderr(&out);
    assert!(err.contains("--cache NAME"), "{err}");
    assert!(!err.contains("--provider"), "{err}");
    assert_eq!(env.snapshot(), before);
}
