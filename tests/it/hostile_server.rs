//! A server that answers badly (huge numbers, huge bodies, terminal escapes) gets a clear error
//! or a safe result, never a panic, and nothing it sends reaches the terminal raw.

use serde_json::json;

use crate::support::fake_forge::{self, FakeServer, Reply};
use crate::support::*;

const GHO: &str = "gho_16C7e42F292c6912E7710c838347Ae178B4a";

#[test]
fn absurd_lifetimes_are_bounded() {
    let env = TestEnv::new();
    let server = fake_forge::github_device(
        GHO,
        1,
        u64::MAX,
        vec![json!({"access_token": GHO, "token_type": "bearer", "expires_in": u64::MAX})],
    );
    let out = env.run(
        &[
            "login",
            "ghe.corp.example",
            "-p",
            "github",
            "--client-id",
            "Iv1.x",
            "--base-url",
            &server.url,
        ],
        "",
    );
    assert_success(&out);
    assert!(!stderr(&out).contains("panicked"));
}

#[test]
fn a_huge_answer_is_cut_off() {
    let env = TestEnv::new();
    let big = " ".repeat(3 << 20);
    let server = FakeServer::start(move |_| Reply::html(200, &big));
    let out = env.run(
        &[
            "login",
            "git.corp.example",
            "-p",
            "gitea",
            "--base-url",
            &server.url,
        ],
        "giteatoken1234567890\n",
    );
    assert_clean_failure(&out, 1);
    assert!(stderr(&out).contains("more than 1 MiB"), "{}", stderr(&out));
}

#[test]
fn terminal_escapes_from_a_server_are_not_printed() {
    let env = TestEnv::new();
    let token = "giteatoken1234567890";
    let server = FakeServer::start(|r| {
        if r.path == "/api/v1/user" {
            Reply::json(
                200,
                json!({"login": "tanuki\u{1b}[2K\r\u{1b}]0;pwned\u{7}admin"}),
            )
        } else {
            Reply::json(404, json!({}))
        }
    });
    let out = env.run(
        &[
            "login",
            "git.corp.example",
            "-p",
            "gitea",
            "--base-url",
            &server.url,
        ],
        &format!("{token}\n"),
    );
    assert_success(&out);
    let err = stderr(&out);
    assert!(!err.contains('\u{1b}') && !err.contains('\u{7}'), "{err:?}");
    assert!(err.contains("as tanuki?[2K??]0;pwned?admin"), "{err:?}");
}

#[test]
fn a_gitlab_oauth_login_is_not_put_in_netrc() {
    let env = TestEnv::new();
    let out = env.run(&["login", "gitlab", "--flow", "device-code", "--netrc"], "");
    assert_clean_failure(&out, 2);
    assert!(stderr(&out).contains("not in netrc"), "{}", stderr(&out));
}

#[test]
fn server_errors_and_garbage_are_named_and_save_nothing() {
    for reply in [
        Reply::json(500, json!({"message": "Internal Server Error"})),
        Reply {
            status: 200,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: "{\"login\": \"half".into(),
        },
    ] {
        let env = TestEnv::new();
        let server = FakeServer::start(move |_| reply.clone());
        let before = env.snapshot();
        let out = env.run(
            &[
                "login",
                "git.corp.example",
                "-p",
                "gitea",
                "--base-url",
                &server.url,
            ],
            "giteatoken1234567890\n",
        );
        assert_clean_failure(&out, 1);
        let err = stderr(&out);
        assert!(
            err.contains("HTTP 500") || err.contains("did not answer with JSON"),
            "{err}"
        );
        assert_no_leak(&out, &["giteatoken1234567890"]);
        assert_eq!(env.snapshot(), before);
    }
}
