//! In a GitHub Actions job no line that comes from data begins with `::`, where the runner would
//! take it as a workflow command (`::stop-commands::TOKEN` would make it ignore every later mask):
//! an input of a hostile flake.lock named so is escaped in `check`'s table, in the names above a
//! shared note, in the step summary and in annotations, whose data is escaped as workflow
//! commands' data is (`%25`, `%0D`, `%0A`, and in properties `%3A`, `%2C`).

use serde_json::json;

use crate::support::fake_forge::{FakeServer, Reply};
use crate::support::flake_lock::{self as fl, lock};
use crate::support::*;

/// The workflow commands nix-tokens itself writes: an annotation whose title has no raw `:` or
/// `,`, and whose message has no raw line break.
fn is_own_annotation(line: &str) -> bool {
    let Some(rest) = line
        .strip_prefix("::error title=")
        .or_else(|| line.strip_prefix("::warning title="))
    else {
        return false;
    };
    rest.split_once("::")
        .is_some_and(|(title, _)| !title.contains([':', ',']))
}

#[test]
fn check_under_actions_escapes_input_names_that_would_be_workflow_commands() {
    let env = TestEnv::new();
    let files = FakeServer::start(|_| Reply::html(404, "not found"));
    let hostile = "::stop-commands::x";
    let text = lock(
        json!({hostile: "a", "b": "b", "c": "c", "d%0A": "d"}),
        json!({
            "a": fl::download("tarball", &format!("{}/a.tar.gz", files.url)),
            "b": fl::download("tarball", &format!("{}/b.tar.gz", files.url)),
            "c": fl::download("tarball", &format!("{}/c.tar.gz", files.url)),
            "d": fl::download("tarball", &format!("{}/d.tar.gz", files.url)),
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
    let (stdout, stderr) = (stdout(&out), stderr(&out));
    for line in stdout.lines().chain(stderr.lines()) {
        assert!(
            !line.starts_with("::") || is_own_annotation(line),
            "a line from data is a workflow command: {line}\n{stdout}{stderr}"
        );
    }
    // The input is still named, escaped; its annotation's title escapes its colons, and a `%` in
    // a name is escaped too.
    assert!(stdout.contains("%3A%3Astop-commands"), "{stdout}");
    assert!(
        stdout.contains("::error title=flake input %3A%3Astop-commands%3A%3Ax::"),
        "{stdout}"
    );
    assert!(stdout.contains("title=flake input d%250A::"), "{stdout}");
    let summary = read(&summary);
    for line in summary.lines() {
        assert!(!line.starts_with("::"), "{summary}");
    }
    assert!(summary.contains("stop-commands"), "{summary}");

    // Outside Actions the table shows the name as the lock file has it.
    let out = env
        .cmd()
        .env("NIX_TOKENS_HTTP_TIMEOUT", "2")
        .args(["check", &dir.display().to_string()])
        .output()
        .unwrap();
    assert!(
        crate::support::stdout(&out)
            .lines()
            .any(|l| l.starts_with(hostile)),
        "{}",
        crate::support::stdout(&out)
    );
}
