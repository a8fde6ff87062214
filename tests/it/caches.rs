//! Binary caches: logging in to Cachix, Attic, FlakeHub and any Nix cache checks the token with
//! the cache's `nix-cache-info` as Nix's curl sends netrc, puts it where the process that
//! downloads will read it (the system netrc on a multi-user install), and `status` shows every
//! substituter Nix reads with the credential that process will send.

use crate::support::fake_cache::{self, basic};
use crate::support::fake_forge;
use crate::support::*;

const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.cachetoken0123456789";
const OTHER: &str = "eyJhbGciOiJIUzI1NiJ9.othertoken0123456789";

/// `nix-tokens ARGS…` with `TOKEN` on standard input.
fn run(env: &TestEnv, args: &[&str]) -> std::process::Output {
    env.run(args, &format!("{TOKEN}\n"))
}

#[test]
fn cachix_caches_are_named_and_get_a_netrc_entry_without_login() {
    let env = TestEnv::new();
    let cache = fake_cache::start("", &[("", TOKEN)]);
    let out = run(
        &env,
        &[
            "login",
            "cachix",
            "--cache",
            "team",
            "--base-url",
            &cache.url,
            "--credential-only",
            "--with-token",
        ],
    );
    assert_success(&out);
    assert_no_leak(&out, &[TOKEN]);
    assert!(
        stderr(&out).contains(&format!(
            "Logged in to team.cachix.org: {}/ accepts the token",
            cache.url
        )),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        read(&env.netrc()),
        format!("machine team.cachix.org password {TOKEN}\n")
    );
    assert_eq!(mode(&env.netrc()), 0o600);
    // Asked exactly as Nix's curl asks with that entry: an empty user and the token.
    let sent: Vec<Option<String>> = cache
        .requests()
        .iter()
        .map(|r| r.header("authorization").map(str::to_owned))
        .collect();
    assert!(sent.contains(&Some(basic("", TOKEN))), "{sent:?}");
    let hosts = read(&env.config_dir().join(".nix-tokens-hosts.json"));
    assert!(hosts.contains("\"provider\": \"cachix\""), "{hosts}");
}

#[test]
fn a_token_the_cache_refuses_is_not_saved() {
    let env = TestEnv::new();
    let cache = fake_cache::start("", &[("", OTHER)]);
    let before = env.snapshot();
    let args = [
        "login",
        "team.cachix.org",
        "--base-url",
        &cache.url,
        "--with-token",
    ];
    let out = run(&env, &args);
    assert_clean_failure(&out, 1);
    assert!(
        stderr(&out).contains("team.cachix.org refused the token (refused with HTTP 401"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.snapshot(), before);
    let mut forced = args.to_vec();
    forced.push("--force");
    assert_success(&run(&env, &forced));
    assert!(read(&env.netrc()).contains("machine team.cachix.org password"));
}

#[test]
fn an_attic_cache_is_a_path_on_its_server() {
    let env = TestEnv::new();
    let out = run(
        &env,
        &["login", "attic.example.com", "-p", "attic", "--with-token"],
    );
    assert_clean_failure(&out, 2);
    assert!(
        stderr(&out).contains("a attic cache on attic.example.com is named in its substituter's URL: pass --cache NAME"),
        "{}",
        stderr(&out)
    );
    let dry = run(
        &env,
        &[
            "login",
            "attic.example.com",
            "-p",
            "attic",
            "--cache",
            "main",
            "--dry-run",
        ],
    );
    assert_success(&dry);
    assert!(
        stderr(&dry).contains("check the token with https://attic.example.com/main"),
        "{}",
        stderr(&dry)
    );
    let cache = fake_cache::start("/main", &[("", TOKEN)]);
    let base = format!("{}/main", cache.url);
    let out = run(
        &env,
        &[
            "login",
            "attic.example.com",
            "-p",
            "attic",
            "--base-url",
            &base,
            "--credential-only",
            "--with-token",
        ],
    );
    assert_success(&out);
    assert_eq!(
        read(&env.netrc()),
        format!("machine attic.example.com password {TOKEN}\n")
    );
    assert!(
        cache
            .requests()
            .iter()
            .any(|r| r.path == "/main/nix-cache-info")
    );
    // Guided entry names what the token must allow.
    let out = env.run(
        &[
            "login",
            "attic.example.com",
            "-p",
            "attic",
            "--cache",
            "main",
            "--base-url",
            &base,
        ],
        "",
    );
    assert!(
        stderr(&out).contains("no token for attic.example.com arrived"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn one_flakehub_token_serves_its_three_hosts() {
    let env = TestEnv::new();
    let cache = fake_cache::start("", &[("flakehub", TOKEN)]);
    let out = run(
        &env,
        &[
            "login",
            "flakehub",
            "--base-url",
            &cache.url,
            "--with-token",
        ],
    );
    assert_success(&out);
    assert_eq!(
        read(&env.netrc()),
        format!(
            "machine flakehub.com login flakehub password {TOKEN}\n\
             machine api.flakehub.com login flakehub password {TOKEN}\n\
             machine cache.flakehub.com login flakehub password {TOKEN}\n"
        )
    );
    let out = env.run(&["logout", "flakehub", "--yes"], "");
    assert_success(&out);
    assert_eq!(read(&env.netrc()), "");
}

#[test]
fn a_public_cache_is_said_to_need_no_token() {
    let env = TestEnv::new();
    let cache = fake_cache::start("", &[]);
    let out = run(
        &env,
        &[
            "login",
            "cache.example.com",
            "-p",
            "nix-cache",
            "--base-url",
            &cache.url,
            "--credential-only",
            "--with-token",
        ],
    );
    assert_success(&out);
    assert!(
        stderr(&out).contains("is public: Nix needs no token for it"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn with_a_nix_daemon_the_token_goes_to_the_system_netrc_or_nowhere() {
    let env = TestEnv::new();
    let cache = fake_cache::start("", &[("", TOKEN)]);
    // A daemon that trusts no one this test runs as (root included), so it reads only its own
    // netrc for this user's downloads.
    env.write(
        &env.etc.join("nix.conf"),
        "trusted-users = nix-tokens-nobody\n",
    );
    let before = env.snapshot();
    let daemon = |args: &[&str]| {
        env.cmd()
            .args(args)
            .env("NIX_REMOTE", "daemon")
            .write_stdin(format!("{TOKEN}\n"))
            .output()
            .unwrap()
    };
    let login = [
        "login",
        "cachix",
        "--cache",
        "team",
        "--base-url",
        &cache.url,
        "--with-token",
    ];
    let out = daemon(&login);
    assert_clean_failure(&out, 2);
    let said = format!(
        "on this machine the nix-daemon downloads from binary caches, and it reads only {}; run the command as root with --system: `sudo nix-tokens --system login team.cachix.org --provider cachix --cache team --base-url {}` (on NixOS: `programs.nix-tokens.cacheTokens.\"team.cachix.org\" = {{ file = …; provider = \"cachix\"; }};`)",
        env.etc.join("netrc").display(),
        cache.url
    );
    assert!(stderr(&out).contains(&said), "{}", stderr(&out));
    assert_eq!(env.snapshot(), before, "nothing was written");
    let out = daemon(&["set-token", "team.cachix.org", "-p", "cachix"]);
    assert_clean_failure(&out, 2);
    assert!(
        stderr(&out)
            .contains("`sudo nix-tokens --system set-token team.cachix.org --provider cachix`"),
        "{}",
        stderr(&out)
    );

    let mut system = vec!["--system"];
    system.extend(login);
    // The credential alone: this test is about where it goes (tests/it/cache_use.rs covers the
    // substituter and key).
    system.push("--credential-only");
    let out = daemon(&system);
    assert_success(&out);
    let netrc = env.etc.join("netrc");
    assert_eq!(
        read(&netrc),
        format!("machine team.cachix.org password {TOKEN}\n")
    );
    assert_eq!(mode(&netrc), 0o600);
    // The daemon reads its default netrc: no netrc-file line, so no include is needed.
    assert!(
        !env.etc.join("access-tokens.conf").exists()
            || !read(&env.etc.join("access-tokens.conf")).contains("netrc-file")
    );
    if let Some(config) = nix_config(&env) {
        assert_eq!(config["netrc-file"]["value"], netrc.display().to_string());
    }
}

/// `status --json` rows of `kind`.
fn rows_of(out: &std::process::Output, kind: &str) -> Vec<serde_json::Value> {
    let all: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status prints JSON");
    all.as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == kind)
        .cloned()
        .collect()
}

#[test]
fn status_shows_every_substituter_with_the_credential_it_will_get() {
    let env = TestEnv::new();
    let public = fake_cache::start("", &[]);
    let private = fake_cache::start("", &[("", TOKEN)]);
    let refusing = fake_cache::start("/c", &[("", OTHER)]);
    env.write(
        &env.etc.join("nix.conf"),
        &format!(
            // The daemon below trusts no one this test runs as (root included): only its own
            // netrc counts for caches.
            "substituters = {} {}\ntrusted-substituters = s3://bucket\ntrusted-users = nix-tokens-nobody\n",
            public.url, private.url
        ),
    );
    env.write(
        &env.nix_conf(),
        &format!("extra-substituters = {}/c\n", refusing.url),
    );
    // One credential for the host (curl matches netrc entries by host, not port).
    assert_success(&env.run(
        &["set-token", "127.0.0.1", "-p", "nix-cache", "--force"],
        &format!("{TOKEN}\n"),
    ));

    let out = env.run(&["status", "--json"], "");
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_no_leak(&out, &[TOKEN]);
    let caches = rows_of(&out, "substituter");
    let status: Vec<(&str, &str)> = caches
        .iter()
        .map(|c| (c["url"].as_str().unwrap(), c["status"].as_str().unwrap()))
        .collect();
    let refusing_url = format!("{}/c", refusing.url);
    assert_eq!(
        status,
        [
            (public.url.as_str(), "public"),
            (private.url.as_str(), "valid"),
            ("s3://bucket", "unverified"),
            (refusing_url.as_str(), "invalid"),
        ]
    );
    for c in &caches {
        assert_eq!(c["source"], env.netrc().display().to_string());
        assert_eq!(
            c["host"],
            if c["url"] == "s3://bucket" {
                "bucket"
            } else {
                "127.0.0.1"
            }
        );
        let keys: Vec<&String> = c.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "kind",
                "host",
                "url",
                "status",
                "source",
                "message",
                "public_key",
                "priority",
                "ignored_by_daemon"
            ]
        );
    }
    assert!(
        caches[0]["message"]
            .as_str()
            .unwrap()
            .contains("public: Nix needs no token")
    );
    let token = &rows_of(&out, "token")[0];
    assert_eq!(
        (token["host"].as_str(), token["status"].as_str()),
        (Some("127.0.0.1"), Some("valid"))
    );

    // With a nix-daemon only the system netrc counts, and it has no entry: the private caches'
    // credentials are missing.
    let out = env
        .cmd()
        .args(["status", "--json"])
        .env("NIX_REMOTE", "daemon")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let caches = rows_of(&out, "substituter");
    assert_eq!(caches[1]["status"], "missing");
    assert_eq!(
        caches[1]["source"],
        env.etc.join("netrc").display().to_string()
    );
    let message = caches[1]["message"].as_str().unwrap();
    assert!(
        message.contains("which the nix-daemon reads) has no credential for 127.0.0.1; run `sudo nix-tokens --system login 127.0.0.1 --provider nix-cache`"),
        "{message}"
    );

    // The table shows them after the tokens; --offline asks no one.
    let out = env.run(&["status", "--offline"], "");
    assert_success(&out);
    let table = stdout(&out);
    assert!(table.contains("SUBSTITUTER"), "{table}");
    assert!(public.requests().len() >= 2 && private.requests().len() >= 2);
    let asked = public.requests().len();
    let _ = env.run(&["status", "--offline", "--json"], "");
    assert_eq!(public.requests().len(), asked);
}

#[test]
fn a_cache_token_no_setting_uses_is_flagged() {
    let env = TestEnv::new();
    assert_success(&run(
        &env,
        &["set-token", "team.cachix.org", "-p", "cachix"],
    ));
    let out = env.run(&["status", "--offline", "--json"], "");
    assert_success(&out);
    let token = &rows_of(&out, "token")[0];
    assert_eq!(token["provider"], "cachix");
    assert!(
        token["message"].as_str().unwrap().contains(
            "no substituters setting names https://team.cachix.org, so Nix never downloads from it"
        ),
        "{token}"
    );
}

#[test]
fn bad_cache_tokens_and_plain_http_are_refused() {
    let env = TestEnv::new();
    let before = env.snapshot();
    let out = env.run(
        &["set-token", "team.cachix.org", "-p", "cachix"],
        "one two\n",
    );
    assert_clean_failure(&out, 2);
    assert!(stderr(&out).contains("white space"), "{}", stderr(&out));
    let out = env.run(
        &[
            "login",
            "cache.example.com",
            "-p",
            "nix-cache",
            "--base-url",
            "http://cache.example.com",
            "--with-token",
        ],
        &format!("{TOKEN}\n"),
    );
    assert_clean_failure(&out, 2);
    assert!(stderr(&out).contains("must use https"), "{}", stderr(&out));
    let out = env.run(&["login", "github", "--cache", "team"], "");
    assert_clean_failure(&out, 2);
    assert_eq!(env.snapshot(), before);
}

#[test]
fn cache_tokens_are_revoked_by_hand() {
    let env = TestEnv::new();
    assert_success(&run(
        &env,
        &["set-token", "team.cachix.org", "-p", "cachix"],
    ));
    let out = env.run(&["logout", "team.cachix.org", "--yes", "--revoke"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("nix-tokens cannot revoke cachix tokens; revoke it in the Settings of the cache at https://app.cachix.org"),
        "{}",
        stderr(&out)
    );
    assert_eq!(read(&env.netrc()), "");
}

#[test]
fn a_cache_that_never_answers_is_unreachable_within_the_timeout() {
    let env = TestEnv::new();
    let silent = fake_forge::RawServer::start(None);
    env.write(
        &env.etc.join("nix.conf"),
        &format!("substituters = {}\n", silent.url),
    );
    let out = env
        .cmd()
        .args(["status", "--json"])
        .env("NIX_TOKENS_HTTP_TIMEOUT", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let caches = rows_of(&out, "substituter");
    assert_eq!(caches[0]["status"], "unreachable");
    assert!(
        caches[0]["message"]
            .as_str()
            .unwrap()
            .contains("no answer within 1 seconds"),
        "{}",
        caches[0]
    );
}
