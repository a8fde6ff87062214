//! Gitea and Forgejo logins where the browser login cannot run: an instance that does not know
//! the application or has no OAuth2 provider (one sentence, then a token made by hand), a host
//! that does not answer as Gitea does, `--client-id` naming another application, and the dry run.

use crate::support::fake_gitea_oauth::{CLIENT, FakeGitea, PERSONAL, USER};
use crate::support::*;

const HOST: &str = "git.corp.example";

fn oauth_file(env: &TestEnv) -> std::path::PathBuf {
    env.config_dir().join(".nix-tokens-oauth.json")
}

#[test]
fn an_instance_without_the_application_falls_back_to_a_token_made_by_hand() {
    for (disable, said) in [
        (
            FakeGitea::disable_default_apps as fn(&FakeGitea),
            "does not know the application a4792ccc-144e-407e-86c9-5e7d8d9c3269",
        ),
        (FakeGitea::disable_oauth, "offers no OAuth2 login"),
    ] {
        let env = TestEnv::new();
        let gitea = FakeGitea::start();
        disable(&gitea);
        let out = env.run(
            &["login", HOST, "-p", "gitea", "--base-url", gitea.url()],
            &format!("{PERSONAL}\n"),
        );
        assert_success(&out);
        assert_no_leak(&out, &[PERSONAL]);
        let err = stderr(&out);
        assert!(err.contains(said), "{err}");
        assert!(err.contains("make a token by hand instead"), "{err}");
        assert!(err.contains(&format!("as {USER}")), "{err}");
        assert!(read(&env.netrc()).contains(PERSONAL));
        assert!(!oauth_file(&env).exists() || !read(&oauth_file(&env)).contains(HOST));
        let s = gitea.state.lock().unwrap();
        assert!(s.authorize_queries.is_empty(), "no browser was sent there");
    }
}

#[test]
fn client_id_picks_another_application() {
    let env = TestEnv::new();
    let gitea = FakeGitea::start();
    let other = "e90ee53c-94e2-48ac-9358-a874fb9e0662";
    let out = env.run(
        &[
            "login",
            HOST,
            "-p",
            "forgejo",
            "--base-url",
            gitea.url(),
            "--client-id",
            other,
        ],
        &format!("{PERSONAL}\n"),
    );
    assert_success(&out);
    let err = stderr(&out);
    // The stand-in knows only git-credential-oauth: the other id is the one that was asked about.
    assert!(
        err.contains(&format!("does not know the application {other}")),
        "{err}"
    );
    assert!(!err.contains("--client-id is ignored"), "{err}");
    let asked = gitea
        .server
        .requests()
        .into_iter()
        .find(|r| r.path == "/login/oauth/access_token")
        .expect("the application was asked about");
    assert_eq!(asked.form("client_id").as_deref(), Some(other));
    assert_eq!(asked.form("grant_type").as_deref(), Some("refresh_token"));
}

#[test]
fn dry_run_names_the_browser_login_and_asks_nothing() {
    let env = TestEnv::new();
    let gitea = FakeGitea::start();
    let before = env.snapshot();
    let out = env.run(
        &[
            "login",
            HOST,
            "-p",
            "forgejo",
            "--base-url",
            gitea.url(),
            "--dry-run",
        ],
        "",
    );
    assert_success(&out);
    let err = stderr(&out);
    assert!(
        err.contains(&format!("would log in to {HOST} (provider forgejo) with the auth-code flow as the application {CLIENT} (scopes read:repository, read:user)")),
        "{err}"
    );
    assert_eq!(env.snapshot(), before);
    assert!(gitea.server.requests().is_empty());
}

#[test]
fn a_server_that_is_no_gitea_gets_no_browser_and_the_token_is_entered_by_hand() {
    let env = TestEnv::new();
    // Anything but the API answers 401 with a message, as a proxy in front of a forge may.
    let server = crate::support::fake_forge::FakeServer::start(|r| {
        let auth = format!("token {PERSONAL}");
        if r.path == "/api/v1/user" && r.header("authorization") == Some(auth.as_str()) {
            crate::support::fake_forge::Reply::json(200, serde_json::json!({"login": USER}))
        } else {
            crate::support::fake_forge::Reply::json(
                401,
                serde_json::json!({"message": "token is required"}),
            )
        }
    });
    let out = env.run(
        &[
            "login",
            HOST,
            "-p",
            "gitea",
            "--base-url",
            &server.url,
            "-v",
        ],
        &format!("{PERSONAL}\n"),
    );
    assert_success(&out);
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "{HOST} did not answer as Gitea's OAuth2 provider does"
        )),
        "{err}"
    );
    assert!(!err.contains("open this address"), "{err}");
    assert!(read(&env.netrc()).contains(PERSONAL));
}
