//! Hosts Nix cannot serve from `access-tokens` (Gitea, Forgejo, `--netrc`) go to a private netrc
//! that nix.conf points Nix at.

use std::fs;

use crate::support::*;

#[test]
fn forgejo_tokens_go_to_a_private_netrc() {
    let env = TestEnv::new();
    env.write(&env.nix_conf(), "max-jobs = 2\n");
    let out = env.set_token("codeberg", "forgejotokenabcdef123456");
    assert_no_leak(&out, &["forgejotokenabcdef123456"]);
    assert_eq!(
        read(&env.netrc()),
        "machine codeberg.org login nix-tokens password forgejotokenabcdef123456\n"
    );
    assert_eq!(mode(&env.netrc()), 0o600);
    let tokens = read(&env.token_file());
    assert!(
        tokens.contains(&format!("netrc-file = {}\n", env.netrc().display())),
        "{tokens}"
    );
    assert!(!tokens.contains("access-tokens ="), "{tokens}");
    assert_eq!(
        read(&env.nix_conf()),
        "max-jobs = 2\n!include access-tokens.conf\n"
    );
}

#[test]
fn a_host_moved_to_netrc_leaves_access_tokens() {
    let env = TestEnv::new();
    // Where nix-auth puts a Gitea token, Nix never reads it.
    env.set_token("git.example.com", "giteatoken1234567890");
    assert!(read(&env.token_file()).contains("git.example.com="));
    let out = env.run(
        &[
            "set-token",
            "git.example.com",
            "--provider",
            "gitea",
            "--force",
        ],
        "giteatoken1234567890\n",
    );
    assert_success(&out);
    assert!(!read(&env.token_file()).contains("git.example.com="));
    assert!(
        read(&env.netrc())
            .contains("machine git.example.com login nix-tokens password giteatoken1234567890")
    );
}

#[test]
fn other_netrc_entries_are_kept_and_a_named_netrc_is_used() {
    let env = TestEnv::new();
    let own = env.root.join("my-netrc");
    let original = "# caches\nmachine cache.example.org\n  login me\n  password cachepw\n";
    env.write(&own, original);
    env.write(
        &env.nix_conf(),
        &format!("netrc-file = {}\n", own.display()),
    );
    let out = env.run(
        &[
            "set-token",
            "files.example.org",
            "--netrc",
            "--login",
            "robot",
        ],
        "filetoken1234567890\n",
    );
    assert_success(&out);
    assert_eq!(
        read(&own),
        format!("{original}machine files.example.org login robot password filetoken1234567890\n")
    );
    assert!(!env.netrc().exists(), "the user's own netrc is used");
    let out = env.run(&["logout", "files.example.org", "--yes"], "");
    assert_success(&out);
    assert_eq!(read(&own), original);

    // `logout --all` removes only what nix-tokens manages, never the user's own netrc entries.
    env.set_token("github.com", "ghp_abcdefghijklmnopqrstuvwxyz0123456789");
    let out = env.run(&["logout", "--all", "--yes"], "");
    assert_success(&out);
    assert_eq!(read(&own), original);
    assert!(!read(&env.token_file()).contains("github.com"));
}

#[test]
fn hiding_the_system_netrc_is_warned_about() {
    let env = TestEnv::new();
    env.write(
        &env.etc.join("netrc"),
        "machine cache.corp login a password b\n",
    );
    let out = env.set_token("codeberg.org", "forgejotokenabcdef123456");
    let err = stderr(&out);
    assert!(
        err.contains(&env.etc.join("netrc").display().to_string()),
        "{err}"
    );
    assert!(err.contains("copy any entries"), "{err}");
    // Only the first time.
    let out = env.run(
        &["set-token", "code.example.org", "--provider", "forgejo"],
        "tok1234567890abcdef\n",
    );
    assert!(!stderr(&out).contains("copy any entries"));
    assert!(fs::metadata(env.etc.join("netrc")).is_ok());
}

#[test]
fn netrc_entries_are_what_curl_matches() {
    let env = TestEnv::new();
    // GitLab's PAT: prefix is for Nix's fetcher; basic auth wants the bare token.
    let out = env.run(
        &["set-token", "gitlab.com", "--netrc"],
        "glpat-abcdefghijklmnopqrst\n",
    );
    assert_success(&out);
    // curl matches a machine by host name alone.
    let out = env.run(
        &["set-token", "git.example.com:8443", "--provider", "forgejo"],
        "forgejotokenabcdef123456\n",
    );
    assert_success(&out);
    let netrc = read(&env.netrc());
    assert!(
        netrc.contains("machine gitlab.com login oauth2 password glpat-abcdefghijklmnopqrst\n"),
        "{netrc}"
    );
    assert!(
        netrc.contains(
            "machine git.example.com login nix-tokens password forgejotokenabcdef123456\n"
        ),
        "{netrc}"
    );
}

#[test]
fn an_existing_entry_is_replaced_whatever_its_case() {
    let env = TestEnv::new();
    env.write(
        &env.netrc(),
        "Machine Git.Example.com Login me Password oldtoken\ndefault login anonymous password guest\n",
    );
    env.write(
        &env.nix_conf(),
        &format!("netrc-file = {}\n", env.netrc().display()),
    );
    let out = env.run(
        &[
            "set-token",
            "git.example.com",
            "--provider",
            "gitea",
            "--force",
        ],
        "giteatoken1234567890\n",
    );
    assert_success(&out);
    assert_eq!(
        read(&env.netrc()),
        "machine git.example.com login nix-tokens password giteatoken1234567890\n\
         default login anonymous password guest\n"
    );
    let out = env.run(
        &["set-token", "new.example.com", "--provider", "gitea"],
        "giteatoken0987654321\n",
    );
    assert_success(&out);
    assert!(
        read(&env.netrc()).ends_with(
            "machine new.example.com login nix-tokens password giteatoken0987654321\n\
             default login anonymous password guest\n"
        ),
        "a new entry goes before `default`, which ends curl's search"
    );
}

#[test]
fn netrc_for_a_github_host_keeps_its_access_token() {
    let env = TestEnv::new();
    env.set_token("github.com", "ghp_abcdefghijklmnopqrstuvwxyz0123456789");
    let out = env.run(
        &["set-token", "github.com", "--netrc"],
        "ghp_ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210\n",
    );
    assert_success(&out);
    assert!(read(&env.token_file()).contains("github.com=ghp_abcdef"));
    assert!(read(&env.netrc()).contains("password ghp_ZYXWV"));
}

#[test]
fn a_bad_login_is_refused() {
    let env = TestEnv::new();
    for bad in ["", "two words", "has#hash"] {
        let out = env.run(
            &["set-token", "files.example.org", "--netrc", "--login", bad],
            "filetoken1234567890\n",
        );
        assert_clean_failure(&out, 2);
        assert!(stderr(&out).contains("netrc login"), "{}", stderr(&out));
    }
    assert!(!env.netrc().exists());
}

#[test]
fn a_netrc_curl_would_misread_is_not_edited() {
    let env = TestEnv::new();
    env.write(
        &env.netrc(),
        "machine old.example login\nmachine other.example login me password pw\n",
    );
    env.write(
        &env.nix_conf(),
        &format!("netrc-file = {}\n", env.netrc().display()),
    );
    let before = env.snapshot();
    let out = env.run(
        &["set-token", "git.example.com", "--provider", "gitea"],
        "giteatoken1234567890\n",
    );
    assert_clean_failure(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("line 1: `login` has no value"), "{err}");
    assert!(err.contains(&env.netrc().display().to_string()), "{err}");
    assert_eq!(env.snapshot(), before);
}

#[test]
fn an_overlong_netrc_token_is_refused() {
    let env = TestEnv::new();
    let token = "a".repeat(4050);
    let out = env.run(
        &["set-token", "git.example.com", "--provider", "gitea"],
        &format!("{token}\n"),
    );
    assert_clean_failure(&out, 2);
    assert!(
        stderr(&out).contains("longer than curl reads"),
        "{}",
        stderr(&out)
    );
    assert!(!env.netrc().exists());
}

#[test]
fn the_netrc_nix_reads_is_the_one_written() {
    let env = TestEnv::new();
    env.set_token("codeberg.org", "forgejotokenabcdef123456");
    // A netrc-file above the include is overridden by nix-tokens' own line, so Nix still reads
    // nix-tokens' netrc, and that is where the next token goes.
    let conf = read(&env.nix_conf());
    let other = env.root.join("other-netrc");
    env.write(
        &env.nix_conf(),
        &format!("netrc-file = {}\n{conf}", other.display()),
    );
    let out = env.run(
        &["set-token", "other.example", "--provider", "forgejo"],
        "forgejotoken0987654321\n",
    );
    assert_success(&out);
    assert!(read(&env.netrc()).contains("machine other.example"));
    assert!(!other.exists());
}

#[test]
fn logging_out_of_every_netrc_host_gives_nix_its_default_netrc_back() {
    let env = TestEnv::new();
    env.set_token("codeberg.org", "forgejotokenabcdef123456");
    assert!(read(&env.token_file()).contains("netrc-file"));
    let out = env.run(&["logout", "codeberg.org", "--yes"], "");
    assert_success(&out);
    assert!(!read(&env.token_file()).contains("netrc-file"));
}

#[test]
fn a_token_used_as_netrc_login_is_masked() {
    let env = TestEnv::new();
    env.write(
        &env.netrc(),
        "machine github.com login ghp_LOGINTOKEN0123456789abcdef password x-oauth-basic\n",
    );
    env.write(
        &env.nix_conf(),
        &format!("netrc-file = {}\n", env.netrc().display()),
    );
    for args in [
        &["status", "--offline"][..],
        &["status", "--offline", "--json"],
    ] {
        let out = env.run(args, "");
        assert_success(&out);
        assert_no_leak(&out, &["ghp_LOGINTOKEN0123456789abcdef"]);
    }
}
