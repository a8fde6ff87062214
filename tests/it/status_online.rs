//! `status` asks each token's provider, all at once (fake forges on 127.0.0.1 that the hosts
//! were logged in to), and its exit code tells scripts what it found.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;

use crate::support::fake_forge::{self, FakeServer, Reply};
use crate::support::*;

const GH: &str = "ghp_abcdefghijklmnopqrstuvwxyz0123456789";
const GITEA: &str = "giteatoken1234567890";

fn login(env: &TestEnv, host: &str, provider: &str, server: &FakeServer, token: &str) {
    env.login_with_token(host, provider, &server.url, token);
}

fn status_json(env: &TestEnv) -> (Option<i32>, serde_json::Value, String) {
    let out = env.run(&["status", "--json"], "");
    assert_no_leak(&out, &[GH, GITEA]);
    let json = serde_json::from_slice(&out.stdout).expect("status prints JSON");
    (out.status.code(), json, stderr(&out))
}

fn row<'a>(json: &'a serde_json::Value, host: &str) -> &'a serde_json::Value {
    json.as_array()
        .unwrap()
        .iter()
        .find(|r| r["host"] == host)
        .unwrap_or_else(|| panic!("no row for {host}: {json}"))
}

#[test]
fn verdicts_and_exit_codes() {
    let env = TestEnv::new();
    let github = fake_forge::github(GH, "repo, read:org");
    let gitea = fake_forge::gitea(GITEA);
    login(&env, "ghe.corp.example", "github", &github, GH);
    login(&env, "git.corp.example", "gitea", &gitea, GITEA);

    let (code, json, _) = status_json(&env);
    assert_eq!(code, Some(0), "{json}");
    let ghe = row(&json, "ghe.corp.example");
    assert_eq!(ghe["status"], "valid");
    assert_eq!(ghe["user"], "octocat");
    assert_eq!(ghe["scopes"], json!(["repo", "read:org"]));
    assert_eq!(ghe["expires_at"], "2099-12-01T12:00:00Z");
    assert!(
        ghe["message"]
            .as_str()
            .unwrap()
            .contains("rate limit 4999 of 5000")
    );
    assert_eq!(row(&json, "git.corp.example")["user"], "forge-user");

    // The forge goes away: unreachable, exit 4.
    drop(gitea);
    let (code, json, _) = status_json(&env);
    assert_eq!(code, Some(4), "{json}");
    assert_eq!(row(&json, "git.corp.example")["status"], "unreachable");

    // A token the provider refuses wins over an unreachable one: exit 3.
    let other = fake_forge::github("ghp_someoneelsesomeoneelse0123456789", "repo");
    let hosts = env.config_dir().join(".nix-tokens-hosts.json");
    let text = read(&hosts).replace(&github.url, &other.url);
    env.write(&hosts, &text);
    let (code, json, _) = status_json(&env);
    assert_eq!(code, Some(3), "{json}");
    let ghe = row(&json, "ghe.corp.example");
    assert_eq!(ghe["status"], "invalid");
    assert!(
        ghe["message"].as_str().unwrap().contains("Bad credentials"),
        "{ghe}"
    );

    // --offline asks no one.
    let before = other.requests().len();
    let out = env.run(&["status", "--offline"], "");
    assert_success(&out);
    assert_eq!(other.requests().len(), before);
}

#[test]
fn an_expiring_token_and_a_missing_scope_are_flagged() {
    let env = TestEnv::new();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let soon = now + 5 * 86_400 + 3600;
    let expiry = {
        // The header GitHub sends: `YYYY-MM-DD HH:MM:SS UTC`.
        let out = std::process::Command::new("date")
            .args(["-u", "-d", &format!("@{soon}"), "+%Y-%m-%d %H:%M:%S UTC"])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let server = FakeServer::start(move |r| {
        if r.header("authorization") == Some(&format!("token {GH}")) {
            Reply::json(200, json!({"login": "octocat"}))
                .header("X-OAuth-Scopes", "gist")
                .header("GitHub-Authentication-Token-Expiration", &expiry)
        } else {
            Reply::json(401, json!({"message": "Bad credentials"}))
        }
    });
    login(&env, "ghe.corp.example", "github", &server, GH);
    let (code, json, _) = status_json(&env);
    // Five days left, within the default week, with nothing to renew it: `expiring`, exit 5.
    assert_eq!(code, Some(5));
    assert_eq!(row(&json, "ghe.corp.example")["status"], "expiring");
    let message = row(&json, "ghe.corp.example")["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("expires in 5 days"), "{message}");
    assert!(message.contains("lacks the scope(s) repo"), "{message}");
}

#[test]
fn hosts_are_checked_at_the_same_time() {
    let env = TestEnv::new();
    let in_flight = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let (now, peak) = (in_flight.clone(), most.clone());
    let server = FakeServer::start(move |_| {
        let n = now.fetch_add(1, Ordering::SeqCst) + 1;
        peak.fetch_max(n, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(300));
        now.fetch_sub(1, Ordering::SeqCst);
        Reply::json(200, json!({"login": "forge-user"}))
    });
    for i in 0..6 {
        login(
            &env,
            &format!("git{i}.corp.example"),
            "gitea",
            &server,
            GITEA,
        );
    }
    most.store(0, Ordering::SeqCst);
    let (code, json, _) = status_json(&env);
    assert_eq!(code, Some(0), "{json}");
    assert_eq!(json.as_array().unwrap().len(), 6);
    assert!(
        most.load(Ordering::SeqCst) >= 3,
        "checks ran one after another (at most {} at once)",
        most.load(Ordering::SeqCst)
    );
}

#[test]
fn a_verbose_online_status_prints_no_token() {
    let env = TestEnv::new();
    let github = fake_forge::github(GH, "repo");
    login(&env, "ghe.corp.example", "github", &github, GH);
    for args in [&["-vvv", "status"][..], &["-vvv", "status", "--json"]] {
        let out = env.run(args, "");
        assert_success(&out);
        assert_no_leak(&out, &[GH]);
    }
}

#[test]
fn revoked_and_expired_tokens_are_named_as_the_provider_says() {
    // GitLab's answers for a revoked and for an expired OAuth token.
    let env = TestEnv::new();
    let server = FakeServer::start(|r| {
        let description = match r.header("private-token") {
            Some("glpat-revokedrevokedrevoked") => {
                "Token was revoked. You have to re-authorize from the user profile."
            }
            Some("glpat-expiredexpiredexpired") => {
                "Token is expired. You can either do re-authorization or token refresh."
            }
            _ => "Invalid token",
        };
        Reply::json(
            401,
            json!({"error": "invalid_token", "error_description": description}),
        )
        .header("X-Gitlab-Meta", "{}")
    });
    for (host, token) in [
        ("revoked.corp.example", "glpat-revokedrevokedrevoked"),
        ("expired.corp.example", "glpat-expiredexpiredexpired"),
        ("wrong.corp.example", "glpat-wrongwrongwrongwrong"),
    ] {
        let out = env.run(
            &[
                "login",
                host,
                "-p",
                "gitlab",
                "--base-url",
                &server.url,
                "--with-token",
                "--force",
            ],
            &format!("{token}\n"),
        );
        assert_success(&out);
    }
    let out = env.run(&["status", "--json"], "");
    assert_eq!(out.status.code(), Some(3));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(row(&json, "revoked.corp.example")["status"], "revoked");
    assert_eq!(row(&json, "expired.corp.example")["status"], "expired");
    assert_eq!(row(&json, "wrong.corp.example")["status"], "invalid");
}

#[test]
fn a_host_without_a_known_provider_is_detected_then_checked() {
    // The host was remembered with a provider whose file has since been removed, so status
    // must find out what it runs, as for a token added by hand.
    let env = TestEnv::new();
    let forge = fake_forge::detectable("forgejo", fake_forge::gitea(GITEA));
    let out = env.run(
        &["set-token", "git.hand.example", "--netrc"],
        &format!("{GITEA}\n"),
    );
    assert_success(&out);
    env.write(
        &env.config_dir().join(".nix-tokens-hosts.json"),
        &format!(
            r#"{{"hosts": {{"git.hand.example": {{"provider": "retired", "base_url": "{}"}}}}}}"#,
            forge.url
        ),
    );
    let (code, json, _) = status_json(&env);
    assert_eq!(code, Some(0), "{json}");
    let r = row(&json, "git.hand.example");
    assert_eq!(r["provider"], "forgejo");
    assert_eq!(r["status"], "valid");
    assert_eq!(r["user"], "forge-user");
}

#[test]
fn a_token_nix_tokens_cannot_check_is_unverified_and_does_not_fail_status() {
    let env = TestEnv::new();
    let out = env.run(&["set-token", "sourcehut"], "srhttokenabcdefghij12345\n");
    assert_success(&out);
    let (code, json, _) = status_json(&env);
    assert_eq!(code, Some(0), "{json}");
    let r = row(&json, "git.sr.ht");
    assert_eq!(r["status"], "unverified");
    assert!(
        r["message"]
            .as_str()
            .unwrap()
            .contains("cannot check sourcehut"),
        "{r}"
    );
}
