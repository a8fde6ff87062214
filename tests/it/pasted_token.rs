//! A token pasted where the host belongs (`access-tokens = ghp_…=`, a netrc `machine glpat-…`):
//! `status` (table and JSON) and `check` show it only masked, nothing contacts it (not even the
//! address remembered for it), `git-credential --install` never puts it in git's configuration,
//! and each says in one sentence which line of which file to fix.

use std::os::unix::fs::PermissionsExt;

use serde_json::{Value, json};

use crate::support::fake_forge::{self, Reply};
use crate::support::flake_lock;
use crate::support::*;

const PASTED: &str = "ghp_pastedpastedpasted0123456789AB";
const PASTED_GL: &str = "glpat-pastedgitlab0123456789";
const REAL: &str = "ghp_realrealrealreal0123456789abcd";

/// nix.conf reads the token file, whose line 2 holds a real pair and a pasted token as a key.
fn with_pasted_key(env: &TestEnv) {
    env.write(&env.nix_conf(), "!include access-tokens.conf\n");
    env.write(
        &env.token_file(),
        &format!("# tokens\naccess-tokens = github.com={REAL} {PASTED}=\n"),
    );
    std::fs::set_permissions(env.token_file(), std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// `text` says in one sentence which line of which file to fix, with the key masked.
fn the_fix_is_named(err: &str, env: &TestEnv) {
    let line = format!("{} line 2", env.token_file().display());
    assert!(
        err.contains(&line),
        "the sentence names the file and line:\n{err}"
    );
    assert!(err.contains("ghp_****AB=…"), "{err}");
    assert!(err.contains("HOST=TOKEN"), "{err}");
}

#[test]
fn status_masks_a_pasted_token_and_never_contacts_it() {
    let env = TestEnv::new();
    with_pasted_key(&env);
    env.write(
        &env.etc.join("netrc"),
        &format!("machine {PASTED_GL} password x\n"),
    );
    // Even an address remembered for the key is not asked.
    let forge = fake_forge::FakeServer::start(|_| Reply::json(200, json!({"login": "x"})));
    let github = fake_forge::github(REAL, "repo");
    let hosts = json!({"hosts": {
        PASTED: {"provider": "github", "base_url": forge.url},
        "github.com": {"provider": "github", "base_url": github.url},
    }});
    let hosts_file = env.config_dir().join(".nix-tokens-hosts.json");
    env.write(&hosts_file, &hosts.to_string());
    std::fs::set_permissions(&hosts_file, std::fs::Permissions::from_mode(0o600)).unwrap();

    let out = env.run(&["status", "--json"], "");
    assert_no_leak(&out, &[PASTED, PASTED_GL, REAL]);
    assert!(forge.requests().is_empty(), "a pasted token was contacted");
    let rows: Value = serde_json::from_slice(&out.stdout).expect("status prints JSON");
    let row = |host: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["host"] == host)
            .unwrap_or_else(|| panic!("no row {host}: {rows:#}"))
            .clone()
    };
    assert_eq!(row("github.com")["status"], "valid");
    for masked in ["ghp_****AB", "glpat-****89"] {
        assert_eq!(row(masked)["status"], "invalid", "{rows:#}");
    }
    the_fix_is_named(row("ghp_****AB")["message"].as_str().unwrap(), &env);
    let netrc_message = row("glpat-****89")["message"].as_str().unwrap().to_owned();
    assert!(
        netrc_message.contains("(machine glpat-****89)"),
        "{netrc_message}"
    );
    assert_eq!(out.status.code(), Some(3), "a broken line is an error");

    let out = env.run(&["status", "--offline"], "");
    assert_no_leak(&out, &[PASTED, PASTED_GL, REAL]);
    let table = stdout(&out);
    assert!(
        table.lines().any(|l| l.starts_with("ghp_****AB ")),
        "{table}"
    );
    the_fix_is_named(&table, &env);
}

#[test]
fn check_uses_no_pasted_token_and_says_which_line_to_fix() {
    let env = TestEnv::new();
    with_pasted_key(&env);
    let dir = env.root.join("flake");
    let lock = flake_lock::lock(
        json!({"app": "app"}),
        json!({"app": flake_lock::github("owner", "repo", None)}),
    );
    env.write(&dir.join("flake.lock"), &lock);
    let out = env
        .cmd()
        .args(["check", "--offline", "--json"])
        .arg(&dir)
        .env("GIT_CONFIG_GLOBAL", env.root.join("gitconfig"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert_no_leak(&out, &[PASTED, REAL]);
    assert_success(&out);
    the_fix_is_named(&stderr(&out), &env);
}

#[test]
fn git_credential_install_never_adds_a_pasted_token() {
    if program("git", "git").is_none() {
        return;
    }
    let env = TestEnv::new();
    with_pasted_key(&env);
    let gitconfig = env.root.join("gitconfig");
    let out = env
        .cmd()
        .args(["git-credential", "--install"])
        .env("GIT_CONFIG_GLOBAL", &gitconfig)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert_success(&out);
    assert_no_leak(&out, &[PASTED, REAL]);
    let config = read(&gitconfig);
    assert!(config.contains("https://github.com"), "{config}");
    assert!(
        !config.contains("pasted"),
        "a token went into git's configuration:\n{config}"
    );
    the_fix_is_named(&stderr(&out), &env);
}

#[test]
fn logout_shows_a_pasted_token_only_masked_and_revokes_nothing_there() {
    let env = TestEnv::new();
    with_pasted_key(&env);
    // Without a host and without a terminal, the hosts to choose from are listed: masked.
    let out = env.run(&["logout"], "");
    assert_clean_failure(&out, 2);
    assert_no_leak(&out, &[PASTED, REAL]);
    assert!(stderr(&out).contains("ghp_****AB"), "{}", stderr(&out));

    let forge = fake_forge::FakeServer::start(|_| Reply::json(200, json!({})));
    let hosts = json!({"hosts": {PASTED: {"provider": "github", "base_url": forge.url}}});
    env.write(
        &env.config_dir().join(".nix-tokens-hosts.json"),
        &hosts.to_string(),
    );
    let out = env.run(&["logout", "--all", "--force", "--revoke"], "");
    assert_no_leak(&out, &[PASTED, REAL]);
    assert!(forge.requests().is_empty(), "a pasted token was sent");
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert!(said.contains("ghp_****AB"), "{said}");
    assert!(!read(&env.token_file()).contains("pasted"));
}

/// A token given where the host goes is refused before it is written anywhere, whatever its
/// shape: a known prefix, a long hex string, or a whole URL with a token in it.
#[test]
fn set_token_refuses_a_token_as_its_host() {
    let hex = "0123456789abcdef0123456789abcdef01234567";
    let url = "https://oauth2:glpat-pastedgitlab0123456789@gitlab.com";
    for host in [PASTED, hex, url, "aB3dE5gH7jK9mN1pQ3sT5vW7"] {
        let env = TestEnv::new();
        let before = env.snapshot();
        let out = env.run(&["set-token", host], "sometoken0123456789\n");
        assert_clean_failure(&out, 2);
        assert_no_leak(&out, &[host, "pastedgitlab"]);
        assert!(
            stderr(&out).contains("looks like a token"),
            "{}",
            stderr(&out)
        );
        assert_eq!(env.snapshot(), before);
    }
}
