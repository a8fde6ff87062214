//! `check` for git inputs, with real git: the helpers `check` says git asks are the ones real
//! `git credential fill` asks; a host of no known kind is asked with `git ls-remote` through
//! nix-tokens' helper alone, from a real `git http-backend` that demands basic auth; a host of a
//! known kind through its API, once `git-credential --install` (the fix it names) has run.

use std::process::{Command, Stdio};

use serde_json::{Value, json};

use super::{check, flake, row};
use crate::support::fake_repos::{self, Holdings};
use crate::support::flake_lock::{self as fl, lock};
use crate::support::git_server::{GitServer, have_git, make_repo};
use crate::support::*;

const TOKEN: &str = "ghp_checkgitinputtoken0123456789";

/// The helper value that runs this nix-tokens.
fn our_helper(env: &TestEnv) -> String {
    format!(
        "!{} git-credential",
        env.cmd().get_program().to_string_lossy()
    )
}

fn reason(rows: &[Value], input: &str) -> String {
    row(rows, input)["reason"].as_str().unwrap().to_owned()
}

/// git's configuration for the test: helpers that write their name to `asked.log` and answer
/// nothing (so git goes on to the next), one for every host, github.com's list reset, nix-tokens
/// for github.com/org only. Returns the log.
fn logging_helpers(env: &TestEnv) -> std::path::PathBuf {
    let log = env.root.join("asked.log");
    let logger = env.root.join("logger.sh");
    env.write(
        &logger,
        &format!("#!/bin/sh\necho \"$1\" >> {}\n", log.display()),
    );
    std::fs::set_permissions(&logger, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let l = |name: &str| format!("\"!{} {name}\"", logger.display());
    env.write(
        &env.root.join("gitconfig"),
        &format!(
            "[credential]\n\thelper = {}\n\
             [credential \"https://github.com\"]\n\thelper =\n\thelper = {}\n\
             [credential \"https://github.com/org\"]\n\thelper = \"{}\"\n\
             [credential \"https://gitlab.com\"]\n\thelper = {}\n",
            l("all"),
            l("gh"),
            our_helper(env),
            l("gl")
        ),
    );
    log
}

/// Real `git credential fill` for `url`: whether nix-tokens' token came back, and how many of
/// the logging helpers git asked before.
fn git_fill(env: &TestEnv, url: &str, log: &std::path::Path) -> (bool, usize) {
    let _ = std::fs::remove_file(log);
    let parsed = reqwest::Url::parse(url).unwrap();
    let request = format!(
        "protocol=https\nhost={}\npath={}\n\n",
        parsed.host_str().unwrap(),
        parsed.path().trim_start_matches('/')
    );
    let mut git = Command::new("git");
    for (k, v) in env.std_cmd().get_envs() {
        match v {
            Some(v) => git.env(k, v),
            None => git.env_remove(k),
        };
    }
    let mut child = git
        .args(["credential", "fill"])
        .env("GIT_CONFIG_GLOBAL", env.root.join("gitconfig"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("GIT_ASKPASS")
        .env_remove("SSH_ASKPASS")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), request.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let answered = String::from_utf8_lossy(&out.stdout).contains(&format!("password={TOKEN}"));
    let before = std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .count();
    (answered, before)
}

#[test]
fn the_helpers_check_names_are_the_ones_git_asks() {
    if !have_git() {
        return;
    }
    let env = TestEnv::new();
    env.set_token("github.com", TOKEN);
    env.set_token("gitlab.com", "glpat-checkgitlabhelpertoken1");
    let log = logging_helpers(&env);
    let urls = [
        ("org", "https://github.com/org/app.git"),
        ("mine", "https://github.com/me/app.git"),
        ("lab", "https://gitlab.com/group/project.git"),
    ];
    let nodes = urls
        .iter()
        .map(|(n, u)| ((*n).to_owned(), fl::git(u)))
        .collect();
    let inputs = urls
        .iter()
        .map(|(n, _)| ((*n).to_owned(), json!(n)))
        .collect();
    let dir = flake(&env, &lock(Value::Object(inputs), Value::Object(nodes)));
    let (code, rows, _) = check(&env, &["--offline", &dir]);
    assert_eq!(code, Some(0));

    let mut answered_for = Vec::new();
    for (name, url) in urls {
        let (answered, asked_before) = git_fill(&env, url, &log);
        let r = row(&rows, name);
        assert_eq!(
            !r["credential"].is_null(),
            answered,
            "{name}: check and git disagree on whether nix-tokens answers: {r:#}"
        );
        let said = reason(&rows, name);
        if answered {
            answered_for.push(name);
            let asks = "offline: git asks nix-tokens, which answers with github.com";
            assert!(said.contains(asks), "{said}");
            let first = format!("git asks {asked_before} other credential helper(s) first");
            assert!(
                said.contains(&first),
                "{name}: git asked {asked_before} first: {said}"
            );
        } else {
            assert!(
                said.contains("git does not ask nix-tokens"),
                "{name}: {said}"
            );
        }
    }
    assert_eq!(answered_for, ["org"]);
}

/// git's configuration for `url`: a helper that answers nothing, then nix-tokens.
fn helper_after_a_silent_one(env: &TestEnv, url: &str) {
    env.write(
        &env.root.join("gitconfig"),
        &format!(
            "[credential \"{url}\"]\n\thelper = \"!f() {{ :; }}; f\"\n\thelper = \"{}\"\n",
            our_helper(env)
        ),
    );
}

#[test]
fn a_git_host_of_no_known_kind_is_asked_with_ls_remote() {
    if !have_git() {
        return;
    }
    let env = TestEnv::new();
    let repos = tempfile::tempdir().unwrap();
    make_repo(repos.path(), "org/private.git", "private\n");
    // A token for a host no provider is known for: the helper answers with the user nix-tokens.
    let server = GitServer::start(repos.path(), &[("nix-tokens", TOKEN)]);
    env.set_token(&server.host, TOKEN);
    let dir = flake(
        &env,
        &lock(
            json!({"src": "src", "missing": "missing"}),
            json!({"src": fl::git(&format!("{}/org/private.git", server.url)),
                   "missing": fl::git(&format!("{}/org/missing.git", server.url))}),
        ),
    );

    // git does not ask nix-tokens yet: no credential reaches the server.
    let (code, rows, _) = check(&env, &[&dir]);
    assert_eq!(code, Some(3), "{rows:#?}");
    let src = row(&rows, "src");
    assert_eq!(src["verdict"], "fails", "{src:#}");
    assert!(reason(&rows, "src").contains("private and no token (or it does not exist); git does not ask nix-tokens for it, which has a token"));
    assert_eq!(src["fix"], "nix-tokens git-credential --install");
    assert_eq!(src["credential"], Value::Null);
    assert!(server.tried().is_empty(), "{:?}", server.tried());

    // With nix-tokens as git's helper for the host (after one that answers nothing).
    helper_after_a_silent_one(&env, &server.url);
    let (code, rows, _) = check(&env, &[&dir]);
    assert_eq!(code, Some(3), "{rows:#?}");
    assert_eq!(row(&rows, "src")["verdict"], "ok", "{rows:#?}");
    let said = reason(&rows, "src");
    assert!(
        said.starts_with("private; git reads it with the token from nix-tokens"),
        "{said}"
    );
    assert!(
        said.contains("git asks 1 other credential helper(s) first"),
        "{said}"
    );
    assert_eq!(row(&rows, "src")["credential"], "ghp_****89");
    assert!(
        server
            .tried()
            .contains(&("nix-tokens".to_owned(), TOKEN.to_owned()))
    );
    let missing = row(&rows, "missing");
    assert_eq!(missing["verdict"], "fails", "{missing:#}");
    assert!(reason(&rows, "missing").contains("the token cannot read it (or it does not exist)"));

    // A token the server refuses.
    let out = env.run(
        &["set-token", &server.host, "--force"],
        "ghp_notthetokenthatworks000000",
    );
    assert_success(&out);
    let (_, rows, _) = check(&env, &[&dir]);
    let src = row(&rows, "src");
    assert_eq!(src["verdict"], "fails", "{src:#}");
    assert!(
        reason(&rows, "src").contains("the server refused the token git sent"),
        "{src:#}"
    );
    assert_eq!(
        src["fix"],
        json!(format!("nix-tokens login {}", server.host))
    );

    // The server is gone: unreachable, exit 4.
    drop(server);
    let (code, rows, _) = check(&env, &[&dir]);
    assert_eq!(code, Some(4), "{rows:#?}");
    assert_eq!(row(&rows, "src")["verdict"], "unreachable");
}

#[test]
fn a_git_host_of_a_known_kind_is_asked_through_its_api() {
    if program("git", "git").is_none() {
        return;
    }
    let env = TestEnv::new();
    let api = fake_repos::github(
        Holdings::new(&[("org/private", false)], &[(TOKEN, "org")]),
        60,
    );
    let host = api.url.trim_start_matches("http://").to_owned();
    env.login_with_token(&host, "github", &api.url, TOKEN);
    let dir = flake(
        &env,
        &lock(
            json!({"src": "src"}),
            json!({"src": fl::git(&format!("{}/org/private.git", api.url))}),
        ),
    );
    let before = api.requests().len();
    let (code, rows, _) = check(&env, &[&dir]);
    assert_eq!(code, Some(3));
    assert_eq!(
        row(&rows, "src")["fix"],
        "nix-tokens git-credential --install"
    );
    // git would send nothing of nix-tokens', so neither does the question.
    let asked = &api.requests()[before..];
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].path, "/api/v3/repos/org/private");
    assert!(asked[0].header("authorization").is_none());

    // The fix: git now asks nix-tokens, whose token the API says reads the repository.
    let out = env
        .cmd()
        .args(["git-credential", "--install"])
        .env("GIT_CONFIG_GLOBAL", env.root.join("gitconfig"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert_success(&out);
    let (code, rows, _) = check(&env, &[&dir]);
    assert_eq!(code, Some(0), "{rows:#?}");
    assert_eq!(reason(&rows, "src"), "private; the token can read it");
}
