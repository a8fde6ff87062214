//! A server that answers badly (huge numbers, huge bodies, terminal escapes) gets a clear error
//! or a safe result, never a panic, and nothing it sends reaches the terminal raw. A truncated
//! answer or none at all ends the run within the timeout, naming the host and saving nothing.

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

/// `login --with-token` against `server`, with requests given up after `timeout` seconds.
fn login_against(env: &TestEnv, url: &str, timeout: &str) -> std::process::Output {
    let mut child = env
        .std_cmd()
        .args([
            "login",
            "git.corp.example",
            "-p",
            "gitea",
            "--base-url",
            url,
        ])
        .arg("--with-token")
        .env("NIX_TOKENS_HTTP_TIMEOUT", timeout)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), b"giteatoken1234567890\n").unwrap();
    wait_bounded(child, std::time::Duration::from_secs(20), "login")
}

#[test]
fn a_truncated_answer_is_named_and_saves_nothing() {
    let env = TestEnv::new();
    let server = fake_forge::RawServer::start(Some(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n{\"login\": \"tan",
    ));
    let before = env.snapshot();
    let out = login_against(&env, &server.url, "10");
    assert_clean_failure(&out, 1);
    let err = stderr(&out);
    assert!(err.contains(&server.url), "{err}");
    assert!(err.contains("broke off before its end"), "{err}");
    assert!(err.contains("nothing was saved"), "{err}");
    assert_no_leak(&out, &["giteatoken1234567890"]);
    assert_eq!(env.snapshot(), before);
}

#[test]
fn a_server_that_never_answers_times_out_and_saves_nothing() {
    let env = TestEnv::new();
    let server = fake_forge::RawServer::start(None);
    let before = env.snapshot();
    let start = std::time::Instant::now();
    let out = login_against(&env, &server.url, "2");
    let took = start.elapsed();
    assert_clean_failure(&out, 1);
    let err = stderr(&out);
    assert!(err.contains(&server.url), "{err}");
    assert!(err.contains("no answer within 2 seconds"), "{err}");
    assert!(
        took >= std::time::Duration::from_secs(2) && took < std::time::Duration::from_secs(8),
        "took {took:?}"
    );
    assert_no_leak(&out, &["giteatoken1234567890"]);
    assert_eq!(env.snapshot(), before);
}

/// A server that repeats, in its refusal, the credentials it was sent (`Authorization`, and
/// GitLab's `Private-Token`).
fn echoing() -> FakeServer {
    FakeServer::start(|r| {
        let said = format!(
            "Bad credentials: {} {}",
            r.header("authorization").unwrap_or(""),
            r.header("private-token").unwrap_or("")
        );
        Reply::json(401, json!({"message": said, "error_description": said}))
    })
}

/// Neither `secret` nor its basic-auth form (`LOGIN:secret` in base64, for any login tried
/// here) appears in what the run printed.
fn assert_never_shown(out: &std::process::Output, secret: &str) {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let forms = [
        secret.to_owned(),
        b64(&format!(":{secret}")),
        b64(&format!("nix-tokens:{secret}")),
    ];
    let forms: Vec<&str> = forms.iter().map(String::as_str).collect();
    assert_no_leak(out, &forms);
}

#[test]
fn a_server_repeating_the_token_it_was_sent_never_gets_it_shown() {
    let env = TestEnv::new();
    let server = echoing();
    let token = "ghp_echoedtoken0123456789abcdefghij";
    let cache_token = "echoedcachetoken0123456789";
    // The error line of a refused login, a forge's and a cache's (basic auth, as Nix's curl).
    let out = env.run(
        &[
            "login",
            "ghe.corp.example",
            "-p",
            "github",
            "--base-url",
            &server.url,
            "--with-token",
        ],
        &format!("{token}\n"),
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("Bad credentials"), "{}", stderr(&out));
    assert_never_shown(&out, token);
    let base = format!("{}/main", server.url);
    let out = env.run(
        &[
            "login",
            "attic.corp.example",
            "-p",
            "attic",
            "--base-url",
            &base,
            "--credential-only",
            "--with-token",
        ],
        &format!("{cache_token}\n"),
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("Bad credentials"), "{}", stderr(&out));
    assert_never_shown(&out, cache_token);

    // The tokens stored anyway, on hosts remembered on that server: `status`, its table and JSON.
    env.set_token("ghe.corp.example", token);
    let gl = "glpat-echoedgitlabtoken0123";
    env.set_token("gitlab.corp.example", &format!("PAT:{gl}"));
    env.write(
        &env.config_dir().join(".nix-tokens-hosts.json"),
        &json!({"hosts": {
            "ghe.corp.example": {"provider": "github", "base_url": server.url},
            "gitlab.corp.example": {"provider": "gitlab", "base_url": server.url},
        }})
        .to_string(),
    );
    for args in [&["status"][..], &["status", "--json"]] {
        let out = env.run(args, "");
        let all = format!("{}{}", stdout(&out), stderr(&out));
        assert!(all.contains("Bad credentials"), "{all}");
        assert!(all.contains("ghp_****ij"), "masked instead: {all}");
        assert_never_shown(&out, token);
        assert_never_shown(&out, gl);
    }

    // `check`, asking that server about a repository with the token Nix will send.
    let lock = crate::support::flake_lock::lock(
        json!({"app": "app"}),
        json!({"app": crate::support::flake_lock::gitlab("corp", "app", Some("gitlab.corp.example"))}),
    );
    env.write(&env.root.join("flake").join("flake.lock"), &lock);
    let flake = env.root.join("flake").display().to_string();
    for args in [&["check", &flake][..], &["check", "--json", &flake]] {
        let out = env.run(args, "");
        let all = format!("{}{}", stdout(&out), stderr(&out));
        assert!(all.contains("Bad credentials"), "{all}");
        assert!(all.contains("glpat-****23"), "masked instead: {all}");
        assert_never_shown(&out, gl);
    }

    // A server that accepts the token and repeats it in a header it shows (its scopes).
    let accepting = FakeServer::start(|r| {
        let sent = r.header("authorization").unwrap_or("").to_owned();
        Reply::json(200, json!({"login": "octocat"}))
            .header("X-OAuth-Scopes", &format!("repo, {sent}"))
    });
    let other = "ghp_acceptedtoken0123456789abcdefgh";
    let out = env.run(
        &[
            "login",
            "ghe2.corp.example",
            "-p",
            "github",
            "--base-url",
            &accepting.url,
            "--with-token",
        ],
        &format!("{other}\n"),
    );
    assert_success(&out);
    assert_never_shown(&out, other);
    let out = env.run(&["status", "--json", "ghe2.corp.example"], "");
    assert!(stdout(&out).contains("ghp_****gh"), "{}", stdout(&out));
    assert_never_shown(&out, other);
}
