//! `login` through the OAuth device flow (RFC 8628) against a fake GitHub that answers as GitHub
//! does: errors inside HTTP 200 answers, `slow_down`, and codes that expire.

use std::time::Duration;

use serde_json::json;

use crate::support::fake_forge::{self, Request};
use crate::support::*;

const GHO: &str = "gho_16C7e42F292c6912E7710c838347Ae178B4a";

fn login(env: &TestEnv, server_url: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "login",
        "ghe.corp.example",
        "--provider",
        "github",
        "--client-id",
        "Iv1.0123456789abcdef",
        "--base-url",
        server_url,
    ];
    args.extend_from_slice(extra);
    env.run(&args, "")
}

fn polls(requests: &[Request]) -> usize {
    requests
        .iter()
        .filter(|r| r.path == "/login/oauth/access_token")
        .count()
}

#[test]
fn pending_then_slow_down_then_a_token() {
    let env = TestEnv::new();
    let server = fake_forge::github_device(
        GHO,
        1,
        900,
        vec![
            json!({"error": "authorization_pending"}),
            json!({"error": "slow_down", "interval": 6}),
            json!({"access_token": GHO, "token_type": "bearer", "scope": "repo"}),
        ],
    );
    let started = std::time::Instant::now();
    let out = login(&env, &server.url, &[]);
    let took = started.elapsed();
    assert_success(&out);
    assert_no_leak(&out, &[GHO]);
    let err = stderr(&out);
    assert!(
        err.contains("open https://github.com/login/device and enter the code WDJB-MJHT"),
        "{err}"
    );
    assert!(
        err.contains("Logged in to ghe.corp.example as octocat"),
        "{err}"
    );
    assert!(read(&env.token_file()).contains(&format!("ghe.corp.example={GHO}")));
    let requests = server.requests();
    assert_eq!(polls(&requests), 3);
    // 1 s before the first poll, 1 s before the second, then 1 + 5 = 6 s after slow_down, on the
    // tests' time scale.
    assert!(
        took >= scaled(Duration::from_secs(8)),
        "polled too fast: {took:?}"
    );
    assert!(took < Duration::from_secs(20), "{took:?}");
    let device = &requests[0];
    assert_eq!(device.path, "/login/device/code");
    assert_eq!(device.header("accept"), Some("application/json"));
}

#[test]
fn a_denied_authorization_ends_cleanly() {
    let env = TestEnv::new();
    let server = fake_forge::github_device(GHO, 1, 900, vec![json!({"error": "access_denied"})]);
    let before = env.snapshot();
    let out = login(&env, &server.url, &[]);
    assert_clean_failure_after_prompt(&out);
    assert!(
        stderr(&out).contains("was denied; nothing was saved"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.snapshot(), before);
}

#[test]
fn a_disabled_device_flow_says_what_to_do() {
    let env = TestEnv::new();
    let server =
        fake_forge::github_device(GHO, 1, 900, vec![json!({"error": "device_flow_disabled"})]);
    let out = login(&env, &server.url, &[]);
    assert_clean_failure_after_prompt(&out);
    assert!(stderr(&out).contains("--flow token"), "{}", stderr(&out));
}

#[test]
fn polling_stops_at_the_deadline_even_when_the_server_keeps_saying_pending() {
    let env = TestEnv::new();
    let server =
        fake_forge::github_device(GHO, 1, 3, vec![json!({"error": "authorization_pending"})]);
    let started = std::time::Instant::now();
    let out = login(&env, &server.url, &[]);
    assert_clean_failure_after_prompt(&out);
    assert!(
        stderr(&out).contains("expired before the authorization"),
        "{}",
        stderr(&out)
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(polls(&server.requests()) <= 3);
}

#[test]
fn the_device_flow_needs_a_client_id_off_github_com() {
    let env = TestEnv::new();
    let out = env.run(
        &[
            "login",
            "ghe.corp.example",
            "-p",
            "github",
            "--flow",
            "device-code",
        ],
        "",
    );
    assert_clean_failure(&out, 2);
    assert!(
        stderr(&out).contains("pass --client-id"),
        "{}",
        stderr(&out)
    );
    let out = env.run(&["login", "codeberg", "--flow", "device-code"], "");
    assert_clean_failure(&out, 2);
    assert!(
        stderr(&out).contains("has no device flow"),
        "{}",
        stderr(&out)
    );
}

/// The code and URL were shown, then one error line, and no panic.
fn assert_clean_failure_after_prompt(out: &std::process::Output) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("enter the code WDJB-MJHT"), "{err}");
    let last = err.trim_end().lines().last().unwrap();
    assert!(last.starts_with("error: "), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
