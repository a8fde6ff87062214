//! `logout --revoke` removes the token here and revokes it at the provider where the provider
//! allows it, and says when it cannot.

use crate::support::fake_forge::{self, GitlabOAuth};
use crate::support::*;

const GH: &str = "ghp_abcdefghijklmnopqrstuvwxyz0123456789";
const PAT: &str = "glpat-abcdefghijklmnopqrst";

fn login(env: &TestEnv, host: &str, provider: &str, url: &str, token: &str) {
    env.login_with_token(host, provider, url, token);
}

#[test]
fn github_and_gitlab_personal_tokens_are_revoked() {
    let env = TestEnv::new();
    let github = fake_forge::github(GH, "repo");
    let gitlab = fake_forge::gitlab(PAT, "unused-oauth");
    login(&env, "ghe.corp.example", "github", &github.url, GH);
    login(&env, "gitlab.corp.example", "gitlab", &gitlab.url, PAT);

    let out = env.run(&["logout", "ghe.corp.example", "--revoke", "--yes"], "");
    assert_success(&out);
    assert_no_leak(&out, &[GH]);
    assert!(
        stderr(&out).contains("Revoked the token for ghe.corp.example"),
        "{}",
        stderr(&out)
    );
    let revoke = github
        .requests()
        .into_iter()
        .find(|r| r.path == "/api/v3/credentials/revoke");
    let revoke = revoke.expect("GitHub's revocation API was called");
    assert_eq!(revoke.body, format!("{{\"credentials\":[\"{GH}\"]}}"));
    assert!(revoke.header("authorization").is_none());

    let out = env.run(&["logout", "gitlab.corp.example", "--revoke", "--yes"], "");
    assert_success(&out);
    let delete = gitlab.requests().pop().unwrap();
    assert_eq!(
        (delete.method.as_str(), delete.path.as_str()),
        ("DELETE", "/api/v4/personal_access_tokens/self")
    );
    assert_eq!(
        delete.header("private-token"),
        Some(PAT),
        "sent bare, without PAT:"
    );
    assert!(!read(&env.token_file()).contains("corp.example"));
}

#[test]
fn a_gitlab_oauth_login_revokes_the_refresh_token_then_the_access_token() {
    let env = TestEnv::new();
    let gitlab = GitlabOAuth::start();
    let out = env.run(
        &[
            "login",
            "gitlab.corp.example",
            "-p",
            "gitlab",
            "--client-id",
            "app",
            "--base-url",
            &gitlab.server.url,
        ],
        "",
    );
    assert_success(&out);
    let out = env.run(&["logout", "gitlab.corp.example", "--revoke", "--yes"], "");
    assert_success(&out);
    let revokes: Vec<_> = gitlab
        .server
        .requests()
        .into_iter()
        .filter(|r| r.path == "/oauth/revoke")
        .collect();
    assert_eq!(revokes.len(), 2);
    assert_eq!(revokes[0].form("token").as_deref(), Some("refresh-1"));
    assert_eq!(
        revokes[0].form("token_type_hint").as_deref(),
        Some("refresh_token")
    );
    assert_eq!(revokes[1].form("token").as_deref(), Some("access-1"));
    assert_eq!(revokes[1].form("client_id").as_deref(), Some("app"));
}

#[test]
fn where_nix_tokens_cannot_revoke_it_says_where_to() {
    let env = TestEnv::new();
    let gitea = fake_forge::gitea("giteatoken1234567890");
    login(
        &env,
        "git.corp.example",
        "gitea",
        &gitea.url,
        "giteatoken1234567890",
    );
    let out = env.run(&["logout", "git.corp.example", "--revoke", "--yes"], "");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("cannot revoke gitea tokens"), "{err}");
    assert!(
        err.contains("https://git.corp.example/user/settings/applications"),
        "{err}"
    );
    assert!(
        !read(&env.netrc()).contains("git.corp.example"),
        "removed here all the same"
    );
}
