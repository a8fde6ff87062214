//! `expiring`: a credential that nothing renews and that expires within `--warn-days` (default 7)
//! gets its own status and exit code 5, for each source of its expiry: GitHub's
//! `GitHub-Authentication-Token-Expiration` header, GitLab's `expires_at`, a JWT's `exp` (Attic
//! and FlakeHub tokens in netrc), an OAuth login's remembered expiry when it has no refresh token;
//! a renewable OAuth login is never `expiring`. The refresh timer (`refresh --quiet`) warns once
//! per such credential, with the command that replaces it.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use crate::support::fake_forge::{FakeServer, GitlabOAuth, Reply};
use crate::support::*;

const GH: &str = "ghp_expiringexpiringexpiring012345";
const GL: &str = "glpat-expiringexpiring0123";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A JWT-shaped token (an unchecked signature, as Attic's and FlakeHub's are to nix-tokens) with
/// this `exp`.
fn jwt(exp: u64) -> String {
    let enc = |s: String| URL_SAFE_NO_PAD.encode(s);
    format!(
        "{}.{}.c2lnbmF0dXJlc2lnbmF0dXJl",
        enc(r#"{"alg":"RS256","typ":"JWT"}"#.into()),
        enc(format!(r#"{{"sub":"ci","exp":{exp}}}"#))
    )
}

/// `date -u -d @SECS +FORMAT`.
fn date(secs: u64, format: &str) -> String {
    let out = std::process::Command::new("date")
        .args(["-u", "-d", &format!("@{secs}"), &format!("+{format}")])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// `status --json ARGS…`: the exit code and the row for `host`.
fn status(env: &TestEnv, args: &[&str], host: &str) -> (Option<i32>, serde_json::Value, Output) {
    let mut all = vec!["status", "--json"];
    all.extend_from_slice(args);
    let out = env.run(&all, "");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status prints JSON");
    let row = json
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["host"] == host)
        .unwrap_or_else(|| panic!("no row for {host}: {json}"))
        .clone();
    (out.status.code(), row, out)
}

use std::process::Output;

#[test]
fn a_jwt_in_netrc_is_expiring_by_its_exp() {
    let env = TestEnv::new();
    let soon = jwt(now() + 3 * 86_400 + 600);
    let later = jwt(now() + 30 * 86_400);
    for (host, token) in [
        ("attic.example.org", &soon),
        ("cache.flakehub.example", &later),
    ] {
        let out = env.run(&["set-token", host, "--netrc"], &format!("{token}\n"));
        assert_success(&out);
    }
    let (code, row, out) = status(&env, &["--offline"], "attic.example.org");
    assert_no_leak(&out, &[&soon, &later]);
    assert_eq!(code, Some(5), "{}", stderr(&out));
    assert_eq!(row["status"], "expiring");
    assert!(row["expires_at"].as_str().unwrap().ends_with('Z'), "{row}");
    let message = row["message"].as_str().unwrap();
    assert!(message.contains("in 3 days"), "{message}");
    assert!(
        message.contains("nix-tokens login attic.example.org"),
        "{message}"
    );
    let (_, row, _) = status(&env, &["--offline"], "cache.flakehub.example");
    assert_eq!(row["status"], "unverified");
    assert!(row["expires_at"].is_string(), "{row}");

    // A narrower window: nothing is expiring.
    let (code, row, _) = status(
        &env,
        &["--offline", "--warn-days", "2"],
        "attic.example.org",
    );
    assert_eq!(code, Some(0));
    assert_eq!(row["status"], "unverified");

    // The table says it too.
    let out = env.run(&["status", "--offline"], "");
    assert_eq!(out.status.code(), Some(5));
    assert!(stdout(&out).contains("expiring"), "{}", stdout(&out));
    assert_no_leak(&out, &[&soon, &later]);
}

#[test]
fn a_jwt_past_its_exp_is_expired_even_offline() {
    let env = TestEnv::new();
    let gone = jwt(now() - 3600);
    let out = env.run(
        &["set-token", "attic.example.org", "--netrc"],
        &format!("{gone}\n"),
    );
    assert_success(&out);
    let (code, row, _) = status(&env, &["--offline"], "attic.example.org");
    assert_eq!(code, Some(3));
    assert_eq!(row["status"], "expired");
}

#[test]
fn github_s_expiry_header_makes_a_token_expiring() {
    let env = TestEnv::new();
    let expiry = date(now() + 2 * 86_400 + 3600, "%Y-%m-%d %H:%M:%S UTC");
    let server = FakeServer::start(move |r| {
        if r.header("authorization") == Some(&format!("token {GH}")) {
            Reply::json(200, json!({"login": "octocat"}))
                .header("X-OAuth-Scopes", "repo")
                .header("GitHub-Authentication-Token-Expiration", &expiry)
        } else {
            Reply::json(401, json!({"message": "Bad credentials"}))
        }
    });
    env.login_with_token("ghe.corp.example", "github", &server.url, GH);
    let (code, row, out) = status(&env, &[], "ghe.corp.example");
    assert_no_leak(&out, &[GH]);
    assert_eq!(code, Some(5), "{}", stderr(&out));
    assert_eq!(row["status"], "expiring");
    assert!(
        row["message"]
            .as_str()
            .unwrap()
            .contains("nix-tokens login ghe.corp.example")
    );
    let (code, row, _) = status(&env, &["--warn-days", "1"], "ghe.corp.example");
    assert_eq!(code, Some(0));
    assert_eq!(row["status"], "valid");
}

#[test]
fn gitlab_s_expires_at_makes_a_token_expiring() {
    let env = TestEnv::new();
    // GitLab's personal tokens expire at 00:00 UTC on their date: three days from now.
    let day = date(now() + 3 * 86_400, "%Y-%m-%d");
    let server = FakeServer::start(move |r| {
        let ok = r.header("private-token") == Some(GL);
        let meta = |reply: Reply| reply.header("X-Gitlab-Meta", r#"{"version":"1"}"#);
        meta(match (r.path.as_str(), ok) {
            ("/api/v4/user", true) => Reply::json(200, json!({"id": 1, "username": "tanuki"})),
            ("/api/v4/personal_access_tokens/self", true) => Reply::json(
                200,
                json!({"id": 4, "name": "nix", "revoked": false, "active": true,
                       "scopes": ["read_api", "read_repository"], "expires_at": day}),
            ),
            _ => Reply::json(401, json!({"message": "401 Unauthorized"})),
        })
    });
    env.login_with_token("gitlab.corp.example", "gitlab", &server.url, GL);
    let (code, row, out) = status(&env, &[], "gitlab.corp.example");
    assert_no_leak(&out, &[GL]);
    assert_eq!(code, Some(5), "{}", stderr(&out));
    assert_eq!(row["status"], "expiring");
    let (code, _, _) = status(&env, &["--warn-days", "1"], "gitlab.corp.example");
    assert_eq!(code, Some(0));
}

#[test]
fn an_oauth_login_is_expiring_only_when_nothing_renews_it() {
    let env = TestEnv::new();
    let gitlab = GitlabOAuth::start();
    let host = "gitlab.oauth.example";
    let out = env.run(
        &[
            "login",
            host,
            "--provider",
            "gitlab",
            "--client-id",
            "corp-app-id",
            "--base-url",
            &gitlab.server.url,
        ],
        "",
    );
    assert_success(&out);
    // Two hours left, but a refresh token renews it: not expiring.
    let (code, row, _) = status(&env, &["--offline"], host);
    assert_eq!(code, Some(0));
    assert_eq!(row["status"], "unverified");
    assert!(row["expires_at"].is_string(), "{row}");

    // The same login as a provider that gave no refresh token leaves it: expiring.
    let logins = env.config_dir().join(".nix-tokens-oauth.json");
    let mut record: serde_json::Value = serde_json::from_str(&read(&logins)).unwrap();
    record["logins"][host]
        .as_object_mut()
        .unwrap()
        .remove("refresh_token")
        .expect("the login kept its refresh token in the file");
    std::fs::write(&logins, serde_json::to_string_pretty(&record).unwrap()).unwrap();
    let (code, row, out) = status(&env, &["--offline"], host);
    assert_eq!(code, Some(5), "{}", stderr(&out));
    assert_eq!(row["status"], "expiring");
    assert!(row["message"].as_str().unwrap().contains("hours"), "{row}");
}

#[test]
fn the_refresh_timer_warns_once_per_expiring_token_it_cannot_renew() {
    let env = TestEnv::new();
    let soon = jwt(now() + 2 * 86_400 + 600);
    let later = jwt(now() + 60 * 86_400);
    for (host, token) in [("attic.example.org", &soon), ("other.example.org", &later)] {
        assert_success(&env.run(&["set-token", host, "--netrc"], &format!("{token}\n")));
    }
    env.set_token("github.com", GH);
    let before = env.snapshot();
    let out = env.run(&["refresh", "--quiet"], "");
    assert_success(&out);
    assert_eq!(stdout(&out), "");
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("attic.example.org"), "{err}");
    assert!(err.contains("nix-tokens login attic.example.org"), "{err}");
    assert!(err.contains("in 2 days"), "{err}");
    assert_no_leak(&out, &[&soon, &later, GH]);
    assert_eq!(env.snapshot(), before);

    let out = env.run(&["refresh", "--quiet", "--warn-days", "1"], "");
    assert_success(&out);
    assert_eq!(stderr(&out), "");
    let out = env.run(&["refresh", "--quiet", "--warn-days", "90"], "");
    assert_eq!(stderr(&out).lines().count(), 2, "{}", stderr(&out));
}
