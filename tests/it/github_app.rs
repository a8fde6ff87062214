//! A GitHub App's expiring user tokens as a login of their own (`login HOST --provider github
//! --client-id Iv1…`, the device flow), against a stand-in that behaves as GitHub does (see
//! [`fake_github_app`]): the 8-hour expiry in the success line and in `status`, renewal through
//! `refresh` (each `ghr_` refresh token spent once), through git's helper, and through the timer
//! (`refresh --quiet`); a revoked refresh token is one sentence and changes nothing; a refresh
//! token about to run out makes the login `expiring`.

use std::process::Output;

use crate::support::fake_github_app::{CLIENT_ID, GithubApp, refresh_token, user_token};
use crate::support::*;

const HOST: &str = "ghe.corp.example";

fn login(env: &TestEnv, app: &GithubApp) -> Output {
    let out = login_with(env, app, &[]);
    assert_success(&out);
    out
}

fn login_with(env: &TestEnv, app: &GithubApp, extra: &[&str]) -> Output {
    let mut args = vec![
        "login",
        HOST,
        "--provider",
        "github",
        "--client-id",
        CLIENT_ID,
        "--base-url",
        &app.server.url,
    ];
    args.extend_from_slice(extra);
    env.run(&args, "")
}

fn secrets() -> Vec<String> {
    (1..=4)
        .flat_map(|n| [user_token(n), refresh_token(n)])
        .collect()
}

fn assert_quiet(out: &Output) {
    let all = secrets();
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    assert_no_leak(out, &refs);
}

fn logins(env: &TestEnv) -> serde_json::Value {
    serde_json::from_str(&read(&env.config_dir().join(".nix-tokens-oauth.json"))).unwrap()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn the_login_says_when_the_token_expires_and_that_it_is_renewed() {
    let env = TestEnv::new();
    let app = GithubApp::start();
    let out = login(&env, &app);
    assert_quiet(&out);
    let err = stderr(&out);
    assert!(
        err.contains(&format!("Logged in to {HOST} as octocat")),
        "{err}"
    );
    assert!(!err.contains("no expiry"), "{err}");
    assert!(err.contains("renewed automatically until 20"), "{err}");
    // An app's permissions are not scopes: nothing says a scope is missing.
    assert!(!err.contains("lacks the scope"), "{err}");
    assert!(err.contains("GitHub App user token"), "{err}");
    assert!(read(&env.token_file()).contains(&format!("{HOST}={}", user_token(1))));
    let login = &logins(&env)["logins"][HOST];
    let expires = login["expires_at"].as_u64().unwrap();
    assert!(expires.abs_diff(now() + 28_800) < 120, "{login}");
    let until = login["refresh_expires_at"].as_u64().unwrap();
    assert!(until.abs_diff(now() + 15_897_600) < 120, "{login}");

    // status shows the 8-hour expiry, offline and online, and the login is not expiring.
    for args in [
        &["status", "--json", "--offline"][..],
        &["status", "--json"][..],
    ] {
        let out = env.run(args, "");
        assert_quiet(&out);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let row = rows
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["host"] == HOST)
            .unwrap();
        let shown = row["expires_at"].as_str().expect("an expiry");
        assert_eq!(shown, date(expires), "{row}");
    }
}

/// `date -u -d @SECS +%Y-%m-%dT%H:%M:%SZ`.
fn date(secs: u64) -> String {
    let out = std::process::Command::new("date")
        .args(["-u", "-d", &format!("@{secs}"), "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn refresh_spends_each_refresh_token_once() {
    let env = TestEnv::new();
    let app = GithubApp::start();
    app.set_lifetime(60);
    login(&env, &app);
    for n in 2..=3 {
        let out = env.run(&["refresh"], "");
        assert_success(&out);
        assert_quiet(&out);
        assert!(read(&env.token_file()).contains(&format!("{HOST}={}", user_token(n))));
    }
    assert_eq!(app.presented(), [refresh_token(1), refresh_token(2)]);
    assert!(read(&env.config_dir().join(".nix-tokens-oauth.json")).contains(&refresh_token(3)));

    // The timer: a token with hours left is left alone, and nothing is printed.
    app.set_lifetime(28_800);
    let out = env.run(&["refresh", "--quiet"], "");
    assert_success(&out);
    assert_eq!(stderr(&out), "");
    assert!(read(&env.token_file()).contains(&user_token(4)));
    let out = env.run(&["refresh", "--quiet"], "");
    assert_success(&out);
    assert_eq!(stderr(&out), "");
    assert_eq!(app.presented().len(), 3);
}

#[test]
fn git_s_helper_gets_a_renewed_token() {
    let env = TestEnv::new();
    let app = GithubApp::start();
    app.set_lifetime(60);
    login(&env, &app);
    app.set_lifetime(28_800);
    let out = env
        .cmd()
        .args(["git-credential", "get"])
        .write_stdin(format!("protocol=https\nhost={HOST}\n"))
        .output()
        .unwrap();
    assert_success(&out);
    let answer = stdout(&out);
    assert!(
        answer.starts_with(&format!(
            "username=x-access-token\npassword={}\n",
            user_token(2)
        )),
        "{answer}"
    );
    assert!(read(&env.token_file()).contains(&format!("{HOST}={}", user_token(2))));
    // And for scripts, the same token.
    let out = env.run(&["token", HOST], "");
    assert_eq!(stdout(&out), format!("{}\n", user_token(2)));
}

#[test]
fn a_revoked_refresh_token_is_one_sentence_and_changes_nothing() {
    let env = TestEnv::new();
    let app = GithubApp::start();
    app.set_lifetime(60);
    login(&env, &app);
    app.revoke_all();
    let before = env.snapshot();
    let out = env.run(&["refresh"], "");
    assert_clean_failure(&out, 1);
    assert_quiet(&out);
    assert!(
        stderr(&out).contains(&format!("log in again with `nix-tokens login {HOST}`")),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.snapshot(), before);
}

#[test]
fn a_refresh_token_about_to_run_out_makes_the_login_expiring() {
    let env = TestEnv::new();
    let app = GithubApp::start();
    app.set_refresh_lifetime(3 * 86_400);
    login(&env, &app);
    let out = env.run(&["status", "--offline"], "");
    assert_quiet(&out);
    assert_eq!(out.status.code(), Some(5), "{}", stdout(&out));
    let table = stdout(&out);
    assert!(table.contains("expiring"), "{table}");
    assert!(table.contains("can be renewed only until"), "{table}");
    let out = env.run(&["refresh", "--quiet"], "");
    assert_success(&out);
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(&format!("nix-tokens login {HOST}")), "{err}");
    // A six-month refresh token is not.
    let other = TestEnv::new();
    let app = GithubApp::start();
    login(&other, &app);
    assert_eq!(
        other.run(&["status", "--offline"], "").status.code(),
        Some(0)
    );
}

#[test]
fn read_only_is_accepted_when_the_app_reads_a_private_repository() {
    let env = TestEnv::new();
    let app = GithubApp::start();
    let out = login_with(&env, &app, &["--read-only"]);
    assert_success(&out);
    assert_quiet(&out);
    let err = stderr(&out);
    assert!(err.contains("reads the contents of octo-org/app"), "{err}");
    assert!(err.contains("renewed automatically"), "{err}");
    assert!(read(&env.token_file()).contains(&format!("{HOST}={}", user_token(1))));
    assert!(read(&env.config_dir().join(".nix-tokens-oauth.json")).contains(&refresh_token(1)));

    // An app without Contents: read is refused, and nothing is saved.
    let other = TestEnv::new();
    let app = GithubApp::start();
    app.set_contents(false);
    let before = other.snapshot();
    let out = login_with(&other, &app, &["--read-only"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_quiet(&out);
    assert!(
        stderr(&out).contains("Contents: Read-only"),
        "{}",
        stderr(&out)
    );
    assert_eq!(other.snapshot(), before);
}

#[test]
fn a_provider_file_names_the_app_so_members_need_not() {
    let env = TestEnv::new();
    let app = GithubApp::start();
    // What an organisation hands its members: the app's client id, as a provider of their own.
    env.write(
        &env.home.join(".config/nix-tokens/providers/corp-github.toml"),
        &format!(
            "name = \"corp-github\"\nkind = \"github\"\ndefault_host = \"{HOST}\"\nsink = \"access-tokens\"\nnetrc_login = \"x-access-token\"\nscopes = []\n\n[device]\nclient_id = \"{CLIENT_ID}\"\napp = true\nauthorization_path = \"login/device/code\"\ntoken_path = \"login/oauth/access_token\"\n"
        ),
    );
    let out = env.run(
        &[
            "login",
            "corp-github",
            "--read-only",
            "--base-url",
            &app.server.url,
        ],
        "",
    );
    assert_success(&out);
    assert_quiet(&out);
    let err = stderr(&out);
    assert!(err.contains("reads the contents of octo-org/app"), "{err}");
    assert!(err.contains("renewed automatically"), "{err}");
    assert!(read(&env.token_file()).contains(&format!("{HOST}={}", user_token(1))));
}
