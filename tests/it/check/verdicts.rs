//! Every input type against fake GitHub, GitLab and Gitea forges and a file server on 127.0.0.1
//! that the test's hosts were logged in to: each verdict, reason and fix, the table, the exit
//! codes, `--offline`, and a token refused or without the scope Nix's fetcher needs.

use serde_json::{Value, json};

use super::{FILES, GH, GITEA, GL, assert_row, check, flake, port_of, row};
use crate::support::fake_forge::{FakeServer, Reply};
use crate::support::fake_repos::{self, Holdings};
use crate::support::flake_lock::{self as fl, lock};
use crate::support::*;

/// Forges on 127.0.0.1 that the test's hosts were logged in to.
struct Forges {
    github: FakeServer,
    gitlab: FakeServer,
    gitea: FakeServer,
    files: FakeServer,
    _objects: FakeServer,
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
    // Another origin (`localhost`, another port) that `/moved/…` redirects to, holding the files.
    let objects = FakeServer::start(|_| Reply {
        status: 200,
        headers: vec![("Content-Type".into(), "application/x-gzip".into())],
        body: "tarball!!".into(),
    });
    let elsewhere = format!("http://localhost:{}", port_of(&objects));
    let files = fake_repos::files("me", FILES, &["public.tar.gz"], &elsewhere);
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
        _objects: objects,
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

/// Each input of [`every_kind`]: its verdict, words of its reason, and its fix.
const EXPECTED: [(&str, &str, &str, Option<&str>); 17] = [
    ("app", "ok", "private; the token can read it", None),
    ("docs", "ok", "public", None),
    (
        "secret",
        "fails",
        "the token cannot read it",
        Some("nix-tokens login github.com --owner other"),
    ),
    ("proj", "ok", "private; the token can read it", None),
    ("open", "ok", "public", None),
    (
        "closed",
        "fails",
        "the token cannot read it",
        Some("nix-tokens login gitlab.corp.example --owner team"),
    ),
    // git asks nix-tokens, which answers with the netrc token the Gitea API accepts.
    ("forge-src", "ok", "private; the token can read it", None),
    (
        "tools",
        "ok",
        "the netrc entry reads it; netrc login me",
        None,
    ),
    ("public", "ok", "the netrc entry reads it", None),
    ("blob", "ok", "the netrc entry reads it", None),
    ("moved", "ok", "redirects to localhost:", None),
    (
        "anon",
        "fails",
        "private and no token",
        Some("nix-tokens set-token localhost --netrc"),
    ),
    ("local", "skipped", "a local path: not checked", None),
    ("local/extra", "ok", "the netrc entry reads it", None),
    (
        "registry",
        "skipped",
        "flake registry (locked to github:NixOS/nixpkgs/",
        None,
    ),
    ("ssh", "skipped", "SSH keys: not checked", None),
    (
        "srht",
        "skipped",
        "cannot ask sourcehut about repositories",
        None,
    ),
];

#[test]
fn every_input_type_gets_its_verdict_and_fix() {
    if program("git", "git").is_none() {
        return;
    }
    let env = TestEnv::new();
    let f = forges(&env);
    let dir = flake(&env, &every_kind(&f));
    let (code, rows, err) = check(&env, &[&dir]);
    assert_eq!(code, Some(3), "{rows:#?}\n{err}");

    // The root's inputs in order, then the transitive one by its path; follows add nothing.
    let names: Vec<&str> = rows.iter().map(|r| r["input"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 17, "{names:?}");
    assert_eq!(names[16], "local/extra");
    let keys = [
        "input",
        "type",
        "url",
        "credential",
        "source",
        "verdict",
        "reason",
        "fix",
    ];
    for r in &rows {
        assert_eq!(r.as_object().unwrap().keys().collect::<Vec<_>>(), keys);
    }
    let app = row(&rows, "app");
    let token_file = json!(env.token_file().display().to_string());
    assert_eq!(
        (&app["type"], &app["url"]),
        (&json!("github"), &json!("github:corp/app"))
    );
    assert_eq!(
        (&app["credential"], &app["source"]),
        (&json!("ghp_****ef"), &token_file)
    );
    assert_eq!(row(&rows, "proj")["credential"], "PAT:glpat-****45");
    let src = row(&rows, "forge-src");
    assert_eq!(
        src["url"],
        "git+https://git.corp.example/org/repo.git?ref=main"
    );
    assert_eq!(src["source"], json!(env.netrc().display().to_string()));
    assert_eq!(
        row(&rows, "blob")["url"],
        json!(format!("file+{}/no-head/blob.json", f.files.url))
    );
    assert_eq!(row(&rows, "anon")["credential"], Value::Null);

    for (input, verdict, reason, fix) in EXPECTED {
        assert_row(&rows, input, verdict, reason, fix);
    }
    tokens_stayed_home(&f);
}

/// Each token went to its own host only, and a request without a token carried none.
fn tokens_stayed_home(f: &Forges) {
    let sent = |server: &FakeServer| -> Vec<String> {
        let requests = server.requests();
        requests
            .into_iter()
            .flat_map(|r| r.headers.into_iter().map(|(_, v)| v))
            .collect()
    };
    let own = [
        (&f.github, GH),
        (&f.gitlab, GL),
        (&f.gitea, GITEA),
        (&f.files, FILES),
    ];
    for (server, own) in own {
        for other in [GH, GL, GITEA].into_iter().filter(|t| *t != own) {
            let leaked = sent(server).iter().any(|h| h.contains(other));
            assert!(!leaked, "{other} went to {}", server.url);
        }
    }
    let to_localhost = f
        .files
        .requests()
        .into_iter()
        .filter(|r| r.header("host").is_some_and(|h| h.starts_with("localhost")));
    assert!(
        to_localhost
            .into_iter()
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
