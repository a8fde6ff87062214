//! Many inputs at once: GitHub's GraphQL and GitLab's `projects(fullPaths:)` answer a batch with
//! the verdicts their REST APIs give each input alone, and a batch refused as a whole is asked
//! input by input; no host gets more than 16 requests at once; and `-v` and the GitHub Actions
//! step summary tell the requests per host. Rate limits: [`super::rate_limits`].

use std::time::Duration;

use serde_json::{Map, Value, json};

use super::{GH, GL, assert_row, check, flake, port_of};
use crate::support::fake_graphql;
use crate::support::fake_repos::{self, Holdings};
use crate::support::flake_lock::{self as fl, lock};
use crate::support::*;

/// A lock with one input per `(name, node)`.
pub fn lock_of(inputs: &[(String, Value)]) -> String {
    let roots: Map<String, Value> = inputs.iter().map(|(n, _)| (n.clone(), json!(n))).collect();
    let nodes: Map<String, Value> = inputs.iter().cloned().collect();
    lock(Value::Object(roots), Value::Object(nodes))
}

/// Each input's verdict, reason and fix.
fn verdicts(rows: &[Value]) -> Vec<(String, Value, Value, Value)> {
    let mut all: Vec<_> = rows
        .iter()
        .map(|r| {
            let input = r["input"].as_str().unwrap().to_owned();
            (
                input,
                r["verdict"].clone(),
                r["reason"].clone(),
                r["fix"].clone(),
            )
        })
        .collect();
    all.sort_by(|a, b| a.0.cmp(&b.0));
    all
}

pub fn github_holdings() -> Holdings {
    Holdings::new(
        &[
            ("corp/app", false),
            ("corp/lib", true),
            ("other/secret", false),
        ],
        &[(GH, "corp")],
    )
}

pub fn github_inputs() -> Vec<(String, Value)> {
    [
        ("app", "corp", "app"),
        ("lib", "corp", "lib"),
        ("secret", "other", "secret"),
        ("gone", "corp", "gone"),
    ]
    .iter()
    .map(|(n, o, r)| (n.to_string(), fl::github(o, r, None)))
    .collect()
}

/// `check` of `inputs` with github.com at `url`, logged in with `GH`.
fn check_github(url: &str, inputs: &[(String, Value)]) -> (Option<i32>, Vec<Value>) {
    let env = TestEnv::new();
    env.login_with_token("github.com", "github", url, GH);
    let dir = flake(&env, &lock_of(inputs));
    let (code, rows, _) = check(&env, &[&dir]);
    (code, rows)
}

#[test]
fn a_github_graphql_batch_gives_each_input_the_verdict_rest_gives() {
    let graphql = fake_graphql::github(github_holdings(), Duration::ZERO, 60);
    let (code, batched) = check_github(&graphql.server.url, &github_inputs());
    assert_eq!(code, Some(3), "{batched:#?}");
    // One GraphQL query named the four, and no REST question was asked about any of them.
    assert_eq!(graphql.graphql_requests().len(), 1);
    assert!(
        graphql
            .requests()
            .iter()
            .all(|r| !r.path.starts_with("/api/v3/repos/")),
        "{:?}",
        graphql.requests()
    );
    assert_row(
        &batched,
        "app",
        "ok",
        "private; the token can read it",
        None,
    );
    assert_row(&batched, "lib", "ok", "public", None);
    let fix = Some("nix-tokens login github.com --owner other");
    assert_row(
        &batched,
        "secret",
        "fails",
        "the token cannot read it (or it does not exist)",
        fix,
    );
    assert_row(
        &batched,
        "gone",
        "fails",
        "the token cannot read it (or it does not exist)",
        Some("nix-tokens login github.com --owner corp"),
    );

    // The REST API alone (its /api/graphql is 404), one question per input: the same verdicts.
    let rest = fake_repos::github(github_holdings(), 60);
    let (rest_code, alone) = check_github(&rest.url, &github_inputs());
    assert_eq!(rest_code, code);
    assert_eq!(verdicts(&batched), verdicts(&alone));
    let asked = rest
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/api/v3/repos/"))
        .count();
    assert_eq!(asked, 4);
}

#[test]
fn a_gitlab_batch_in_pages_gives_each_input_the_verdict_rest_gives() {
    let holdings = || {
        Holdings::new(
            &[
                ("group/sub/app", false),
                ("group/lib", true),
                ("team/secret", false),
                ("group/one", true),
                ("group/two", true),
            ],
            &[(GL, "group")],
        )
    };
    let inputs: Vec<(String, Value)> = [
        ("app", "group%2Fsub", "app"),
        ("lib", "group", "lib"),
        ("secret", "team", "secret"),
        ("gone", "group", "gone"),
        ("one", "group", "one"),
        ("two", "group", "two"),
    ]
    .iter()
    .map(|(n, o, r)| (n.to_string(), fl::gitlab(o, r, Some("gitlab.corp.example"))))
    .collect();
    let run = |url: &str| {
        let env = TestEnv::new();
        env.login_with_token("gitlab.corp.example", "gitlab", url, GL);
        let dir = flake(&env, &lock_of(&inputs));
        let (code, rows, _) = check(&env, &[&dir]);
        (code, rows)
    };
    // Two projects a page: the four the token reads take two pages of one query.
    let graphql = fake_graphql::gitlab(holdings(), Duration::ZERO, 2);
    let (code, batched) = run(&graphql.server.url);
    assert_eq!(code, Some(3), "{batched:#?}");
    assert_eq!(graphql.graphql_requests().len(), 2);
    assert!(
        graphql
            .requests()
            .iter()
            .all(|r| !r.path.starts_with("/api/v4/projects/"))
    );
    assert_row(
        &batched,
        "app",
        "ok",
        "private; the token can read it",
        None,
    );
    assert_row(&batched, "lib", "ok", "public", None);
    assert_row(
        &batched,
        "secret",
        "fails",
        "the token cannot read it",
        Some("nix-tokens login gitlab.corp.example --owner team"),
    );
    assert_row(
        &batched,
        "gone",
        "fails",
        "the token cannot read it",
        Some("nix-tokens login gitlab.corp.example --owner group"),
    );

    let rest = fake_repos::gitlab(holdings());
    let (rest_code, alone) = run(&rest.url);
    assert_eq!(rest_code, code);
    assert_eq!(verdicts(&batched), verdicts(&alone));
}

#[test]
fn no_host_gets_more_than_sixteen_requests_at_once_and_v_tells_the_requests() {
    let env = TestEnv::new();
    let names: Vec<String> = (0..40).map(|i| format!("o/r{i}")).collect();
    let held: Vec<(&str, bool)> = names.iter().map(|n| (n.as_str(), true)).collect();
    // Anonymous: no GraphQL, so one REST question per input, each answered after 50 ms.
    let github = fake_graphql::github(Holdings::new(&held, &[]), Duration::from_millis(50), 60);
    env.write(
        &env.config_dir().join(".nix-tokens-hosts.json"),
        &json!({"hosts": {"github.com": {"provider": "github", "base_url": github.server.url}}})
            .to_string(),
    );
    let inputs: Vec<(String, Value)> = (0..40)
        .map(|i| (format!("r{i}"), fl::github("o", &format!("r{i}"), None)))
        .collect();
    let dir = flake(&env, &lock_of(&inputs));
    let summary = env.root.join("summary.md");
    let out = env
        .cmd()
        .args(["-v", "check", &dir])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    assert_success(&out);
    assert_eq!(github.requests().len(), 40);
    let most = github.most_in_flight();
    assert!(
        (2..=16).contains(&most),
        "{most} requests in flight at once"
    );
    let host = format!("127.0.0.1:{}", port_of(&github.server));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("40 request(s) by host: {host} 40")),
        "{err}"
    );
    let summary = read(&summary);
    assert!(
        summary.contains("### nix-tokens check: requests"),
        "{summary}"
    );
    assert!(summary.contains(&format!("| {host} | 40 |")), "{summary}");
}

#[test]
fn a_gitlab_batch_refused_as_a_whole_is_asked_input_by_input() {
    let holdings = Holdings::new(
        &[("group/app", false), ("group/lib", true)],
        &[(GL, "group")],
    );
    let graphql = fake_graphql::gitlab(holdings, Duration::ZERO, 100);
    let env = TestEnv::new();
    env.login_with_token("gitlab.corp.example", "gitlab", &graphql.server.url, GL);
    // A token GitLab does not know: GraphQL answers 401 "Invalid token", as REST does.
    let unknown = "glpat-unknowntoken0123456789";
    let out = env.run(
        &["set-token", "gitlab.corp.example", "--force"],
        &format!("PAT:{unknown}\n"),
    );
    assert_success(&out);
    let inputs: Vec<(String, Value)> = ["app", "lib"]
        .iter()
        .map(|r| {
            (
                r.to_string(),
                fl::gitlab("group", r, Some("gitlab.corp.example")),
            )
        })
        .collect();
    let dir = flake(&env, &lock_of(&inputs));
    let before = graphql.requests().len();
    let (code, rows, _) = check(&env, &[&dir]);
    assert_no_leak_in(&rows, unknown);
    assert_eq!(code, Some(3), "{rows:#?}");
    for input in ["app", "lib"] {
        assert_row(
            &rows,
            input,
            "fails",
            "the token is invalid (HTTP 401",
            Some("nix-tokens login gitlab.corp.example"),
        );
    }
    let asked: Vec<String> = graphql.requests()[before..]
        .iter()
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(
        asked.iter().filter(|p| *p == "/api/graphql").count(),
        1,
        "{asked:?}"
    );
    assert_eq!(
        asked
            .iter()
            .filter(|p| p.starts_with("/api/v4/projects/"))
            .count(),
        2,
        "{asked:?}"
    );
}

fn assert_no_leak_in(rows: &[Value], secret: &str) {
    assert!(!serde_json::to_string(rows).unwrap().contains(secret));
}
