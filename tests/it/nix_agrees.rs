//! The real Nix reads what nix-tokens writes: after each step, Nix's own effective configuration
//! holds exactly the expected `access-tokens` and `netrc-file`. Each test runs once against each
//! Nix found (`path_nix`: Debian's 2.8 in CI; `recent_nix`: the recent one), naming it.

use std::collections::BTreeMap;

use crate::support::nix::Nix;
use crate::support::*;

crate::each_nix!(
    nix_sees_set_replace_migrate_and_logout,
    nix_reads_the_token_file_through_a_store_linked_nix_conf,
    system_tokens_stay_visible_unless_the_user_overrides_one,
    a_token_a_later_include_hides_is_reported,
    an_unrelated_change_that_swaps_a_token_is_named,
);

fn expect(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn nix_sees_set_replace_migrate_and_logout(nix: &Nix) {
    let env = TestEnv::new();
    env.write(
        &env.etc.join("nix.conf"),
        "experimental-features = nix-command\n",
    );
    env.write(
        &env.nix_conf(),
        "# user settings\nmax-jobs = 3\naccess-tokens = old.example=oldtoken1234567890\n",
    );
    let config = nix.config(&env);
    assert_eq!(
        nix_access_tokens(&config),
        expect(&[("old.example", "oldtoken1234567890")])
    );

    // Set: the nix.conf token migrates, the new one joins it.
    env.set_token("github.com", "ghp_firstfirstfirstfirst1234");
    let config = nix.config(&env);
    assert_eq!(
        nix_access_tokens(&config),
        expect(&[
            ("old.example", "oldtoken1234567890"),
            ("github.com", "ghp_firstfirstfirstfirst1234"),
        ])
    );
    assert_eq!(config["max-jobs"]["value"], 3);

    // Replace.
    let out = env.run(
        &["set-token", "github.com", "--force"],
        "ghp_secondsecondsecond5678\n",
    );
    assert_success(&out);
    env.set_token("gitlab.com", "glpat-abcdefghijklmnopqrst");
    let config = nix.config(&env);
    assert_eq!(
        nix_access_tokens(&config),
        expect(&[
            ("old.example", "oldtoken1234567890"),
            ("github.com", "ghp_secondsecondsecond5678"),
            ("gitlab.com", "PAT:glpat-abcdefghijklmnopqrst"),
        ])
    );

    // Netrc for a Forgejo host.
    env.set_token("codeberg.org", "forgejotokenabcdef123456");
    let config = nix.config(&env);
    assert_eq!(
        config["netrc-file"]["value"],
        env.netrc().display().to_string()
    );

    // A token added to nix.conf by hand migrates on the next change, and logout removes it.
    let conf = read(&env.nix_conf());
    env.write(
        &env.nix_conf(),
        &format!("{conf}extra-access-tokens = hand.example=handtoken1234567890\n"),
    );
    let out = env.run(&["logout", "old.example", "--yes"], "");
    assert_success(&out);
    let out = env.run(&["logout", "hand.example", "--yes"], "");
    assert_success(&out);
    let config = nix.config(&env);
    assert_eq!(
        nix_access_tokens(&config),
        expect(&[
            ("github.com", "ghp_secondsecondsecond5678"),
            ("gitlab.com", "PAT:glpat-abcdefghijklmnopqrst"),
        ])
    );
    assert!(!read(&env.nix_conf()).contains("access-tokens ="));

    // Logging out of everything leaves Nix with no tokens and a nix.conf it still reads.
    let out = env.run(&["logout", "--all", "--yes"], "");
    assert_success(&out);
    let config = nix.config(&env);
    assert_eq!(nix_access_tokens(&config), BTreeMap::new());
    assert_eq!(config["max-jobs"]["value"], 3);
}

fn nix_reads_the_token_file_through_a_store_linked_nix_conf(nix: &Nix) {
    // The line nix-tokens tells home-manager users to add works as promised.
    let env = TestEnv::new();
    let target = env.store.join("0123456789abcdfghijklmnpqrsvwxyz-nix.conf");
    env.write(&target, "!include access-tokens.conf\n");
    std::os::unix::fs::symlink(&target, env.nix_conf()).unwrap();
    env.set_token("github.com", "ghp_storestorestorestore1234");
    let config = nix.config(&env);
    assert_eq!(
        nix_access_tokens(&config),
        expect(&[("github.com", "ghp_storestorestorestore1234")])
    );
}

fn system_tokens_stay_visible_unless_the_user_overrides_one(nix: &Nix) {
    let env = TestEnv::new();
    env.write(
        &env.etc.join("nix.conf"),
        "access-tokens = gitlab.com=PAT:glpat-systemsystemsystem github.com=ghp_SYSTEMsystemsystemsys\n",
    );
    env.write(&env.nix_conf(), "");

    // A key the system does not set is added beside the system's tokens.
    env.set_token("example.org", "exampletoken1234567890");
    assert_eq!(
        nix_access_tokens(&nix.config(&env)),
        expect(&[
            ("gitlab.com", "PAT:glpat-systemsystemsystem"),
            ("github.com", "ghp_SYSTEMsystemsystemsys"),
            ("example.org", "exampletoken1234567890"),
        ])
    );

    // Overriding the system's github.com must replace the whole map (Nix's rule), and the token
    // that this hides is named, without being shown.
    let out = env.set_token("github.com", "ghp_USERuseruseruseruser12");
    let err = stderr(&out);
    assert!(
        err.contains("no longer uses the token for gitlab.com"),
        "{err}"
    );
    assert_no_leak(&out, &["glpat-systemsystemsystem", "ghp_SYSTEM"]);
    assert_eq!(
        nix_access_tokens(&nix.config(&env)),
        expect(&[
            ("example.org", "exampletoken1234567890"),
            ("github.com", "ghp_USERuseruseruseruser12"),
        ])
    );

    // Logging out of github.com leaves the system's token for it, and says so.
    let out = env.run(&["logout", "github.com", "--yes"], "");
    assert_success(&out);
    assert!(
        stderr(&out).contains("still has a token for github.com"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        nix_access_tokens(&nix.config(&env)),
        expect(&[
            ("gitlab.com", "PAT:glpat-systemsystemsystem"),
            ("github.com", "ghp_SYSTEMsystemsystemsys"),
            ("example.org", "exampletoken1234567890"),
        ])
    );
}

fn a_token_a_later_include_hides_is_reported(nix: &Nix) {
    let env = TestEnv::new();
    env.write(
        &env.nix_conf(),
        "!include access-tokens.conf\ninclude later.conf\n",
    );
    env.write(
        &env.config_dir().join("later.conf"),
        "access-tokens = corp.example=corptoken1234567890\n",
    );
    let out = env.set_token("github.com", "ghp_HIDDENhiddenhiddenhidden");
    assert!(
        stderr(&out).contains("Nix will not use the new token for github.com"),
        "{}",
        stderr(&out)
    );
    let config = nix.config(&env);
    assert_eq!(
        nix_access_tokens(&config),
        expect(&[("corp.example", "corptoken1234567890")])
    );
}

fn an_unrelated_change_that_swaps_a_token_is_named(nix: &Nix) {
    // The system sets github.com; the user's nix.conf has a stale `extra-` one that Nix ignores.
    // Moving it into the token file next to an override makes Nix use it, which is said.
    let env = TestEnv::new();
    env.write(
        &env.etc.join("nix.conf"),
        "access-tokens = github.com=ghp_SYSTEMsystemsystemsys\n",
    );
    env.write(
        &env.nix_conf(),
        "extra-access-tokens = github.com=ghp_STALEstalestalestale1\n",
    );
    let config = nix.config(&env);
    assert_eq!(
        nix_access_tokens(&config),
        expect(&[("github.com", "ghp_SYSTEMsystemsystemsys")])
    );
    let out = env.set_token("gitlab.com", "glpat-abcdefghijklmnopqrst");
    let err = stderr(&out);
    // No token is dropped: the stale one now wins over the system's, and the user is told.
    let now = nix_access_tokens(&nix.config(&env));
    assert_eq!(now["github.com"], "ghp_STALEstalestalestale1");
    assert!(err.contains("different token for github.com"), "{err}");
    assert_no_leak(&out, &["ghp_SYSTEM", "ghp_STALE"]);
}

#[test]
fn a_token_nix_config_sets_through_an_include_is_seen() {
    let env = TestEnv::new();
    let env_tokens = env.root.join("env-tokens.conf");
    env.write(
        &env_tokens,
        "access-tokens = github.com=ghp_FROMENVfromenvfromenv1\n",
    );
    let out = env
        .cmd()
        .args(["set-token", "github.com"])
        .env("NIX_CONFIG", format!("include {}", env_tokens.display()))
        .write_stdin("ghp_USERuseruseruseruser12\n")
        .output()
        .unwrap();
    assert_success(&out);
    let err = stderr(&out);
    assert!(
        err.contains("Nix will not use the new token for github.com"),
        "{err}"
    );
    assert!(err.contains("env-tokens.conf line 1"), "{err}");
}
