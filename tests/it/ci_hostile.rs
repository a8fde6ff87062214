//! What a CI hands over is checked like what a person types: a token from octo-sts, the mint,
//! the ID-token endpoint or a job variable that is not one token (a line break followed by Nix
//! settings) is refused with one sentence before it is masked, printed or written, at login and
//! at each renewal; an OAuth answer's tokens meet the same rule; the ID-token request URL must
//! be https (plain http only to this machine); and `ci-logins.json`, which names where the job's
//! ID token goes, is read as strictly as every other state file. Against the stand-ins of
//! tests/support/fake_ci.rs.

use std::os::unix::fs::PermissionsExt;
use std::process::Output;

use serde_json::json;

use crate::ci::{github_job, run};
use crate::support::fake_ci::{self, FakeCi};
use crate::support::fake_forge::{self, FakeServer, Reply};
use crate::support::*;

/// The answer octo-sts gave in the report: one token, then two Nix settings.
const HOSTILE: &str =
    "ghs_x\npost-build-hook = /tmp/evil.sh\nextra-substituters = https://evil.example";

/// Nothing of the hostile answer was printed, as a mask or otherwise, and no `::add-mask::` line
/// was cut short by a line break.
fn assert_nothing_of_it_printed(out: &Output) {
    for text in [stdout(out), stderr(out)] {
        for word in ["post-build-hook", "evil", "ghs_x"] {
            assert!(!text.contains(word), "printed `{word}`:\n{text}");
        }
    }
    for line in stdout(out).lines() {
        assert!(
            line.starts_with("::add-mask::") && line.len() > "::add-mask::".len(),
            "a line besides the masks reached the runner's log: {line}"
        );
    }
}

fn octo_login(env: &TestEnv, ci: &FakeCi) -> Output {
    let mut cmd = github_job(env, ci);
    cmd.env("NIX_TOKENS_OCTO_STS_URL", ci.url());
    run(
        cmd,
        &["login", "github.com/acme", "--ci", "--octo-sts", "deploy"],
    )
}

#[test]
fn an_octo_sts_answer_that_is_not_one_token_is_refused_and_nothing_is_written() {
    let (env, ci) = (TestEnv::new(), FakeCi::start());
    ci.state().forced_token = Some(HOSTILE.to_owned());
    let before = env.snapshot();
    let out = octo_login(&env, &ci);
    assert_clean_failure(&out, 1);
    assert!(
        stderr(&out).contains("octo-sts gave something that is not one token"),
        "{}",
        stderr(&out)
    );
    assert_nothing_of_it_printed(&out);
    assert_eq!(env.snapshot(), before);
}

#[test]
fn a_renewal_that_is_not_one_token_is_refused_and_the_old_token_stays() {
    let (env, ci) = (TestEnv::new(), FakeCi::start());
    assert_success(&octo_login(&env, &ci));
    let token = ci.state().octo.last().cloned().expect("an exchange");
    ci.state().forced_token = Some(HOSTILE.to_owned());
    let before = env.snapshot();
    let mut cmd = github_job(&env, &ci);
    cmd.env("NIX_TOKENS_OCTO_STS_URL", ci.url());
    let out = run(cmd, &["refresh", "--ci"]);
    assert_clean_failure(&out, 1);
    assert!(
        stderr(&out).contains("could not renew github.com/acme: octo-sts gave something"),
        "{}",
        stderr(&out)
    );
    assert_nothing_of_it_printed(&out);
    assert_eq!(env.snapshot(), before);
    assert!(read(&env.token_file()).contains(&format!("github.com/acme={token}")));
}

#[test]
fn a_minted_token_that_is_not_one_token_is_refused_without_repeating_it() {
    let (env, ci) = (TestEnv::new(), FakeCi::start());
    ci.state().forced_token = Some(HOSTILE.to_owned());
    let before = env.snapshot();
    let out = run(
        github_job(&env, &ci),
        &["login", "prefix.dev", "--ci", "--base-url", ci.url()],
    );
    assert_clean_failure(&out, 1);
    assert!(
        stderr(&out).contains("prefix.dev's mint gave something that is not one token"),
        "{}",
        stderr(&out)
    );
    assert_nothing_of_it_printed(&out);
    assert_eq!(env.snapshot(), before);
}

#[test]
fn a_job_token_or_id_token_that_is_not_one_token_is_refused() {
    let (env, ci) = (TestEnv::new(), FakeCi::start());
    let before = env.snapshot();
    let mut cmd = github_job(&env, &ci);
    cmd.env("GITHUB_TOKEN", HOSTILE);
    let out = run(cmd, &["login", "github", "--ci"]);
    assert_clean_failure(&out, 1);
    assert!(
        stderr(&out).contains("$GITHUB_TOKEN gave something that is not one token"),
        "{}",
        stderr(&out)
    );
    assert_nothing_of_it_printed(&out);
    assert_eq!(env.snapshot(), before);

    ci.state().forced_id_token = Some(HOSTILE.to_owned());
    let cache = format!("{}/cache", ci.url());
    let out = run(
        github_job(&env, &ci),
        &["login", "flakehub", "--ci", "--base-url", &cache],
    );
    assert_clean_failure(&out, 1);
    assert!(
        stderr(&out).contains("GitHub's ID-token endpoint gave something that is not one token"),
        "{}",
        stderr(&out)
    );
    assert_nothing_of_it_printed(&out);
    assert_eq!(env.snapshot(), before);
}

#[test]
fn an_oauth_answer_whose_tokens_are_not_one_token_saves_nothing() {
    const GHO: &str = "gho_16C7e42F292c6912E7710c838347Ae178B4a";
    // A bad access token is refused as a typed one is (usage, 2); an answer whose refresh token
    // is not one token is no usable answer (1).
    for (answer, code) in [
        (
            json!({"access_token": HOSTILE, "token_type": "bearer", "scope": "repo"}),
            2,
        ),
        (
            json!({"access_token": GHO, "token_type": "bearer", "scope": "repo",
                "expires_in": 28800, "refresh_token": HOSTILE,
                "refresh_token_expires_in": 15811200}),
            1,
        ),
    ] {
        let env = TestEnv::new();
        let server = fake_forge::github_device(GHO, 1, 900, vec![answer]);
        let before = env.snapshot();
        let args = [
            "login",
            "ghe.corp.example",
            "--provider",
            "github",
            "--client-id",
            "Iv1.0123456789abcdef",
            "--base-url",
            &server.url,
        ];
        let out = env.run(&args, "");
        // The device flow's instructions come first; then one error.
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(code), "{err}");
        assert!(
            err.trim_end()
                .lines()
                .last()
                .unwrap_or("")
                .starts_with("error: "),
            "{err}"
        );
        assert_eq!(err.matches("error: ").count(), 1, "{err}");
        assert!(!err.contains("panicked"), "{err}");
        for word in ["post-build-hook", "evil"] {
            assert!(!stderr(&out).contains(word), "{}", stderr(&out));
            assert!(!stdout(&out).contains(word), "{}", stdout(&out));
        }
        assert_eq!(env.snapshot(), before);
    }
}

#[test]
fn an_id_token_request_url_over_plain_http_gets_no_request_token() {
    let (env, ci) = (TestEnv::new(), FakeCi::start());
    // A proxy on loopback that would see the plain-http request, request token and all.
    let proxy = FakeServer::start(|_| Reply::json(200, json!({"value": "eyJ.proxied.x"})));
    let before = env.snapshot();
    let mut cmd = github_job(&env, &ci);
    cmd.env(
        "ACTIONS_ID_TOKEN_REQUEST_URL",
        "http://pipelines.actions.example/idtoken?api-version=2.0",
    )
    .env("http_proxy", &proxy.url)
    .env("HTTP_PROXY", &proxy.url)
    .env_remove("no_proxy")
    .env_remove("NO_PROXY");
    let out = run(
        cmd,
        &["login", "prefix.dev", "--ci", "--base-url", ci.url()],
    );
    assert_clean_failure(&out, 1);
    assert!(
        stderr(&out).contains(
            "ACTIONS_ID_TOKEN_REQUEST_URL (http://pipelines.actions.example) is not https"
        ),
        "{}",
        stderr(&out)
    );
    assert!(proxy.requests().is_empty(), "the request went out in clear");
    assert_no_leak(&out, &[fake_ci::REQUEST_TOKEN]);
    assert_eq!(env.snapshot(), before);
    // Plain http to this machine stays allowed, as for every URL a token is sent to.
    assert_success(&run(
        github_job(&env, &ci),
        &["login", "prefix.dev", "--ci", "--base-url", ci.url()],
    ));
}

#[test]
fn a_ci_logins_file_others_can_write_is_refused_and_nothing_is_sent() {
    let (env, ci) = (TestEnv::new(), FakeCi::start());
    assert_success(&octo_login(&env, &ci));
    let file = env.config_dir().join("ci-logins.json");
    // Another user points the recorded login elsewhere (a world-writable file lets anyone).
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap();
    let exchanges = |ci: &FakeCi| ci.state().octo.len();
    let sent = exchanges(&ci);
    let asked = ci.state().id_tokens.len();
    let before = env.snapshot();
    let mut cmd = github_job(&env, &ci);
    cmd.env("NIX_TOKENS_OCTO_STS_URL", ci.url());
    let out = run(cmd, &["refresh", "--ci"]);
    assert_clean_failure(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("ci-logins.json is a file other users can write"),
        "{err}"
    );
    assert!(err.contains("chmod 600"), "{err}");
    assert_eq!(exchanges(&ci), sent);
    assert_eq!(
        ci.state().id_tokens.len(),
        asked,
        "no ID token was asked for"
    );
    assert_eq!(env.snapshot(), before);
}
