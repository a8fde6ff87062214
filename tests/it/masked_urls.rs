//! Credentials inside URLs (a password in the user part, a credential-looking query value such as
//! `?token=` or `?private_token=`) are masked in every URL nix-tokens prints, puts in JSON, or
//! writes to a GitHub Actions step summary or annotation: `status`, `status --json`, `check`.

use serde_json::json;

use crate::support::fake_forge::{FakeServer, Reply};
use crate::support::flake_lock::{self as fl, lock};
use crate::support::*;

const SECRETS: [&str; 4] = [
    "userinfoSECRET1",
    "queryTOKEN2",
    "privateTOKEN3",
    "lockPASSWORD4",
];

fn assert_no_secret(what: &str, text: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "{what} shows {secret}:\n{text}");
    }
}

#[test]
fn status_masks_credentials_in_substituter_urls_everywhere_it_shows_them() {
    let env = TestEnv::new();
    env.write(
        &env.nix_conf(),
        "extra-substituters = https://ci:userinfoSECRET1@cache.example/x https://c.example/?priority=30&token=queryTOKEN2\n",
    );
    let summary = env.root.join("summary.md");
    for args in [
        &["status", "--offline"][..],
        &["status", "--offline", "--json"],
    ] {
        let out = env
            .cmd()
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_STEP_SUMMARY", &summary)
            .args(args)
            .output()
            .unwrap();
        let all = format!("{}{}", stdout(&out), stderr(&out));
        assert_no_secret(&args.join(" "), &all);
        assert!(all.contains("cache.example"), "{all}");
        assert!(all.contains("https://ci:****@cache.example/x"), "{all}");
        assert!(all.contains("priority=30&token=****"), "{all}");
    }
    let json: serde_json::Value = serde_json::from_str(&stdout(
        &env.cmd()
            .args(["status", "--offline", "--json"])
            .output()
            .unwrap(),
    ))
    .unwrap();
    let urls: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["url"].as_str())
        .collect();
    assert_eq!(
        urls,
        [
            "https://ci:****@cache.example/x",
            "https://c.example/?priority=30&token=****"
        ]
    );
    // The priority a query gives is still read.
    assert!(
        json.as_array()
            .unwrap()
            .iter()
            .any(|r| r["priority"] == json!(30)),
        "{json}"
    );
    assert_no_secret("the step summary", &read(&summary));
    assert!(read(&summary).contains("token=****"), "{}", read(&summary));
}

#[test]
fn check_masks_query_credentials_and_passwords_in_lock_file_urls() {
    let env = TestEnv::new();
    let files = FakeServer::start(|_| Reply::html(404, "not found"));
    let text = lock(
        json!({"archive": "archive", "repo": "repo", "file": "file"}),
        json!({
            "archive": fl::download(
                "tarball",
                &format!("{}/api/v4/projects/1/repository/archive.tar.gz?sha=main&private_token=privateTOKEN3", files.url),
            ),
            "file": fl::download("file", &format!("{}/f.txt?Token=queryTOKEN2", files.url)),
            "repo": fl::git(&format!("http://me:lockPASSWORD4@{}/repo.git", &files.url["http://".len()..])),
        }),
    );
    let dir = env.root.join("flake");
    env.write(&dir.join("flake.lock"), &text);
    env.write(&dir.join("flake.nix"), "{ outputs = _: { }; }\n");
    let summary = env.root.join("summary.md");
    for json_out in [false, true] {
        let mut cmd = env.cmd();
        cmd.env("GITHUB_ACTIONS", "true")
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("NIX_TOKENS_HTTP_TIMEOUT", "2")
            .arg("check")
            .arg(&dir);
        if json_out {
            cmd.arg("--json");
        }
        let out = cmd.output().unwrap();
        let all = format!("{}{}", stdout(&out), stderr(&out));
        assert_no_secret("check", &all);
        assert!(all.contains("private_token=****"), "{all}");
        assert!(all.contains("Token=****"), "{all}");
        assert!(all.contains("me:****@"), "{all}");
    }
    assert_no_secret("the step summary", &read(&summary));
}
