//! `login` with guided token entry: the token is checked with the provider (in-process fake
//! servers that answer as the providers document) before anything is written.

use crate::support::fake_forge::{self, FakeServer, Reply};
use crate::support::*;

const GH: &str = "ghp_abcdefghijklmnopqrstuvwxyz0123456789";

fn login(env: &TestEnv, args: &[&str], token: &str) -> std::process::Output {
    let mut all = vec!["login"];
    all.extend_from_slice(args);
    env.run(&all, &format!("{token}\n"))
}

#[test]
fn a_ghes_token_is_checked_then_saved() {
    let env = TestEnv::new();
    let server = fake_forge::github(GH, "repo, read:org");
    let out = login(
        &env,
        &[
            "ghe.corp.example",
            "--provider",
            "github",
            "--base-url",
            &server.url,
            "--with-token",
        ],
        GH,
    );
    assert_success(&out);
    assert_no_leak(&out, &[GH]);
    let err = stderr(&out);
    assert!(
        err.contains("Logged in to ghe.corp.example as octocat (scopes repo, read:org; expires 2099-12-01T12:00:00Z)"),
        "{err}"
    );
    assert!(read(&env.token_file()).contains(&format!("ghe.corp.example={GH}")));
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "/api/v3/user");
    assert_eq!(
        requests[0].header("authorization"),
        Some(format!("token {GH}").as_str())
    );
    let agent = requests[0].header("user-agent").unwrap();
    assert!(agent.starts_with("nix-tokens/"), "{agent}");
}

#[test]
fn a_refused_token_changes_nothing_unless_forced() {
    let env = TestEnv::new();
    let server = fake_forge::github(GH, "repo");
    let wrong = "ghp_WRONGwrongwrongwrongwrongwrong1234";
    let args = [
        "ghe.corp.example",
        "--provider",
        "github",
        "--base-url",
        &server.url,
    ];
    let before = env.snapshot();
    let out = login(&env, &args, wrong);
    assert_clean_failure(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("refused the token (refused with HTTP 401: Bad credentials)"),
        "{err}"
    );
    assert!(err.contains("nothing was saved"), "{err}");
    assert_no_leak(&out, &[wrong]);
    assert_eq!(env.snapshot(), before);

    let mut forced = args.to_vec();
    forced.push("--force");
    let out = login(&env, &forced, wrong);
    assert_success(&out);
    assert!(
        stderr(&out).contains("saving it anyway"),
        "{}",
        stderr(&out)
    );
    assert!(read(&env.token_file()).contains(wrong));
}

#[test]
fn a_token_without_the_scope_nix_needs_is_saved_with_a_warning() {
    let env = TestEnv::new();
    let server = fake_forge::github(GH, "gist");
    let out = login(
        &env,
        &[
            "ghe.corp.example",
            "-p",
            "github",
            "--base-url",
            &server.url,
        ],
        GH,
    );
    assert_success(&out);
    assert!(
        stderr(&out).contains("lacks the scope(s) repo that Nix needs"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn gitlab_personal_and_oauth_tokens_are_sent_as_gitlab_expects() {
    let env = TestEnv::new();
    let pat = "glpat-abcdefghijklmnopqrst";
    let oauth = "oauthtokenabcdefghijklmnop";
    let server = fake_forge::gitlab(pat, oauth);
    let out = login(
        &env,
        &[
            "gitlab.corp.example",
            "--provider",
            "gitlab",
            "--base-url",
            &server.url,
        ],
        pat,
    );
    assert_success(&out);
    assert!(
        stderr(&out)
            .contains("as tanuki (scopes read_api, read_repository; expires 2099-01-31T00:00:00Z)"),
        "{}",
        stderr(&out)
    );
    assert!(read(&env.token_file()).contains(&format!("gitlab.corp.example=PAT:{pat}")));
    // The check sends the bare token, never the `PAT:` Nix needs in its file.
    let first = &server.requests()[0];
    assert_eq!(first.header("private-token"), Some(pat));

    let out = login(
        &env,
        &[
            "gitlab.other.example",
            "--provider",
            "gitlab",
            "--base-url",
            &server.url,
        ],
        &format!("OAuth2:{oauth}"),
    );
    assert_success(&out);
    assert!(
        stderr(&out).contains("as tanuki (scopes read_api; expires 20"),
        "{}",
        stderr(&out)
    );
    let last = server.requests().pop().unwrap();
    assert_eq!(last.path, "/oauth/token/info");
    assert_eq!(
        last.header("authorization"),
        Some(format!("Bearer {oauth}").as_str())
    );
}

#[test]
fn a_forgejo_token_is_checked_and_goes_to_netrc() {
    let env = TestEnv::new();
    let token = "forgejotokenabcdef123456";
    let server = fake_forge::gitea(token);
    let out = login(
        &env,
        &[
            "git.corp.example",
            "--provider",
            "forgejo",
            "--base-url",
            &server.url,
        ],
        token,
    );
    assert_success(&out);
    assert!(
        stderr(&out).contains("as forge-user (scopes not reported; no expiry)"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        read(&env.netrc()),
        format!("machine git.corp.example login nix-tokens password {token}\n")
    );
}

#[test]
fn no_answer_means_nothing_is_saved() {
    let env = TestEnv::new();
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let before = env.snapshot();
    let out = login(
        &env,
        &[
            "git.corp.example",
            "-p",
            "gitea",
            "--base-url",
            &format!("http://{closed}"),
        ],
        "giteatoken1234567890",
    );
    assert_clean_failure(&out, 1);
    assert!(
        stderr(&out).contains("could not check the token"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.snapshot(), before);

    // An HTML page where an API should be.
    let html = FakeServer::start(|_| Reply::html(200, "<html>login</html>"));
    let out = login(
        &env,
        &["git.corp.example", "-p", "gitea", "--base-url", &html.url],
        "giteatoken1234567890",
    );
    assert_clean_failure(&out, 1);
    assert!(
        stderr(&out).contains("did not answer with JSON"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.snapshot(), before);
}

#[test]
fn a_redirect_to_another_host_never_carries_the_token() {
    // GitLab's PRIVATE-TOKEN is a custom header that HTTP clients do not strip on a redirect by
    // themselves; nix-tokens follows redirects only within the same origin.
    let env = TestEnv::new();
    let pat = "glpat-abcdefghijklmnopqrst";
    let elsewhere = fake_forge::gitlab(pat, "unused-oauth-token");
    let target = format!("{}/api/v4/user", elsewhere.url);
    let redirecting = FakeServer::start(move |_| {
        Reply::json(302, serde_json::json!({})).header("Location", &target)
    });
    let out = login(
        &env,
        &[
            "gitlab.corp.example",
            "-p",
            "gitlab",
            "--base-url",
            &redirecting.url,
        ],
        pat,
    );
    assert_clean_failure(&out, 1);
    assert_eq!(redirecting.requests().len(), 1);
    assert!(
        elsewhere.requests().is_empty(),
        "the token went to another host"
    );
    assert!(!env.token_file().exists());
}

#[test]
fn bad_login_arguments_are_refused_before_anything_is_read() {
    let env = TestEnv::new();
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let out = login(
        &env,
        &[
            "git.unknown.example",
            "--base-url",
            &format!("http://{closed}"),
        ],
        GH,
    );
    assert_clean_failure(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("could not tell what git.unknown.example runs"),
        "{err}"
    );
    assert!(
        err.contains("api/forgejo/v1/version (could not connect)"),
        "{err}"
    );
    assert!(err.contains("pass --provider"), "{err}");
    let out = login(
        &env,
        &[
            "ghe.corp.example",
            "-p",
            "github",
            "--base-url",
            "http://ghe.corp.example",
        ],
        GH,
    );
    assert_clean_failure(&out, 2);
    assert!(stderr(&out).contains("must use https"), "{}", stderr(&out));
    // Without a terminal and without input, nothing waits.
    let out = env.run(&["login", "github", "--with-token"], "");
    assert_clean_failure(&out, 2);
    assert!(stderr(&out).contains("standard input"), "{}", stderr(&out));
}

#[test]
fn dry_run_shows_the_plan_and_reads_nothing() {
    let env = TestEnv::new();
    let server = fake_forge::gitea("unused");
    let before = env.snapshot();
    let out = env.run(
        &[
            "login",
            "git.corp.example",
            "-p",
            "forgejo",
            "--base-url",
            &server.url,
            "--flow",
            "token",
            "--dry-run",
        ],
        "",
    );
    assert_success(&out);
    let err = stderr(&out);
    assert!(
        err.contains("would log in to git.corp.example (provider forgejo) with the personal token flow (scopes read:repository, read:user)"),
        "{err}"
    );
    assert!(err.contains(&env.netrc().display().to_string()), "{err}");
    assert_eq!(env.snapshot(), before);
    assert!(server.requests().is_empty());
}
