//! `login` with OpenID Connect (prefix.dev, and any issuer with `--oauth`) against a fake issuer:
//! discovery, the authorization-code flow with PKCE (the test plays the browser), a wrong
//! `state`, an `error` callback, a stray request, the deadline, the device flow, refresh, revoke,
//! and pixi's credential store, whose other entries must survive login and logout.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::fake_oidc::{self, CLIENT, Endpoints, FakeIssuer, USER, get};
use crate::support::*;

/// A login running in the background, its standard error read line by line.
struct Running {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Running {
    fn start(env: &TestEnv, args: &[&str]) -> Self {
        let mut child = env
            .std_cmd()
            .args(args)
            .env("RATTLER_AUTH_FILE", pixi_file(env))
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
        Running {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// The authorization URL the login prints for the person to open.
    fn authorization_url(&mut self) -> String {
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("no authorization URL; stderr so far: {:?}", self.seen));
            self.seen.push(line.clone());
            if let Some(url) = line.trim().strip_prefix("http://")
                && url.contains("/oauth/authorize?")
            {
                return format!("http://{url}");
            }
        }
    }

    fn finish(mut self) -> Output {
        let status = wait_bounded_status(&mut self.child, Duration::from_secs(30));
        let mut stdout = Vec::new();
        if let Some(mut out) = self.child.stdout.take() {
            std::io::Read::read_to_end(&mut out, &mut stdout).unwrap();
        }
        self.seen.extend(self.lines.iter());
        let mut stderr = self.seen.join("\n").into_bytes();
        stderr.push(b'\n');
        Output {
            status,
            stdout,
            stderr,
        }
    }
}

fn wait_bounded_status(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let start = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("the login did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A login that ended with exit code 1 and, after what the flow printed, one error sentence
/// containing `expected`.
fn assert_failed_with(out: &Output, expected: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let last = err.trim_end().lines().last().unwrap_or("");
    assert!(
        last.starts_with("error: ") && last.contains(expected),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

fn query_of(url: &str) -> std::collections::HashMap<String, String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// `nix-tokens ARGS…` with pixi's credential file in the test's home and `stdin` piped in.
fn run(env: &TestEnv, args: &[&str], stdin: impl Into<Vec<u8>>) -> Output {
    env.cmd()
        .args(args)
        .env("RATTLER_AUTH_FILE", pixi_file(env))
        .write_stdin(stdin)
        .output()
        .unwrap()
}

/// `login prefix.dev` against `issuer`, then `extra`.
fn prefix_login<'a>(issuer: &'a FakeIssuer, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["login", "prefix.dev", "--base-url", issuer.url()];
    args.extend_from_slice(extra);
    args
}

/// `login prefix.dev --oauth-flow auth-code` against `issuer`, in the background, for the test
/// to play the browser.
fn start_browser_login(env: &TestEnv, issuer: &FakeIssuer, extra: &[&str]) -> Running {
    let mut args = prefix_login(issuer, &["--oauth-flow", "auth-code"]);
    args.extend_from_slice(extra);
    Running::start(env, &args)
}

fn pixi_file(env: &TestEnv) -> PathBuf {
    env.root.join("pixi").join("credentials.json")
}

fn json_of(path: &Path) -> Value {
    serde_json::from_str(&read(path)).unwrap()
}

/// Others' entries in pixi's file, which nix-tokens must keep as they are.
fn others() -> Value {
    json!({
        "conda.anaconda.org": {"CondaToken": "conda-secret-1"},
        "*.example.org": {"BasicHTTP": {"username": "me", "password": "basic-secret-2"}},
        "s3://bucket": {"S3Credentials": {"access_key_id": "AK", "secret_access_key": "SK", "session_token": null}}
    })
}

/// `login prefix.dev` through the browser, played by the test: returns the finished login.
fn browser_login(env: &TestEnv, issuer: &FakeIssuer, extra: &[&str]) -> Output {
    let mut login = start_browser_login(env, issuer, extra);
    let url = login.authorization_url();
    let (status, location, _) = get(&url);
    assert_eq!(status, 302, "the issuer sends the browser back");
    let back = location.expect("a redirect to the loopback listener");
    let (status, _, page) = get(&back);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("logged in to prefix.dev"), "{page}");
    login.finish()
}

#[test]
fn prefix_dev_through_the_browser_with_pkce_lands_in_netrc_and_pixi() {
    let env = TestEnv::new();
    let issuer = FakeIssuer::start();
    let pixi = pixi_file(&env);
    std::fs::create_dir_all(pixi.parent().unwrap()).unwrap();
    std::fs::write(&pixi, serde_json::to_string_pretty(&others()).unwrap()).unwrap();

    let mut login = start_browser_login(&env, &issuer, &[]);
    let url = login.authorization_url();
    let q = query_of(&url);
    assert_eq!(q["client_id"], CLIENT);
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(
        q["scope"],
        "openid profile offline_access channel:read channel:upload"
    );
    assert_eq!(
        q["prompt"], "consent",
        "offline_access needs prompt=consent"
    );
    assert!(q["state"].len() >= 16);
    let redirect = q["redirect_uri"].clone();
    assert!(redirect.starts_with("http://127.0.0.1:"), "{redirect}");

    // A stray request to the listener gets a 404 and the login goes on.
    let (status, _, _) = get(&format!("{redirect}/favicon.ico"));
    assert_eq!(status, 404);

    let (status, location, _) = get(&url);
    assert_eq!(status, 302);
    let (status, _, page) = get(&location.unwrap());
    assert_eq!(status, 200);
    assert!(page.contains("logged in to prefix.dev"), "{page}");
    let out = login.finish();
    assert_success(&out);

    let state = issuer.state.lock().unwrap();
    // The verifier sent at the exchange is the one whose S256 challenge the browser carried.
    assert_eq!(state.verified.len(), 1);
    assert_eq!(fake_oidc::s256(&state.verified[0]), q["code_challenge"]);
    let access = state.issued[0].clone();
    let refresh = state.issued_refresh[0].clone();
    drop(state);
    assert_no_leak(&out, &[&access, &refresh]);
    let err = stderr(&out);
    assert!(err.contains(&format!("as {USER}")), "{err}");

    let netrc = read(&env.netrc());
    assert!(
        netrc.contains(&format!(
            "machine prefix.dev login nix-tokens password {access}"
        )),
        "{netrc}"
    );
    assert_eq!(mode(&pixi), 0o600);
    let creds = json_of(&pixi);
    let entry = &creds["*.prefix.dev"]["OAuth"];
    assert_eq!(entry["access_token"], access);
    assert_eq!(entry["refresh_token"], refresh);
    assert_eq!(entry["client_id"], CLIENT);
    assert_eq!(
        entry["token_endpoint"],
        format!("{}/oauth/token", issuer.url())
    );
    assert_eq!(
        entry["revocation_endpoint"],
        format!("{}/oauth/revoke", issuer.url())
    );
    let expires = entry["expires_at"].as_u64().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!((now + 3500..=now + 3700).contains(&expires), "{expires}");
    for (k, v) in others().as_object().unwrap() {
        assert_eq!(&creds[k], v, "pixi's entry {k} is kept");
    }
    // The refresh token is not in the world of files others can read.
    let oauth = read(&env.config_dir().join(".nix-tokens-oauth.json"));
    assert_eq!(
        mode(&env.config_dir().join(".nix-tokens-oauth.json")),
        0o600
    );
    assert!(oauth.contains("\"netrc_login\": \"nix-tokens\""), "{oauth}");
}

#[test]
fn a_wrong_state_is_refused_and_saves_nothing() {
    let env = TestEnv::new();
    let issuer = FakeIssuer::start();
    let pixi = pixi_file(&env);
    let before = env.snapshot();
    // A forged answer ends nothing: the login waits on, and says at its deadline what it ignored
    // (30 s on the tests' time scale: 3 s for the test to play the browser).
    let mut login = start_browser_login(&env, &issuer, &["--oauth-timeout", "30"]);
    let url = login.authorization_url();
    let (_, location, _) = get(&url);
    let forged = location.unwrap().replace("state=", "state=forged");
    let (status, _, page) = get(&forged);
    assert_eq!(status, 400, "{page}");
    let out = login.finish();
    assert_failed_with(&out, "does not belong to this login");
    assert!(
        issuer.state.lock().unwrap().issued.is_empty(),
        "the code was never exchanged"
    );
    assert_eq!(env.snapshot(), before);
    assert!(!pixi.exists());
}

#[test]
fn a_stray_answer_is_refused_and_the_right_one_still_logs_in() {
    let env = TestEnv::new();
    let issuer = FakeIssuer::start();
    let mut login = start_browser_login(&env, &issuer, &[]);
    let url = login.authorization_url();
    let (_, location, _) = get(&url);
    let location = location.unwrap();
    let (status, _, page) = get(&location.replace("state=", "state=forged"));
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("does not belong"), "{page}");
    let bare = location.split('?').next().unwrap().to_owned();
    let (status, _, page) = get(&bare);
    assert_eq!(status, 400, "{page}");
    let (status, _, page) = get(&location);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("logged in"), "{page}");
    let out = login.finish();
    assert_success(&out);
    assert_eq!(issuer.state.lock().unwrap().issued.len(), 1);
    assert!(read(&env.netrc()).contains("machine prefix.dev"));
}

#[test]
fn an_error_callback_is_reported_and_saves_nothing() {
    let env = TestEnv::new();
    let issuer = FakeIssuer::start();
    issuer.state.lock().unwrap().deny = true;
    let before = env.snapshot();
    let mut login = start_browser_login(&env, &issuer, &[]);
    let url = login.authorization_url();
    let (_, location, _) = get(&url);
    let (status, _, page) = get(&location.unwrap());
    assert_eq!(status, 200);
    assert!(page.contains("did not authorize"), "{page}");
    let out = login.finish();
    assert_failed_with(&out, "the authorization for prefix.dev was denied");
    assert!(
        stderr(&out).contains("The user said no"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.snapshot(), before);
}

#[test]
fn the_browser_not_coming_back_ends_at_the_deadline() {
    let env = TestEnv::new();
    let issuer = FakeIssuer::start();
    let before = env.snapshot();
    let mut login = start_browser_login(&env, &issuer, &["--oauth-timeout", "2"]);
    login.authorization_url();
    let out = login.finish();
    assert_failed_with(&out, "did not come back from prefix.dev within 2 seconds");
    assert_eq!(env.snapshot(), before);
}

#[test]
fn a_fixed_redirect_uri_is_listened_on_and_sent_verbatim() {
    let env = TestEnv::new();
    let issuer = FakeIssuer::start();
    // A free port, released for nix-tokens to take.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let redirect = format!("http://127.0.0.1:{port}/auth/oidc");
    let out = browser_login(&env, &issuer, &["--oauth-redirect-uri", &redirect]);
    assert_success(&out);
    let state = issuer.state.lock().unwrap();
    assert_eq!(state.authorize_queries[0]["redirect_uri"], redirect);
}

#[test]
fn any_issuer_with_the_device_flow_and_userinfo() {
    let env = TestEnv::new();
    let issuer = FakeIssuer::start();
    let out = run(
        &env,
        &[
            "login",
            "conda.corp.example",
            "--oauth",
            "--oauth-issuer-url",
            issuer.url(),
            "--oauth-client-id",
            CLIENT,
            "--oauth-scope",
            "openid",
            "--oauth-scope",
            "offline_access",
        ],
        "",
    );
    assert_success(&out);
    let err = stderr(&out);
    // Standard input is no terminal here, so `auto` chose the device flow.
    assert!(err.contains("enter the code QWER-TYUI"), "{err}");
    assert!(err.contains(&format!("as {USER}")), "{err}");
    let access = issuer.state.lock().unwrap().issued[0].clone();
    assert_no_leak(&out, &[&access]);
    assert!(read(&env.netrc()).contains(&format!(
        "machine conda.corp.example login nix-tokens password {access}"
    )));
    let creds = json_of(&pixi_file(&env));
    assert_eq!(creds["conda.corp.example"]["OAuth"]["access_token"], access);
    // status checks the token at the issuer's userinfo endpoint.
    let status = env.run(&["status", "--json", "--no-refresh"], "");
    assert_success(&status);
    let rows: Value = serde_json::from_slice(&status.stdout).unwrap();
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["host"] == "conda.corp.example")
        .unwrap_or_else(|| panic!("{rows}"));
    assert_eq!(row["status"], "valid", "{row}");
    assert_eq!(row["user"], USER);
    // The issuer's answer has no expiry; the login's own is shown.
    assert!(
        row["expires_at"].as_str().is_some_and(|e| e.ends_with('Z')),
        "{row}"
    );
}

#[test]
fn discovery_problems_are_one_sentence_and_save_nothing() {
    let env = TestEnv::new();
    let cases: Vec<(fake_forge::FakeServer, &str)> = vec![
        (
            fake_forge::FakeServer::start(|_| fake_forge::Reply::html(404, "nope")),
            "has no OpenID Connect discovery document",
        ),
        (
            fake_forge::FakeServer::start(|_| fake_forge::Reply::html(200, "<html>")),
            "is not JSON",
        ),
        (
            fake_forge::FakeServer::start(|r| {
                let host = r.header("host").unwrap_or("").to_owned();
                fake_forge::Reply::json(200, json!({"issuer": format!("http://{host}")}))
            }),
            "has no `token_endpoint`",
        ),
        (
            fake_forge::FakeServer::start(|_| {
                fake_forge::Reply::json(
                    200,
                    json!({"issuer": "https://elsewhere.example", "token_endpoint": "https://elsewhere.example/t"}),
                )
            }),
            "names the issuer `https://elsewhere.example`",
        ),
    ];
    let before = env.snapshot();
    for (server, expected) in cases {
        let out = run(
            &env,
            &["login", "prefix.dev", "--base-url", &server.url],
            "",
        );
        assert_clean_failure(&out, 1);
        let err = stderr(&out);
        assert!(err.contains(expected), "{expected}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert_eq!(env.snapshot(), before);
    }
    assert!(!pixi_file(&env).exists());
}

use crate::support::fake_forge;

#[test]
fn refresh_renews_netrc_and_pixi_with_the_rotated_pair() {
    let env = TestEnv::new();
    let issuer = FakeIssuer::start();
    issuer.set_lifetime(60);
    assert_success(&browser_login(&env, &issuer, &[]));
    let out = run(&env, &["refresh", "-v"], "");
    assert_success(&out);
    let state = issuer.state.lock().unwrap();
    assert_eq!(state.issued.len(), 2, "one renewal");
    let (new_access, new_refresh) = (state.issued[1].clone(), state.issued_refresh[1].clone());
    let old = [state.issued[0].clone(), state.issued_refresh[0].clone()];
    drop(state);
    assert_no_leak(&out, &[&new_access, &new_refresh, &old[0], &old[1]]);
    let netrc = read(&env.netrc());
    assert!(
        netrc.contains(&new_access) && !netrc.contains(&old[0]),
        "{netrc}"
    );
    let entry = &json_of(&pixi_file(&env))["*.prefix.dev"]["OAuth"];
    assert_eq!(entry["access_token"], new_access);
    assert_eq!(entry["refresh_token"], new_refresh);
    // The old refresh token was rotated away: a second refresh uses the new one.
    issuer.set_lifetime(3600);
    let again = run(&env, &["refresh", "--threshold", "100000"], "");
    assert_success(&again);
    assert_eq!(issuer.state.lock().unwrap().issued.len(), 3);
}

#[test]
fn a_pair_pixi_renewed_itself_is_taken_over_instead_of_renewing_again() {
    let env = TestEnv::new();
    let issuer = FakeIssuer::start();
    issuer.set_lifetime(60);
    assert_success(&browser_login(&env, &issuer, &[]));
    // pixi renewed the login in the background: its pair is the only one that still works.
    let pixi = pixi_file(&env);
    let mut creds = json_of(&pixi);
    let later = creds["*.prefix.dev"]["OAuth"]["expires_at"]
        .as_u64()
        .unwrap()
        + 3600;
    let entry = &mut creds["*.prefix.dev"]["OAuth"];
    entry["access_token"] = json!("pixi_renewed_access_0123456789");
    entry["refresh_token"] = json!("pixi_renewed_refresh_0123456789");
    entry["expires_at"] = json!(later);
    std::fs::write(&pixi, creds.to_string()).unwrap();
    let out = run(&env, &["refresh"], "");
    assert_success(&out);
    assert_eq!(
        issuer.state.lock().unwrap().issued.len(),
        1,
        "no second renewal"
    );
    assert!(read(&env.netrc()).contains("password pixi_renewed_access_0123456789"));
    let oauth = read(&env.config_dir().join(".nix-tokens-oauth.json"));
    assert!(oauth.contains("pixi_renewed_refresh_0123456789"), "{oauth}");
    assert!(
        oauth.contains(&format!("\"expires_at\": {later}")),
        "{oauth}"
    );
}

#[test]
fn logout_revokes_refresh_then_access_and_keeps_pixis_other_entries() {
    let env = TestEnv::new();
    let issuer = FakeIssuer::start();
    let pixi = pixi_file(&env);
    std::fs::create_dir_all(pixi.parent().unwrap()).unwrap();
    let original = serde_json::to_string_pretty(&others()).unwrap();
    std::fs::write(&pixi, &original).unwrap();
    assert_success(&browser_login(&env, &issuer, &[]));
    let (access, refresh) = {
        let s = issuer.state.lock().unwrap();
        (s.issued[0].clone(), s.issued_refresh[0].clone())
    };
    let out = run(
        &env,
        &["logout", "prefix.dev", "--revoke", "--yes", "-vv"],
        "",
    );
    assert_success(&out);
    assert_no_leak(&out, &[&access, &refresh]);
    assert_eq!(
        issuer.state.lock().unwrap().revoked,
        vec![
            (refresh.clone(), "refresh_token".to_owned()),
            (access.clone(), "access_token".to_owned())
        ]
    );
    assert_eq!(json_of(&pixi), others(), "every other entry is as it was");
    assert!(!read(&env.netrc()).contains(&access));
}

#[test]
fn a_login_pixi_wrote_itself_is_left_alone_on_logout() {
    let env = TestEnv::new();
    let issuer = FakeIssuer::start();
    assert_success(&browser_login(&env, &issuer, &[]));
    // pixi logs in again with an API key of its own.
    let pixi = pixi_file(&env);
    let mut creds = json_of(&pixi);
    creds["*.prefix.dev"] = json!({"BearerToken": "pfx_pixis_own_key_0123456789"});
    std::fs::write(&pixi, creds.to_string()).unwrap();
    let out = run(&env, &["logout", "prefix.dev", "--yes"], "");
    assert_success(&out);
    assert!(stderr(&out).contains("pixi wrote it"), "{}", stderr(&out));
    assert_eq!(
        json_of(&pixi)["*.prefix.dev"]["BearerToken"],
        "pfx_pixis_own_key_0123456789"
    );
}

#[test]
fn an_api_key_is_checked_with_graphql_and_goes_to_pixi_as_a_bearer_token() {
    let env = TestEnv::new();
    let issuer = FakeIssuer::start();
    let key = "pfx_0123456789abcdefghijklmnopqrstuv";
    let out = run(
        &env,
        &prefix_login(&issuer, &["--with-token"]),
        format!("{key}\n"),
    );
    assert_success(&out);
    assert_no_leak(&out, &[key]);
    assert_eq!(
        json_of(&pixi_file(&env))["*.prefix.dev"],
        json!({"BearerToken": key})
    );
    let graphql = issuer
        .server
        .requests()
        .into_iter()
        .find(|r| r.path == "/api/graphql")
        .expect("a GraphQL check");
    assert_eq!(
        graphql.header("authorization"),
        Some(format!("Bearer {key}").as_str())
    );
    assert!(graphql.body.contains("viewer"), "{}", graphql.body);

    // A key the API does not know (`viewer: null`) is refused, and nothing changes.
    let before = env.snapshot();
    let pixi_before = read(&pixi_file(&env));
    let out = run(
        &env,
        &prefix_login(&issuer, &["--with-token", "--yes"]),
        "not-a-known-key-0123456789\n",
    );
    assert_clean_failure(&out, 1);
    assert!(
        stderr(&out).contains("prefix.dev refused the token"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.snapshot(), before);
    assert_eq!(read(&pixi_file(&env)), pixi_before);
}

#[test]
fn no_pixi_writes_only_netrc() {
    let env = TestEnv::new();
    let issuer = FakeIssuer::with(Endpoints {
        authorization: false,
        device: true,
    });
    let out = run(&env, &prefix_login(&issuer, &["--no-pixi"]), "");
    assert_success(&out);
    assert!(!pixi_file(&env).exists());
    assert!(read(&env.netrc()).contains("machine prefix.dev"));
}

#[test]
fn a_flow_the_issuer_lacks_is_refused_before_anything_happens() {
    let env = TestEnv::new();
    let issuer = FakeIssuer::with(Endpoints {
        authorization: false,
        device: true,
    });
    let out = run(
        &env,
        &prefix_login(&issuer, &["--oauth-flow", "auth-code"]),
        "",
    );
    assert_clean_failure(&out, 1);
    assert!(
        stderr(&out).contains("offers no authorization-code flow"),
        "{}",
        stderr(&out)
    );
    let forge = env.run(&["login", "github", "--oauth-flow", "auth-code"], "");
    assert_clean_failure(&forge, 2);
    assert!(
        stderr(&forge).contains("is for OpenID Connect issuers"),
        "{}",
        stderr(&forge)
    );
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
fn a_real_browser_opened_through_browser_completes_the_login() {
    let Some(chromium) = chromium() else {
        return;
    };
    let env = TestEnv::new();
    let issuer = FakeIssuer::start();
    let browser = format!(
        "{chromium} --headless --no-sandbox --disable-gpu --disable-background-networking \
         --disable-dev-shm-usage --user-data-dir={} --dump-dom %s",
        env.root.join("chromium").display()
    );
    let out = env
        .cmd()
        .args(prefix_login(
            &issuer,
            &["--oauth-flow", "auth-code", "--oauth-timeout", "90"],
        ))
        .env("BROWSER", browser)
        .env("RATTLER_AUTH_FILE", pixi_file(&env))
        // A real browser takes its real time.
        .env_remove(TIME_SCALE)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    assert_success(&out);
    assert!(
        stderr(&out).contains("Opened your browser."),
        "{}",
        stderr(&out)
    );
    let authorize = issuer
        .server
        .requests()
        .into_iter()
        .find(|r| r.path.starts_with("/oauth/authorize"))
        .expect("the browser asked the issuer");
    assert!(
        authorize
            .header("user-agent")
            .is_some_and(|ua| ua.contains("HeadlessChrome")),
        "{:?}",
        authorize.header("user-agent")
    );
    let access = issuer.state.lock().unwrap().issued[0].clone();
    assert!(read(&env.netrc()).contains(&access));
}

#[test]
fn an_answer_without_the_logins_state_ends_nothing_even_with_an_error() {
    let env = TestEnv::new();
    let issuer = FakeIssuer::start();
    let mut login = start_browser_login(&env, &issuer, &[]);
    let url = login.authorization_url();
    let redirect = query_of(&url)["redirect_uri"].clone();
    // Any local user can reach the listener: an `error` with no `state` is not this login's.
    let (status, _, page) = get(&format!(
        "{redirect}/?error=access_denied&error_description=ATTACKER+SAYS+RUN+curl+evil"
    ));
    assert_eq!(status, 400, "{page}");
    assert!(!page.contains("ATTACKER"), "{page}");
    let (status, _, page) = get(&format!("{redirect}/?error=server_error"));
    assert_eq!(status, 400, "{page}");
    let (_, location, _) = get(&url);
    let (status, _, page) = get(&location.unwrap());
    assert_eq!(status, 200, "{page}");
    let out = login.finish();
    assert_success(&out);
    assert!(!stderr(&out).contains("ATTACKER"), "{}", stderr(&out));
    assert!(read(&env.netrc()).contains("machine prefix.dev"));
}

#[test]
fn connections_that_send_nothing_do_not_hold_the_listener() {
    use std::io::{Read, Write};
    let env = TestEnv::new();
    let issuer = FakeIssuer::start();
    let mut login = start_browser_login(&env, &issuer, &[]);
    let url = login.authorization_url();
    let redirect = query_of(&url)["redirect_uri"].clone();
    let authority = redirect.strip_prefix("http://").unwrap().to_owned();
    // Three connections that say nothing (each would hold a one-at-a-time listener 5 s).
    let idle: Vec<std::net::TcpStream> = (0..3)
        .map(|_| std::net::TcpStream::connect(&authority).unwrap())
        .collect();
    let (_, location, _) = get(&url);
    let location = location.unwrap();
    let path = &location[location.find(&authority).unwrap() + authority.len()..];
    let path = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    };
    let mut browser = std::net::TcpStream::connect(&authority).unwrap();
    browser
        .set_read_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    write!(
        browser,
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut page = String::new();
    let answered = browser.read_to_string(&mut page);
    assert!(
        answered.is_ok() && page.starts_with("HTTP/1.1 200"),
        "the browser's answer waited behind idle connections: {answered:?} {page}"
    );
    drop(idle);
    assert_success(&login.finish());
}
