//! `check`: the real binary reads lock files written in Nix's format (transitive inputs,
//! `follows`, every input type) and asks fake forges that hold public and private repositories,
//! as the real APIs answer, whether the credential Nix will send reads each input: each verdict,
//! its reason and fix, and the exit codes ([`verdicts`]); GitHub's anonymous rate limit and bad
//! lock files ([`limits`]); batched questions, 16 at a host, and rate limits at scale ([`batched`],
//! [`rate_limits`]); downloads that redirect ([`redirects`]); git inputs with real git
//! ([`git`]); and real Nix fetching the same inputs ([`agrees`]).

mod agrees;
mod batched;
mod git;
mod lifetime_policy;
mod limits;
mod rate_limits;
mod redirects;
mod verdicts;

use serde_json::Value;

use crate::support::fake_forge::FakeServer;
use crate::support::*;

pub const GH: &str = "ghp_checkgithubtoken0123456789abcdef";
pub const GL: &str = "glpat-checkgitlabtoken012345";
pub const GITEA: &str = "giteachecktoken0123456789";
pub const FILES: &str = "filescheckpassword0123456";

/// `nix-tokens check --json ARGS…` in `env` with git reading only the test's configuration; the
/// exit code, the rows, and stderr. No token appears in what it prints.
pub fn check(env: &TestEnv, args: &[&str]) -> (Option<i32>, Vec<Value>, String) {
    let out = env
        .cmd()
        .arg("check")
        .arg("--json")
        .args(args)
        .env("GIT_CONFIG_GLOBAL", env.root.join("gitconfig"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert_no_leak(&out, &[GH, GL, GITEA, FILES]);
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "check prints JSON ({e}):\n{}\n{}",
            stdout(&out),
            stderr(&out)
        )
    });
    (
        out.status.code(),
        rows.as_array().unwrap().clone(),
        stderr(&out),
    )
}

pub fn row<'a>(rows: &'a [Value], input: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["input"] == input)
        .unwrap_or_else(|| panic!("no row for {input}: {rows:#?}"))
}

/// The flake directory with `text` as its flake.lock.
pub fn flake(env: &TestEnv, text: &str) -> String {
    let dir = env.root.join("flake");
    env.write(&dir.join("flake.lock"), text);
    env.write(&dir.join("flake.nix"), "{ outputs = _: { }; }\n");
    dir.display().to_string()
}

/// A fix, or a reason, as a check of one row.
pub fn assert_row(rows: &[Value], input: &str, verdict: &str, reason: &str, fix: Option<&str>) {
    let r = row(rows, input);
    assert_eq!(r["verdict"], verdict, "{input}: {r:#}");
    assert!(
        r["reason"].as_str().unwrap().contains(reason),
        "{input}: the reason should say {reason:?}: {r:#}"
    );
    assert_eq!(r["fix"].as_str(), fix, "{input}: {r:#}");
}

/// The port a fake server listens on.
pub fn port_of(server: &FakeServer) -> String {
    server.url.rsplit(':').next().unwrap().to_owned()
}
