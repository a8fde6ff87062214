//! Rate limits at scale: a secondary rate limit is waited for once within the check's budget
//! (the waits scaled to none: the tests never wait on the clock), else its inputs say they were not
//! checked; a batch a limit refuses is asked again once; and once GitHub says a caller has no
//! requests left, no more are sent.

use std::time::Duration;

use serde_json::{Value, json};

use super::batched::{github_holdings, github_inputs, lock_of};
use super::{GH, assert_row, check, flake};
use crate::support::fake_forge::Reply;
use crate::support::fake_graphql::{self, github_secondary_limit};
use crate::support::fake_repos::Holdings;
use crate::support::flake_lock as fl;
use crate::support::*;

/// One logged-in `github:` input (asked alone, over REST) and two others asked in one batch.
fn limited(graphql: &fake_graphql::Forge, refusals: Vec<Reply>) -> (Option<i32>, Vec<Value>) {
    let env = TestEnv::new();
    env.login_with_token("github.com", "github", &graphql.server.url, GH);
    graphql.refuse_next(refusals);
    let dir = flake(
        &env,
        &lock_of(&[("app".into(), fl::github("corp", "app", None))]),
    );
    let out = env
        .cmd()
        .args(["check", "--json", &dir])
        .env("NIX_TOKENS_TEST_TIME_SCALE", "0")
        .output()
        .unwrap();
    assert_no_leak(&out, &[GH]);
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    (out.status.code(), rows.as_array().unwrap().clone())
}

#[test]
fn a_secondary_rate_limit_is_waited_for_once_within_the_budget() {
    // Asks for 30 seconds: waited for (scaled to none here), then asked again and answered.
    let graphql = fake_graphql::github(github_holdings(), Duration::ZERO, 60);
    let (code, rows) = limited(&graphql, vec![github_secondary_limit(30)]);
    assert_eq!(code, Some(0), "{rows:#?}");
    assert_row(&rows, "app", "ok", "private; the token can read it", None);
    let asked = |g: &fake_graphql::Forge| {
        g.requests()
            .iter()
            .filter(|r| r.path == "/api/v3/repos/corp/app")
            .count()
    };
    assert_eq!(asked(&graphql), 2);

    // Refused again after the wait: not checked, and said so.
    let graphql = fake_graphql::github(github_holdings(), Duration::ZERO, 60);
    let (code, rows) = limited(
        &graphql,
        vec![github_secondary_limit(5), github_secondary_limit(5)],
    );
    assert_eq!(code, Some(4), "{rows:#?}");
    assert_row(
        &rows,
        "app",
        "unreachable",
        "GitHub's secondary rate limit refused it (HTTP 403), again after waiting 5 seconds: not checked",
        None,
    );
    assert_eq!(asked(&graphql), 2);

    // An hour is beyond the budget: no wait, not asked again.
    let graphql = fake_graphql::github(github_holdings(), Duration::ZERO, 60);
    let (code, rows) = limited(&graphql, vec![github_secondary_limit(3600)]);
    assert_eq!(code, Some(4), "{rows:#?}");
    assert_row(
        &rows,
        "app",
        "unreachable",
        "asks for a wait of 3600 seconds, more than the check's time budget (60 seconds) leaves: not checked",
        None,
    );
    assert_eq!(asked(&graphql), 1);
}

#[test]
fn a_batch_a_secondary_rate_limit_refuses_is_asked_again_once() {
    let run = |refusals| {
        let graphql = fake_graphql::github(github_holdings(), Duration::ZERO, 60);
        let env = TestEnv::new();
        env.login_with_token("github.com", "github", &graphql.server.url, GH);
        graphql.refuse_next(refusals);
        let dir = flake(&env, &lock_of(&github_inputs()[..2]));
        let out = env
            .cmd()
            .args(["check", "--json", &dir])
            .env("NIX_TOKENS_TEST_TIME_SCALE", "0")
            .output()
            .unwrap();
        let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
        (graphql, out.status.code(), rows.as_array().unwrap().clone())
    };
    let (graphql, code, rows) = run(vec![github_secondary_limit(20)]);
    assert_eq!(code, Some(0), "{rows:#?}");
    assert_eq!(graphql.graphql_requests().len(), 2);
    assert_row(&rows, "lib", "ok", "public", None);
    let (graphql, code, rows) = run(vec![github_secondary_limit(7200)]);
    assert_eq!(code, Some(4), "{rows:#?}");
    // Not asked again, and not asked alone over REST either.
    assert_eq!(graphql.graphql_requests().len(), 1);
    assert!(
        graphql
            .requests()
            .iter()
            .all(|r| !r.path.starts_with("/api/v3/repos/"))
    );
    for input in ["app", "lib"] {
        assert_row(
            &rows,
            input,
            "unreachable",
            "GitHub's secondary rate limit refused it (HTTP 403) and asks for a wait of 7200 seconds",
            None,
        );
    }
}

#[test]
fn once_github_says_none_are_left_no_more_are_sent() {
    let env = TestEnv::new();
    let names: Vec<String> = (0..20).map(|i| format!("o/r{i}")).collect();
    let held: Vec<(&str, bool)> = names.iter().map(|n| (n.as_str(), true)).collect();
    // Three anonymous requests left; 16 questions go at once, and the answers saying none are
    // left keep the other four from being sent.
    let github = fake_graphql::github(Holdings::new(&held, &[]), Duration::from_millis(50), 3);
    env.write(
        &env.config_dir().join(".nix-tokens-hosts.json"),
        &json!({"hosts": {"github.com": {"provider": "github", "base_url": github.server.url}}})
            .to_string(),
    );
    let inputs: Vec<(String, Value)> = (0..20)
        .map(|i| (format!("r{i}"), fl::github("o", &format!("r{i}"), None)))
        .collect();
    let dir = flake(&env, &lock_of(&inputs));
    let (code, rows, _) = check(&env, &[&dir]);
    assert_eq!(code, Some(3), "{rows:#?}");
    let sent = github.requests().len();
    assert!((16..20).contains(&sent), "{sent} requests");
    let ok = rows.iter().filter(|r| r["verdict"] == "ok").count();
    assert_eq!(ok, 3, "{rows:#?}");
    for r in rows.iter().filter(|r| r["verdict"] != "ok") {
        assert_eq!(r["verdict"], "fails", "{r:#}");
        let reason = r["reason"].as_str().unwrap();
        assert!(
            reason.contains("GitHub's rate limit is used up (0 of 60 requests left this hour)"),
            "{r:#}"
        );
    }
}
