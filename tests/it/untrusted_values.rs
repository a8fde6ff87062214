//! Values nix-tokens did not choose itself, refused or narrowed before they reach a file: netrc
//! keywords as tokens, hosts or logins (typed, or handed back by a server); a confidential
//! client's secret kept out of the process list; and git's configuration set up only for the
//! URLs the helper answers.

use std::path::PathBuf;
use std::process::{Command, Output};

use crate::support::git_server::have_git;
use crate::support::*;

const GH: &str = "ghp_abcdefghijklmnopqrstuvwxyz0123456789";
const GITEA: &str = "0123456789abcdef0123456789abcdef01234567";

fn git_config(env: &TestEnv) -> PathBuf {
    env.root.join("gitconfig")
}

/// `nix-tokens ARGS` with git pointed at the test's own global configuration.
fn with_git(env: &TestEnv, args: &[&str]) -> Output {
    env.cmd()
        .args(args)
        .env("GIT_CONFIG_GLOBAL", git_config(env))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap()
}

/// Every `credential.*` setting of the test's global git configuration.
fn credential_settings(env: &TestEnv) -> String {
    let out = Command::new("git")
        .args(["config", "--global", "--get-regexp", "^credential\\."])
        .env("GIT_CONFIG_GLOBAL", git_config(env))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git is installed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn git_credential_install_sets_up_plain_http_only_for_loopback_hosts() {
    if !have_git() {
        return;
    }
    let env = TestEnv::new();
    for (host, provider, token) in [
        ("git.example.com", "gitea", GITEA),
        ("127.0.0.1:3000", "github", GH),
    ] {
        let out = env.run(
            &["set-token", host, "--provider", provider],
            &format!("{token}\n"),
        );
        assert_success(&out);
    }
    // Both remembered as served over plain http (an older nix-tokens, or an edit by hand).
    env.write(
        &env.config_dir().join(".nix-tokens-hosts.json"),
        r#"{"hosts":{
            "git.example.com":{"provider":"gitea","base_url":"http://git.example.com"},
            "127.0.0.1:3000":{"provider":"github","base_url":"http://127.0.0.1:3000"}}}"#,
    );
    let out = with_git(&env, &["git-credential", "--install"]);
    assert_success(&out);
    let settings = credential_settings(&env);
    // The helper never answers plain http for a host on the network, so git is not told to ask it.
    assert!(
        !settings.contains("credential.http://git.example.com"),
        "{settings}"
    );
    assert!(
        settings.contains("credential.https://git.example.com.helper"),
        "{settings}"
    );
    assert!(
        settings.contains("credential.http://127.0.0.1:3000.helper"),
        "{settings}"
    );
    assert!(stderr(&out).contains("plain http"), "{}", stderr(&out));
}
