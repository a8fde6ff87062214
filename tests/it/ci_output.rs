//! In a GitHub Actions job, `status` and `check` append their table in Markdown to
//! `$GITHUB_STEP_SUMMARY`, and `check` annotates each input that will fail (`::error`) or could
//! not be reached (`::warning`); tokens appear there only masked. Outside Actions, nothing of it.

use serde_json::json;

use crate::support::fake_forge::{FakeServer, Reply};
use crate::support::flake_lock::{self as fl, lock};
use crate::support::*;

const TOKEN: &str = "ghp_summarytoken0123456789abcdef";

#[test]
fn status_appends_its_table_to_the_step_summary() {
    let env = TestEnv::new();
    env.set_token("github.com", TOKEN);
    let summary = env.root.join("summary.md");
    env.write(&summary, "# earlier step\n");
    let out = env
        .cmd()
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args(["status", "--offline"])
        .output()
        .unwrap();
    assert_success(&out);
    let text = read(&summary);
    assert!(
        text.starts_with("# earlier step\n### nix-tokens status\n"),
        "{text}"
    );
    assert!(text.contains("| HOST | PROVIDER |"), "{text}");
    assert!(text.contains("| github.com |"), "{text}");
    assert!(text.contains("ghp_****ef"), "{text}");
    assert!(!text.contains(TOKEN), "{text}");

    // Outside GitHub Actions the file is left alone.
    let before = read(&summary);
    let out = env
        .cmd()
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args(["status", "--offline"])
        .output()
        .unwrap();
    assert_success(&out);
    assert_eq!(read(&summary), before);
}

#[test]
fn check_annotates_failing_and_unreachable_inputs_and_summarises() {
    let env = TestEnv::new();
    let files = FakeServer::start(|_| Reply::html(404, "not found"));
    // A port nothing listens on: the input cannot be reached.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}/x.tar.gz", closed.local_addr().unwrap());
    drop(closed);
    let text = lock(
        json!({"gone": "gone", "dead": "dead"}),
        json!({
            "gone": fl::download("tarball", &format!("{}/gone.tar.gz", files.url)),
            "dead": fl::download("tarball", &dead),
        }),
    );
    let dir = env.root.join("flake");
    env.write(&dir.join("flake.lock"), &text);
    env.write(&dir.join("flake.nix"), "{ outputs = _: { }; }\n");
    let summary = env.root.join("summary.md");
    let out = env
        .cmd()
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("NIX_TOKENS_HTTP_TIMEOUT", "2")
        .args(["check", &dir.display().to_string()])
        .output()
        .unwrap();
    let stdout = stdout(&out);
    assert!(
        stdout.contains("::error title=flake input gone::"),
        "{stdout}"
    );
    assert!(
        stdout.contains("::warning title=flake input dead::"),
        "{stdout}"
    );
    let text = read(&summary);
    assert!(text.starts_with("### nix-tokens check\n"), "{text}");
    assert!(text.contains("| gone | fails |"), "{text}");
    assert!(text.contains("| dead | unreachable |"), "{text}");

    // Outside GitHub Actions: no annotations.
    let out = env
        .cmd()
        .env("NIX_TOKENS_HTTP_TIMEOUT", "2")
        .args(["check", &dir.display().to_string()])
        .output()
        .unwrap();
    assert!(!crate::support::stdout(&out).contains("::error"));
}
