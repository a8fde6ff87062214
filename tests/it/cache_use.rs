//! A cache's login also makes Nix use the cache, as `cachix use` does: the substituter and the
//! cache's public key (from Cachix's or Attic's API, or `--public-key`) go to the token file
//! nix-tokens owns, beside the credential, in the same commit; a second login changes nothing, a
//! refused one writes nothing, and `logout` takes out what the login added.

use crate::support::fake_cache_api::{self, Api, KEY, Stand};
use crate::support::*;

const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.cachetoken0123456789";
const OTHER: &str = "eyJhbGciOiJIUzI1NiJ9.othertoken0123456789";
const ATTIC_KEY: &str = "main:b3RoZXJrZXlvdGhlcmtleW90aGVya2V5b3RoZXJrZXk=";

fn cachix(cache_token: Option<&'static str>, api_token: Option<&'static str>) -> Stand {
    Stand {
        api: Api::Cachix,
        name: "team",
        prefix: "",
        cache_token,
        api_token,
        key: KEY,
    }
}

/// A home whose Cachix provider asks the stand-in at `url` instead of app.cachix.org.
fn env_for(url: &str) -> TestEnv {
    let env = TestEnv::new();
    env.write(
        &env.home.join(".config/nix-tokens/providers/cachix.toml"),
        &fake_cache_api::cachix_provider(url),
    );
    env
}

fn login_cachix(env: &TestEnv, url: &str, token: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "login",
        "cachix",
        "--cache",
        "team",
        "--base-url",
        url,
        "--with-token",
    ];
    args.extend(extra);
    env.run(&args, &format!("{token}\n"))
}

/// The words of the token file's `name` line.
fn setting(env: &TestEnv, name: &str) -> Vec<String> {
    let text = std::fs::read_to_string(env.token_file()).unwrap_or_default();
    text.lines()
        .filter_map(|l| l.split_once(" = "))
        .filter(|(n, _)| n.trim() == name)
        .flat_map(|(_, v)| v.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .collect()
}

#[test]
fn a_cachix_login_makes_nix_use_the_cache_and_a_second_changes_nothing() {
    let server = fake_cache_api::start(cachix(Some(TOKEN), Some(TOKEN)));
    let env = env_for(&server.url);
    let out = login_cachix(&env, &server.url, TOKEN, &[]);
    assert_success(&out);
    assert_no_leak(&out, &[TOKEN]);
    assert_eq!(
        setting(&env, "extra-substituters"),
        vec![server.url.clone()]
    );
    assert_eq!(setting(&env, "extra-trusted-public-keys"), vec![KEY]);
    assert_eq!(
        read(&env.netrc()),
        format!("machine team.cachix.org password {TOKEN}\n")
    );
    assert!(read(&env.nix_conf()).contains("!include access-tokens.conf"));
    assert!(
        stderr(&out).contains(&format!(
            "Nix now uses {}, trusting the key(s) {KEY}",
            server.url
        )),
        "{}",
        stderr(&out)
    );
    // The stand-in's substituter is on 127.0.0.1, not on team.cachix.org: curl would not send
    // the credential there, and the login says so.
    assert!(
        stderr(&out).contains("is on 127.0.0.1, and the credential is for team.cachix.org only"),
        "{}",
        stderr(&out)
    );
    // The API was asked with the token as a bearer, as Cachix's client asks it.
    let asked = server
        .requests()
        .into_iter()
        .find(|r| r.path == "/api/v1/cache/team")
        .expect("the API was asked");
    assert_eq!(
        asked.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    // Nix itself now reads the substituter and the key (its own defaults stay).
    if let Some(config) = nix_config(&env) {
        let words = |name: &str| config[name]["value"].to_string();
        assert!(words("substituters").contains(&server.url), "{config}");
        assert!(
            words("substituters").contains("cache.nixos.org"),
            "{config}"
        );
        assert!(words("trusted-public-keys").contains(KEY), "{config}");
    }
    let before = env.snapshot();
    let again = login_cachix(&env, &server.url, TOKEN, &[]);
    assert_success(&again);
    assert_eq!(env.snapshot(), before, "a second login changes nothing");
}

#[test]
fn a_token_the_cache_api_refuses_writes_nothing() {
    // The cache takes the token, its API does not (a token of another cache, say).
    let server = fake_cache_api::start(cachix(Some(TOKEN), Some(OTHER)));
    let env = env_for(&server.url);
    let before = env.snapshot();
    let out = login_cachix(&env, &server.url, TOKEN, &[]);
    assert_clean_failure(&out, 1);
    assert_no_leak(&out, &[TOKEN]);
    assert!(
        stderr(&out).contains("refused with HTTP 401")
            && stderr(&out).contains("nothing was saved"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.snapshot(), before, "byte for byte, nothing was written");
    // The old behaviour, on request: the credential alone.
    let out = login_cachix(&env, &server.url, TOKEN, &["--credential-only"]);
    assert_success(&out);
    assert!(env.netrc().exists());
    assert!(setting(&env, "extra-substituters").is_empty());
}

#[test]
fn a_substituter_the_api_names_over_plain_http_is_refused() {
    // The stand-in's API answers from a non-loopback host name over plain http.
    let server = crate::support::fake_forge::FakeServer::start(|r| {
        if r.path == "/api/v1/cache/team" {
            return crate::support::fake_forge::Reply::json(
                200,
                serde_json::json!({"name": "team", "uri": "http://team.example.org",
                    "isPublic": true, "publicSigningKeys": [KEY], "githubUsername": "",
                    "permission": "Read"}),
            );
        }
        crate::support::fake_cache::answer("", &[(String::new(), TOKEN.to_owned())], r)
    });
    let env = env_for(&server.url);
    let before = env.snapshot();
    let out = login_cachix(&env, &server.url, TOKEN, &[]);
    assert_clean_failure(&out, 1);
    assert!(
        stderr(&out).contains(
            "named http://team.example.org as the cache's substituter, which is not https"
        ),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.snapshot(), before);
}

#[test]
fn a_public_cachix_cache_is_described_without_a_token() {
    let server = fake_cache_api::start(cachix(None, None));
    let env = env_for(&server.url);
    let out = login_cachix(&env, &server.url, TOKEN, &[]);
    assert_success(&out);
    assert_eq!(setting(&env, "extra-trusted-public-keys"), vec![KEY]);
}

#[test]
fn logout_takes_out_the_credential_the_substituter_and_the_key() {
    let server = fake_cache_api::start(cachix(Some(TOKEN), Some(TOKEN)));
    let env = env_for(&server.url);
    // A substituter and key of the user's own, in nix.conf, are never touched.
    env.write(
        &env.nix_conf(),
        "extra-substituters = https://mine.example\nextra-trusted-public-keys = mine:abc=\n",
    );
    assert_success(&login_cachix(&env, &server.url, TOKEN, &[]));
    let out = env.run(&["logout", "team.cachix.org", "--yes"], "");
    assert_success(&out);
    assert!(!read(&env.netrc()).contains(TOKEN));
    assert!(
        setting(&env, "extra-substituters").is_empty(),
        "{}",
        read(&env.token_file())
    );
    assert!(setting(&env, "extra-trusted-public-keys").is_empty());
    assert!(read(&env.nix_conf()).starts_with(
        "extra-substituters = https://mine.example\nextra-trusted-public-keys = mine:abc=\n"
    ));

    // --keep-substituter keeps the cache in use for its public paths.
    assert_success(&login_cachix(&env, &server.url, TOKEN, &[]));
    let out = env.run(
        &["logout", "team.cachix.org", "--yes", "--keep-substituter"],
        "",
    );
    assert_success(&out);
    assert!(!read(&env.netrc()).contains(TOKEN));
    assert_eq!(
        setting(&env, "extra-substituters"),
        vec![server.url.clone()]
    );
    assert_eq!(setting(&env, "extra-trusted-public-keys"), vec![KEY]);
}

#[test]
fn an_attic_login_reads_the_cache_config() {
    let server = fake_cache_api::start(Stand {
        api: Api::Attic,
        name: "main",
        prefix: "/main",
        cache_token: Some(TOKEN),
        api_token: Some(TOKEN),
        key: ATTIC_KEY,
    });
    let env = TestEnv::new();
    let base = format!("{}/main", server.url);
    let args = [
        "login",
        "attic.example.org",
        "-p",
        "attic",
        "--cache",
        "main",
        "--base-url",
        &base,
        "--with-token",
    ];
    let out = env.run(&args, &format!("{TOKEN}\n"));
    assert_success(&out);
    assert_eq!(setting(&env, "extra-substituters"), vec![base.clone()]);
    assert_eq!(setting(&env, "extra-trusted-public-keys"), vec![ATTIC_KEY]);
    let asked = server
        .requests()
        .into_iter()
        .find(|r| r.path == "/_api/v1/cache-config/main")
        .expect("the cache config was asked");
    assert_eq!(
        asked.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    // A cache the server does not have: nothing is written.
    let env = TestEnv::new();
    let before = env.snapshot();
    let mut other = args.to_vec();
    other[5] = "nosuch";
    let out = env.run(&other, &format!("{TOKEN}\n"));
    assert_clean_failure(&out, 1);
    assert!(stderr(&out).contains("(HTTP 404)"), "{}", stderr(&out));
    assert_eq!(env.snapshot(), before);
    // A wrong token: the cache and its API refuse it, and nothing is written.
    let env = TestEnv::new();
    let before = env.snapshot();
    let out = env.run(&args, &format!("{OTHER}\n"));
    assert_clean_failure(&out, 1);
    assert_eq!(env.snapshot(), before);
}

#[test]
fn any_other_cache_needs_its_key_or_no_key() {
    let cache = crate::support::fake_cache::start("", &[("", TOKEN)]);
    let env = TestEnv::new();
    let login = |extra: &[&str]| {
        let mut args = vec![
            "login",
            "cache.example.org",
            "-p",
            "nix-cache",
            "--base-url",
            &cache.url,
            "--with-token",
        ];
        args.extend(extra);
        env.run(&args, &format!("{TOKEN}\n"))
    };
    let before = env.snapshot();
    let out = login(&[]);
    assert_clean_failure(&out, 2);
    assert!(stderr(&out).contains("--public-key"), "{}", stderr(&out));
    let out = login(&["--public-key", "not-a-key"]);
    assert_clean_failure(&out, 2);
    assert!(stderr(&out).contains("NAME:BASE64"), "{}", stderr(&out));
    assert_eq!(env.snapshot(), before);

    assert_success(&login(&["--public-key", KEY]));
    assert_eq!(setting(&env, "extra-substituters"), vec![cache.url.clone()]);
    assert_eq!(setting(&env, "extra-trusted-public-keys"), vec![KEY]);

    let env2 = TestEnv::new();
    let out = env2.run(
        &[
            "login",
            "cache.example.org",
            "-p",
            "nix-cache",
            "--base-url",
            &cache.url,
            "--no-key",
            "--with-token",
        ],
        &format!("{TOKEN}\n"),
    );
    assert_success(&out);
    assert!(
        stderr(&out).contains("Nix accepts only the paths from it that it can check otherwise"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        setting(&env2, "extra-substituters"),
        vec![cache.url.clone()]
    );
    assert!(setting(&env2, "extra-trusted-public-keys").is_empty());
}

#[test]
fn with_a_nix_daemon_the_cache_goes_to_the_system_configuration_or_nowhere() {
    let server = fake_cache_api::start(cachix(Some(TOKEN), Some(TOKEN)));
    let env = env_for(&server.url);
    // The daemon trusts no one this test runs as (root included, which it trusts by default).
    env.write(
        &env.etc.join("nix.conf"),
        "trusted-users = nix-tokens-nobody\n",
    );
    let before = env.snapshot();
    let daemon = |extra: &[&str]| {
        let mut args: Vec<&str> = extra.to_vec();
        args.extend([
            "login",
            "cachix",
            "--cache",
            "team",
            "--base-url",
            &server.url,
            "--with-token",
        ]);
        env.cmd()
            .args(&args)
            .env("NIX_REMOTE", "daemon")
            .write_stdin(format!("{TOKEN}\n"))
            .output()
            .unwrap()
    };
    let out = daemon(&[]);
    assert_clean_failure(&out, 2);
    assert!(
        stderr(&out).contains("trusted-substituters"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.snapshot(), before, "nothing was written");
    let out = daemon(&["--system"]);
    assert_success(&out);
    let conf = read(&env.etc.join("access-tokens.conf"));
    assert!(
        conf.contains(&format!("extra-substituters = {}", server.url)),
        "{conf}"
    );
    assert!(
        conf.contains(&format!("extra-trusted-public-keys = {KEY}")),
        "{conf}"
    );
    assert!(read(&env.etc.join("nix.conf")).contains("!include access-tokens.conf"));
    assert!(
        !env.token_file().exists(),
        "the user's files stay as they were"
    );
}

#[test]
fn status_judges_each_substituter_with_its_key_and_priority() {
    // The cache itself answers anyone (so that status reads its nix-cache-info), its API only the
    // token.
    let server = fake_cache_api::start(cachix(None, Some(TOKEN)));
    let env = env_for(&server.url);
    let nokey = crate::support::fake_cache::start("/nokey", &[]);
    let pinned = crate::support::fake_cache::start("", &[]);
    // A cache of the user's own without a key, and one whose URL sets its priority.
    env.write(
        &env.nix_conf(),
        &format!(
            "extra-substituters = {}/nokey {}/?priority=10\n",
            nokey.url, pinned.url
        ),
    );
    assert_success(&login_cachix(&env, &server.url, TOKEN, &[]));
    let out = env.run(&["status", "--json"], "");
    assert_no_leak(&out, &[TOKEN]);
    let all: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let row = |url: &str| {
        all.as_array()
            .unwrap()
            .iter()
            .find(|r| r["kind"] == "substituter" && r["url"] == url)
            .unwrap_or_else(|| panic!("no row for {url}: {all}"))
            .clone()
    };
    let ours = row(&server.url);
    assert_eq!(ours["status"], "public", "{ours}");
    assert_eq!(ours["public_key"], KEY);
    // The fake cache's nix-cache-info says `Priority: 40`.
    assert_eq!(ours["priority"], 40);
    let without = row(&format!("{}/nokey", nokey.url));
    assert_eq!(without["public_key"], serde_json::Value::Null, "{without}");
    assert_eq!(without["priority"], 40);
    assert_eq!(row(&format!("{}/?priority=10", pinned.url))["priority"], 10);
    let table = stdout(&env.run(&["status", "--offline"], ""));
    assert!(table.contains("PRIORITY"), "{table}");
    assert!(
        table.contains(&format!("Nix trusts no public key for {}/nokey", nokey.url)),
        "{table}"
    );
    assert!(
        !table.contains(&format!("Nix trusts no public key for {}:", server.url)),
        "{table}"
    );
}

#[test]
fn where_a_nixos_module_owns_the_system_nix_conf_login_prints_the_module_option() {
    let server = fake_cache_api::start(cachix(Some(TOKEN), Some(TOKEN)));
    let env = env_for(&server.url);
    // /etc/nix/nix.conf is a link into the store, as NixOS makes it.
    let generated = env.store.join("00000000000000000000000000000000-nix.conf");
    env.write(&generated, "substituters = https://cache.nixos.org\n");
    std::os::unix::fs::symlink(&generated, env.etc.join("nix.conf")).unwrap();
    let out = env
        .cmd()
        .args([
            "--system",
            "login",
            "cachix",
            "--cache",
            "team",
            "--base-url",
            &server.url,
            "--with-token",
        ])
        .env("NIX_REMOTE", "daemon")
        .write_stdin(format!("{TOKEN}\n"))
        .output()
        .unwrap();
    assert_success(&out);
    assert_no_leak(&out, &[TOKEN]);
    let snippet = format!(
        "programs.nix-tokens.caches = [ {{ url = \"{}\"; publicKey = \"{KEY}\"; tokenFile = \"/run/secrets/…\"; provider = \"cachix\"; }} ];",
        server.url
    );
    assert!(stderr(&out).contains(&snippet), "{}", stderr(&out));
    assert_eq!(read(&generated), "substituters = https://cache.nixos.org\n");
}

#[test]
fn a_dry_run_says_where_the_substituter_and_key_would_go() {
    let server = fake_cache_api::start(cachix(Some(TOKEN), Some(TOKEN)));
    let env = env_for(&server.url);
    let before = env.snapshot();
    let out = login_cachix(&env, &server.url, TOKEN, &["--dry-run"]);
    assert_success(&out);
    assert!(
        stderr(&out).contains(&format!(
            "with the substituter and key {}/api/v1/cache/team gives in {}",
            server.url,
            env.token_file().display()
        )),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.snapshot(), before);
    assert!(server.requests().is_empty());
}

#[test]
fn a_flakehub_login_stores_the_credential_and_says_determinate_nix_sets_up_the_cache() {
    let cache = crate::support::fake_cache::start("", &[("flakehub", TOKEN)]);
    let env = TestEnv::new();
    let out = env.run(
        &[
            "login",
            "flakehub",
            "--base-url",
            &cache.url,
            "--with-token",
        ],
        &format!("{TOKEN}\n"),
    );
    assert_success(&out);
    assert!(
        stderr(&out).contains("Determinate Nix (https://docs.determinate.systems/flakehub/cache) sets up the substituter and keys of flakehub's cache itself"),
        "{}",
        stderr(&out)
    );
    assert!(setting(&env, "extra-substituters").is_empty());
    assert!(read(&env.netrc()).contains("machine cache.flakehub.com login flakehub"));
}

#[test]
fn a_rotated_key_or_moved_cache_replaces_what_the_last_login_added() {
    const NEW_KEY: &str = "team.cachix.org-2:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY=";
    let first = fake_cache_api::start(cachix(Some(TOKEN), Some(TOKEN)));
    let env = env_for(&first.url);
    // Another cache of the user's, logged in too, whose settings must stay.
    let attic = fake_cache_api::start(Stand {
        api: Api::Attic,
        name: "main",
        prefix: "/main",
        cache_token: Some(TOKEN),
        api_token: Some(TOKEN),
        key: ATTIC_KEY,
    });
    let attic_base = format!("{}/main", attic.url);
    assert_success(&login_cachix(&env, &first.url, TOKEN, &[]));
    assert_success(&env.run(
        &[
            "login",
            "attic.example.org",
            "-p",
            "attic",
            "--cache",
            "main",
            "--base-url",
            &attic_base,
            "--with-token",
        ],
        &format!("{TOKEN}\n"),
    ));
    let second = fake_cache_api::start(Stand {
        key: NEW_KEY,
        ..cachix(Some(TOKEN), Some(TOKEN))
    });
    env.write(
        &env.home.join(".config/nix-tokens/providers/cachix.toml"),
        &fake_cache_api::cachix_provider(&second.url),
    );
    assert_success(&login_cachix(&env, &second.url, TOKEN, &["--force"]));
    assert_eq!(
        setting(&env, "extra-substituters"),
        vec![attic_base.clone(), second.url.clone()]
    );
    assert_eq!(
        setting(&env, "extra-trusted-public-keys"),
        vec![ATTIC_KEY, NEW_KEY]
    );
}
