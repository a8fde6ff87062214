//! Refresh tokens go to the OS keyring when one answers (a real Secret Service: gnome-keyring on a
//! private D-Bus session, which CI starts and announces with NIX_TOKENS_TEST_KEYRING=1), and the
//! 0600 file then holds everything but the secret; renewal and logout use and clean the keyring.

use std::process::Command;

use crate::support::fake_forge::GitlabOAuth;
use crate::support::*;

/// The real session bus, when the test run provides a keyring to use.
fn keyring_bus() -> Option<String> {
    if !available(
        std::env::var_os("NIX_TOKENS_TEST_KEYRING").is_some(),
        "no test keyring (set NIX_TOKENS_TEST_KEYRING=1 inside dbus-run-session, see .ci/run)",
    ) {
        return None;
    }
    Some(std::env::var("DBUS_SESSION_BUS_ADDRESS").expect("a session bus with the keyring"))
}

fn lookup(bus: &str, env: &TestEnv, key: &str) -> Option<String> {
    let account = format!("{key} in {}", env.config_dir().display());
    let out = Command::new("secret-tool")
        .args(["lookup", "service", "nix-tokens", "username", &account])
        .env("DBUS_SESSION_BUS_ADDRESS", bus)
        .output()
        .expect("secret-tool (libsecret-tools)");
    let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    (out.status.success() && !text.is_empty()).then_some(text)
}

#[test]
fn refresh_tokens_live_in_the_keyring_when_there_is_one() {
    let Some(bus) = keyring_bus() else {
        return;
    };
    let env = TestEnv::new();
    let gitlab = GitlabOAuth::start();
    let host = "gitlab.keyring-test.example";
    let run = |args: &[&str]| {
        env.cmd()
            .args(args)
            .env("DBUS_SESSION_BUS_ADDRESS", &bus)
            .output()
            .unwrap()
    };
    let out = run(&[
        "login",
        host,
        "-p",
        "gitlab",
        "--client-id",
        "app",
        "--base-url",
        &gitlab.server.url,
    ]);
    assert_success(&out);
    let file = read(&env.config_dir().join(".nix-tokens-oauth.json"));
    assert!(file.contains("\"in_keyring\": true"), "{file}");
    assert!(
        !file.contains("refresh-1"),
        "the refresh token stays out of the file: {file}"
    );
    assert_eq!(lookup(&bus, &env, host).as_deref(), Some("refresh-1"));

    // Renewal reads the keyring and stores the rotated token there.
    let out = run(&["refresh", "--threshold", "180"]);
    assert_success(&out);
    assert_eq!(lookup(&bus, &env, host).as_deref(), Some("refresh-2"));
    assert!(read(&env.token_file()).contains("OAuth2:access-2"));

    // Logging out forgets it.
    let out = run(&["logout", host, "--yes"]);
    assert_success(&out);
    assert_eq!(lookup(&bus, &env, host), None);
}

#[test]
fn an_older_pixi_login_in_the_keyring_is_named() {
    let Some(bus) = keyring_bus() else {
        return;
    };
    let env = TestEnv::new();
    let issuer = crate::support::fake_oidc::FakeIssuer::start();
    // pixi's own login, as pixi keeps it: service `rattler`, the account its key.
    let mut store = Command::new("secret-tool")
        .args([
            "store",
            "--label",
            "rattler",
            "service",
            "rattler",
            "username",
            "*.prefix.dev",
        ])
        .env("DBUS_SESSION_BUS_ADDRESS", &bus)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("secret-tool (libsecret-tools)");
    std::io::Write::write_all(
        store.stdin.as_mut().unwrap(),
        br#"{"BearerToken":"pfx_pixis_older_key"}"#,
    )
    .unwrap();
    drop(store.stdin.take());
    assert!(store.wait().unwrap().success());
    let out = env
        .cmd()
        .args([
            "login",
            "prefix.dev",
            "--base-url",
            issuer.url(),
            "--with-token",
        ])
        .env("DBUS_SESSION_BUS_ADDRESS", &bus)
        .write_stdin("pfx_0123456789abcdefghijklmnopqrstuv\n")
        .output()
        .unwrap();
    assert_success(&out);
    let err = stderr(&out);
    assert!(
        err.contains("pixi keeps an older login for *.prefix.dev in the OS keyring"),
        "{err}"
    );
    assert_no_leak(&out, &["pfx_pixis_older_key"]);
    let _ = Command::new("secret-tool")
        .args(["clear", "service", "rattler", "username", "*.prefix.dev"])
        .env("DBUS_SESSION_BUS_ADDRESS", &bus)
        .status();
}
