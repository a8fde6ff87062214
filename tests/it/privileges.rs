//! The privilege audit: what each kind's provider reports of a token, in login's success line and
//! in `status` (a `privileges` object in `--json`, a word in the table), against fake forges that
//! answer as GitHub, GitLab and Gitea do for broad and narrow tokens. A token that can write is
//! valid all the same and changes no exit code.

use serde_json::json;

use crate::support::fake_forge::GitlabOAuth;
use crate::support::fake_tokens::{self, Grant};
use crate::support::*;

const BROAD: &str = "ghp_broadbroadbroadbroadbroadbroadbroad0";
const NO_SCOPE: &str = "gho_noscopenoscopenoscopenoscopenoscope0";
const FINE: &str = "github_pat_11AAAAAAA0finefinefinefinefinefinefine";

fn status_json(env: &TestEnv, secrets: &[&str]) -> (Option<i32>, serde_json::Value) {
    let out = env.run(&["status", "--json"], "");
    assert_no_leak(&out, secrets);
    let json = serde_json::from_slice(&out.stdout).expect("status prints JSON");
    (out.status.code(), json)
}

fn row<'a>(json: &'a serde_json::Value, host: &str) -> &'a serde_json::Value {
    json.as_array()
        .unwrap()
        .iter()
        .find(|r| r["host"] == host)
        .unwrap_or_else(|| panic!("no row for {host}: {json}"))
}

/// The PRIVILEGES word of `host`'s line in `status`'s table.
fn table_word(table: &str, host: &str) -> String {
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    let column = header
        .iter()
        .position(|h| *h == "PRIVILEGES")
        .expect("a PRIVILEGES column");
    let line = table
        .lines()
        .find(|l| l.starts_with(host))
        .unwrap_or_else(|| panic!("no line for {host}:\n{table}"));
    line.split_whitespace().nth(column).unwrap().to_owned()
}

/// A broad classic token, one with no scope, and a fine-grained one, on three hosts.
fn github_logins(env: &TestEnv) -> crate::support::fake_forge::FakeServer {
    let server = fake_tokens::github(vec![
        (
            BROAD,
            Grant::scopes("repo, workflow, read:org, delete_repo"),
        ),
        (NO_SCOPE, Grant::scopes("")),
        (
            FINE,
            Grant::FineGrained {
                repos: vec!["octo-org/app"],
                contents: true,
            },
        ),
    ]);
    let broad = env.login_with_token("broad.corp.example", "github", &server.url, BROAD);
    assert!(
        stderr(&broad).contains("and can read and write your private repositories, and more than Nix needs: workflow, delete_repo; `--read-only` for a read-only token."),
        "{}",
        stderr(&broad)
    );
    let narrow = env.login_with_token("narrow.corp.example", "github", &server.url, NO_SCOPE);
    let said = stderr(&narrow);
    assert!(said.contains("as octocat (no scope; expires"), "{said}");
    assert!(
        said.contains("and reads public repositories only, with 5,000 API requests an hour."),
        "{said}"
    );
    let fine = env.login_with_token("fine.corp.example", "github", &server.url, FINE);
    assert!(
        stderr(&fine).contains("and is fine-grained: it may do what the permissions chosen when it was made allow (see https://fine.corp.example/settings/personal-access-tokens)."),
        "{}",
        stderr(&fine)
    );
    server
}

#[test]
fn github_status_audits_classic_scopes_and_calls_fine_grained_tokens_unknown() {
    let env = TestEnv::new();
    let _server = github_logins(&env);
    let (code, json) = status_json(&env, &[BROAD, NO_SCOPE, FINE]);
    assert_eq!(
        code,
        Some(0),
        "a token that can write is not invalid: {json}"
    );
    let broad = row(&json, "broad.corp.example");
    assert_eq!(broad["status"], "valid");
    assert_eq!(broad["privileges"]["read_only"], false);
    assert_eq!(
        broad["privileges"]["beyond_nix"],
        json!(["workflow", "delete_repo"])
    );
    assert!(
        broad["message"].as_str().unwrap().contains(
            "the token can read and write your private repositories, and more than Nix needs"
        ),
        "{broad}"
    );
    let narrow = row(&json, "narrow.corp.example");
    assert_eq!(narrow["privileges"]["read_only"], true);
    assert_eq!(narrow["privileges"]["beyond_nix"], json!([]));
    assert_eq!(narrow["scopes"], json!([]));
    let fine = row(&json, "fine.corp.example");
    assert_eq!(fine["status"], "valid");
    assert_eq!(fine["privileges"]["read_only"], serde_json::Value::Null);
    assert_eq!(fine["privileges"]["beyond_nix"], serde_json::Value::Null);
    assert!(
        fine["privileges"]["summary"]
            .as_str()
            .unwrap()
            .starts_with("is fine-grained"),
        "{fine}"
    );
}

#[test]
fn github_status_table_has_one_word_for_what_each_token_may_do() {
    let env = TestEnv::new();
    let _server = github_logins(&env);
    let out = env.run(&["status"], "");
    assert_success(&out);
    let table = stdout(&out);
    assert_eq!(table_word(&table, "broad.corp.example"), "broad");
    assert_eq!(table_word(&table, "narrow.corp.example"), "read-only");
    assert_eq!(table_word(&table, "fine.corp.example"), "unknown");
    // Offline, no provider has said anything: no privileges.
    let out = env.run(&["status", "--offline", "--json"], "");
    let offline: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        row(&offline, "broad.corp.example")["privileges"],
        serde_json::Value::Null
    );
    let out = env.run(&["status", "--offline"], "");
    assert_eq!(table_word(&stdout(&out), "broad.corp.example"), "-");
}

#[test]
fn gitlab_scopes_beyond_the_read_pair_are_flagged() {
    let env = TestEnv::new();
    let (broad, narrow) = ("glpat-broadbroadbroadbroad", "glpat-narrownarrownarrow");
    let oauth = "oauthbroadbroadbroadbroad";
    let server = fake_tokens::gitlab(
        vec![
            (broad, &["api", "read_user", "write_repository", "sudo"]),
            (narrow, &["read_api", "read_repository"]),
        ],
        vec![(oauth, &["api", "write_registry"])],
    );
    let out = env.login_with_token("broad.corp.example", "gitlab", &server.url, broad);
    assert!(
        stderr(&out).contains("and can do more than Nix needs: api, write_repository, sudo; Nix needs only read_api, read_repository."),
        "{}",
        stderr(&out)
    );
    let out = env.login_with_token("narrow.corp.example", "gitlab", &server.url, narrow);
    assert!(
        stderr(&out).contains("and can only read (scopes read_api, read_repository)."),
        "{}",
        stderr(&out)
    );
    let token = format!("OAuth2:{oauth}");
    env.login_with_token("oauth.corp.example", "gitlab", &server.url, &token);

    let (code, json) = status_json(&env, &[broad, narrow, oauth]);
    // The OAuth token was pasted, so nothing renews it, and GitLab says it lives two hours:
    // `expiring`, exit 5 (every other token is valid).
    assert_eq!(code, Some(5), "{json}");
    assert_eq!(row(&json, "oauth.corp.example")["status"], "expiring");
    let b = row(&json, "broad.corp.example");
    assert_eq!(b["status"], "valid");
    assert_eq!(
        b["privileges"],
        json!({"read_only": false, "beyond_nix": ["api", "write_repository", "sudo"],
               "summary": "can do more than Nix needs: api, write_repository, sudo; Nix needs only read_api, read_repository"})
    );
    let n = row(&json, "narrow.corp.example");
    assert_eq!(n["privileges"]["read_only"], true);
    assert_eq!(n["privileges"]["beyond_nix"], json!([]));
    // An OAuth token's scopes come from /oauth/token/info.
    let o = row(&json, "oauth.corp.example");
    assert_eq!(
        o["privileges"]["beyond_nix"],
        json!(["api", "write_registry"])
    );
}

#[test]
fn gitlab_device_logins_ask_for_the_read_pair_and_say_so() {
    let env = TestEnv::new();
    let gitlab = GitlabOAuth::start();
    let out = env.run(
        &[
            "login",
            "gitlab.corp.example",
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
    let device = gitlab
        .server
        .requests()
        .into_iter()
        .find(|r| r.path == "/oauth/authorize_device")
        .expect("the device grant was asked");
    assert_eq!(
        device.form("scope").as_deref(),
        Some("read_api read_repository")
    );
    assert!(
        stderr(&out).contains("and can only read (scopes read_api, read_repository)."),
        "{}",
        stderr(&out)
    );
}

#[test]
fn gitea_and_forgejo_do_not_tell_a_token_s_scopes() {
    let env = TestEnv::new();
    let (all, narrow) = ("giteaallallallallallall0", "giteanarrownarrownarrow0");
    let server = fake_tokens::gitea(vec![
        (all, &["all"]),
        (narrow, &["read:repository", "read:user"]),
    ]);
    let out = env.login_with_token("git.corp.example", "gitea", &server.url, all);
    assert!(
        stderr(&out).contains("(scopes not reported; no expiry); the token is in"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("and may do what its scopes allow, which gitea does not tell (see https://git.corp.example/user/settings/applications)."),
        "{}",
        stderr(&out)
    );
    env.login_with_token("forgejo.corp.example", "forgejo", &server.url, narrow);
    let (code, json) = status_json(&env, &[all, narrow]);
    assert_eq!(code, Some(0), "{json}");
    // The broad token and the narrow one look the same: the forge does not say.
    for host in ["git.corp.example", "forgejo.corp.example"] {
        let r = row(&json, host);
        assert_eq!(r["status"], "valid", "{r}");
        assert_eq!(r["privileges"]["read_only"], serde_json::Value::Null, "{r}");
        assert_eq!(
            r["privileges"]["beyond_nix"],
            serde_json::Value::Null,
            "{r}"
        );
    }
    let out = env.run(&["status"], "");
    assert_eq!(table_word(&stdout(&out), "git.corp.example"), "unknown");
}
