//! `status --offline`: every token Nix will see, from which file, masked.

use crate::support::*;

const GH: &str = "ghp_abcdefghijklmnopqrstuvwxyz0123456789";

fn keys_of(json: &serde_json::Value) -> Vec<String> {
    json.as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] != "install")
        .map(|r| r["host"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn lists_every_token_nix_sees_masked_with_its_source() {
    let env = TestEnv::new();
    env.write(
        &env.etc.join("nix.conf"),
        "access-tokens = system.example=systemtoken1234567890\n",
    );
    env.set_token("github.com", GH);
    env.set_token("codeberg.org", "forgejotokenabcdef123456");
    let out = env.run(&["status", "--offline"], "");
    assert_success(&out);
    assert_no_leak(
        &out,
        &[GH, "forgejotokenabcdef123456", "systemtoken1234567890"],
    );
    let table = stdout(&out);
    assert!(table.contains("ghp_****89"), "{table}");
    assert!(
        table.contains(&env.token_file().display().to_string()),
        "{table}"
    );
    assert!(
        table.contains(&env.netrc().display().to_string()),
        "{table}"
    );
    assert!(!table.contains("not used by Nix"), "{table}");

    let out = env.run(&["status", "--offline", "--json"], "");
    assert_success(&out);
    assert_no_leak(&out, &[GH]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let first = &json[1];
    assert_eq!(first["host"], "github.com");
    assert_eq!(first["provider"], "github");
    assert_eq!(first["status"], "unverified");
    assert_eq!(first["token"], "ghp_****89");
    assert_eq!(first["source"], env.token_file().display().to_string());
    for key in ["user", "scopes", "expires_at", "message"] {
        assert!(first.get(key).is_some(), "missing {key}");
    }
    assert_eq!(
        keys_of(&json),
        ["system.example", "github.com", "codeberg.org"]
    );
}

#[test]
fn a_hidden_token_is_marked() {
    let env = TestEnv::new();
    env.write(
        &env.nix_conf(),
        "access-tokens = a.example=firsttoken123456\naccess-tokens = b.example=secondtoken12345\n",
    );
    let out = env.run(&["status", "--offline", "--json"], "");
    assert_success(&out);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(keys_of(&json), ["b.example", "a.example"]);
    assert_eq!(json[0]["message"], serde_json::Value::Null);
    let message = json[1]["message"].as_str().unwrap();
    assert!(
        message.starts_with("not used by Nix: overridden by"),
        "{message}"
    );
}

#[test]
fn filters_by_host_and_exits_non_zero_for_a_missing_one() {
    let env = TestEnv::new();
    env.set_token("github.com", GH);
    env.set_token("github.com/work", "ghp_WORKxxxxxxxxxxxxxxxxxxxxxxxxx");
    env.set_token("gitlab.com", "glpat-abcdefghijklmnopqrst");
    let out = env.run(&["status", "--offline", "--json", "github"], "");
    assert_success(&out);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(keys_of(&json), ["github.com", "github.com/work"]);

    let out = env.run(&["status", "--offline", "github.com", "example.org"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no token for example.org"));
}

#[test]
fn an_empty_setup_says_so() {
    let env = TestEnv::new();
    let out = env.run(&["status", "--offline", "--json"], "");
    assert_success(&out);
    assert_eq!(stdout(&out).trim(), "[]");
    let out = env.run(&["status"], "");
    assert_success(&out);
    assert!(stderr(&out).contains("no access tokens"));
}

#[test]
fn verbose_runs_never_print_a_token() {
    let env = TestEnv::new();
    env.write(
        &env.nix_conf(),
        &format!("access-tokens = github.com={GH}\n"),
    );
    for args in [
        &["-vvv", "status", "--offline"][..],
        &["-vvv", "status", "--offline", "--json"],
        &["-vvv", "set-token", "gitlab.com"],
        &["-vvv", "logout", "github.com", "--dry-run"],
        &["-vvv", "logout", "--all", "--yes"],
    ] {
        let out = env.run(args, "glpat-abcdefghijklmnopqrst\n");
        assert_success(&out);
        assert_no_leak(&out, &[GH, "glpat-abcdefghijklmnopqrst"]);
    }
}
