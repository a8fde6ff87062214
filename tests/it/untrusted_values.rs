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

/// Everything nix-tokens printed is one error line, and the run failed.
fn assert_refused(out: &Output) {
    assert!(!out.status.success(), "{}", stderr(out));
    let err = stderr(out);
    assert!(err.starts_with("error: "), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}

#[test]
fn netrc_keywords_as_token_host_or_login_are_refused_before_anything_is_written() {
    let env = TestEnv::new();
    env.set_token("github.com", GH);
    let before = env.snapshot();
    for word in [
        "machine", "default", "password", "login", "account", "macdef", "DEFAULT",
    ] {
        let cases: [(&[&str], String); 3] = [
            (
                &["set-token", "git.example.com", "--provider", "gitea"],
                format!("{word}\n"),
            ),
            (
                &["set-token", word, "--provider", "gitea"],
                format!("{GITEA}\n"),
            ),
            (
                &[
                    "set-token",
                    "git.example.com",
                    "--provider",
                    "gitea",
                    "--netrc",
                    "--login",
                    word,
                ],
                format!("{GITEA}\n"),
            ),
        ];
        for (args, stdin) in &cases {
            let out = env.run(args, stdin);
            assert_refused(&out);
            assert!(stderr(&out).contains("netrc keyword"), "{}", stderr(&out));
            assert_no_leak(&out, &[GITEA]);
            assert_eq!(env.snapshot(), before, "{args:?}");
        }
    }
}

#[test]
fn an_issuer_answering_a_netrc_keyword_as_the_token_saves_nothing() {
    use crate::support::fake_oidc::{CLIENT, FakeIssuer};
    let env = TestEnv::new();
    env.set_token("github.com", GH);
    let issuer = FakeIssuer::start();
    issuer.state.lock().unwrap().next_access = Some("default".to_owned());
    let before = env.snapshot();
    let out = env.run(
        &[
            "login",
            "conda.corp.example",
            "--oauth",
            "--oauth-issuer-url",
            issuer.url(),
            "--oauth-client-id",
            CLIENT,
            "--oauth-scope",
            "openid",
            "--oauth-scope",
            "offline_access",
            "--no-pixi",
        ],
        "",
    );
    assert!(!out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("netrc keyword"), "{err}");
    assert!(err.contains("conda.corp.example"), "{err}");
    assert_eq!(env.snapshot(), before);
    // Every later netrc edit still works.
    let out = env.run(
        &["set-token", "git.example.com", "--provider", "gitea"],
        &format!("{GITEA}\n"),
    );
    assert_success(&out);
}

#[test]
fn a_netrc_that_already_holds_a_keyword_as_a_value_can_still_be_edited() {
    let env = TestEnv::new();
    // As an older nix-tokens wrote it: the keyword stands where the password goes.
    let old = "machine old.example login nix-tokens password default\n";
    env.write(
        &env.netrc(),
        &format!("# mine\n{old}machine keep.example password k33p\n"),
    );
    env.write(
        &env.token_file(),
        &format!("netrc-file = {}\n", env.netrc().display()),
    );
    env.write(&env.nix_conf(), "!include access-tokens.conf\n");
    let out = env.run(
        &["set-token", "git.example.com", "--provider", "gitea"],
        &format!("{GITEA}\n"),
    );
    assert_success(&out);
    let netrc = read(&env.netrc());
    assert!(netrc.contains(old), "{netrc}");
    assert!(netrc.contains("machine git.example.com"), "{netrc}");
    let out = env.run(&["logout", "old.example", "--yes"], "");
    assert_success(&out);
    let netrc = read(&env.netrc());
    assert!(!netrc.contains("old.example"), "{netrc}");
    assert!(
        netrc.starts_with("# mine\n") && netrc.contains("machine keep.example password k33p\n"),
        "{netrc}"
    );
}

const CLIENT_SECRET: &str = "confidential-client-secret-0123456789";

/// A device-flow login at an OpenID Connect issuer as a confidential client, with `how` (the
/// client secret's flags) and `stdin`; returns the run and the client secret the issuer got.
fn confidential_login(how: &[&str], stdin: &str) -> (Output, Vec<Option<String>>) {
    use crate::support::fake_oidc::{CLIENT, FakeIssuer};
    let env = TestEnv::new();
    let issuer = FakeIssuer::start();
    let mut args = vec![
        "login",
        "conda.corp.example",
        "--oauth",
        "--oauth-issuer-url",
        issuer.url(),
        "--oauth-client-id",
        CLIENT,
        "--oauth-flow",
        "device-code",
        "--no-pixi",
    ];
    args.extend_from_slice(how);
    let out = env.run(&args, stdin);
    let sent = issuer
        .server
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/oauth/token")
        .map(|r| r.form("client_secret"))
        .collect();
    (out, sent)
}

#[test]
fn the_oauth_client_secret_comes_from_a_file_or_standard_input_without_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("client-secret");
    std::fs::write(&file, format!("{CLIENT_SECRET}\n")).unwrap();
    let from_file = ["--oauth-client-secret-file", file.to_str().unwrap()];
    for (how, stdin) in [
        (&from_file[..], String::new()),
        (
            &["--oauth-client-secret-file", "-"][..],
            format!("{CLIENT_SECRET}\n"),
        ),
    ] {
        let (out, sent) = confidential_login(how, &stdin);
        assert_success(&out);
        assert!(!sent.is_empty());
        assert!(
            sent.iter().all(|s| s.as_deref() == Some(CLIENT_SECRET)),
            "{sent:?}"
        );
        assert!(
            !stderr(&out).contains("visible to other users"),
            "{}",
            stderr(&out)
        );
        assert_no_leak(&out, &[CLIENT_SECRET]);
    }
    // An empty file, a missing one, or both ways at once: one sentence, nothing sent.
    std::fs::write(&file, "\n").unwrap();
    let missing = dir.path().join("none");
    for how in [
        &from_file[..],
        &["--oauth-client-secret-file", missing.to_str().unwrap()],
        &[
            "--oauth-client-secret-file",
            "-",
            "--oauth-client-secret",
            CLIENT_SECRET,
        ],
    ] {
        let (out, sent) = confidential_login(how, "");
        assert!(!out.status.success(), "{how:?}");
        assert!(
            stderr(&out).trim_end().lines().count() == 1,
            "{}",
            stderr(&out)
        );
        assert!(sent.is_empty(), "{sent:?}");
        assert_no_leak(&out, &[CLIENT_SECRET]);
    }
}

#[test]
fn an_oauth_client_secret_in_the_arguments_is_warned_about() {
    let (out, sent) = confidential_login(&["--oauth-client-secret", CLIENT_SECRET], "");
    assert_success(&out);
    assert!(
        sent.iter().all(|s| s.as_deref() == Some(CLIENT_SECRET)),
        "{sent:?}"
    );
    let err = stderr(&out);
    assert!(err.contains("visible to other users"), "{err}");
    assert!(err.contains("--oauth-client-secret-file"), "{err}");
    assert_no_leak(&out, &[CLIENT_SECRET]);
}
