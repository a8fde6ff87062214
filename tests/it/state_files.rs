//! The state files nix-tokens keeps beside nix.conf (`.nix-tokens-hosts.json`,
//! `.nix-tokens-oauth.json`, `.nix-tokens-git.json`) decide where tokens are sent. One that
//! another user owns or may write is refused with one sentence before anything is sent or
//! written; and the endpoints an OAuth login remembers are checked again (https, or plain http on
//! a loopback address, as at login) before a refresh token or access token goes to them.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;

use crate::support::fake_forge::{self, FakeServer, Reply};
use crate::support::fake_oidc::{CLIENT, FakeIssuer};
use crate::support::*;

const GH: &str = "ghp_statefiletoken0123456789abcdefghij";
const OTHER_USER: &str = "nix-tokens-other";

fn hosts_file(env: &TestEnv) -> PathBuf {
    env.config_dir().join(".nix-tokens-hosts.json")
}

fn oauth_file(env: &TestEnv) -> PathBuf {
    env.config_dir().join(".nix-tokens-oauth.json")
}

/// The uid of a second user, made with `useradd` the first time.
fn other_uid() -> u32 {
    let id = || {
        Command::new("id")
            .args(["-u", OTHER_USER])
            .output()
            .unwrap()
    };
    if !id().status.success() {
        // Tests run in parallel: another may have made the user meanwhile (exit code 9).
        let made = Command::new("useradd")
            .args([
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
            ])
            .arg(OTHER_USER)
            .status()
            .expect("useradd is installed");
        assert!(made.success() || made.code() == Some(9), "useradd: {made}");
    }
    String::from_utf8(id().stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// A github.com token, and a host file that sends github.com's checks to `attacker`.
fn redirected(attacker: &FakeServer) -> TestEnv {
    let env = TestEnv::new();
    env.set_token("github.com", GH);
    let json = format!(
        r#"{{"hosts":{{"github.com":{{"provider":"github","base_url":"{}"}}}}}}"#,
        attacker.url
    );
    fs::write(hosts_file(&env), json).unwrap();
    env
}

#[test]
fn a_host_file_others_can_write_is_refused_and_nothing_is_sent() {
    let attacker = fake_forge::github(GH, "repo");
    let env = redirected(&attacker);
    fs::set_permissions(hosts_file(&env), fs::Permissions::from_mode(0o666)).unwrap();
    let before = env.snapshot();
    for args in [
        &["status"][..],
        &["status", "--json"],
        &["set-token", "github.com"],
    ] {
        let out = env.run(args, &format!("{GH}\n"));
        assert_clean_failure(&out, 1);
        let err = stderr(&out);
        assert!(err.contains(".nix-tokens-hosts.json"), "{err}");
        assert!(err.contains("other users can write"), "{err}");
        assert!(err.contains("chmod 600"), "{err}");
        assert_no_leak(&out, &[GH]);
    }
    assert!(attacker.requests().is_empty(), "{:?}", attacker.requests());
    assert_eq!(env.snapshot(), before);
}

#[test]
fn a_host_file_another_user_owns_is_refused_and_nothing_is_sent() {
    if !root_with(&["useradd"]) {
        return;
    }
    let attacker = fake_forge::github(GH, "repo");
    let env = redirected(&attacker);
    let uid = other_uid();
    std::os::unix::fs::chown(hosts_file(&env), Some(uid), None).unwrap();
    fs::set_permissions(hosts_file(&env), fs::Permissions::from_mode(0o644)).unwrap();
    let before = env.snapshot();
    let out = env.run(&["status"], "");
    assert_clean_failure(&out, 1);
    let err = stderr(&out);
    assert!(err.contains(".nix-tokens-hosts.json"), "{err}");
    assert!(err.contains("another user"), "{err}");
    assert!(attacker.requests().is_empty(), "{:?}", attacker.requests());
    assert_eq!(env.snapshot(), before);

    // A link to it, made by whoever: the file it leads to still decides.
    let link_env = TestEnv::new();
    link_env.set_token("github.com", GH);
    fs::remove_file(hosts_file(&link_env)).ok();
    std::os::unix::fs::symlink(hosts_file(&env), hosts_file(&link_env)).unwrap();
    let out = link_env.run(&["status"], "");
    assert_clean_failure(&out, 1);
    assert!(stderr(&out).contains("another user"), "{}", stderr(&out));
    assert!(attacker.requests().is_empty());
}

#[test]
fn the_oauth_and_git_state_files_are_checked_too() {
    let env = TestEnv::new();
    env.set_token("github.com", GH);
    fs::write(oauth_file(&env), "{\"logins\":{}}\n").unwrap();
    fs::set_permissions(oauth_file(&env), fs::Permissions::from_mode(0o620)).unwrap();
    for args in [&["refresh"][..], &["logout", "github.com", "--yes"]] {
        let out = env.run(args, "");
        assert_clean_failure(&out, 1);
        assert!(
            stderr(&out).contains(".nix-tokens-oauth.json"),
            "{}",
            stderr(&out)
        );
    }
    assert!(read(&env.token_file()).contains(GH));
    fs::remove_file(oauth_file(&env)).unwrap();

    let record = env.config_dir().join(".nix-tokens-git.json");
    fs::write(&record, "{}\n").unwrap();
    fs::set_permissions(&record, fs::Permissions::from_mode(0o646)).unwrap();
    let out = env
        .cmd()
        .args(["git-credential", "--uninstall"])
        .env("GIT_CONFIG_GLOBAL", env.root.join("gitconfig"))
        .output()
        .unwrap();
    assert_clean_failure(&out, 1);
    assert!(
        stderr(&out).contains(".nix-tokens-git.json"),
        "{}",
        stderr(&out)
    );
}

/// An OpenID Connect login (device flow) whose remembered endpoints are then changed to `to`,
/// the same server reached through an address that is not a loopback one by nix-tokens' rules
/// (an IPv4-mapped IPv6 address): the server would see any request sent there.
fn login_then_point_endpoints_at(issuer: &FakeIssuer, env: &TestEnv) -> String {
    // A minute to live: due for renewal at once, `status` included.
    issuer.set_lifetime(60);
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
    assert_success(&out);
    let stored = read(&oauth_file(env));
    assert!(stored.contains(issuer.url()), "{stored}");
    let mapped = issuer.url().replace("127.0.0.1", "[::ffff:127.0.0.1]");
    fs::write(oauth_file(env), stored.replace(issuer.url(), &mapped)).unwrap();
    fs::set_permissions(oauth_file(env), fs::Permissions::from_mode(0o600)).unwrap();
    mapped
}

fn posts(issuer: &FakeIssuer, path: &str) -> usize {
    issuer
        .server
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == path)
        .count()
}

#[test]
fn remembered_endpoints_on_plain_http_off_loopback_get_nothing() {
    let env = TestEnv::new();
    let issuer = FakeIssuer::start();
    let mapped = login_then_point_endpoints_at(&issuer, &env);
    let refresh = issuer.state.lock().unwrap().issued_refresh[0].clone();
    let access = issuer.state.lock().unwrap().issued[0].clone();
    let token_posts = posts(&issuer, "/oauth/token");
    let before = env.snapshot();

    let out = env.run(&["refresh"], "");
    assert_clean_failure(&out, 1);
    let err = stderr(&out);
    assert!(err.contains(&format!("{mapped}/oauth/token")), "{err}");
    assert!(err.contains("https"), "{err}");
    assert_no_leak(&out, &[&refresh, &access]);
    assert_eq!(posts(&issuer, "/oauth/token"), token_posts);
    assert_eq!(env.snapshot(), before);

    // `status` renews first: the same refusal, as a warning, and nothing sent there either.
    let out = env.run(&["status"], "");
    assert!(
        stderr(&out).contains(&format!("{mapped}/oauth/token")),
        "{}",
        stderr(&out)
    );
    assert_no_leak(&out, &[&refresh, &access]);
    assert_eq!(posts(&issuer, "/oauth/token"), token_posts);

    // `logout --revoke` refuses before it removes anything.
    let out = env.run(&["logout", "conda.corp.example", "--revoke", "--yes"], "");
    assert_clean_failure(&out, 1);
    let err = stderr(&out);
    assert!(err.contains(&format!("{mapped}/oauth/revoke")), "{err}");
    assert!(err.contains("without --revoke"), "{err}");
    assert_no_leak(&out, &[&refresh, &access]);
    assert_eq!(posts(&issuer, "/oauth/revoke"), 0);
    assert!(issuer.state.lock().unwrap().revoked.is_empty());
    assert_eq!(env.snapshot(), before);
}

#[test]
fn the_unchecked_path_would_reach_the_server() {
    // The premise of the test above: a request sent to the IPv4-mapped address reaches the fake
    // server, so its seeing nothing means nothing was sent.
    use std::io::{Read, Write};
    let server = FakeServer::start(|_| Reply::json(200, serde_json::json!({})));
    let port = server.url.rsplit(':').next().unwrap();
    let mut tcp = std::net::TcpStream::connect(format!("[::ffff:127.0.0.1]:{port}")).unwrap();
    tcp.write_all(
        b"POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn a_provider_file_others_can_write_is_refused() {
    let env = TestEnv::new();
    let file = env.home.join(".config/nix-tokens/providers/corp.toml");
    env.write(
        &file,
        "name = \"corp\"\nkind = \"gitlab\"\ndefault_host = \"gitlab.corp.example\"\nsink = \"access-tokens\"\n",
    );
    fs::set_permissions(&file, fs::Permissions::from_mode(0o666)).unwrap();
    let before = env.snapshot();
    let out = env.run(&["set-token", "github.com"], &format!("{GH}\n"));
    assert_clean_failure(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("corp.toml") && err.contains("chmod 600"),
        "{err}"
    );
    assert_eq!(env.snapshot(), before);
    fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
    env.set_token("github.com", GH);
}

#[test]
fn a_remembered_base_url_on_plain_http_off_loopback_gets_nothing() {
    // Checked at use as at login already; kept here beside the endpoints' check.
    let attacker = fake_forge::github(GH, "repo");
    let mapped = attacker.url.replace("127.0.0.1", "[::ffff:127.0.0.1]");
    let env = TestEnv::new();
    env.set_token("github.com", GH);
    let json =
        format!(r#"{{"hosts":{{"github.com":{{"provider":"github","base_url":"{mapped}"}}}}}}"#);
    fs::write(hosts_file(&env), json).unwrap();
    let out = env.run(&["status"], "");
    assert!(!out.status.success());
    assert!(stdout(&out).contains("https") || stderr(&out).contains("https"));
    assert_no_leak(&out, &[GH]);
    let out = env.run(&["logout", "github.com", "--revoke", "--yes"], "");
    assert_clean_failure(&out, 2);
    assert!(read(&env.token_file()).contains(GH));
    assert!(attacker.requests().is_empty(), "{:?}", attacker.requests());
}
