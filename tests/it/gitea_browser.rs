//! Gitea, Forgejo and Codeberg logins through the browser, against a stand-in that answers as
//! Gitea's OAuth2 provider does (see `support::fake_gitea_oauth`): a real headless Chromium
//! end to end, then the test playing the browser for renewal through `refresh` and through the
//! git helper (with rotation: each refresh token works once), a revoked grant, and the deadline.
//! Instances that refuse the application are in `gitea_fallback`.

use std::io::{BufRead, BufReader};
use std::process::{Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::support::fake_gitea_oauth::{CLIENT, FakeGitea, USER, post_form};
use crate::support::fake_oidc::get;
use crate::support::git_server::{GitServer, have_git, make_repo};
use crate::support::*;

const HOST: &str = "git.corp.example";

fn oauth_file(env: &TestEnv) -> std::path::PathBuf {
    env.config_dir().join(".nix-tokens-oauth.json")
}

/// `login HOST --provider gitea` against the stand-in over SSH (no browser can be opened), with
/// the test playing the person's browser: it reads the address the login prints, opens it,
/// submits the grant page and follows the redirect to the login's loopback listener.
fn played_login(env: &TestEnv, gitea: &FakeGitea, host: &str) -> Output {
    let mut child = env
        .std_cmd()
        .args(["login", host, "-p", "gitea", "--base-url", gitea.url()])
        .env("SSH_CONNECTION", "192.0.2.1 50000 192.0.2.2 22")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start nix-tokens");
    let (tx, lines) = mpsc::channel();
    let err = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut seen = Vec::new();
    let url = loop {
        let line = lines
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("no authorization URL; stderr so far: {seen:?}"));
        seen.push(line.clone());
        if let Some(url) = line.trim().strip_prefix("http://")
            && url.contains("/login/oauth/authorize?")
        {
            break format!("http://{url}");
        }
    };
    let (status, _, page) = get(&url);
    assert_eq!(status, 200, "the grant page: {page}");
    let state = page
        .split("name=\"state\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the grant form carries the state");
    let (status, back) = post_form(
        &format!("{}/login/oauth/grant", gitea.url()),
        &format!("state={state}&granted=true"),
    );
    assert_eq!(status, 303);
    let (status, _, page) = get(&back.expect("a redirect to the loopback listener"));
    assert_eq!(status, 200, "{page}");
    let out = child.wait_with_output().unwrap();
    seen.extend(lines.iter());
    Output {
        stderr: (seen.join("\n") + "\n").into_bytes(),
        ..out
    }
}

#[test]
fn a_real_browser_logs_in_to_codeberg_with_pkce_and_the_token_goes_to_netrc() {
    let Some(chromium) = chromium() else {
        return;
    };
    let env = TestEnv::new();
    let gitea = FakeGitea::start();
    let browser = format!(
        "{chromium} --headless --no-sandbox --disable-gpu --disable-background-networking \
         --disable-dev-shm-usage --virtual-time-budget=20000 --user-data-dir={} --dump-dom %s",
        env.root.join("chromium").display()
    );
    let out = env
        .cmd()
        .args([
            "login",
            "codeberg",
            "--base-url",
            gitea.url(),
            "--oauth-timeout",
            "90",
        ])
        .env("BROWSER", browser)
        // A real browser takes its real time.
        .env_remove(TIME_SCALE)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    assert_success(&out);
    let (access, refresh) = (gitea.issued()[0].clone(), gitea.issued_refresh()[0].clone());
    assert_no_leak(&out, &[&access, &refresh]);
    let err = stderr(&out);
    assert!(err.contains("Opened your browser."), "{err}");
    assert!(err.contains(&format!("as {USER}")), "{err}");
    assert!(err.contains("expires"), "{err}");

    let s = gitea.state.lock().unwrap();
    assert!(s.browsers[0].contains("HeadlessChrome"), "{:?}", s.browsers);
    let q = &s.authorize_queries[0];
    assert_eq!(q["client_id"], CLIENT);
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["scope"], "read:repository read:user");
    assert!(q["redirect_uri"].starts_with("http://127.0.0.1:"), "{q:?}");
    drop(s);

    // The access token where Nix's downloads and the git helper read it; the refresh token in
    // the 0600 file beside nix.conf, with the application and the token endpoint.
    let netrc = read(&env.netrc());
    assert!(
        netrc.contains("machine codeberg.org") && netrc.contains(&access),
        "{netrc}"
    );
    let stored = read(&oauth_file(&env));
    assert!(
        stored.contains(&refresh)
            && stored.contains(CLIENT)
            && stored.contains("/login/oauth/access_token"),
        "{stored}"
    );
    assert_eq!(mode(&oauth_file(&env)), 0o600);
}

#[test]
fn refresh_renews_with_rotation_and_a_revoked_grant_says_to_log_in_again() {
    let env = TestEnv::new();
    let gitea = FakeGitea::start();
    let out = played_login(&env, &gitea, HOST);
    assert_success(&out);
    assert_no_leak(&out, &[&gitea.issued()[0], &gitea.issued_refresh()[0]]);
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "To log in to {HOST}, open this address in your browser:"
        )),
        "{err}"
    );
    assert!(!err.contains("Opened your browser"), "{err}");
    assert!(err.contains("Over SSH, forward the port first"), "{err}");
    assert!(read(&env.netrc()).contains(&gitea.issued()[0]));

    // An hour left: nothing due within the default 5 minutes.
    let out = env.run(&["refresh"], "");
    assert_success(&out);
    assert!(read(&env.netrc()).contains(&gitea.issued()[0]));

    // Due within two hours: renewed, twice; each time with the refresh token the last renewal
    // handed out, since the stand-in takes each only once.
    for round in 1..=2 {
        let out = env.run(&["refresh", "--threshold", "120"], "");
        assert_success(&out);
        let (access, refresh) = (&gitea.issued()[round], &gitea.issued_refresh()[round]);
        assert_no_leak(&out, &[access, refresh]);
        assert!(
            stderr(&out).contains(&format!("Renewed the token for {HOST}")),
            "{}",
            stderr(&out)
        );
        let netrc = read(&env.netrc());
        assert!(netrc.contains(access), "{netrc}");
        assert!(!netrc.contains(&gitea.issued()[round - 1]), "{netrc}");
        let stored = read(&oauth_file(&env));
        assert!(stored.contains(refresh), "{stored}");
        assert!(!stored.contains(&gitea.issued_refresh()[round - 1]));
    }

    // The person revoked the application's grant: one sentence, the command, nothing changed.
    gitea.revoke_grant();
    let before = env.snapshot();
    let out = env.run(&["refresh", "--threshold", "120"], "");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("log in again with `nix-tokens login {HOST}`")),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert_no_leak(&out, &[&gitea.issued()[2], &gitea.issued_refresh()[2]]);
    assert_eq!(env.snapshot(), before);

    // Logging out forgets the token and the refresh token.
    let out = env.run(&["logout", HOST, "--yes"], "");
    assert_success(&out);
    assert!(!read(&env.netrc()).contains(&gitea.issued()[2]));
    assert!(!read(&oauth_file(&env)).contains(&gitea.issued_refresh()[2]));
}

#[test]
fn a_refresh_token_already_used_elsewhere_says_to_log_in_again() {
    // Gitea answers a spent refresh token with `unauthorized_client` ("token was already used").
    let env = TestEnv::new();
    let gitea = FakeGitea::start();
    assert_success(&played_login(&env, &gitea, HOST));
    let spent = gitea.issued_refresh()[0].clone();
    let (status, _) = post_form(
        &format!("{}/login/oauth/access_token", gitea.url()),
        &format!("grant_type=refresh_token&client_id={CLIENT}&refresh_token={spent}"),
    );
    assert_eq!(status, 200);
    let before = env.snapshot();
    let out = env.run(&["refresh", "--threshold", "120"], "");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("can no longer be renewed")
            && err.contains(&format!("`nix-tokens login {HOST}`")),
        "{err}"
    );
    assert_eq!(env.snapshot(), before);
}

#[test]
fn the_git_helper_renews_an_expiring_gitea_login_before_git_gets_it() {
    if !have_git() {
        return;
    }
    let env = TestEnv::new();
    let repos = tempfile::tempdir().unwrap();
    make_repo(repos.path(), "team/app.git", "gitea\n");
    let gitea = FakeGitea::start();
    gitea.set_lifetime(60);
    // Only the renewed token (the second the stand-in hands out) opens the repository.
    let renewed = "eyJhbGciOiJSUzI1NiJ9.eyJnbnQiOjEsInR0IjowfQ.access0003";
    let server = GitServer::start(repos.path(), &[(USER, renewed)]);
    let out = played_login(&env, &gitea, &server.host);
    assert_success(&out);
    gitea.set_lifetime(3600);
    let first = gitea.issued()[0].clone();
    assert!(read(&env.netrc()).contains(&first));

    let git_config = env.root.join("gitconfig");
    let out = env
        .cmd()
        .args(["git-credential", "--install"])
        .env("GIT_CONFIG_GLOBAL", &git_config)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert_success(&out);
    let template = env.std_cmd();
    let mut git = std::process::Command::new("git");
    for (k, v) in template.get_envs() {
        match v {
            Some(v) => git.env(k, v),
            None => git.env_remove(k),
        };
    }
    let out = git
        .env("GIT_CONFIG_GLOBAL", &git_config)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("GIT_ASKPASS")
        .current_dir(&env.root)
        .stdin(Stdio::null())
        .args([
            "clone",
            "-q",
            &format!("{}/team/app.git", server.url),
            "app",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "clone failed:\n{}", stderr(&out));
    assert_no_leak(&out, &[&first, renewed]);
    assert_eq!(read(&env.root.join("app/README")), "gitea\n");
    let mut tried = server.tried();
    tried.dedup();
    assert_eq!(tried, [(USER.to_owned(), renewed.to_owned())]);
    assert!(read(&env.netrc()).contains(renewed));
    assert!(read(&oauth_file(&env)).contains(&gitea.issued_refresh()[1]));
}

/// Chromium, which CI installs; elsewhere the test is skipped when there is none.
fn chromium() -> Option<String> {
    let found = ["chromium", "chromium-browser"].into_iter().find(|c| {
        std::process::Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if !available(found.is_some(), "no chromium (see .ci/run)") {
        return None;
    }
    found.map(str::to_owned)
}

#[test]
fn a_browser_that_never_comes_back_ends_at_the_deadline_and_says_what_else_to_do() {
    let env = TestEnv::new();
    let gitea = FakeGitea::start();
    let before = env.snapshot();
    let out = env
        .cmd()
        .args([
            "login",
            HOST,
            "-p",
            "forgejo",
            "--base-url",
            gitea.url(),
            "--oauth-timeout",
            "2",
        ])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    let last = err.trim_end().lines().last().unwrap_or("");
    assert!(
        last.starts_with(
            "error: the browser did not come back from git.corp.example within 2 seconds"
        ) && last.ends_with("log in with --flow token and a token made by hand"),
        "{err}"
    );
    assert!(!err.contains("device-code"), "{err}");
    assert_eq!(env.snapshot(), before);
}
