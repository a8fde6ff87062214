//! The lines nix-tokens writes into Nix's files read back as meant: only `access-tokens` and
//! `extra-access-tokens` lines hold tokens (a value with `=` on any other line stays as it was),
//! and a path written into a `netrc-file` line is one Nix reads back identically, or refused
//! before anything changes. Each test that asks Nix runs once against each Nix found.

use std::collections::BTreeMap;
use std::path::Path;

use crate::support::nix::Nix;
use crate::support::*;

crate::each_nix!(
    a_setting_with_equals_in_the_token_file_stays_as_it_is,
    a_config_directory_named_with_equals_keeps_its_netrc_file_line,
    a_netrc_path_with_a_space_reads_back_identically,
    a_github_token_needs_no_path_so_a_hash_in_the_directory_is_fine,
    nix_cuts_a_netrc_file_path_at_a_hash,
);

const GITHUB: &str = "ghp_abcdefghijklmnopqrstuvwxyz0123456789";
const FORGEJO: &str = "forgejotoken0123456789abcdef";

fn only(key: &str, token: &str) -> BTreeMap<String, String> {
    BTreeMap::from([(key.to_owned(), token.to_owned())])
}

fn run_in(env: &TestEnv, conf: &Path, args: &[&str], stdin: &str) -> std::process::Output {
    let mut all = vec!["--config", conf.to_str().unwrap()];
    all.extend_from_slice(args);
    env.run(&all, stdin)
}

fn a_setting_with_equals_in_the_token_file_stays_as_it_is(nix: &Nix) {
    let env = TestEnv::new();
    let substituters = "substituters = https://cache.example/?priority=10\n";
    env.write(&env.nix_conf(), "!include access-tokens.conf\n");
    env.write(&env.token_file(), substituters);
    env.set_token("github.com", GITHUB);

    let file = read(&env.token_file());
    assert!(file.starts_with(substituters), "{file}");
    let token_lines: Vec<&str> = file
        .lines()
        .filter(|l| l.contains("access-tokens"))
        .collect();
    assert_eq!(
        token_lines,
        [format!("extra-access-tokens = github.com={GITHUB}")]
    );
    let config = nix.config(&env);
    assert_eq!(nix_access_tokens(&config), only("github.com", GITHUB));
    assert_eq!(
        config["substituters"]["value"],
        serde_json::json!(["https://cache.example/?priority=10"])
    );

    // A second change keeps it so.
    env.set_token("gitlab.com", "glpat-abcdefghijklmnopqrst");
    assert!(read(&env.token_file()).starts_with(substituters));
    assert!(
        !nix_access_tokens(&nix.config(&env))
            .keys()
            .any(|k| k.contains("cache"))
    );
}

fn a_config_directory_named_with_equals_keeps_its_netrc_file_line(nix: &Nix) {
    let env = TestEnv::new();
    let dir = env.root.join("a=b");
    let conf = dir.join("nix.conf");
    env.write(&conf, "");
    for (host, provider, token) in [
        ("codeberg.org", "forgejo", FORGEJO),
        ("github.com", "github", GITHUB),
    ] {
        let out = run_in(
            &env,
            &conf,
            &["set-token", host, "--provider", provider],
            &format!("{token}\n"),
        );
        assert_success(&out);
    }
    let netrc = dir.join("netrc");
    let file = read(&dir.join("access-tokens.conf"));
    assert!(
        file.contains(&format!("\nnetrc-file = {}\n", netrc.display())),
        "{file}"
    );
    let config = nix.config_of(&env, &conf);
    assert_eq!(nix_access_tokens(&config), only("github.com", GITHUB));
    assert_eq!(config["netrc-file"]["value"], netrc.display().to_string());
}

fn a_netrc_path_with_a_space_reads_back_identically(nix: &Nix) {
    let env = TestEnv::new();
    let dir = env.root.join("my nix");
    let conf = dir.join("nix.conf");
    env.write(&conf, "");
    let out = run_in(
        &env,
        &conf,
        &["set-token", "codeberg.org", "--provider", "forgejo"],
        &format!("{FORGEJO}\n"),
    );
    assert_success(&out);
    let config = nix.config_of(&env, &conf);
    assert_eq!(
        config["netrc-file"]["value"],
        dir.join("netrc").display().to_string()
    );
}

fn a_github_token_needs_no_path_so_a_hash_in_the_directory_is_fine(nix: &Nix) {
    let env = TestEnv::new();
    let conf = env.root.join("x#y").join("nix.conf");
    env.write(&conf, "");
    let out = run_in(
        &env,
        &conf,
        &["set-token", "github.com"],
        &format!("{GITHUB}\n"),
    );
    assert_success(&out);
    let config = nix.config_of(&env, &conf);
    assert_eq!(nix_access_tokens(&config), only("github.com", GITHUB));
}

/// Why such a path is refused: Nix itself reads the line only up to the `#`.
fn nix_cuts_a_netrc_file_path_at_a_hash(nix: &Nix) {
    let env = TestEnv::new();
    let netrc = env.root.join("x#y").join("netrc");
    env.write(
        &env.nix_conf(),
        &format!("netrc-file = {}\n", netrc.display()),
    );
    let config = nix.config(&env);
    assert_eq!(
        config["netrc-file"]["value"],
        env.root.join("x").display().to_string()
    );
}

/// Nix reads `netrc-file` only up to a `#`, and nothing in its syntax escapes one: such a netrc
/// path is refused in one sentence that names it, before any file changes.
#[test]
fn a_netrc_path_with_a_hash_is_refused_and_nothing_changes() {
    let env = TestEnv::new();
    let dir = env.root.join("x#y");
    let conf = dir.join("nix.conf");
    env.write(&conf, "max-jobs = 2\n");
    env.write(
        &dir.join("access-tokens.conf"),
        "access-tokens = github.com=ghp_keepkeepkeepkeep\n",
    );
    let before = env.snapshot();
    let out = run_in(
        &env,
        &conf,
        &["set-token", "codeberg.org", "--provider", "forgejo"],
        &format!("{FORGEJO}\n"),
    );
    assert_clean_failure(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains(&dir.join("netrc").display().to_string()),
        "{err}"
    );
    assert!(err.contains('#'), "{err}");
    assert_no_leak(&out, &[FORGEJO, "ghp_keepkeepkeepkeep"]);
    assert_eq!(
        env.snapshot(),
        before,
        "a refused change must leave every file"
    );
}

/// When nix.conf cannot be edited, the NixOS line to add names the token file by its absolute
/// path, which an include line cannot hold when it has a space: the user is told so instead.
#[test]
fn no_include_line_is_suggested_that_nix_would_misread() {
    let env = TestEnv::new();
    let dir = env.root.join("my nix");
    let conf = dir.join("nix.conf");
    let target = env.store.join("0123456789abcdfghijklmnpqrsvwxyz-nix.conf");
    env.write(&target, "max-jobs = 2\n");
    std::fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink(&target, &conf).unwrap();
    let out = run_in(
        &env,
        &conf,
        &["set-token", "github.com"],
        &format!("{GITHUB}\n"),
    );
    assert_success(&out);
    let err = stderr(&out);
    assert!(
        err.contains(r#"nix.extraOptions = "!include access-tokens.conf";"#),
        "{err}"
    );
    assert!(!err.contains("!include /"), "{err}");
    assert!(err.contains("no include line can name"), "{err}");
    assert_eq!(read(&target), "max-jobs = 2\n");
}
