//! GitLab's 2-hour OAuth tokens: a device-flow login keeps the refresh token (here in its 0600
//! file: the harness gives no keyring), `refresh` renews the pair in one locked step (GitLab
//! rotates both), and a refused refresh token says to log in again and changes nothing.

use crate::support::fake_forge::GitlabOAuth;
use crate::support::*;

fn oauth_file(env: &TestEnv) -> std::path::PathBuf {
    env.config_dir().join(".nix-tokens-oauth.json")
}

fn login(env: &TestEnv, gitlab: &GitlabOAuth, extra: &[&str]) {
    let mut args = vec![
        "login",
        "gitlab.corp.example",
        "--provider",
        "gitlab",
        "--client-id",
        "corp-app-id",
        "--base-url",
        &gitlab.server.url,
    ];
    args.extend_from_slice(extra);
    let out = env.run(&args, "");
    assert_success(&out);
    assert_no_leak(&out, &["access-1", "refresh-1"]);
    assert!(
        stderr(&out).contains("enter the code 0A44L90H"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("as tanuki"), "{}", stderr(&out));
}

#[test]
fn a_device_login_is_renewed_with_rotation() {
    let env = TestEnv::new();
    let gitlab = GitlabOAuth::start();
    login(&env, &gitlab, &[]);
    assert!(read(&env.token_file()).contains("gitlab.corp.example=OAuth2:access-1"));
    let stored = read(&oauth_file(&env));
    assert!(
        stored.contains("refresh-1") && stored.contains("corp-app-id"),
        "{stored}"
    );
    assert_eq!(mode(&oauth_file(&env)), 0o600);

    // Two hours left: nothing is due within the default 5 minutes.
    let out = env.run(&["refresh"], "");
    assert_success(&out);
    assert!(
        stderr(&out).contains("No token needs renewing"),
        "{}",
        stderr(&out)
    );

    // Due within three hours: renewed, and both tokens of the pair replaced together.
    let out = env.run(&["refresh", "--threshold", "180"], "");
    assert_success(&out);
    assert_no_leak(&out, &["access-2", "refresh-2"]);
    assert!(
        stderr(&out).contains("Renewed the token for gitlab.corp.example"),
        "{}",
        stderr(&out)
    );
    assert!(read(&env.token_file()).contains("gitlab.corp.example=OAuth2:access-2"));
    assert!(read(&oauth_file(&env)).contains("refresh-2"));

    // Fit for a timer: silent on success.
    let out = env.run(
        &[
            "refresh",
            "--quiet",
            "--threshold",
            "180",
            "gitlab.corp.example",
        ],
        "",
    );
    assert_success(&out);
    assert_eq!(stderr(&out), "");
    assert!(read(&env.token_file()).contains("OAuth2:access-3"));

    // The provider no longer accepts the refresh token: say so, exit non-zero, change nothing.
    gitlab.revoke_all();
    let before = env.snapshot();
    let out = env.run(&["refresh", "--quiet", "--threshold", "180"], "");
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("log in again with `nix-tokens login gitlab.corp.example`"),
        "{err}"
    );
    assert_no_leak(&out, &["refresh-3", "access-3"]);
    assert_eq!(env.snapshot(), before);
}

#[test]
fn a_personal_token_or_a_logout_ends_the_renewal() {
    let env = TestEnv::new();
    let gitlab = GitlabOAuth::start();
    login(&env, &gitlab, &[]);
    // A personal token replaces the OAuth login: renewing must not overwrite it.
    let out = env.run(
        &[
            "set-token",
            "gitlab.corp.example",
            "--provider",
            "gitlab",
            "--force",
        ],
        "glpat-abcdefghijklmnopqrst\n",
    );
    assert_success(&out);
    assert!(!read(&oauth_file(&env)).contains("gitlab.corp.example"));
    let out = env.run(&["refresh", "--threshold", "180"], "");
    assert_success(&out);
    assert!(read(&env.token_file()).contains("PAT:glpat-abcdefghijklmnopqrst"));

    login(&env, &gitlab, &["--force"]);
    assert!(read(&oauth_file(&env)).contains("refresh-1"));
    let out = env.run(&["logout", "gitlab.corp.example", "--yes"], "");
    assert_success(&out);
    assert!(!read(&oauth_file(&env)).contains("refresh-"));
}

#[test]
fn a_token_file_out_of_step_with_its_login_is_renewed_at_once() {
    // As after a run cut short between writing the OAuth file and Nix's file: the file still
    // holds an access token the rotation already killed.
    let env = TestEnv::new();
    let gitlab = GitlabOAuth::start();
    login(&env, &gitlab, &[]);
    let out = env.run(&["refresh", "--threshold", "180"], "");
    assert_success(&out);
    let renewed = read(&env.token_file());
    env.write(
        &env.token_file(),
        &renewed.replace("OAuth2:access-2", "OAuth2:access-1"),
    );
    let out = env.run(&["refresh"], "");
    assert_success(&out);
    assert!(
        read(&env.token_file()).contains("OAuth2:access-3"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_renewed_token_that_is_not_a_token_is_refused() {
    let env = TestEnv::new();
    let gitlab = GitlabOAuth::start();
    login(&env, &gitlab, &[]);
    gitlab.poison_refresh("x github.com=ghp_ATTACKER\nextra-substituters = http://evil.example");
    let before = read(&env.token_file());
    let out = env.run(&["refresh", "--threshold", "180"], "");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("new token for gitlab.corp.example was refused"),
        "{}",
        stderr(&out)
    );
    assert_eq!(read(&env.token_file()), before);
    assert!(!read(&env.token_file()).contains("evil"));
}

#[test]
fn refresh_options_are_checked() {
    let env = TestEnv::new();
    let out = env.run(&["refresh", "--threshold", "18446744073709551615"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(!stderr(&out).contains("panicked"));
}

#[test]
fn status_renews_an_expiring_login_before_checking_it() {
    let env = TestEnv::new();
    let gitlab = GitlabOAuth::start();
    gitlab.set_lifetime(120);
    login(&env, &gitlab, &[]);

    // --no-refresh leaves it alone.
    let out = env.run(&["status", "--no-refresh", "--json"], "");
    assert_success(&out);
    assert!(read(&env.token_file()).contains("OAuth2:access-1"));

    // Two minutes left: status renews it first, and the renewed token checks out.
    let out = env.run(&["status", "--json"], "");
    assert_success(&out);
    assert_no_leak(&out, &["access-2", "refresh-2"]);
    assert!(
        stderr(&out).contains("Renewed the token for gitlab.corp.example"),
        "{}",
        stderr(&out)
    );
    assert!(read(&env.token_file()).contains("OAuth2:access-2"));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json[0]["status"], "valid", "{json}");
    assert_eq!(json[0]["user"], "tanuki");
}
