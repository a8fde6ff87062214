//! `logout`, `refresh` and `check` with the keyring store.

use std::path::PathBuf;
use std::process::Output;

use super::*;
use crate::support::*;

#[test]
fn keyring_store_logout_takes_the_token_out_of_the_keyring() {
    let Some((bus, env, ns)) = keyring_session() else {
        return;
    };
    let run = |args: &[&str], stdin: &str| nt(&env, Some(&ns), &ns.run, Some(&bus), args, stdin);
    assert_success(&run(
        &["set-token", "github.com", "--store", "keyring"],
        &format!("{TOKEN}\n"),
    ));
    let copy = ns.inside(&ns.runtime().join("access-tokens.conf"));
    assert!(read(&copy).contains(TOKEN));
    // Without a terminal or --yes, nothing is removed.
    let out = run(&["logout", "github.com"], "");
    assert_clean_failure(&out, 2);
    assert!(read(&copy).contains(TOKEN));
    let out = run(&["logout", "github.com", "--yes"], "");
    assert_success(&out);
    assert_no_leak(&out, &[TOKEN]);
    assert!(
        !read(&copy).contains(TOKEN),
        "the runtime copy is rewritten"
    );
    // The keyring holds no token any more: the store can go back to files, and a new token
    // goes there.
    assert_success(&run(&["store", "file"], ""));
    assert_success(&run(&["set-token", "github.com"], &format!("{TOKEN}\n")));
    assert!(read(&env.token_file()).contains(TOKEN));
}

#[test]
fn keyring_store_refresh_renews_in_the_keyring() {
    use crate::support::fake_forge::GitlabOAuth;
    let Some((bus, env, ns)) = keyring_session() else {
        return;
    };
    let gitlab = GitlabOAuth::start();
    let host = "gitlab.keyring-store.example";
    let run = |args: &[&str]| nt(&env, Some(&ns), &ns.run, Some(&bus), args, "");
    let out = run(&[
        "login",
        host,
        "-p",
        "gitlab",
        "--client-id",
        "app",
        "--base-url",
        &gitlab.server.url,
        "--store",
        "keyring",
    ]);
    assert_success(&out);
    let copy = ns.inside(&ns.runtime().join("access-tokens.conf"));
    assert!(read(&copy).contains("OAuth2:access-1"), "{}", read(&copy));
    for secret in ["access-1", "refresh-1"] {
        assert_eq!(
            files_holding(&env.root, secret),
            Vec::<PathBuf>::new(),
            "{secret}"
        );
    }

    let out = run(&["refresh", "--threshold", "180"]);
    assert_success(&out);
    assert!(
        stderr(&out).contains("Renewed the token"),
        "{}",
        stderr(&out)
    );
    assert!(read(&copy).contains("OAuth2:access-2"), "{}", read(&copy));
    for secret in ["access-2", "refresh-2", "access-1"] {
        assert_eq!(
            files_holding(&env.root, secret),
            Vec::<PathBuf>::new(),
            "{secret}"
        );
    }
}

#[test]
fn keyring_store_check_counts_a_locked_store_s_token_missing() {
    use crate::support::flake_lock::{self as fl, lock};
    use serde_json::json;
    let Some((bus, env, ns)) = keyring_session() else {
        return;
    };
    let dir = env.root.join("flake");
    env.write(
        &dir.join("flake.lock"),
        &lock(
            json!({"app": "app"}),
            json!({"app": fl::github("corp", "app", None)}),
        ),
    );
    env.write(&dir.join("flake.nix"), "{ outputs = _: { }; }\n");
    let dir = dir.display().to_string();
    let run = |args: &[&str], stdin: &str| nt(&env, Some(&ns), &ns.run, Some(&bus), args, stdin);
    assert_success(&run(
        &["set-token", "github.com", "--store", "keyring"],
        &format!("{TOKEN}\n"),
    ));
    let credential = |out: &Output| -> serde_json::Value {
        let rows: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("JSON ({e}): {}{}", stdout(out), stderr(out)));
        rows[0]["credential"].clone()
    };
    let out = run(&["check", "--json", "--offline", &dir], "");
    assert_eq!(credential(&out), json!("ghp_****CD"), "{}", stderr(&out));
    assert_success(&run(&["lock"], ""));
    let out = run(&["check", "--json", "--offline", &dir], "");
    assert_eq!(
        credential(&out),
        json!(null),
        "locked: no credential; {}",
        stdout(&out)
    );
}

#[test]
fn keyring_store_logout_revoke_revokes_the_keyring_s_token() {
    let Some((bus, env, ns)) = keyring_session() else {
        return;
    };
    let github = crate::support::fake_forge::github(TOKEN, "repo");
    let run = |args: &[&str], stdin: &str| nt(&env, Some(&ns), &ns.run, Some(&bus), args, stdin);
    let host = "ghe.keyring.example";
    assert_success(&run(
        &[
            "login",
            host,
            "-p",
            "github",
            "--base-url",
            &github.url,
            "--with-token",
            "--store",
            "keyring",
        ],
        &format!("{TOKEN}\n"),
    ));
    let out = run(&["logout", host, "--revoke", "--yes"], "");
    assert_success(&out);
    assert_no_leak(&out, &[TOKEN]);
    assert!(
        stderr(&out).contains(&format!("Revoked the token for {host}")),
        "{}",
        stderr(&out)
    );
    let revoke = github
        .requests()
        .into_iter()
        .find(|r| r.path == "/api/v3/credentials/revoke")
        .expect("GitHub's revocation API was called");
    assert_eq!(revoke.body, format!("{{\"credentials\":[\"{TOKEN}\"]}}"));
    let copy = ns.inside(&ns.runtime().join("access-tokens.conf"));
    assert!(!read(&copy).contains(TOKEN));
}
