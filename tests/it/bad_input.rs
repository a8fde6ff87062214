//! Bad input gets one clear sentence, a non-zero exit, no token in the message, and no change
//! on disk.

use std::fs;

use crate::support::*;

const GH: &str = "ghp_abcdefghijklmnopqrstuvwxyz0123456789";

/// A home with a token and a nix.conf, so that "nothing changed" means something.
fn populated() -> TestEnv {
    let env = TestEnv::new();
    env.write(&env.nix_conf(), "# mine\nmax-jobs = 2\n");
    env.set_token("github.com", GH);
    env
}

#[test]
fn bad_tokens_change_nothing() {
    let env = populated();
    let before = env.snapshot();
    for bad in [
        "ghp_with space_inside",
        "ghp_has#hash1234567",
        "ghp_bell\u{7}char12345",
        "ghp_\"quoted\"1234567",
        "line1secretpart\nline2secretpart",
    ] {
        let out = env.run(
            &["set-token", "example.org", "--force"],
            &format!("{bad}\n"),
        );
        assert_clean_failure(&out, 2);
        assert!(stderr(&out).contains("refused"), "{}", stderr(&out));
        let secret_parts: Vec<&str> = bad
            .split(['\n', ' ', '#'])
            .filter(|p| p.len() > 6)
            .collect();
        assert_no_leak(&out, &secret_parts);
        assert_eq!(env.snapshot(), before, "after {bad:?}");
    }
    let out = env.run(&["set-token", "example.org"], "");
    assert_clean_failure(&out, 2);
    assert!(stderr(&out).contains("standard input"));
    assert_eq!(env.snapshot(), before);
}

#[test]
fn bad_hosts_change_nothing() {
    let env = populated();
    let before = env.snapshot();
    for bad in ["host=evil", "a host", "host#x", "user@host", ""] {
        let out = env.run(&["set-token", bad], &format!("{GH}\n"));
        assert_clean_failure(&out, 2);
        assert!(
            stderr(&out).contains("host argument is not valid"),
            "{}",
            stderr(&out)
        );
    }
    // A token pasted into the host argument is not repeated back.
    for command in ["set-token", "logout", "status"] {
        let out = env.run(&[command, "github.com=ghp_PASTEDpastedpasted1234"], "");
        assert_clean_failure(&out, 2);
        assert_no_leak(&out, &["ghp_PASTED"]);
    }
    // The token and the host swapped.
    let out = env.run(&["set-token", GH, "github.com"], "");
    assert_clean_failure(&out, 2);
    assert!(
        stderr(&out).contains("looks like a token"),
        "{}",
        stderr(&out)
    );
    assert_no_leak(&out, &[GH]);
    let out = env.run(&["set-token", "gitea"], &format!("{GH}\n"));
    assert_clean_failure(&out, 2);
    assert!(stderr(&out).contains("no default host"));
    let out = env.run(
        &["set-token", "x.org", "--provider", "bitbucket"],
        &format!("{GH}\n"),
    );
    assert_clean_failure(&out, 2);
    assert!(stderr(&out).contains("unknown provider"));
    assert_eq!(env.snapshot(), before);
}

#[test]
fn a_line_nix_would_reject_stops_every_change() {
    let env = TestEnv::new();
    let conf = "max-jobs = 2\naccess-tokens=github.com=ghp_NOSPACESxxxxxxxxxxxxxxx\n";
    env.write(&env.nix_conf(), conf);
    let before = env.snapshot();
    let out = env.run(&["set-token", "gitlab.com"], "glpat-abcdefghijklmnopqrst\n");
    assert_clean_failure(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("nix.conf line 2"), "{err}");
    assert!(err.contains("spaces around `=`"), "{err}");
    assert_no_leak(&out, &["ghp_NOSPACES", "glpat-abcdefghijklmnopqrst"]);
    assert_eq!(env.snapshot(), before);
    let out = env.run(&["status"], "");
    assert_clean_failure(&out, 1);
    assert_no_leak(&out, &["ghp_NOSPACES"]);
}

#[test]
fn unreadable_shapes_of_nix_conf_get_one_sentence() {
    // Not UTF-8.
    let env = TestEnv::new();
    fs::write(env.nix_conf(), b"max-jobs = 2\n# caf\xe9\n").unwrap();
    let before = env.snapshot();
    let out = env.run(&["set-token", "github.com"], &format!("{GH}\n"));
    assert_clean_failure(&out, 1);
    assert!(stderr(&out).contains("not valid UTF-8"), "{}", stderr(&out));
    assert_eq!(env.snapshot(), before);

    // A directory where nix.conf should be.
    let env = TestEnv::new();
    fs::create_dir_all(env.nix_conf()).unwrap();
    let out = env.run(&["set-token", "github.com"], &format!("{GH}\n"));
    assert_clean_failure(&out, 1);
    assert!(stderr(&out).contains("is a directory"), "{}", stderr(&out));
    assert!(!env.token_file().exists());

    // A dangling symlink.
    let env = TestEnv::new();
    std::os::unix::fs::symlink(env.root.join("gone.conf"), env.nix_conf()).unwrap();
    let out = env.run(&["set-token", "github.com"], &format!("{GH}\n"));
    assert_clean_failure(&out, 1);
    assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out));
    assert!(!env.token_file().exists());

    // A file far too large to be a nix.conf.
    let env = TestEnv::new();
    fs::write(env.nix_conf(), "# padding\n".repeat(1_100_000)).unwrap();
    let out = env.run(&["set-token", "github.com"], &format!("{GH}\n"));
    assert_clean_failure(&out, 1);
    assert!(stderr(&out).contains("larger than"), "{}", stderr(&out));
    assert!(!env.token_file().exists());
}

#[test]
fn includes_nix_skips_are_skipped() {
    // Nix accepts `include` of a dangling link and `!include` of a directory; so does status.
    let env = TestEnv::new();
    std::os::unix::fs::symlink(
        env.root.join("gone"),
        env.config_dir().join("dangling.conf"),
    )
    .unwrap();
    fs::create_dir_all(env.config_dir().join("dir.conf")).unwrap();
    env.write(
        &env.nix_conf(),
        "include dangling.conf\n!include dir.conf\naccess-tokens = a.org=tokentokentoken12\n",
    );
    let out = env.run(&["status", "--offline", "--json"], "");
    assert_success(&out);
    assert!(stdout(&out).contains("a.org"));
}

#[test]
fn an_include_loop_is_named() {
    let env = TestEnv::new();
    env.write(&env.nix_conf(), "!include a.conf\n");
    env.write(&env.config_dir().join("a.conf"), "!include nix.conf\n");
    let out = env.run(&["status", "--offline"], "");
    assert_clean_failure(&out, 1);
    assert!(stderr(&out).contains("loop"), "{}", stderr(&out));
}

#[test]
fn a_netrc_key_with_a_path_is_refused() {
    let env = TestEnv::new();
    let out = env.run(
        &["set-token", "codeberg.org/someone"],
        "tokentokentoken1234\n",
    );
    assert_clean_failure(&out, 2);
    assert!(
        stderr(&out).contains("one token per host"),
        "{}",
        stderr(&out)
    );
    assert!(!env.token_file().exists());
}
