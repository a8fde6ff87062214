//! `login TARGET --ci`: a CI job's own identity traded for the credentials Nix reads, against
//! local stand-ins of the Actions ID-token endpoint, GitHub's API, prefix.dev's mint, octo-sts and
//! a FlakeHub-like cache (tests/support/fake_ci.rs). Every secret obtained is announced with
//! `::add-mask::` before anything else is printed, and a failure writes nothing.

use std::process::Output;

use crate::support::fake_ci::{self, FakeCi, JOB_TOKEN};
use crate::support::{TestEnv, assert_clean_failure, assert_success, read, stderr, stdout};

/// The environment of a GitHub Actions job with `permissions: id-token: write` and
/// `env: GITHUB_TOKEN: ${{ github.token }}`, its services at the stand-ins.
pub fn github_job(env: &TestEnv, ci: &FakeCi) -> assert_cmd::Command {
    let mut cmd = env.cmd();
    cmd.env("GITHUB_ACTIONS", "true")
        .env("CI", "true")
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("GITHUB_API_URL", format!("{}/api/v3", ci.url()))
        .env("GITHUB_REPOSITORY", fake_ci::REPOSITORY)
        .env("GITHUB_TOKEN", JOB_TOKEN)
        .env("ACTIONS_ID_TOKEN_REQUEST_URL", ci.id_token_url())
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", fake_ci::REQUEST_TOKEN)
        .env("RATTLER_AUTH_FILE", env.root.join("rattler.json"));
    cmd
}

pub fn run(mut cmd: assert_cmd::Command, args: &[&str]) -> Output {
    cmd.args(args).output().expect("run nix-tokens")
}

/// `secret` appears on standard output only in `::add-mask::` lines, the first of which comes
/// before any other line; standard error never holds it.
fn assert_masked_first(out: &Output, secret: &str) {
    let text = stdout(out);
    let first = text.lines().next().unwrap_or("");
    assert_eq!(first, format!("::add-mask::{secret}"), "stdout:\n{text}");
    for line in text.lines().filter(|l| l.contains(secret)) {
        assert!(line.starts_with("::add-mask::"), "stdout leaks:\n{text}");
    }
    assert!(
        !stderr(out).contains(secret),
        "stderr leaks:\n{}",
        stderr(out)
    );
}

#[test]
fn github_ci_stores_the_job_token_and_says_what_it_reads() {
    let (env, ci) = (TestEnv::new(), FakeCi::start());
    let out = run(github_job(&env, &ci), &["login", "github", "--ci"]);
    assert_success(&out);
    assert_masked_first(&out, JOB_TOKEN);
    assert!(
        read(&env.token_file()).contains(&format!("github.com={JOB_TOKEN}")),
        "{}",
        read(&env.token_file())
    );
    let err = stderr(&out);
    assert!(err.contains("acme/app"), "{err}");
    // Checked as an installation token, never as a user's.
    let paths: Vec<String> = ci
        .server
        .requests()
        .iter()
        .map(|r| r.path.split('?').next().unwrap().to_owned())
        .collect();
    assert!(!paths.contains(&"/api/v3/user".to_owned()), "{paths:?}");
    assert!(
        paths.contains(&"/api/v3/installation/repositories".to_owned()),
        "{paths:?}"
    );
}

#[test]
fn github_ci_without_the_token_names_the_env_line_and_writes_nothing() {
    let (env, ci) = (TestEnv::new(), FakeCi::start());
    env.write(
        &env.nix_conf(),
        "experimental-features = nix-command flakes\n",
    );
    let before = env.snapshot();
    let mut cmd = github_job(&env, &ci);
    cmd.env_remove("GITHUB_TOKEN");
    let out = run(cmd, &["login", "github", "--ci"]);
    assert_clean_failure(&out, 1);
    assert!(
        stderr(&out).contains("env: GITHUB_TOKEN: ${{ github.token }}"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.snapshot(), before);
}

#[test]
fn a_refused_job_token_writes_nothing() {
    let (env, ci) = (TestEnv::new(), FakeCi::start());
    let before = env.snapshot();
    let mut cmd = github_job(&env, &ci);
    cmd.env("GITHUB_TOKEN", "ghs_notthejobtoken0123456789abcdefAB");
    let out = run(cmd, &["login", "github", "--ci"]);
    assert_clean_failure(&out, 1);
    assert_eq!(env.snapshot(), before);
}

#[test]
fn ci_outside_a_ci_job_is_one_sentence_and_writes_nothing() {
    let (env, ci) = (TestEnv::new(), FakeCi::start());
    let before = env.snapshot();
    let mut cmd = github_job(&env, &ci);
    cmd.env_remove("GITHUB_ACTIONS");
    let out = run(cmd, &["login", "flakehub", "--ci"]);
    assert_clean_failure(&out, 2);
    assert!(
        stderr(&out).contains("GITHUB_ACTIONS=true"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.snapshot(), before);
    assert!(ci.state().id_tokens.is_empty());
}

#[test]
fn flakehub_ci_puts_the_id_token_in_the_netrc_for_the_three_hosts() {
    let (env, ci) = (TestEnv::new(), FakeCi::start());
    let cache = format!("{}/cache", ci.url());
    let out = run(
        github_job(&env, &ci),
        &["login", "flakehub", "--ci", "--base-url", &cache],
    );
    assert_success(&out);
    let id = ci
        .state()
        .id_tokens
        .last()
        .cloned()
        .expect("an ID token was asked for");
    assert_eq!(fake_ci::claims(&id).unwrap()["aud"], "api.flakehub.com");
    assert_masked_first(&out, &id);
    let netrc = read(&env.netrc());
    for host in ["flakehub.com", "api.flakehub.com", "cache.flakehub.com"] {
        assert!(
            netrc.contains(&format!("machine {host} login flakehub password {id}")),
            "{netrc}"
        );
    }
}

#[test]
fn github_without_id_token_permission_names_it_and_writes_nothing() {
    let (env, ci) = (TestEnv::new(), FakeCi::start());
    let before = env.snapshot();
    let mut cmd = github_job(&env, &ci);
    cmd.env_remove("ACTIONS_ID_TOKEN_REQUEST_URL")
        .env_remove("ACTIONS_ID_TOKEN_REQUEST_TOKEN");
    let out = run(cmd, &["login", "prefix.dev", "--ci"]);
    assert_clean_failure(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("permissions: id-token: write"), "{err}");
    assert!(err.contains("fork"), "{err}");
    assert_eq!(env.snapshot(), before);
}

#[test]
fn prefix_dev_ci_mints_a_token_for_netrc_and_pixi() {
    let (env, ci) = (TestEnv::new(), FakeCi::start());
    let out = run(
        github_job(&env, &ci),
        &["login", "prefix.dev", "--ci", "--base-url", ci.url()],
    );
    assert_success(&out);
    let id = ci.state().id_tokens.last().cloned().unwrap();
    assert_eq!(fake_ci::claims(&id).unwrap()["aud"], "prefix.dev");
    let minted = ci
        .state()
        .minted
        .last()
        .cloned()
        .expect("a token was minted");
    // Both secrets are masked before anything else is printed.
    let text = stdout(&out);
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(format!("::add-mask::{id}").as_str()),
        "{text}"
    );
    assert_eq!(
        lines.next(),
        Some(format!("::add-mask::{minted}").as_str()),
        "{text}"
    );
    assert!(!stderr(&out).contains(&minted));
    let netrc = read(&env.netrc());
    assert!(
        netrc.contains(&format!(
            "machine prefix.dev login nix-tokens password {minted}"
        )),
        "{netrc}"
    );
    let pixi: serde_json::Value =
        serde_json::from_str(&read(&env.root.join("rattler.json"))).unwrap();
    assert_eq!(
        pixi["*.prefix.dev"]["BearerToken"],
        minted.as_str(),
        "{pixi}"
    );
}

#[test]
fn a_refused_mint_writes_nothing() {
    let (env, ci) = (TestEnv::new(), FakeCi::start());
    let before = env.snapshot();
    let mut cmd = github_job(&env, &ci);
    // The ID-token endpoint answers, but for another job: the mint refuses what it issues.
    cmd.env(
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        "another-jobs-request-token",
    );
    let out = run(
        cmd,
        &["login", "prefix.dev", "--ci", "--base-url", ci.url()],
    );
    assert_clean_failure(&out, 1);
    assert_eq!(env.snapshot(), before);
}

#[test]
fn gitlab_id_token_from_its_variable_is_minted_at_prefix_dev() {
    let (env, ci) = (TestEnv::new(), FakeCi::start());
    let id = ci.issue("prefix.dev");
    let out = env
        .cmd()
        .env("GITLAB_CI", "true")
        .env("CI_SERVER_HOST", "gitlab.example")
        .env("PREFIX_DEV_ID_TOKEN", &id)
        .env("RATTLER_AUTH_FILE", env.root.join("rattler.json"))
        .args(["login", "prefix.dev", "--ci", "--base-url", ci.url()])
        .output()
        .unwrap();
    assert_success(&out);
    let minted = ci
        .state()
        .minted
        .last()
        .cloned()
        .expect("a token was minted");
    // Not on GitHub Actions: no workflow commands.
    assert!(!stdout(&out).contains("::add-mask::"), "{}", stdout(&out));
    assert!(!stdout(&out).contains(&minted) && !stderr(&out).contains(&minted));
    assert!(read(&env.netrc()).contains(&minted));
}

#[test]
fn gitlab_without_the_id_token_variable_names_it() {
    let env = TestEnv::new();
    let before = env.snapshot();
    let out = env
        .cmd()
        .env("GITLAB_CI", "true")
        .args(["login", "flakehub", "--ci"])
        .output()
        .unwrap();
    assert_clean_failure(&out, 1);
    assert!(
        stderr(&out).contains("API_FLAKEHUB_COM_ID_TOKEN"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("id_tokens:"), "{}", stderr(&out));
    assert_eq!(env.snapshot(), before);
}

/// `gitlab --ci` installs git's helper after saving the job token: without a git to ask, it
/// says so and writes nothing, rather than leave a token git will never be asked about.
#[test]
fn gitlab_job_token_without_git_writes_nothing() {
    let env = TestEnv::new();
    let before = env.snapshot();
    let empty = env.root.join("no-git-here");
    std::fs::create_dir_all(&empty).unwrap();
    let out = env
        .cmd()
        .env("GITLAB_CI", "true")
        .env("CI_JOB_TOKEN", "glcbt-64_jobtokenjobtokenjobtoken")
        .env("CI_SERVER_HOST", "gitlab.example.com")
        .env("PATH", &empty)
        .args(["login", "gitlab", "--ci"])
        .output()
        .unwrap();
    assert_clean_failure(&out, 1);
    assert!(stderr(&out).contains("install git"), "{}", stderr(&out));
    assert_eq!(env.snapshot(), before);
}

#[test]
fn a_target_without_a_ci_identity_is_told_to_use_a_secret() {
    let (env, ci) = (TestEnv::new(), FakeCi::start());
    let before = env.snapshot();
    let out = run(github_job(&env, &ci), &["login", "cachix", "--ci"]);
    assert_clean_failure(&out, 2);
    assert!(stderr(&out).contains("--with-token"), "{}", stderr(&out));
    assert_eq!(env.snapshot(), before);
}

#[test]
fn octo_sts_gives_an_owner_key_that_logout_revokes() {
    let (env, ci) = (TestEnv::new(), FakeCi::start());
    let mut cmd = github_job(&env, &ci);
    cmd.env("NIX_TOKENS_OCTO_STS_URL", ci.url());
    let out = run(
        cmd,
        &["login", "github.com/acme", "--ci", "--octo-sts", "deploy"],
    );
    assert_success(&out);
    let token = ci.state().octo.last().cloned().expect("an exchange");
    assert_masked_first_after_id(&out, &token);
    assert!(read(&env.token_file()).contains(&format!("github.com/acme={token}")));
    assert!(read(&env.config_dir().join("ci-logins.json")).contains("\"github.com/acme\""));
    let out = github_job(&env, &ci)
        .args(["logout", "github.com/acme", "--revoke", "--yes"])
        .output()
        .unwrap();
    assert_success(&out);
    assert_eq!(ci.state().revoked, vec![token.clone()]);
    // Forgotten too: `refresh --ci` will not bring it back.
    assert!(!env.config_dir().join("ci-logins.json").exists());
    assert!(!read(&env.token_file()).contains(&token));
}

/// The ID token and then `token` are the first two lines, both masks.
fn assert_masked_first_after_id(out: &Output, token: &str) {
    let text = stdout(out);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines.len() >= 2 && lines[0].starts_with("::add-mask::"),
        "{text}"
    );
    assert_eq!(lines[1], format!("::add-mask::{token}"), "{text}");
    assert!(!stderr(out).contains(token));
}

#[test]
fn gitlab_job_token_clones_over_git_through_the_helper() {
    use crate::support::git_server::{GitServer, have_git, make_repo};
    if !have_git() {
        return;
    }
    const CI_JOB_TOKEN: &str = "glcbt-64_jobtoken0123456789abcdef";
    let env = TestEnv::new();
    let repos = tempfile::tempdir().unwrap();
    make_repo(repos.path(), "group/private.git", "from the job\n");
    let server = GitServer::start(repos.path(), &[("gitlab-ci-token", CI_JOB_TOKEN)]);
    let gitconfig = env.root.join("gitconfig");
    let out = env
        .cmd()
        .env("GITLAB_CI", "true")
        .env("CI_SERVER_HOST", &server.host)
        .env("CI_SERVER_URL", &server.url)
        .env("CI_JOB_TOKEN", CI_JOB_TOKEN)
        .env("GIT_CONFIG_GLOBAL", &gitconfig)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .args(["login", "gitlab", "--ci"])
        .output()
        .unwrap();
    assert_success(&out);
    crate::support::assert_no_leak(&out, &[CI_JOB_TOKEN]);
    let err = stderr(&out);
    assert!(
        err.contains("gitlab: fetcher cannot use a job token"),
        "{err}"
    );
    assert!(read(&env.netrc()).contains(&format!("login gitlab-ci-token password {CI_JOB_TOKEN}")));

    // login installed the helper for the host as GitLab names it (CI_SERVER_HOST without the
    // port, the netrc's key); git matches a URL without a port only on the scheme's default port,
    // so the same helper is added for this server's port.
    let listed = std::process::Command::new("git")
        .args(["config", "--file"])
        .arg(&gitconfig)
        .args(["--get-regexp", r"^credential\..*\.helper$"])
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    let helper = listed
        .lines()
        .find_map(|l| l.split_once(' ').map(|(_, v)| v.to_owned()))
        .filter(|v| v.contains("git-credential"))
        .unwrap_or_else(|| panic!("login installed no helper:\n{listed}"));
    let added = std::process::Command::new("git")
        .args(["config", "--file"])
        .arg(&gitconfig)
        .args([
            "--add",
            &format!("credential.{}.helper", server.url),
            &helper,
        ])
        .status()
        .unwrap();
    assert!(added.success());
    let template = env.std_cmd();
    let mut git = std::process::Command::new("git");
    for (k, v) in template.get_envs() {
        match v {
            Some(v) => git.env(k, v),
            None => git.env_remove(k),
        };
    }
    let out = git
        .env("GIT_CONFIG_GLOBAL", &gitconfig)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("GIT_ASKPASS")
        .current_dir(&env.root)
        .stdin(std::process::Stdio::null())
        .args([
            "clone",
            "-q",
            &format!("{}/group/private.git", server.url),
            "clone",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "clone failed:\n{}", stderr(&out));
    assert_eq!(read(&env.root.join("clone/README")), "from the job\n");
    crate::support::assert_no_leak(&out, &[CI_JOB_TOKEN]);
}
