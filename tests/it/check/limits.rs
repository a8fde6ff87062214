//! GitHub's 60 anonymous requests an hour, shared by the `github:` inputs on github.com without a
//! token; and lock files `check` refuses, with one sentence naming them and nothing fetched.

use serde_json::{Value, json};

use super::{assert_row, check, flake};
use crate::support::fake_repos::{self, Holdings};
use crate::support::flake_lock::{self as fl, lock};
use crate::support::*;

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

#[test]
fn netrc_s_default_entry_is_never_sent() {
    let env = TestEnv::new();
    let secret = "defaultnetrcpassword0123";
    let files = fake_repos::files(
        "anon",
        secret,
        &["public.tar.gz"],
        "https://elsewhere.example",
    );
    // The system netrc (`$NIX_CONF_DIR/netrc`), whose `default` entry curl sends to any host.
    let netrc = env.etc.join("netrc");
    env.write(&netrc, &format!("default login anon password {secret}\n"));
    let at = |name: &str| format!("{}/files/{name}", files.url);
    let dir = flake(
        &env,
        &lock(
            json!({"open": "open", "closed": "closed"}),
            json!({"open": fl::download("tarball", &at("public.tar.gz")),
                   "closed": fl::download("tarball", &at("private.tar.gz"))}),
        ),
    );
    let out = env.run(&["check", "--json", &dir], "");
    assert_no_leak(&out, &[secret]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert_row(rows, "open", "ok", "public", None);
    assert_row(rows, "closed", "skipped", "`default` entry", None);
    let closed = super::row(rows, "closed");
    assert_eq!(closed["credential"], "****23");
    assert_eq!(closed["source"], json!(netrc.display().to_string()));
    let requests = files.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests.iter().all(|r| r.header("authorization").is_none()));
}

#[test]
fn owners_and_repositories_nix_would_not_name_are_never_asked_about() {
    let env = TestEnv::new();
    let token = super::GH;
    let github = fake_repos::github(
        Holdings::new(&[("corp/app", false)], &[(token, "corp")]),
        60,
    );
    env.login_with_token("github.com", "github", &github.url, token);
    let before = github.requests().len();
    // `%2e%2e` is `..` to a URL parser (WHATWG's folding), so `repos/%2e%2e/user` would be an
    // authenticated `GET /api/v3/user`; the others leave their path segment another way.
    let bad = [
        ("dots", "%2e%2e", "user"),
        ("dot", "corp", "%2E"),
        ("mixed", ".%2e", "user"),
        ("slash", "corp%2F..", "user"),
        ("query", "corp", "app%3Fx=1"),
    ];
    let mut roots = serde_json::Map::new();
    let mut nodes = serde_json::Map::new();
    for (name, owner, repo) in bad {
        roots.insert(name.into(), json!(name));
        nodes.insert(name.into(), fl::github(owner, repo, None));
    }
    roots.insert("app".into(), json!("app"));
    nodes.insert("app".into(), fl::github("corp", "app", None));
    let mut bad_ref = fl::github("corp", "app", None);
    bad_ref["original"]["ref"] = json!("../../user");
    roots.insert("badref".into(), json!("badref"));
    nodes.insert("badref".into(), bad_ref);
    let dir = flake(&env, &lock(Value::Object(roots), Value::Object(nodes)));
    let (_, rows, _) = check(&env, &[&dir]);
    assert_row(&rows, "app", "ok", "private; the token can read it", None);
    for name in ["dots", "dot", "mixed", "slash", "query", "badref"] {
        assert_row(&rows, name, "skipped", "invalid", None);
    }
    let asked: Vec<String> = github.requests()[before..]
        .iter()
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(asked, ["/api/v3/repos/corp/app"], "{asked:?}");
}

#[test]
fn a_note_five_inputs_share_is_printed_once_after_the_table() {
    let env = TestEnv::new();
    let names = ["one", "two", "three", "four", "five"];
    let owners: Vec<String> = names.iter().map(|n| format!("o/{n}")).collect();
    let held: Vec<(&str, bool)> = owners.iter().map(|o| (o.as_str(), true)).collect();
    let github = fake_repos::github(Holdings::new(&held, &[]), 60);
    env.write(
        &env.config_dir().join(".nix-tokens-hosts.json"),
        &json!({"hosts": {"github.com": {"provider": "github", "base_url": github.url}}})
            .to_string(),
    );
    let roots: serde_json::Map<String, Value> =
        names.iter().map(|n| (n.to_string(), json!(n))).collect();
    let nodes: serde_json::Map<String, Value> = names
        .iter()
        .map(|n| (n.to_string(), fl::github("o", n, None)))
        .collect();
    let dir = flake(&env, &lock(Value::Object(roots), Value::Object(nodes)));
    let note = "no token: 5 github: input(s) on github.com share the 60 API requests an hour GitHub allows without one";

    let out = env.run(&["check", &dir], "");
    assert_success(&out);
    let table = stdout(&out);
    assert_eq!(table.matches(note).count(), 1, "{table}");
    // Each input keeps its line and its own reason; the shared note follows the table once,
    // below the names of the inputs it is about (in the table's order).
    let lines: Vec<&str> = table.lines().collect();
    for name in names {
        let at = lines
            .iter()
            .position(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no line for {name}:\n{table}"));
        assert!(lines[at].contains(" ok "), "{table}");
        assert!(lines[at + 1].starts_with("  public"), "{table}");
        assert!(!lines[at + 1].contains("no token"), "{table}");
    }
    let named = lines
        .iter()
        .position(|l| *l == "five, four, one, three, two:")
        .unwrap_or_else(|| panic!("the shared note names its inputs:\n{table}"));
    assert!(
        named > lines.iter().position(|l| l.starts_with("two ")).unwrap(),
        "{table}"
    );
    assert!(
        lines[named + 1].starts_with(&format!("  {note}")),
        "{table}"
    );

    // The JSON still gives each input its whole reason.
    let (code, rows, _) = check(&env, &[&dir]);
    assert_eq!(code, Some(0), "{rows:#?}");
    for r in &rows {
        assert!(r["reason"].as_str().unwrap().contains(note), "{r:#}");
    }
}
