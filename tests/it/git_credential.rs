//! `git-credential`: real git clones from a real `git http-backend` behind a server that demands
//! basic auth, through the helper `--install` puts in git's configuration; an expiring OAuth
//! token renewed before git gets it; owner keys chosen by longest prefix; malformed protocol
//! input; and `--install`/`--uninstall` leaving the rest of git's configuration byte for byte.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use crate::support::fake_forge::{self, FakeServer, GitlabOAuth, Reply};
use crate::support::git_server::{GitServer, have_git, make_repo};
use crate::support::*;

const TOKEN: &str = "ghp_gitcredentialtoken0123456789";
const WORK_TOKEN: &str = "ghp_workorganisationtoken98765";

fn git_config(env: &TestEnv) -> PathBuf {
    env.root.join("gitconfig")
}

/// `nix-tokens ARGS` with git pointed at the test's own global configuration.
fn nix_tokens(env: &TestEnv, args: &[&str], stdin: &[u8]) -> Output {
    env.cmd()
        .args(args)
        .env("GIT_CONFIG_GLOBAL", git_config(env))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .write_stdin(stdin.to_vec())
        .output()
        .unwrap()
}

/// Real git, with the same environment the helper needs and nothing of the machine's git set-up:
/// no system file, no prompt, no askpass.
fn git(env: &TestEnv, args: &[&str]) -> Output {
    let template = env.std_cmd();
    let mut cmd = Command::new("git");
    for (k, v) in template.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd.env("GIT_CONFIG_GLOBAL", git_config(env))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("GIT_ASKPASS")
        .env_remove("SSH_ASKPASS")
        .env_remove("GIT_CONFIG_PARAMETERS")
        .env_remove("GIT_CONFIG_COUNT")
        .current_dir(&env.root)
        .stdin(Stdio::null())
        .args(args)
        .output()
        .expect("git is installed")
}

fn clone(env: &TestEnv, server: &GitServer, repo: &str, dest: &str) -> Output {
    git(
        env,
        &["clone", "-q", &format!("{}/{repo}", server.url), dest],
    )
}

/// The credentials the server received, each run of repeats once (git sends them with every
/// request of a clone once it has them).
fn tried(server: &GitServer) -> Vec<(String, String)> {
    let mut all = server.tried();
    all.dedup();
    all
}

/// The installed Nix's version is older than 2.27 (Debian's is 2.8).
fn old_nix() -> bool {
    Command::new("nix")
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| {
            let text = String::from_utf8_lossy(&o.stdout).into_owned();
            let version = text.split_whitespace().last()?.to_owned();
            let mut parts = version.split('.');
            let major: u32 = parts.next()?.parse().ok()?;
            let minor: u32 = parts.next()?.parse().ok()?;
            Some((major, minor) < (2, 27))
        })
        .unwrap_or(false)
}

#[test]
fn a_clone_succeeds_through_the_helper_and_fails_without_it() {
    if !have_git() {
        return;
    }
    let env = TestEnv::new();
    let repos = tempfile::tempdir().unwrap();
    make_repo(repos.path(), "org/private.git", "secret sauce\n");
    let server = GitServer::start(repos.path(), &[("x-access-token", TOKEN)]);
    let api = fake_forge::github(TOKEN, "repo");
    env.login_with_token(&server.host, "github", &api.url, TOKEN);

    // Without the helper, git has no credentials and (with no prompt) fails.
    let out = clone(&env, &server, "org/private.git", "without");
    assert!(!out.status.success(), "{}", stderr(&out));
    assert!(!env.root.join("without/README").exists());
    assert!(server.tried().is_empty(), "{:?}", server.tried());

    let out = nix_tokens(&env, &["git-credential", "--install"], b"");
    assert_success(&out);
    assert!(stderr(&out).contains(&server.host), "{}", stderr(&out));
    let out = clone(&env, &server, "org/private.git", "with");
    assert!(out.status.success(), "clone failed:\n{}", stderr(&out));
    assert_no_leak(&out, &[TOKEN]);
    assert_eq!(read(&env.root.join("with/README")), "secret sauce\n");
    assert_eq!(
        tried(&server),
        [("x-access-token".to_owned(), TOKEN.to_owned())]
    );

    // A token the forge no longer accepts: git fails (erase deletes nothing nix-tokens keeps).
    server.accept_only(&[("x-access-token", "ghp_someothertoken")]);
    let before = env.snapshot();
    let out = clone(&env, &server, "org/private.git", "refused");
    assert!(!out.status.success());
    assert_no_leak(&out, &[TOKEN]);
    assert_eq!(env.snapshot(), before);
}

#[test]
fn an_expiring_oauth_token_is_renewed_before_git_gets_it() {
    if !have_git() {
        return;
    }
    let env = TestEnv::new();
    let repos = tempfile::tempdir().unwrap();
    make_repo(repos.path(), "group/app.git", "gitlab\n");
    // Only the renewed token opens the repository.
    let server = GitServer::start(repos.path(), &[("oauth2", "access-2")]);
    let gitlab = GitlabOAuth::start();
    gitlab.set_lifetime(60);
    let out = env.run(
        &[
            "login",
            &server.host,
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
    assert!(read(&env.token_file()).contains(&format!("{}=OAuth2:access-1", server.host)));

    assert_success(&nix_tokens(&env, &["git-credential", "--install"], b""));
    let out = clone(&env, &server, "group/app.git", "app");
    assert!(out.status.success(), "clone failed:\n{}", stderr(&out));
    assert_no_leak(&out, &["access-1", "access-2", "refresh-1", "refresh-2"]);
    assert_eq!(read(&env.root.join("app/README")), "gitlab\n");
    // git was handed the renewed token, never the expiring one, and Nix's file has it too.
    assert_eq!(
        tried(&server),
        [("oauth2".to_owned(), "access-2".to_owned())]
    );
    let tokens = read(&env.token_file());
    assert!(
        tokens.contains(&format!("{}=OAuth2:access-2", server.host)),
        "{tokens}"
    );
    assert!(read(&env.config_dir().join(".nix-tokens-oauth.json")).contains("refresh-2"));

    // A renewed token with two hours left is handed over as it is.
    let out = nix_tokens(
        &env,
        &["git-credential", "get"],
        format!("protocol=http\nhost={}\n", server.host).as_bytes(),
    );
    assert_success(&out);
    let answer = stdout(&out);
    assert!(
        answer.starts_with("username=oauth2\npassword=access-2\npassword_expiry_utc="),
        "{answer}"
    );
    assert_eq!(stderr(&out), "");
}

#[test]
fn owner_tokens_win_by_longest_prefix() {
    if !have_git() {
        return;
    }
    let env = TestEnv::new();
    let repos = tempfile::tempdir().unwrap();
    make_repo(repos.path(), "work/app.git", "work\n");
    make_repo(repos.path(), "me/dotfiles.git", "mine\n");
    let server = GitServer::start(
        repos.path(),
        &[("x-access-token", TOKEN), ("x-access-token", WORK_TOKEN)],
    );
    // One GitHub API for both accounts: the personal one and the organisation's bot.
    let api = FakeServer::start(|r| {
        let user = match r.header("authorization") {
            Some(a) if a == format!("token {TOKEN}") => "octocat",
            Some(a) if a == format!("token {WORK_TOKEN}") => "work-bot",
            _ => return Reply::json(401, serde_json::json!({"message": "Bad credentials"})),
        };
        Reply::json(200, serde_json::json!({"login": user})).header("X-OAuth-Scopes", "repo")
    });
    env.login_with_token(&server.host, "github", &api.url, TOKEN);
    let out = env.run(
        &[
            "login",
            &server.host,
            "--owner",
            "work",
            "-p",
            "github",
            "--base-url",
            &api.url,
            "--with-token",
        ],
        &format!("{WORK_TOKEN}\n"),
    );
    assert_success(&out);
    let owner_key = format!("{}/work", server.host);
    let tokens = read(&env.token_file());
    assert!(
        tokens.contains(&format!("{owner_key}={WORK_TOKEN}")),
        "{tokens}"
    );
    if old_nix() {
        assert!(
            stderr(&out).contains("matches access-tokens by whole host only"),
            "{}",
            stderr(&out)
        );
    }

    // The protocol directly: the longest key covering the path answers.
    let ask = |path: Option<&str>| {
        let mut input = format!("protocol=http\nhost={}\n", server.host);
        if let Some(p) = path {
            input.push_str(&format!("path={p}\n"));
        }
        let out = nix_tokens(&env, &["git-credential", "get"], input.as_bytes());
        assert_success(&out);
        stdout(&out)
    };
    assert_eq!(
        ask(Some("work/app.git")),
        format!("username=x-access-token\npassword={WORK_TOKEN}\n")
    );
    assert_eq!(
        ask(Some("Work/other.git")),
        format!("username=x-access-token\npassword={WORK_TOKEN}\n")
    );
    assert_eq!(
        ask(Some("workers/app.git")),
        format!("username=x-access-token\npassword={TOKEN}\n")
    );
    assert_eq!(
        ask(None),
        format!("username=x-access-token\npassword={TOKEN}\n")
    );

    // Through git: --install turns on useHttpPath for the host, so git names the repository.
    assert_success(&nix_tokens(&env, &["git-credential", "--install"], b""));
    let config = read(&git_config(&env));
    assert!(config.contains("useHttpPath = true"), "{config}");
    let out = clone(&env, &server, "work/app.git", "app");
    assert!(out.status.success(), "{}", stderr(&out));
    let out = clone(&env, &server, "me/dotfiles.git", "dotfiles");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        tried(&server),
        [
            ("x-access-token".to_owned(), WORK_TOKEN.to_owned()),
            ("x-access-token".to_owned(), TOKEN.to_owned()),
        ]
    );

    // status names each owner's account.
    let out = nix_tokens(&env, &["status"], b"");
    assert_success(&out);
    let table = stdout(&out);
    let row = |key: &str| {
        table
            .lines()
            .find(|l| l.split_whitespace().next() == Some(key))
            .unwrap_or_else(|| panic!("no row for {key}:\n{table}"))
            .to_owned()
    };
    assert!(row(&owner_key).contains("work-bot"), "{table}");
    assert!(row(&server.host).contains("octocat"), "{table}");
    assert_no_leak(&out, &[TOKEN, WORK_TOKEN]);
}

#[test]
fn malformed_and_unexpected_input_exits_cleanly_without_a_token() {
    if !have_git() {
        return;
    }
    let env = TestEnv::new();
    env.set_token("github.com", TOKEN);
    env.set_token("gitlab.com", "glpat-abcdefghijklmnopqrst");
    let before = env.snapshot();
    let secrets = [TOKEN, "glpat-abcdefghijklmnopqrst"];

    // Malformed: one error line, exit 2, nothing on stdout.
    let mut huge = b"protocol=https\nhost=github.com\npath=".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 200 * 1024));
    for input in [
        &b"protocol=https\nhost github.com\n"[..],
        b"protocol=https\nhost=github.com\0\n",
        b"protocol=https\nhost=\xff\xfe\n",
        b"url=::not a url::\n",
        b"protocol\n",
        &huge,
    ] {
        let out = nix_tokens(&env, &["git-credential", "get"], input);
        assert_clean_failure(&out, 2);
        assert_eq!(stdout(&out), "", "{}", String::from_utf8_lossy(input));
        assert_no_leak(&out, &secrets);
    }

    // Unexpected but well formed: nothing at all, so git asks its next helper.
    for input in [
        &b""[..],
        b"\n",
        b"protocol=https\n",
        b"host=github.com\n",
        b"protocol=http\nhost=github.com\n",
        b"protocol=ssh\nhost=github.com\n",
        b"protocol=https\nhost=github.com.evil.example\n",
        b"protocol=https\nhost=evil.example\npath=github.com/x\n",
        b"protocol=https\nhost=\n",
        b"protocol=https\nhost=github.com:8443\n",
        b"capability[]=authtype\nwwwauth[]=Bearer\nfuture=1\nprotocol=https\nhost=example.org\n",
    ] {
        let out = nix_tokens(&env, &["git-credential", "get"], input);
        assert_success(&out);
        assert_eq!(stdout(&out), "", "{}", String::from_utf8_lossy(input));
        assert_eq!(stderr(&out), "", "{}", String::from_utf8_lossy(input));
    }

    // What git hands over to store or erase is not kept, and an unknown operation is ignored.
    let handed = format!("protocol=https\nhost=github.com\nusername=me\npassword={TOKEN}x\n");
    for op in ["store", "erase", "frobnicate"] {
        let out = nix_tokens(&env, &["git-credential", op], handed.as_bytes());
        assert_success(&out);
        assert_eq!(stdout(&out), "");
        assert_eq!(stderr(&out), "");
    }
    assert_eq!(env.snapshot(), before);

    // The real answers, for contrast: GitHub's username, GitLab's personal token without `PAT:`.
    let out = nix_tokens(
        &env,
        &["git-credential", "get"],
        b"protocol=https\nhost=GitHub.com\n",
    );
    assert_eq!(
        stdout(&out),
        format!("username=x-access-token\npassword={TOKEN}\n")
    );
    let out = nix_tokens(
        &env,
        &["git-credential", "get"],
        b"protocol=https\nhost=gitlab.com\nusername=tanuki\n",
    );
    assert_eq!(
        stdout(&out),
        "username=tanuki\npassword=glpat-abcdefghijklmnopqrst\n"
    );
    // A hand-written netrc password with a carriage return would smuggle in another attribute.
    env.write(
        &env.etc.join("netrc"),
        "machine git.example.com login me password \"tok-secretsecret\rhost=evil.example\"\n",
    );
    let out = nix_tokens(
        &env,
        &["git-credential", "get"],
        b"protocol=https\nhost=git.example.com\n",
    );
    assert_success(&out);
    assert_eq!(stdout(&out), "");
    assert!(stderr(&out).contains("line break"), "{}", stderr(&out));
    assert_no_leak(&out, &["secretsecret"]);

    let out = nix_tokens(&env, &["git-credential"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stdout(&out), "");
}

#[test]
fn install_and_uninstall_leave_the_rest_of_git_config_byte_identical() {
    if !have_git() {
        return;
    }
    let env = TestEnv::new();
    env.set_token("github.com", TOKEN);
    env.set_token("github.com/work", WORK_TOKEN);
    let original = "# my settings\n[user]\n\tname = Me\n\temail = me@example.invalid\n[credential]\n\thelper = cache --timeout=3600\n[credential \"https://github.com\"]\n\tusername = me\n[alias]\n\tco = checkout\n";
    std::fs::write(git_config(&env), original).unwrap();

    let out = nix_tokens(&env, &["git-credential", "--install"], b"");
    assert_success(&out);
    let installed = read(&git_config(&env));
    assert_ne!(installed, original);
    let helpers = git(
        &env,
        &[
            "config",
            "--global",
            "--get-all",
            "credential.https://github.com.helper",
        ],
    );
    let helper = stdout(&helpers);
    assert!(helper.contains("nix-tokens"), "{installed}");
    assert!(helper.trim_end().ends_with("git-credential"), "{helper}");
    assert_eq!(helper.lines().count(), 1, "{helper}");
    assert!(!installed.contains("helper = \n") && !installed.contains("helper =\n"));
    // The helper for every host, and the user's own helper still first in the list.
    let all = git(
        &env,
        &["config", "--global", "--get-all", "credential.helper"],
    );
    assert_eq!(stdout(&all), "cache --timeout=3600\n");
    assert!(installed.contains("useHttpPath = true"), "{installed}");

    // Again: nothing changes.
    let out = nix_tokens(&env, &["git-credential", "--install"], b"");
    assert_success(&out);
    assert!(stderr(&out).contains("nothing changed"), "{}", stderr(&out));
    assert_eq!(read(&git_config(&env)), installed);

    let out = nix_tokens(&env, &["git-credential", "--uninstall"], b"");
    assert_success(&out);
    assert_eq!(read(&git_config(&env)), original);
    let out = nix_tokens(&env, &["git-credential", "--uninstall"], b"");
    assert_success(&out);
    assert_eq!(read(&git_config(&env)), original);

    // A setting the user adds in between stays; only what was added goes.
    assert_success(&nix_tokens(&env, &["git-credential", "--install"], b""));
    let out = git(
        &env,
        &[
            "config",
            "--global",
            "--add",
            "credential.https://github.com.helper",
            "store",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_success(&nix_tokens(&env, &["git-credential", "--uninstall"], b""));
    let helpers = git(
        &env,
        &[
            "config",
            "--global",
            "--get-all",
            "credential.https://github.com.helper",
        ],
    );
    assert_eq!(stdout(&helpers), "store\n");
    assert!(!read(&git_config(&env)).contains("nix-tokens"));
}
