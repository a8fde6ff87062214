//! Real Nix agrees with `check`: HTTPS stand-ins on port 443 of their own loopback addresses
//! (GitLab's API, files behind basic auth, git's http-backend, GitHub Enterprise's API) serve
//! private repositories; real Nix locks a flake whose inputs point at them (transitive inputs and
//! a `follows` included) while every credential still works; then some credentials change,
//! `check` reads Nix's own flake.lock, and Nix fetches every input again the way
//! `nix flake update` does (the input's original reference, no cache). The inputs `check` says
//! will fail are exactly the ones Nix fails on — owner keys and GitHub Enterprise as each Nix
//! version treats them included — and following the fix `check` names makes both succeed.

use std::process::Output;

use serde_json::Value;

use crate::support::flake_lock::{self as fl, lock};
use crate::support::git_server::GitServer;
use crate::support::nix::Nix;
use crate::support::nix::fetching::Fetching;
use crate::support::nix::forge;
use crate::support::nix::tls::listen_443;
use crate::support::*;

crate::each_nix!(inputs_check_fails_are_the_ones_nix_fails_on);

const ADMIN: &str = "glpat-agreeadmintoken012345";
const GROUP: &str = "glpat-agreegrouptoken0123456";
const TEAM: &str = "glpat-agreeteamtoken01234567";
const FILES: &str = "agreefilespassword012345";
const GONE: &str = "agreegonepassword0123456";
const GIT: &str = "agreegittoken0123456789ab";
const STALE: &str = "agreestaletoken012345678";
const GH: &str = "ghp_agreegithubtoken0123456789";

/// `check --json` on `dir` with this Nix first on PATH: the exit code and the rows.
fn check(f: &Fetching, nix: &Nix, dir: &str) -> (Option<i32>, Vec<Value>) {
    let out = f.nix_tokens_output(nix, &["check", "--json", dir], "");
    assert_no_leak(&out, &[ADMIN, GROUP, TEAM, FILES, GONE, GIT, STALE, GH]);
    let rows: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("check prints JSON ({e}): {}", stderr(&out)));
    (out.status.code(), rows.as_array().unwrap().clone())
}

/// Nix fetches each checked input as `nix flake update` would; the inputs `check` says will fail
/// must be exactly those Nix fails on. Returns the verdicts by input.
fn agree(f: &Fetching, nix: &Nix, rows: &[Value]) -> Vec<(String, String)> {
    let mut verdicts = Vec::new();
    for row in rows {
        let (input, verdict) = (
            row["input"].as_str().unwrap(),
            row["verdict"].as_str().unwrap(),
        );
        verdicts.push((input.to_owned(), verdict.to_owned()));
        if !matches!(verdict, "ok" | "fails") {
            continue;
        }
        let out: Output = f.fetch_tree(nix, row["url"].as_str().unwrap());
        assert_eq!(
            out.status.success(),
            verdict == "ok",
            "check says {input} ({}) is {verdict}: {}\nbut Nix {}:\n{}",
            row["url"],
            row["reason"],
            if out.status.success() {
                "fetched it"
            } else {
                "failed"
            },
            stderr(&out)
        );
    }
    verdicts
}

fn verdict<'a>(verdicts: &'a [(String, String)], input: &str) -> &'a str {
    &verdicts
        .iter()
        .find(|(i, _)| i == input)
        .unwrap_or_else(|| panic!("no {input}"))
        .1
}

fn inputs_check_fails_are_the_ones_nix_fails_on(nix: &Nix) {
    let f = Fetching::new();
    let grants = [
        (ADMIN, "group"),
        (ADMIN, "team"),
        (ADMIN, "other"),
        (GROUP, "group"),
        (TEAM, "team"),
    ]
    .iter()
    .map(|(t, o)| (format!("PAT:{t}"), (*o).to_owned()))
    .collect();
    let repos = vec![
        f.repo("group", "app"),
        f.repo("team", "tool"),
        f.repo("other", "secret"),
    ];
    let Some(gitlab) = f.serve(&[], forge::gitlab(repos, grants, None)) else {
        return;
    };
    let release = f.repo("releases", "tool");
    let files = vec![
        (
            "/releases/tool-1.0.tar.gz".to_owned(),
            release.tarball("tool-1.0"),
        ),
        (
            "/releases/extra-1.0.tar.gz".to_owned(),
            release.tarball("extra-1.0"),
        ),
    ];
    let Some(tarballs) = f.serve(&[], forge::basic_auth("me", FILES, files.clone())) else {
        return;
    };
    // The login a netrc entry written by `set-token HOST --netrc` carries.
    let Some(gone) = f.serve(&[], forge::basic_auth("nix-tokens", GONE, files)) else {
        return;
    };
    crate::support::git_server::make_repo(&f.repos, "org/private.git", "org/private: private\n");
    let git_server = |token: &str| {
        let bound = listen_443()?;
        let tls = f.ca.server_config(&[&bound.1.to_string()]);
        Some(GitServer::start_https(
            bound,
            tls,
            &f.repos,
            &[("nix-tokens", token)],
        ))
    };
    let (Some(git), Some(stale)) = (git_server(GIT), git_server(STALE)) else {
        return;
    };

    // Every credential works while Nix locks the flake.
    let gl = gitlab.host.clone();
    f.nix_tokens(nix, &["set-token", &gl, "-p", "gitlab"], ADMIN);
    f.nix_tokens(
        nix,
        &["set-token", &tarballs.host, "--netrc", "--login", "me"],
        FILES,
    );
    f.nix_tokens(nix, &["set-token", &gone.host, "--netrc"], GONE);
    f.nix_tokens(nix, &["set-token", &git.host], GIT);
    f.nix_tokens(nix, &["set-token", &stale.host], STALE);
    f.nix_tokens(nix, &["git-credential", "--install"], "");
    let dir = f.env.root.join("flake");
    let dep = f.env.root.join("dep");
    let tarball = |server: &crate::support::nix::https::HttpsServer, name: &str| {
        format!("{}/releases/{name}-1.0.tar.gz", server.url())
    };
    f.env.write(
        &dep.join("flake.nix"),
        &format!(
            "{{\n  inputs.extra = {{ url = \"{}\"; flake = false; }};\n  \
             inputs.shared = {{ url = \"{}\"; flake = false; }};\n  outputs = _: {{ }};\n}}\n",
            tarball(&tarballs, "extra"),
            tarball(&gone, "tool")
        ),
    );
    let input =
        |name: &str, url: String| format!("    {name} = {{ url = \"{url}\"; flake = false; }};\n");
    f.env.write(
        &dir.join("flake.nix"),
        &format!(
            "{{\n  inputs = {{\n{}{}{}{}{}{}{}    dep.url = \"path:{}\";\n    dep.inputs.shared.follows = \"tools\";\n  }};\n  outputs = _: {{ }};\n}}\n",
            input("gl-group", format!("gitlab:group/app?host={gl}")),
            input("gl-team", format!("gitlab:team/tool?host={gl}")),
            input("gl-other", format!("gitlab:other/secret?host={gl}")),
            input("tools", tarball(&tarballs, "tool")),
            input("gone", tarball(&gone, "tool")),
            input("src", format!("git+https://{}/org/private.git?ref=main", git.host)),
            input("stale", format!("git+https://{}/org/private.git?ref=main", stale.host)),
            dep.display()
        ),
    );
    let out = f.nix(nix, &["flake", "lock", dir.to_str().unwrap()]);
    assert_success(&out);
    let written = read(&dir.join("flake.lock"));
    assert!(written.contains("\"version\": 7"), "{written}");

    // Then: the host's token reads `group` only, an owner key reads `team`; one netrc entry is
    // gone; one git server no longer takes its token.
    f.nix_tokens(nix, &["set-token", &gl, "-p", "gitlab", "--force"], GROUP);
    f.nix_tokens(
        nix,
        &["set-token", &format!("{gl}/team"), "-p", "gitlab"],
        TEAM,
    );
    f.nix_tokens(nix, &["logout", &gone.host, "--yes"], "");
    stale.accept_only(&[("nix-tokens", "anothertoken")]);

    let (code, rows) = check(&f, nix, dir.to_str().unwrap());
    assert_eq!(code, Some(3), "{rows:#?}");
    let names: Vec<&str> = rows.iter().map(|r| r["input"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "dep",
            "gl-group",
            "gl-other",
            "gl-team",
            "gone",
            "src",
            "stale",
            "tools",
            "dep/extra"
        ],
        "Nix's lock: the follows `dep/shared` adds no input"
    );
    let verdicts = agree(&f, nix, &rows);
    let owner_keys = nix.matches_owner_keys();
    for (input, want) in [
        ("gl-group", "ok"),
        ("gl-team", if owner_keys { "ok" } else { "fails" }),
        ("gl-other", "fails"),
        ("tools", "ok"),
        ("gone", "fails"),
        ("src", "ok"),
        ("stale", "fails"),
        ("dep", "skipped"),
        ("dep/extra", "ok"),
    ] {
        assert_eq!(
            verdict(&verdicts, input),
            want,
            "{input} with {nix}: {rows:#?}"
        );
    }
    let fix = |input: &str| {
        rows.iter().find(|r| r["input"] == input).unwrap()["fix"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let other_fix = match owner_keys {
        true => format!("nix-tokens login {gl} --owner other"),
        false => format!("nix-tokens login {gl}"),
    };
    assert_eq!(fix("gl-other"), other_fix);
    assert_eq!(fix("stale"), format!("nix-tokens login {}", stale.host));

    // The fix check names for the missing netrc entry: both agree it works now.
    let gone_fix = fix("gone");
    assert_eq!(
        gone_fix,
        format!("nix-tokens set-token {} --netrc", gone.host)
    );
    let args: Vec<&str> = gone_fix.split(' ').skip(1).collect();
    f.nix_tokens(nix, &args, GONE);
    let (_, rows) = check(&f, nix, dir.to_str().unwrap());
    let verdicts = agree(&f, nix, &rows);
    assert_eq!(verdict(&verdicts, "gone"), "ok");

    github_enterprise(&f, nix);
}

/// `github:` inputs on a GitHub Enterprise Server: Nix 2.9 and later fetch with the token;
/// Nix 2.8 asks `api.HOST` and cannot, which `check` knows from `nix --version`.
fn github_enterprise(f: &Fetching, nix: &Nix) {
    let repos = vec![f.repo("corp", "app"), f.repo("elsewhere", "secret")];
    let grants = vec![(format!("token {GH}"), "corp".to_owned())];
    let Some(ghes) = f.serve(&[], forge::github("/api/v3", repos, grants)) else {
        return;
    };
    f.nix_tokens(nix, &["set-token", &ghes.host, "-p", "github"], GH);
    let dir = f.env.root.join("ghes");
    let text = lock(
        serde_json::json!({"app": "app", "secret": "secret"}),
        serde_json::json!({"app": fl::github("corp", "app", Some(&ghes.host)),
                           "secret": fl::github("elsewhere", "secret", Some(&ghes.host))}),
    );
    f.env.write(&dir.join("flake.lock"), &text);
    let (code, rows) = check(f, nix, dir.to_str().unwrap());
    assert_eq!(code, Some(3), "{rows:#?}");
    let verdicts = agree(f, nix, &rows);
    let reaches = nix.github_enterprise_layout();
    assert_eq!(
        verdict(&verdicts, "app"),
        if reaches { "ok" } else { "fails" }
    );
    assert_eq!(verdict(&verdicts, "secret"), "fails");
    if !reaches {
        let reason = rows[0]["reason"].as_str().unwrap();
        assert!(
            reason.contains(&format!("asks https://api.{}/repos/", ghes.host)),
            "{reason}"
        );
    }
}
