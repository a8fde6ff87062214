//! `login github --public` (the device flow asking for no scope) and `login github --read-only`
//! (a fine-grained token entered by hand, checked to read a private repository) against fake
//! GitHub Enterprise servers that answer as GitHub does.

use serde_json::json;

use crate::support::fake_forge;
use crate::support::fake_tokens::{self, Grant};
use crate::support::*;

const GHO: &str = "gho_16C7e42F292c6912E7710c838347Ae178B4a";
const CLASSIC: &str = "ghp_classicclassicclassicclassicclassic0";
const FINE: &str = "github_pat_11AAAAAAA0readsreadsreadsreadsreadsre";
const NO_CONTENTS: &str = "github_pat_11AAAAAAA0metadataonlymetadataonlyme";
const PUBLIC_ONLY: &str = "github_pat_11AAAAAAA0publicpublicpublicpublicpu";
const APP_USER: &str = "ghu_appuserappuserappuserappuserappuse0";

fn device_login(
    server: &fake_forge::FakeServer,
    extra: &[&str],
) -> (TestEnv, std::process::Output) {
    let env = TestEnv::new();
    let mut args = vec![
        "login",
        "ghe.corp.example",
        "--provider",
        "github",
        "--client-id",
        "Iv1.0123456789abcdef",
        "--base-url",
        &server.url,
    ];
    args.extend_from_slice(extra);
    let out = env.run(&args, "");
    (env, out)
}

fn device_request(server: &fake_forge::FakeServer) -> fake_forge::Request {
    server
        .requests()
        .into_iter()
        .find(|r| r.path == "/login/device/code")
        .expect("a device code was asked for")
}

fn success_poll() -> Vec<serde_json::Value> {
    vec![json!({"access_token": GHO, "token_type": "bearer", "scope": "repo"})]
}

#[test]
fn public_asks_the_device_flow_for_no_scope_at_all() {
    let server = fake_forge::github_device(GHO, 1, 900, success_poll());
    let (env, out) = device_login(&server, &["--public"]);
    assert_success(&out);
    assert_no_leak(&out, &[GHO]);
    let device = device_request(&server);
    assert_eq!(device.form("scope"), None, "body: {}", device.body);
    assert_eq!(
        device.form("client_id").as_deref(),
        Some("Iv1.0123456789abcdef")
    );
    let err = stderr(&out);
    assert!(err.contains("as octocat (no scope; no expiry)"), "{err}");
    assert!(
        err.contains("and reads public repositories only, with 5,000 API requests an hour."),
        "{err}"
    );
    // Lacking `repo` is what was asked for: no warning about it.
    assert!(!err.contains("lacks the scope"), "{err}");
    assert!(read(&env.token_file()).contains(&format!("ghe.corp.example={GHO}")));

    // The plain login asks for `repo`, and says what that token can do.
    let server = fake_forge::github_device(GHO, 1, 900, success_poll());
    let (_env, out) = device_login(&server, &[]);
    assert_success(&out);
    assert_eq!(
        device_request(&server).form("scope").as_deref(),
        Some("repo")
    );
    assert!(
        stderr(&out).contains("as octocat (scopes repo; no expiry)"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains(
            "and can read and write your private repositories; `--read-only` for a read-only token."
        ),
        "{}",
        stderr(&out)
    );
}

fn read_only_server() -> fake_forge::FakeServer {
    fake_tokens::github(vec![
        (CLASSIC, Grant::scopes("repo")),
        (
            FINE,
            Grant::FineGrained {
                repos: vec!["octocat/hello-world", "octo-org/app"],
                contents: true,
            },
        ),
        (
            NO_CONTENTS,
            Grant::FineGrained {
                repos: vec!["octo-org/app"],
                contents: false,
            },
        ),
        (
            PUBLIC_ONLY,
            Grant::FineGrained {
                repos: vec!["octocat/hello-world"],
                contents: true,
            },
        ),
        (
            APP_USER,
            Grant::FineGrained {
                repos: vec![],
                contents: true,
            },
        ),
    ])
}

fn read_only_login(
    env: &TestEnv,
    server: &str,
    token: &str,
    extra: &[&str],
) -> std::process::Output {
    let mut args = vec![
        "login",
        "ghe.corp.example",
        "-p",
        "github",
        "--base-url",
        server,
        "--read-only",
        "--with-token",
    ];
    args.extend_from_slice(extra);
    let out = env.run(&args, &format!("{token}\n"));
    assert_no_leak(&out, &[token]);
    out
}

#[test]
fn read_only_refuses_a_classic_token_and_says_why() {
    let env = TestEnv::new();
    let server = read_only_server();
    let before = env.snapshot();
    let out = read_only_login(&env, &server.url, CLASSIC, &[]);
    assert_clean_failure(&out, 1);
    assert_eq!(
        stderr(&out).trim_end(),
        "error: the token is not for a read-only login: it is a classic token, whose scope repo also writes to every private repository you can reach (GitHub has no read-only classic scope for private code); create a fine-grained token at https://ghe.corp.example/settings/personal-access-tokens/new with Contents: Read-only. Nothing was saved; pass --force to save it anyway"
    );
    assert_eq!(env.snapshot(), before, "nothing may change");

    // A GitHub App user token is no fine-grained personal token either.
    let out = read_only_login(&env, &server.url, APP_USER, &[]);
    assert_clean_failure(&out, 1);
    assert!(
        stderr(&out).contains("it is not a fine-grained personal access token (github_pat_…)"),
        "{}",
        stderr(&out)
    );

    // --force saves it anyway, with the reason as a warning.
    let out = read_only_login(&env, &server.url, CLASSIC, &["--force"]);
    assert_success(&out);
    assert!(
        stderr(&out).contains("saving it anyway (--force)"),
        "{}",
        stderr(&out)
    );
    assert!(read(&env.token_file()).contains(&format!("ghe.corp.example={CLASSIC}")));
}

#[test]
fn read_only_saves_a_fine_grained_token_that_reads_a_private_repository() {
    let env = TestEnv::new();
    let server = read_only_server();
    let out = read_only_login(&env, &server.url, FINE, &[]);
    assert_success(&out);
    let err = stderr(&out);
    assert!(
        err.contains("The token reads the contents of octo-org/app."),
        "{err}"
    );
    assert!(
        err.contains("as octocat (scopes not reported; expires 2099-12-01T12:00:00Z)"),
        "{err}"
    );
    assert!(err.contains("and is fine-grained:"), "{err}");
    assert!(read(&env.token_file()).contains(&format!("ghe.corp.example={FINE}")));
    let auth = format!("token {FINE}");
    let asked: Vec<String> = server
        .requests()
        .into_iter()
        .filter(|r| r.header("authorization") == Some(auth.as_str()))
        .map(|r| r.path)
        .collect();
    assert_eq!(
        asked,
        [
            "/api/v3/user",
            "/api/v3/user/repos?per_page=100",
            "/api/v3/repos/octo-org/app/commits?per_page=1"
        ]
    );
    // With --owner, the token must reach that owner's private repositories.
    let out = read_only_login(&env, &server.url, FINE, &["--owner", "octo-org"]);
    assert_success(&out);
    assert!(read(&env.token_file()).contains(&format!("ghe.corp.example/octo-org={FINE}")));
    let out = read_only_login(&env, &server.url, FINE, &["--owner", "octocat"]);
    assert_clean_failure(&out, 1);
    assert!(
        stderr(&out).contains("the token reaches no private repository of octocat, so Nix could read nothing private with it; at https://ghe.corp.example/settings/personal-access-tokens pick octocat as the resource owner"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn read_only_refuses_a_fine_grained_token_that_cannot_read_private_code() {
    let env = TestEnv::new();
    let server = read_only_server();
    let before = env.snapshot();
    let out = read_only_login(&env, &server.url, NO_CONTENTS, &[]);
    assert_clean_failure(&out, 1);
    assert!(
        stderr(&out).contains("the token cannot read the contents of octo-org/app; give it the permission Contents: Read-only at https://ghe.corp.example/settings/personal-access-tokens. Nothing was saved"),
        "{}",
        stderr(&out)
    );
    let out = read_only_login(&env, &server.url, PUBLIC_ONLY, &[]);
    assert_clean_failure(&out, 1);
    assert!(
        stderr(&out).contains(
            "the token reaches no private repository, so Nix could read nothing private with it"
        ) && stderr(&out).contains("(for public repositories alone, log in with --public)"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.snapshot(), before);
}
