//! A nix.conf that must not be edited (a home-manager link into the Nix store, or a read-only
//! file) is left alone; the token file is still written and the user is told the line to add.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use crate::support::*;

const GH: &str = "ghp_abcdefghijklmnopqrstuvwxyz0123456789";

/// A home-manager style nix.conf: a read-only file in the store, linked from ~/.config/nix.
fn store_linked(env: &TestEnv, contents: &str) -> std::path::PathBuf {
    let target = env.store.join("0123456789abcdfghijklmnpqrsvwxyz-nix.conf");
    env.write(&target, contents);
    fs::set_permissions(&target, fs::Permissions::from_mode(0o444)).unwrap();
    std::os::unix::fs::symlink(&target, env.nix_conf()).unwrap();
    target
}

#[test]
fn a_store_link_is_untouched_and_the_user_gets_the_line_to_add() {
    let env = TestEnv::new();
    let target = store_linked(&env, "experimental-features = nix-command flakes\n");
    let out = env.set_token("github.com", GH);
    assert_no_leak(&out, &[GH]);
    let err = stderr(&out);
    assert!(
        err.contains(r#"nix.extraOptions = "!include access-tokens.conf";"#),
        "{err}"
    );
    assert!(err.contains("managed by Nix"), "{err}");
    assert!(
        !err.contains("will not use"),
        "one explanation is enough: {err}"
    );
    assert_eq!(
        read(&target),
        "experimental-features = nix-command flakes\n"
    );
    assert_eq!(fs::read_link(env.nix_conf()).unwrap(), target);
    assert!(read(&env.token_file()).contains(GH));
    let no_backups = fs::read_dir(env.config_dir())
        .unwrap()
        .all(|e| !e.unwrap().file_name().to_string_lossy().contains("backup"));
    assert!(no_backups);
}

#[test]
fn nothing_more_is_said_when_the_include_is_already_there() {
    let env = TestEnv::new();
    store_linked(&env, "!include access-tokens.conf\n");
    let out = env.set_token("github.com", GH);
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
}

#[test]
fn a_read_only_file_is_untouched() {
    let env = TestEnv::new();
    env.write(&env.nix_conf(), "max-jobs = 2\n");
    fs::set_permissions(env.nix_conf(), fs::Permissions::from_mode(0o444)).unwrap();
    let out = env.set_token("github.com", GH);
    assert!(stderr(&out).contains("is read-only"), "{}", stderr(&out));
    assert_eq!(read(&env.nix_conf()), "max-jobs = 2\n");
    assert_eq!(mode(&env.nix_conf()), 0o444);
    assert!(read(&env.token_file()).contains(GH));
}

#[test]
fn tokens_in_a_store_nix_conf_cannot_be_logged_out_and_it_says_where() {
    let env = TestEnv::new();
    let target = store_linked(
        &env,
        "access-tokens = github.com=ghp_INSTORExxxxxxxxxxxxxxxxxxx\n",
    );
    let before = env.snapshot();
    let out = env.run(&["logout", "github.com", "--yes"], "");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("cannot be edited"),
        "{}",
        stderr(&out)
    );
    assert_no_leak(&out, &["ghp_INSTORE"]);
    assert_eq!(env.snapshot(), before);
    assert!(read(&target).contains("ghp_INSTORE"));
}
