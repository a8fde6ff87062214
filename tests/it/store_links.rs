//! A token file or netrc that is a link into the Nix store (home-manager's `xdg.configFile` or
//! `home.file`) is left alone as a store-linked nix.conf is: never rewritten, never made 0600, and
//! the user is told in one sentence which module option owns it.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::support::*;

const GH: &str = "ghp_abcdefghijklmnopqrstuvwxyz0123456789";
const FORGEJO: &str = "forgejotokenabcdef123456";

/// A read-only file in the test's store, holding `contents`, linked from `link`.
fn store_link(env: &TestEnv, link: &Path, name: &str, contents: &str) -> PathBuf {
    let target = env
        .store
        .join(format!("0123456789abcdfghijklmnpqrsvwxyz-{name}"));
    env.write(&target, contents);
    fs::set_permissions(&target, fs::Permissions::from_mode(0o444)).unwrap();
    fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(&target, link).unwrap();
    target
}

#[test]
fn a_token_file_linked_into_the_store_is_left_alone() {
    let env = TestEnv::new();
    env.write(&env.nix_conf(), "!include access-tokens.conf\n");
    let held = "access-tokens = gitlab.com=PAT:glpat-abcdefghijklmnopqrst\n";
    let target = store_link(&env, &env.token_file(), "access-tokens.conf", held);
    let before = env.snapshot();
    let out = env.run(&["set-token", "github.com"], &format!("{GH}\n"));
    assert_clean_failure(&out, 1);
    assert_no_leak(&out, &[GH, "glpat-abcdefghijklmnopqrst"]);
    let err = stderr(&out);
    assert!(err.contains("managed by Nix"), "{err}");
    assert!(
        err.contains(&env.token_file().display().to_string()),
        "{err}"
    );
    assert!(
        err.contains(r#"xdg.configFile."nix/access-tokens.conf""#),
        "{err}"
    );
    assert_eq!(read(&target), held);
    assert_eq!(mode(&target), 0o444);
    assert_eq!(env.snapshot(), before, "nothing changed");
}

#[test]
fn logging_out_of_a_token_in_a_store_linked_token_file_changes_nothing() {
    let env = TestEnv::new();
    env.write(&env.nix_conf(), "!include access-tokens.conf\n");
    let held = format!("access-tokens = github.com={GH}\n");
    let target = store_link(&env, &env.token_file(), "access-tokens.conf", &held);
    let before = env.snapshot();
    let out = env.run(&["logout", "github.com", "--yes"], "");
    assert_clean_failure(&out, 1);
    assert_no_leak(&out, &[GH]);
    assert!(
        stderr(&out).contains(r#"xdg.configFile."nix/access-tokens.conf""#),
        "{}",
        stderr(&out)
    );
    assert_eq!(read(&target), held);
    assert_eq!(mode(&target), 0o444);
    assert_eq!(env.snapshot(), before);
}

#[test]
fn a_netrc_linked_into_the_store_is_left_alone() {
    let env = TestEnv::new();
    let netrc = env.home.join(".netrc");
    env.write(
        &env.nix_conf(),
        &format!("netrc-file = {}\n", netrc.display()),
    );
    let held = "machine cache.example.org password cachetoken\n";
    let target = store_link(&env, &netrc, "netrc", held);
    let before = env.snapshot();
    let out = env.run(&["set-token", "codeberg.org"], &format!("{FORGEJO}\n"));
    assert_clean_failure(&out, 1);
    assert_no_leak(&out, &[FORGEJO, "cachetoken"]);
    let err = stderr(&out);
    assert!(err.contains(&netrc.display().to_string()), "{err}");
    assert!(err.contains(r#"home.file.".netrc""#), "{err}");
    assert_eq!(read(&target), held);
    assert_eq!(mode(&target), 0o444);
    assert_eq!(env.snapshot(), before);
}

#[test]
fn a_store_linked_token_file_is_never_made_private_behind_the_users_back() {
    // The token file is not written (the token goes to a netrc of the user's), but it is still
    // not chmodded.
    let env = TestEnv::new();
    let netrc = env.root.join("my-netrc");
    env.write(
        &env.nix_conf(),
        &format!(
            "!include access-tokens.conf\nnetrc-file = {}\n",
            netrc.display()
        ),
    );
    let target = store_link(
        &env,
        &env.token_file(),
        "access-tokens.conf",
        "max-jobs = 2\n",
    );
    let out = env.run(&["set-token", "codeberg.org"], &format!("{FORGEJO}\n"));
    assert_success(&out);
    assert!(read(&netrc).contains(FORGEJO));
    assert_eq!(mode(&target), 0o444);
    assert_eq!(read(&target), "max-jobs = 2\n");
}
