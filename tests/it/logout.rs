//! `logout` removes a host from every file nix-tokens manages, nix.conf's own tokens included.

use std::fs;

use crate::support::*;

const GH: &str = "ghp_abcdefghijklmnopqrstuvwxyz0123456789";

#[test]
fn logout_removes_the_host_everywhere_and_keeps_the_rest() {
    let env = TestEnv::new();
    env.write(
        &env.nix_conf(),
        "max-jobs = 2\nextra-access-tokens = github.com=ghp_INCONFxxxxxxxxxxxxxxxxxxxx\n",
    );
    env.set_token("gitlab.com", "glpat-abcdefghijklmnopqrst");
    env.set_token("codeberg.org", "forgejotokenabcdef123456");
    let out = env.run(&["logout", "github", "--yes"], "");
    assert_success(&out);
    assert_no_leak(&out, &["ghp_INCONF"]);
    let tokens = read(&env.token_file());
    assert!(!tokens.contains("github.com"), "{tokens}");
    assert!(tokens.contains("gitlab.com=PAT:glpat-"), "{tokens}");
    assert_eq!(
        read(&env.nix_conf()),
        "max-jobs = 2\n!include access-tokens.conf\n"
    );

    let out = env.run(&["logout", "--host", "codeberg.org", "-y"], "");
    assert_success(&out);
    assert!(!read(&env.netrc()).contains("codeberg.org"));
}

#[test]
fn logout_of_a_token_in_nix_conf_backs_it_up_first() {
    let env = TestEnv::new();
    let original = "access-tokens = github.com=ghp_INCONFxxxxxxxxxxxxxxxxxxxx\n";
    env.write(&env.nix_conf(), original);
    let out = env.run(&["logout", "github.com", "--force"], "");
    assert_success(&out);
    assert_eq!(read(&env.nix_conf()), "!include access-tokens.conf\n");
    // The token file had nothing else to hold, so it was not even created.
    assert!(!env.token_file().exists());
    let backup = fs::read_dir(env.config_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("nix.conf.backup-"))
        .expect("a backup");
    assert_eq!(read(&backup), original);
    assert_eq!(mode(&backup), 0o600);
}

#[test]
fn logout_without_a_terminal_asks_for_a_host_or_consent() {
    let env = TestEnv::new();
    env.set_token("github.com", GH);
    env.set_token("gitlab.com", "glpat-abcdefghijklmnopqrst");
    let before = env.snapshot();

    let out = env.run(&["logout"], "");
    assert_clean_failure(&out, 2);
    let err = stderr(&out);
    assert!(err.contains("github.com, gitlab.com"), "{err}");

    let out = env.run(&["logout", "github.com"], "");
    assert_clean_failure(&out, 2);
    assert!(stderr(&out).contains("--yes"));
    assert_eq!(env.snapshot(), before);

    let out = env.run(&["logout", "github.com", "--dry-run"], "");
    assert_success(&out);
    assert_eq!(env.snapshot(), before);
}

#[test]
fn logout_all_and_unknown_hosts() {
    let env = TestEnv::new();
    env.set_token("github.com", GH);
    env.set_token("codeberg.org", "forgejotokenabcdef123456");
    let out = env.run(&["logout", "example.org", "-y"], "");
    assert_clean_failure(&out, 1);
    assert!(stderr(&out).contains("no token for example.org"));

    // A token in a file nix-tokens does not manage is named, not touched.
    let secret = env.config_dir().join("secret.conf");
    env.write(
        &secret,
        "extra-access-tokens = corp.example=corptoken1234567890\n",
    );
    let conf = read(&env.nix_conf());
    env.write(&env.nix_conf(), &format!("{conf}!include secret.conf\n"));
    let out = env.run(&["logout", "corp.example", "-y"], "");
    assert_clean_failure(&out, 1);
    assert!(
        stderr(&out).contains("secret.conf line 1"),
        "{}",
        stderr(&out)
    );
    assert_no_leak(&out, &["corptoken1234567890"]);

    let out = env.run(&["logout", "--all", "-y"], "");
    assert_success(&out);
    assert!(!read(&env.token_file()).contains("access-tokens ="));
    assert!(!read(&env.netrc()).contains("machine"));
    assert!(
        read(&secret).contains("corptoken"),
        "unmanaged files are left alone"
    );
}

/// "Nothing to log out" is one failed operation (1), however it is asked: no host (the menu),
/// a host, or `--all`; each says so in one sentence and writes nothing.
#[test]
fn nothing_to_log_out_is_exit_1_with_or_without_a_host() {
    let env = TestEnv::new();
    let before = env.snapshot();
    for args in [
        &["logout"][..],
        &["logout", "github.com", "-y"],
        &["logout", "--all", "-y"],
    ] {
        let out = env.run(args, "");
        assert_clean_failure(&out, 1);
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{}: {err}", args.join(" "));
        assert!(err.contains("no token"), "{}: {err}", args.join(" "));
    }
    assert_eq!(env.snapshot(), before);
}
