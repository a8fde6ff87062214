//! Real Nix agrees with `check`: HTTPS stand-ins on port 443 of their own loopback addresses
//! (GitLab's API, files behind basic auth, git's http-backend, GitHub Enterprise's API) serve
//! private repositories; real Nix locks a flake whose inputs point at them (transitive inputs and
//! a `follows` included) while every credential still works; then some credentials change,
//! `check` reads Nix's own flake.lock, and Nix fetches every input again the way
//! `nix flake update` does (the input's original reference, no cache). The inputs `check` says
//! will fail are exactly the ones Nix fails on — owner keys and GitHub Enterprise as each Nix
//! version treats them included — and following the fix `check` names makes both succeed.

use std::path::PathBuf;
use std::process::Output;

use serde_json::Value;

use crate::support::flake_lock::{self as fl, lock};
use crate::support::git_server::{GitServer, make_repo};
use crate::support::nix::Nix;
use crate::support::nix::fetching::Fetching;
use crate::support::nix::forge;
use crate::support::nix::https::HttpsServer;
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

/// The HTTPS stand-ins: GitLab, two file servers behind basic auth, two git servers.
struct Stand {
    gitlab: HttpsServer,
    tarballs: HttpsServer,
    gone: HttpsServer,
    git: GitServer,
    stale: GitServer,
}

/// The stand-ins, or `None` (skipping) where port 443 cannot be bound.
fn stand_ins(f: &Fetching) -> Option<Stand> {
    let grants = [(ADMIN, "group"), (ADMIN, "team"), (ADMIN, "other")]
        .into_iter()
        .chain([(GROUP, "group"), (TEAM, "team")])
        .map(|(t, o)| (format!("PAT:{t}"), o.to_owned()))
        .collect();
    let repos = ["group/app", "team/tool", "other/secret"]
        .map(|r| r.split_once('/').unwrap())
        .map(|(o, n)| f.repo(o, n))
        .to_vec();
    let gitlab = f.serve(&[], forge::gitlab(repos, grants, None))?;
    let release = f.repo("releases", "tool");
    let files: Vec<(String, Vec<u8>)> = ["tool", "extra"]
        .map(|n| {
            (
                format!("/releases/{n}-1.0.tar.gz"),
                release.tarball(&format!("{n}-1.0")),
            )
        })
        .to_vec();
    let tarballs = f.serve(&[], forge::basic_auth("me", FILES, files.clone()))?;
    // The login a netrc entry written by `set-token HOST --netrc` carries.
    let gone = f.serve(&[], forge::basic_auth("nix-tokens", GONE, files))?;
    make_repo(&f.repos, "org/private.git", "org/private: private\n");
    let git_server = |token: &str| {
        let bound = listen_443()?;
        let tls = f.ca.server_config(&[&bound.1.to_string()]);
        let accepted = [("nix-tokens", token)];
        Some(GitServer::start_https(bound, tls, &f.repos, &accepted))
    };
    Some(Stand {
        gitlab,
        tarballs,
        gone,
        git: git_server(GIT)?,
        stale: git_server(STALE)?,
    })
}

fn tarball(server: &HttpsServer, name: &str) -> String {
    format!("{}/releases/{name}-1.0.tar.gz", server.url())
}

/// With every credential working, real Nix locks a flake with an input on each stand-in and a
/// local flake (`dep`) of its own inputs, one of which follows the root's `tools`.
fn lock_the_flake(f: &Fetching, nix: &Nix, s: &Stand) -> PathBuf {
    let gl = &s.gitlab.host;
    f.nix_tokens(nix, &["set-token", gl, "-p", "gitlab"], ADMIN);
    let netrc = ["set-token", &s.tarballs.host, "--netrc", "--login", "me"];
    f.nix_tokens(nix, &netrc, FILES);
    f.nix_tokens(nix, &["set-token", &s.gone.host, "--netrc"], GONE);
    f.nix_tokens(nix, &["set-token", &s.git.host], GIT);
    f.nix_tokens(nix, &["set-token", &s.stale.host], STALE);
    f.nix_tokens(nix, &["git-credential", "--install"], "");
    let (dir, dep) = (f.env.root.join("flake"), f.env.root.join("dep"));
    let input =
        |name: &str, url: &str| format!("    {name} = {{ url = \"{url}\"; flake = false; }};\n");
    let flake = |inputs: &[String], extra: &str| {
        format!(
            "{{\n  inputs = {{\n{}{extra}  }};\n  outputs = _: {{ }};\n}}\n",
            inputs.concat()
        )
    };
    let dep_inputs = [
        input("extra", &tarball(&s.tarballs, "extra")),
        input("shared", &tarball(&s.gone, "tool")),
    ];
    f.env.write(&dep.join("flake.nix"), &flake(&dep_inputs, ""));
    let git = |server: &GitServer| format!("git+https://{}/org/private.git?ref=main", server.host);
    let inputs = [
        input("gl-group", &format!("gitlab:group/app?host={gl}")),
        input("gl-team", &format!("gitlab:team/tool?host={gl}")),
        input("gl-other", &format!("gitlab:other/secret?host={gl}")),
        input("tools", &tarball(&s.tarballs, "tool")),
        input("gone", &tarball(&s.gone, "tool")),
        input("src", &git(&s.git)),
        input("stale", &git(&s.stale)),
    ];
    let dep_ref = format!(
        "    dep.url = \"path:{}\";\n    dep.inputs.shared.follows = \"tools\";\n",
        dep.display()
    );
    f.env
        .write(&dir.join("flake.nix"), &flake(&inputs, &dep_ref));
    let out = f.nix(nix, &["flake", "lock", dir.to_str().unwrap()]);
    assert_success(&out);
    let written = read(&dir.join("flake.lock"));
    assert!(written.contains("\"version\": 7"), "{written}");
    dir
}

/// The host's token now reads `group` only and an owner key reads `team`; one netrc entry is
/// gone; one git server no longer takes its token.
fn change_credentials(f: &Fetching, nix: &Nix, s: &Stand) {
    let gl = &s.gitlab.host;
    f.nix_tokens(nix, &["set-token", gl, "-p", "gitlab", "--force"], GROUP);
    f.nix_tokens(
        nix,
        &["set-token", &format!("{gl}/team"), "-p", "gitlab"],
        TEAM,
    );
    f.nix_tokens(nix, &["logout", &s.gone.host, "--yes"], "");
    s.stale.accept_only(&[("nix-tokens", "anothertoken")]);
}

fn inputs_check_fails_are_the_ones_nix_fails_on(nix: &Nix) {
    let f = Fetching::new();
    let Some(s) = stand_ins(&f) else {
        return;
    };
    let dir = lock_the_flake(&f, nix, &s);
    let dir = dir.to_str().unwrap();
    change_credentials(&f, nix, &s);

    let (code, rows) = check(&f, nix, dir);
    assert_eq!(code, Some(3), "{rows:#?}");
    let names: Vec<&str> = rows.iter().map(|r| r["input"].as_str().unwrap()).collect();
    let all = [
        "dep",
        "gl-group",
        "gl-other",
        "gl-team",
        "gone",
        "src",
        "stale",
        "tools",
        "dep/extra",
    ];
    assert_eq!(
        names, all,
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
        let row = rows.iter().find(|r| r["input"] == input).unwrap();
        row["fix"].as_str().unwrap().to_owned()
    };
    let gl = &s.gitlab.host;
    let other_fix = match owner_keys {
        true => format!("nix-tokens login {gl} --owner other"),
        false => format!("nix-tokens login {gl}"),
    };
    assert_eq!(fix("gl-other"), other_fix);
    assert_eq!(fix("stale"), format!("nix-tokens login {}", s.stale.host));

    // The fix check names for the missing netrc entry: both agree it works now.
    let gone_fix = fix("gone");
    assert_eq!(
        gone_fix,
        format!("nix-tokens set-token {} --netrc", s.gone.host)
    );
    let args: Vec<&str> = gone_fix.split(' ').skip(1).collect();
    f.nix_tokens(nix, &args, GONE);
    let (_, rows) = check(&f, nix, dir);
    let verdicts = agree(&f, nix, &rows);
    assert_eq!(verdict(&verdicts, "gone"), "ok");

    github_enterprise(&f, nix);
    redirects(&f, nix);
}

/// Tarballs that redirect to another host: Nix's curl follows, and Nix unpacks what it ends at.
/// One ends at an archive, which both find readable; one at a login page (HTML, answered 200),
/// which Nix cannot unpack and `check` says will fail.
fn redirects(f: &Fetching, nix: &Nix) {
    use crate::support::nix::https::Answer;
    let page = b"<!doctype html><html><form>Sign in</form></html>".to_vec();
    let Some(portal) = f.serve(&[], move |_| Answer::bytes("text/html", page.clone())) else {
        return;
    };
    let archive = f.repo("releases", "moved").tarball("moved-1.0");
    let Some(store) = f.serve(&[], move |_| {
        Answer::bytes("application/x-gzip", archive.clone())
    }) else {
        return;
    };
    let to = [
        ("/login.tar.gz", format!("{}/sign-in", portal.url())),
        (
            "/stored.tar.gz",
            format!("{}/moved-1.0.tar.gz", store.url()),
        ),
    ];
    let Some(moved) = f.serve(&[], move |r| match to.iter().find(|(p, _)| *p == r.path) {
        Some((_, at)) => Answer::bytes("text/html", Vec::new())
            .header("Location", at)
            .status(302),
        None => Answer::json(404, serde_json::json!({"message": "Not Found"})),
    }) else {
        return;
    };
    let dir = f.env.root.join("moved");
    let at = |name: &str| format!("{}/{name}.tar.gz", moved.url());
    let text = lock(
        serde_json::json!({"login": "login", "stored": "stored"}),
        serde_json::json!({"login": fl::download("tarball", &at("login")),
                           "stored": fl::download("tarball", &at("stored"))}),
    );
    f.env.write(&dir.join("flake.lock"), &text);
    let (code, rows) = check(f, nix, dir.to_str().unwrap());
    assert_eq!(code, Some(3), "{rows:#?}");
    let verdicts = agree(f, nix, &rows);
    assert_eq!(verdict(&verdicts, "login"), "fails", "{rows:#?}");
    assert_eq!(verdict(&verdicts, "stored"), "ok", "{rows:#?}");
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
