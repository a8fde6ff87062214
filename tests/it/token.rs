//! `token HOST[/OWNER]`: the token Nix would send, printed for scripts. Owner keys chosen by the
//! longest prefix as the git helper chooses them, GitLab's `PAT:`/`OAuth2:` left out, netrc-only
//! hosts, an expiring OAuth login renewed first, exit 3 when there is none, and a refusal to print
//! to a real terminal (util-linux's `script`) without `--yes`.

use std::process::{Command, Output, Stdio};

use crate::support::fake_forge::GitlabOAuth;
use crate::support::*;

const TOKEN: &str = "ghp_tokencommandtoken0123456789ab";
const WORK_TOKEN: &str = "ghp_workorganisationtoken98765xy";
const GITLAB: &str = "glpat-tokencommand0123456789";

fn token(env: &TestEnv, args: &[&str]) -> Output {
    let mut all = vec!["token"];
    all.extend_from_slice(args);
    env.run(&all, "")
}

#[test]
fn owner_keys_win_by_longest_prefix() {
    let env = TestEnv::new();
    env.set_token("github.com", TOKEN);
    env.set_token("github.com/work", WORK_TOKEN);

    for (target, want) in [
        ("github.com", TOKEN),
        ("github", TOKEN),
        ("github.com/me", TOKEN),
        ("github.com/work", WORK_TOKEN),
        ("github.com/Work", WORK_TOKEN),
        ("https://github.com/work/repo", WORK_TOKEN),
        ("github.com/workshop", TOKEN),
    ] {
        let out = token(&env, &[target]);
        assert_success(&out);
        assert_eq!(stdout(&out), format!("{want}\n"), "for {target}");
        assert_eq!(stderr(&out), "", "for {target}");
    }
}

#[test]
fn gitlab_tokens_come_without_the_prefix_nix_needs() {
    let env = TestEnv::new();
    env.set_token("gitlab.com", GITLAB);
    assert!(read(&env.token_file()).contains(&format!("gitlab.com=PAT:{GITLAB}")));
    let out = token(&env, &["gitlab.com"]);
    assert_success(&out);
    assert_eq!(stdout(&out), format!("{GITLAB}\n"));
}

#[test]
fn a_netrc_only_host_gives_its_netrc_password() {
    let env = TestEnv::new();
    let out = env.run(
        &["set-token", "cache.example.org", "--netrc"],
        "netrc-password-0123456789\n",
    );
    assert_success(&out);
    assert!(!env.token_file().exists() || !read(&env.token_file()).contains("cache.example.org"));
    let out = token(&env, &["cache.example.org"]);
    assert_success(&out);
    assert_eq!(stdout(&out), "netrc-password-0123456789\n");
}

#[test]
fn no_token_exits_3_with_one_sentence() {
    let env = TestEnv::new();
    env.set_token("github.com", TOKEN);
    let before = env.snapshot();
    for target in ["gitlab.com", "git.example.org/team"] {
        let out = token(&env, &[target]);
        assert_clean_failure(&out, 3);
        assert_eq!(stdout(&out), "");
        assert!(stderr(&out).contains(target), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("nix-tokens login"),
            "{}",
            stderr(&out)
        );
        assert_no_leak(&out, &[TOKEN]);
    }
    assert_eq!(env.snapshot(), before);
    // Not a host at all: a usage error that does not repeat it.
    let out = token(&env, &["ghp_0123456789abcdefghijklmnopqrstuvwxyz"]);
    assert_clean_failure(&out, 2);
    assert_no_leak(&out, &["ghp_0123456789abcdefghijklmnopqrstuvwxyz"]);
}

#[test]
fn an_expiring_oauth_login_is_renewed_first() {
    let env = TestEnv::new();
    let gitlab = GitlabOAuth::start();
    gitlab.set_lifetime(60);
    let host = "gitlab.corp.example";
    let out = env.run(
        &[
            "login",
            host,
            "--provider",
            "gitlab",
            "--client-id",
            "corp-app-id",
            "--base-url",
            &gitlab.server.url,
        ],
        "",
    );
    assert_success(&out);
    gitlab.set_lifetime(7200);
    let out = token(&env, &[host]);
    assert_success(&out);
    assert_eq!(stdout(&out), "access-2\n");
    assert!(read(&env.token_file()).contains(&format!("{host}=OAuth2:access-2")));
    // Now good for two hours: handed over as it is.
    let out = token(&env, &[host]);
    assert_eq!(stdout(&out), "access-2\n");
}

/// `nix-tokens token ARGS…` with standard output on a real terminal.
fn at_terminal(env: &TestEnv, args: &[&str]) -> Output {
    let template = env.std_cmd();
    let quote = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
    let mut line = format!("{} token", quote(&template.get_program().to_string_lossy()));
    for arg in args {
        line.push(' ');
        line.push_str(&quote(arg));
    }
    let mut cmd = Command::new("script");
    cmd.args(["-qefc", &line, "/dev/null"]);
    for (k, v) in template.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let child = cmd
        .current_dir(&env.root)
        .env("TERM", "dumb")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("util-linux's script");
    wait_bounded(
        child,
        std::time::Duration::from_secs(60),
        "nix-tokens token",
    )
}

#[test]
fn a_terminal_gets_the_token_only_with_yes() {
    if program("script", "util-linux").is_none() {
        return;
    }
    let env = TestEnv::new();
    env.set_token("github.com", TOKEN);
    let out = at_terminal(&env, &["github.com"]);
    let screen = stdout(&out);
    assert_eq!(out.status.code(), Some(2), "{screen}");
    assert!(!screen.contains(TOKEN), "{screen}");
    assert!(
        screen.contains("terminal") && screen.contains("--yes"),
        "{screen}"
    );
    assert_eq!(screen.trim_end().lines().count(), 1, "{screen}");

    let out = at_terminal(&env, &["github.com", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains(TOKEN));
}
