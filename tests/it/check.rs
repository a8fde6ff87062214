//! `check`: the real binary reads lock files written in Nix's format (transitive inputs,
//! `follows`, every input type) and asks fake forges that hold public and private repositories,
//! as the real APIs answer, whether the credential Nix will send reads each input; each verdict,
//! its reason and fix, and the exit codes.

use serde_json::{Value, json};

use crate::support::fake_forge::FakeServer;
use crate::support::fake_repos::{self, Holdings};
use crate::support::flake_lock::{self as fl, lock};
use crate::support::*;

const GH: &str = "ghp_checkgithubtoken0123456789abcdef";
const GL: &str = "glpat-checkgitlabtoken012345";
const GITEA: &str = "giteachecktoken0123456789";
const FILES: &str = "filescheckpassword0123456";

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

/// Forges on 127.0.0.1 that the test's hosts were logged in to.
struct Forges {
    github: FakeServer,
    gitlab: FakeServer,
    gitea: FakeServer,
    files: FakeServer,
}

fn forges(env: &TestEnv) -> Forges {
    let github = fake_repos::github(
        Holdings::new(
            &[
                ("corp/app", false),
                ("corp/docs", true),
                ("other/secret", false),
            ],
            &[(GH, "corp")],
        ),
        60,
    );
    let gitlab = fake_repos::gitlab(Holdings::new(
        &[
            ("group/proj", false),
            ("group/open", true),
            ("team/closed", false),
        ],
        &[(GL, "group")],
    ));
    let gitea = fake_repos::gitea(Holdings::new(&[("org/repo", false)], &[(GITEA, "org")]));
    let files = fake_repos::files("me", FILES, &["public.tar.gz"], "https://objects.example");
    env.login_with_token("github.com", "github", &github.url, GH);
    env.login_with_token("gitlab.corp.example", "gitlab", &gitlab.url, GL);
    env.login_with_token("git.corp.example", "gitea", &gitea.url, GITEA);
    let out = env.run(
        &["set-token", "127.0.0.1", "--netrc", "--login", "me"],
        FILES,
    );
    assert_success(&out);
    // git asks nix-tokens for the Gitea host, as `git-credential --install` would have it.
    let helper = format!(
        "!{} git-credential",
        env.cmd().get_program().to_string_lossy()
    );
    env.write(
        &env.root.join("gitconfig"),
        &format!("[credential \"https://git.corp.example\"]\n\thelper = \"{helper}\"\n"),
    );
    Forges {
        github,
        gitlab,
        gitea,
        files,
    }
}

fn every_kind(f: &Forges) -> String {
    let port = f.files.url.rsplit(':').next().unwrap();
    let at = |path: &str| format!("{}{path}", f.files.url);
    let local = fl::with_inputs(
        fl::path("/src/local"),
        json!({"extra": "extra", "app": ["app"], "docs": ["docs"]}),
    );
    lock(
        json!({
            "app": "app", "docs": "docs", "secret": "secret",
            "proj": "proj", "open": "open", "closed": "closed",
            "forge-src": "forge-src",
            "tools": "tools", "public": "public", "blob": "blob", "moved": "moved",
            "anon": "anon",
            "local": "local", "registry": "registry", "ssh": "ssh", "srht": "srht",
        }),
        json!({
            "app": fl::github("corp", "app", None),
            "docs": fl::github("corp", "docs", None),
            "secret": fl::github("other", "secret", None),
            "proj": fl::gitlab("group", "proj", Some("gitlab.corp.example")),
            "open": fl::gitlab("group", "open", Some("gitlab.corp.example")),
            "closed": fl::gitlab("team", "closed", Some("gitlab.corp.example")),
            "forge-src": fl::git("https://git.corp.example/org/repo.git"),
            "tools": fl::download("tarball", &at("/files/tool.tar.gz")),
            "public": fl::download("tarball", &at("/files/public.tar.gz")),
            "blob": fl::download("file", &at("/no-head/blob.json")),
            "moved": fl::download("tarball", &at("/moved/x.tar.gz")),
            "anon": fl::download("tarball", &format!("http://localhost:{port}/files/tool.tar.gz")),
            "local": local,
            "extra": fl::download("tarball", &at("/files/extra.tar.gz")),
            "registry": fl::indirect("nixpkgs"),
            "ssh": fl::git("ssh://git@github.com/corp/app.git"),
            "srht": fl::sourcehut("~me", "tool"),
        }),
    )
}

fn assert_row(rows: &[Value], input: &str, verdict: &str, reason: &str, fix: Option<&str>) {
    let r = row(rows, input);
    assert_eq!(r["verdict"], verdict, "{input}: {r:#}");
    assert!(
        r["reason"].as_str().unwrap().contains(reason),
        "{input}: the reason should say {reason:?}: {r:#}"
    );
    assert_eq!(r["fix"].as_str(), fix, "{input}: {r:#}");
}

#[test]
fn every_input_type_gets_its_verdict_and_fix() {
    let env = TestEnv::new();
    let f = forges(&env);
    let dir = flake(&env, &every_kind(&f));
    let (code, rows, err) = check(&env, &[&dir]);
    assert_eq!(code, Some(3), "{rows:#?}\n{err}");

    // The root's inputs in order, then the transitive one by its path; follows add nothing.
    let names: Vec<&str> = rows.iter().map(|r| r["input"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 17, "{names:?}");
    assert_eq!(names[16], "local/extra");
    for r in &rows {
        let keys: Vec<&String> = r.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "input",
                "type",
                "url",
                "credential",
                "source",
                "verdict",
                "reason",
                "fix"
            ]
        );
    }

    let token_file = env.token_file().display().to_string();
    let app = row(&rows, "app");
    assert_eq!(
        (&app["type"], &app["url"], &app["source"]),
        (
            &json!("github"),
            &json!("github:corp/app"),
            &json!(token_file)
        )
    );
    assert_eq!(app["credential"], "ghp_****ef");
    assert_row(&rows, "app", "ok", "private; the token can read it", None);
    assert_row(&rows, "docs", "ok", "public", None);
    assert_row(
        &rows,
        "secret",
        "fails",
        "the token cannot read it",
        Some("nix-tokens login github.com --owner other"),
    );
    assert_row(&rows, "proj", "ok", "private; the token can read it", None);
    assert_eq!(row(&rows, "proj")["credential"], "PAT:glpat-****45");
    assert_row(&rows, "open", "ok", "public", None);
    assert_row(
        &rows,
        "closed",
        "fails",
        "the token cannot read it",
        Some("nix-tokens login gitlab.corp.example --owner team"),
    );
    // git asks nix-tokens, which answers with the netrc token the Gitea API accepts.
    assert_row(
        &rows,
        "forge-src",
        "ok",
        "private; the token can read it",
        None,
    );
    assert_eq!(
        row(&rows, "forge-src")["url"],
        "git+https://git.corp.example/org/repo.git?ref=main"
    );
    assert_eq!(
        row(&rows, "forge-src")["source"],
        json!(env.netrc().display().to_string())
    );
    assert_row(
        &rows,
        "tools",
        "ok",
        "the netrc entry reads it; netrc login me",
        None,
    );
    assert_row(&rows, "public", "ok", "the netrc entry reads it", None);
    assert_row(&rows, "blob", "ok", "the netrc entry reads it", None);
    assert_eq!(
        row(&rows, "blob")["url"],
        json!(format!("file+{}/no-head/blob.json", f.files.url))
    );
    assert_row(&rows, "moved", "ok", "redirects to objects.example", None);
    assert_row(
        &rows,
        "anon",
        "fails",
        "private and no token",
        Some("nix-tokens set-token localhost --netrc"),
    );
    assert_eq!(row(&rows, "anon")["credential"], Value::Null);
    assert_row(&rows, "local", "skipped", "a local path: not checked", None);
    assert_row(&rows, "local/extra", "ok", "the netrc entry reads it", None);
    assert_row(
        &rows,
        "registry",
        "skipped",
        "flake registry (locked to github:NixOS/nixpkgs/",
        None,
    );
    assert_row(&rows, "ssh", "skipped", "SSH keys: not checked", None);
    assert_row(
        &rows,
        "srht",
        "skipped",
        "cannot ask sourcehut about repositories",
        None,
    );

    // Each token went to its own host only, and a request without a token carried none.
    let sent = |server: &FakeServer| -> Vec<String> {
        server
            .requests()
            .iter()
            .flat_map(|r| r.headers.iter().map(|(_, v)| v.clone()))
            .collect()
    };
    for (server, own) in [
        (&f.github, GH),
        (&f.gitlab, GL),
        (&f.gitea, GITEA),
        (&f.files, FILES),
    ] {
        for other in [GH, GL, GITEA].into_iter().filter(|t| *t != own) {
            assert!(
                !sent(server).iter().any(|h| h.contains(other)),
                "{other} went to {}",
                server.url
            );
        }
    }
    let anon = f.files.requests();
    assert!(
        anon.iter()
            .filter(|r| r.header("host").is_some_and(|h| h.starts_with("localhost")))
            .all(|r| r.header("authorization").is_none())
    );
}

#[test]
fn exit_codes_follow_the_worst_verdict() {
    let env = TestEnv::new();
    let f = forges(&env);
    let fine = lock(
        json!({"app": "app", "proj": "proj", "tools": "tools", "local": "local"}),
        json!({
            "app": fl::github("corp", "app", None),
            "proj": fl::gitlab("group", "proj", Some("gitlab.corp.example")),
            "tools": fl::download("tarball", &format!("{}/files/tool.tar.gz", f.files.url)),
            "local": fl::path("/src/local"),
        }),
    );
    let dir = flake(&env, &fine);
    let (code, rows, _) = check(&env, &[&dir]);
    assert_eq!(code, Some(0), "{rows:#?}");

    // The table says the same, one input a line with its reason below.
    let out = env.run(&["check", &dir], "");
    assert_success(&out);
    let table = stdout(&out);
    assert!(table.starts_with("INPUT"), "{table}");
    let line = |input: &str| {
        table
            .lines()
            .find(|l| l.starts_with(&format!("{input} ")))
            .unwrap_or_else(|| panic!("no line for {input}:\n{table}"))
            .to_owned()
    };
    assert!(
        line("proj").contains(" ok ") && line("proj").contains("PAT:glpat-****45"),
        "{table}"
    );
    assert!(line("local").contains(" skipped "), "{table}");
    assert!(
        table.contains("  private; the token can read it"),
        "{table}"
    );
    assert!(stderr(&out).contains("4 input(s): 3 ok, 0 will fail, 0 unreachable, 1 not checked."));

    // A forge that is gone: unreachable, exit 4 (nothing fails).
    drop(f.gitlab);
    let (code, rows, _) = check(&env, &[&dir]);
    assert_eq!(code, Some(4), "{rows:#?}");
    assert_eq!(row(&rows, "proj")["verdict"], "unreachable");
    assert_eq!(row(&rows, "app")["verdict"], "ok");

    // --offline asks no one: every verdict skipped, the credential still shown, exit 0.
    let before = f.github.requests().len();
    let (code, rows, _) = check(&env, &["--offline", &dir]);
    assert_eq!(code, Some(0));
    assert_eq!(f.github.requests().len(), before);
    assert!(rows.iter().all(|r| r["verdict"] == "skipped"), "{rows:#?}");
    assert_eq!(row(&rows, "app")["credential"], "ghp_****ef");
    assert!(
        row(&rows, "app")["reason"]
            .as_str()
            .unwrap()
            .contains("Nix sends the token for github.com")
    );
    assert!(
        row(&rows, "tools")["reason"]
            .as_str()
            .unwrap()
            .contains("netrc machine 127.0.0.1")
    );
}

#[test]
fn an_invalid_token_and_a_forge_api_a_token_may_not_use() {
    let env = TestEnv::new();
    let mut holdings = Holdings::new(&[("group/proj", false)], &[(GL, "group")]);
    holdings.no_api.push("glpat-readrepositoryonly0123".into());
    let gitlab = fake_repos::gitlab(holdings);
    let github = fake_repos::github(Holdings::new(&[("corp/app", false)], &[]), 60);
    env.login_with_token("gitlab.corp.example", "gitlab", &gitlab.url, GL);
    // A token GitHub does not know, stored without a check.
    let hosts = env.config_dir().join(".nix-tokens-hosts.json");
    let out = env.run(
        &["set-token", "github.com"],
        "ghp_revokedtokenrevokedtoken0123456",
    );
    assert_success(&out);
    let text = std::fs::read_to_string(&hosts).unwrap_or_else(|_| "{}".into());
    let mut json: Value = serde_json::from_str(&text).unwrap();
    json["hosts"]["github.com"] = json!({"provider": "github", "base_url": github.url});
    env.write(&hosts, &json.to_string());
    let dir = flake(
        &env,
        &lock(
            json!({"app": "app", "proj": "proj"}),
            json!({"app": fl::github("corp", "app", None),
                   "proj": fl::gitlab("group", "proj", Some("gitlab.corp.example"))}),
        ),
    );
    let (code, rows, _) = check(&env, &[&dir]);
    assert_eq!(code, Some(3));
    assert_row(
        &rows,
        "app",
        "fails",
        "the token is invalid (HTTP 401: Bad credentials)",
        Some("nix-tokens login github.com"),
    );
    assert_row(&rows, "proj", "ok", "private", None);

    // A personal token without read_api: Nix's gitlab: fetcher (the API) cannot use it.
    let out = env.run(
        &["set-token", "gitlab.corp.example", "--force"],
        "glpat-readrepositoryonly0123",
    );
    assert_success(&out);
    let (_, rows, _) = check(&env, &[&dir]);
    assert_row(
        &rows,
        "proj",
        "fails",
        "the token cannot read it (HTTP 403: The request requires higher privileges",
        Some("nix-tokens login gitlab.corp.example"),
    );
}

#[test]
fn github_com_without_a_token_shares_sixty_requests_an_hour() {
    let env = TestEnv::new();
    let github = fake_repos::github(
        Holdings::new(
            &[
                ("a/one", true),
                ("b/two", true),
                ("c/three", true),
                ("d/private", false),
            ],
            &[],
        ),
        3,
    );
    // github.com's API, here the fake's: what nix-tokens remembers of a host.
    env.write(
        &env.config_dir().join(".nix-tokens-hosts.json"),
        &json!({"hosts": {"github.com": {"provider": "github", "base_url": github.url}}})
            .to_string(),
    );
    let dir = flake(
        &env,
        &lock(
            json!({"one": "one", "two": "two", "three": "three", "private": "private"}),
            json!({"one": fl::github("a", "one", None), "two": fl::github("b", "two", None),
                   "three": fl::github("c", "three", None), "private": fl::github("d", "private", None)}),
        ),
    );
    let (code, rows, err) = check(&env, &[&dir]);
    assert_eq!(code, Some(3), "{rows:#?}");
    // Three requests were left: the fourth question finds the limit used up, as Nix would.
    let spent: Vec<&Value> = rows.iter().filter(|r| r["verdict"] == "fails").collect();
    let used_up = spent
        .iter()
        .filter(|r| {
            r["reason"]
                .as_str()
                .unwrap()
                .contains("GitHub's rate limit is used up (0 of 60")
        })
        .count();
    assert_eq!(used_up, 1, "{rows:#?}");
    assert_row(
        &rows,
        "private",
        "fails",
        "",
        Some("nix-tokens login github.com"),
    );
    for r in &rows {
        let reason = r["reason"].as_str().unwrap();
        assert!(
            reason.contains("no token: 4 github: input(s) on github.com share the 60 API requests an hour GitHub allows without one (0 left now)"),
            "{r:#}"
        );
        assert_eq!(r["credential"], Value::Null);
        assert_eq!(r["fix"], "nix-tokens login github.com", "{r:#}");
    }
    assert!(
        err.contains(
            "4 github: inputs on github.com use no token, more than the 0 anonymous requests"
        ),
        "{err}"
    );
    assert!(
        github
            .requests()
            .iter()
            .all(|r| r.header("authorization").is_none())
    );
}

#[test]
fn bad_lock_files_get_one_sentence_and_nothing_is_fetched() {
    let env = TestEnv::new();
    let github = fake_repos::github(Holdings::new(&[("corp/app", true)], &[]), 60);
    env.write(
        &env.config_dir().join(".nix-tokens-hosts.json"),
        &json!({"hosts": {"github.com": {"provider": "github", "base_url": github.url}}})
            .to_string(),
    );
    let good = lock(
        json!({"app": "app"}),
        json!({"app": fl::github("corp", "app", None)}),
    );
    let dir = env.root.join("flake");
    let lock_file = dir.join("flake.lock");
    let cases: Vec<(String, &str)> = vec![
        (
            "{\"nodes\": {".into(),
            "is not a flake.lock nix-tokens can read: it is not JSON",
        ),
        (
            good.replace("\"version\": 7", "\"version\": 6"),
            "is a version 6 lock file",
        ),
        (
            good.replace("\"version\": 7", "\"version\": 8"),
            "is a version 8 lock file",
        ),
        (
            good.replace("\"app\": \"app\"", "\"app\": \"gone\""),
            "the node `gone` is missing",
        ),
        ("[]".into(), "it has no lock file `version`"),
    ];
    for (text, said) in cases {
        env.write(&lock_file, &text);
        let out = env.run(&["check", dir.to_str().unwrap()], "");
        assert_clean_failure(&out, 1);
        let err = stderr(&out);
        assert!(
            err.contains(&lock_file.display().to_string()) && err.contains(said),
            "{err}"
        );
    }
    // Over 16 MiB: refused before it is read, even though it is a valid lock file.
    let padding = " ".repeat(16 << 20);
    env.write(&lock_file, &good.replacen('{', &format!("{{{padding}"), 1));
    let out = env.run(&["check", lock_file.to_str().unwrap()], "");
    assert_clean_failure(&out, 1);
    assert!(
        stderr(&out).contains("larger than 16 MiB"),
        "{}",
        stderr(&out)
    );
    assert!(github.requests().is_empty(), "{:?}", github.requests());

    // No lock file: run `nix flake lock` once; no flake at all: say what to give.
    std::fs::remove_file(&lock_file).unwrap();
    env.write(&dir.join("flake.nix"), "{ outputs = _: { }; }\n");
    let out = env.run(&["check", dir.to_str().unwrap()], "");
    assert_clean_failure(&out, 1);
    assert!(
        stderr(&out).contains("has no flake.lock yet; run `nix flake lock` there once"),
        "{}",
        stderr(&out)
    );
    let out = env.run(&["check", env.home.to_str().unwrap()], "");
    assert_clean_failure(&out, 1);
    assert!(
        stderr(&out).contains("holds no flake.nix"),
        "{}",
        stderr(&out)
    );
}
