//! `set-token`: tokens land in the token file in Nix's format, nix.conf gains exactly one include,
//! tokens already in nix.conf move out of it, and every file that can hold a token is private.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use crate::support::*;

const GH: &str = "ghp_abcdefghijklmnopqrstuvwxyz0123456789";
const GH2: &str = "ghp_ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210";

#[test]
fn a_fresh_home_gets_a_private_token_file_and_an_include() {
    let env = TestEnv::new();
    let out = env.set_token("github", GH);
    assert_no_leak(&out, &[GH]);
    assert!(stderr(&out).contains("ghp_****89"), "{}", stderr(&out));
    assert_eq!(read(&env.nix_conf()), "!include access-tokens.conf\n");
    let tokens = read(&env.token_file());
    // Nothing else sets github.com, so the token adds to what Nix has and hides nothing.
    assert!(
        tokens.contains(&format!("\nextra-access-tokens = github.com={GH}\n")),
        "{tokens}"
    );
    assert_eq!(mode(&env.token_file()), 0o600);
}

#[test]
fn nix_conf_stays_byte_identical_apart_from_the_include() {
    let env = TestEnv::new();
    let original = "# My Nix settings\r\n\
        experimental-features = nix-command flakes   # keep the spacing\n\
        \n\
        substituters = https://cache.nixos.org https://example.cachix.org\n\
        !include machines.conf\n\
        include extra.conf\n\
        \t# an indented comment\n\
        trusted-public-keys = example.cachix.org-1:abc= cache.nixos.org-1:def=\n";
    env.write(&env.nix_conf(), original);
    env.write(&env.config_dir().join("extra.conf"), "max-jobs = 4\n");
    fs::set_permissions(env.nix_conf(), fs::Permissions::from_mode(0o640)).unwrap();

    env.set_token("github.com", GH);
    assert_eq!(
        read(&env.nix_conf()),
        format!("{original}!include access-tokens.conf\n")
    );
    assert_eq!(mode(&env.nix_conf()), 0o640, "nix.conf keeps its mode");
    assert_eq!(read(&env.config_dir().join("extra.conf")), "max-jobs = 4\n");

    // A second token changes only the token file.
    let before = read(&env.nix_conf());
    env.set_token("gitlab.com", "glpat-abcdefghijklmnopqrst");
    assert_eq!(read(&env.nix_conf()), before);
}

#[test]
fn a_file_without_a_final_newline_gets_one_before_the_include() {
    let env = TestEnv::new();
    env.write(&env.nix_conf(), "max-jobs = 2");
    env.set_token("github.com", GH);
    assert_eq!(
        read(&env.nix_conf()),
        "max-jobs = 2\n!include access-tokens.conf\n"
    );
}

#[test]
fn an_include_in_any_spelling_counts() {
    for line in [
        "include ./access-tokens.conf",
        "!include ../nix/access-tokens.conf",
        "!include TOKEN_FILE",
        "!include via.conf",
    ] {
        let env = TestEnv::new();
        let line = line.replace("TOKEN_FILE", env.token_file().to_str().unwrap());
        let original = format!("# mine\n{line}\n");
        env.write(&env.nix_conf(), &original);
        env.write(
            &env.config_dir().join("via.conf"),
            "!include access-tokens.conf\n",
        );
        env.write(&env.token_file(), "");
        fs::set_permissions(env.token_file(), fs::Permissions::from_mode(0o600)).unwrap();
        env.set_token("github.com", GH);
        assert_eq!(read(&env.nix_conf()), original, "for `{line}`");
    }
}

#[test]
fn tokens_in_nix_conf_move_to_the_token_file_after_a_backup() {
    let env = TestEnv::new();
    let original = "max-jobs = 2\n\
        access-tokens = github.com=ghp_FROMNIXCONFxxxxxxxxxxxxxxxx gitlab.com=PAT:glpat-fromnixconfxxxx # mine\n\
        extra-access-tokens = example.org=exampletoken123456 github.com=ghp_HIDDENxxxxxxxxxxxxxxxxxxxx\n\
        cores = 4\n";
    env.write(&env.nix_conf(), original);
    let out = env.set_token("codeberg.org", "forgejotokenabcdef123456");
    assert_no_leak(
        &out,
        &["ghp_FROMNIXCONF", "glpat-fromnixconf", "exampletoken"],
    );
    assert!(
        stderr(&out).contains("moved 3 token(s)"),
        "{}",
        stderr(&out)
    );

    assert_eq!(
        read(&env.nix_conf()),
        "max-jobs = 2\ncores = 4\n!include access-tokens.conf\n"
    );
    let tokens = read(&env.token_file());
    assert!(
        tokens.contains("\nextra-access-tokens = github.com=ghp_FROMNIXCONFxxxxxxxxxxxxxxxx gitlab.com=PAT:glpat-fromnixconfxxxx example.org=exampletoken123456\n"),
        "{tokens}"
    );
    let backups: Vec<_> = fs::read_dir(env.config_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("nix.conf.backup-"))
        .collect();
    assert_eq!(backups.len(), 1);
    assert_eq!(read(&backups[0]), original);
    assert_eq!(
        mode(&backups[0]),
        0o600,
        "a backup holding tokens is private"
    );
}

#[test]
fn a_token_set_after_the_include_in_nix_conf_wins_when_migrated() {
    // Nix applies lines in order: nix.conf's access-tokens after the include replaces the token
    // file's map, so that is the token Nix uses and the one that must survive the move.
    let env = TestEnv::new();
    env.write(
        &env.nix_conf(),
        "!include access-tokens.conf\naccess-tokens = github.com=ghp_LATERxxxxxxxxxxxxxxxxxxxxx\n",
    );
    env.write(
        &env.token_file(),
        "access-tokens = github.com=ghp_EARLIERxxxxxxxxxxxxxxxxxxx other.org=keepme1234567890\n",
    );
    fs::set_permissions(env.token_file(), fs::Permissions::from_mode(0o600)).unwrap();
    env.set_token("gitlab.com", "glpat-abcdefghijklmnopqrst");
    let tokens = read(&env.token_file());
    assert!(tokens.contains("github.com=ghp_LATER"), "{tokens}");
    assert!(tokens.contains("other.org=keepme1234567890"), "{tokens}");
    assert!(!tokens.contains("ghp_EARLIER"), "{tokens}");
}

#[test]
fn gitlab_tokens_always_get_a_prefix() {
    let env = TestEnv::new();
    env.set_token("gitlab", "glpat-abcdefghijklmnopqrst");
    env.set_token("gitlab.example.com", "OAuth2:oauthtokenabcdefghijkl");
    let out = env.run(
        &["set-token", "code.example.com", "--provider", "gitlab"],
        "plainpat1234567890abc\n",
    );
    assert_success(&out);
    let tokens = read(&env.token_file());
    assert!(
        tokens.contains("gitlab.com=PAT:glpat-abcdefghijklmnopqrst"),
        "{tokens}"
    );
    assert!(
        tokens.contains("code.example.com=PAT:plainpat1234567890abc"),
        "{tokens}"
    );
    // Without --provider an unknown host is written as given, as nix-auth does.
    assert!(
        tokens.contains("gitlab.example.com=OAuth2:oauthtokenabcdefghijkl"),
        "{tokens}"
    );
}

#[test]
fn replacing_a_token_needs_consent() {
    let env = TestEnv::new();
    env.set_token("github.com", GH);
    let before = env.snapshot();
    let out = env.run(&["set-token", "github.com"], &format!("{GH2}\n"));
    assert_clean_failure(&out, 2);
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
    assert_no_leak(&out, &[GH, GH2]);
    assert_eq!(
        env.snapshot(),
        before,
        "a refused replacement changes nothing"
    );

    let out = env.run(&["set-token", "github.com", "--force"], &format!("{GH2}\n"));
    assert_success(&out);
    assert!(read(&env.token_file()).contains(GH2));
    let out = env.run(&["-y", "set-token", "github.com"], &format!("{GH}\n"));
    assert_success(&out);
    assert!(read(&env.token_file()).contains(GH));

    // The same token again is not a replacement.
    let out = env.run(&["set-token", "github.com"], &format!("{GH}\n"));
    assert_success(&out);
    assert!(stderr(&out).contains("already has this token"));
    assert!(!stderr(&out).contains("Saved"), "{}", stderr(&out));
}

#[test]
fn a_token_on_the_command_line_works_with_a_warning() {
    let env = TestEnv::new();
    let out = env.run(&["set-token", "github.com", GH], "");
    assert_success(&out);
    assert!(stderr(&out).contains("shell history"), "{}", stderr(&out));
    assert_no_leak(&out, &[GH]);
    assert!(read(&env.token_file()).contains(GH));
}

#[test]
fn owner_keys_are_kept_apart_from_the_host() {
    let env = TestEnv::new();
    env.set_token("github.com", GH);
    env.set_token("https://github.com/My-Org/", GH2);
    let tokens = read(&env.token_file());
    assert!(
        tokens.contains(&format!("github.com={GH} github.com/My-Org={GH2}")),
        "{tokens}"
    );
}

#[test]
fn a_loose_token_file_is_tightened_with_a_warning() {
    let env = TestEnv::new();
    env.write(
        &env.token_file(),
        "access-tokens = a.org=tokentokentoken1234\n",
    );
    fs::set_permissions(env.token_file(), fs::Permissions::from_mode(0o644)).unwrap();
    let out = env.set_token("github.com", GH);
    assert!(
        stderr(&out).contains("readable by others"),
        "{}",
        stderr(&out)
    );
    assert_eq!(mode(&env.token_file()), 0o600);
    assert!(read(&env.token_file()).contains("a.org=tokentokentoken1234"));
}

#[test]
fn dry_run_writes_nothing() {
    let env = TestEnv::new();
    env.write(
        &env.nix_conf(),
        "access-tokens = a.org=tokentokentoken1234\n",
    );
    let before = env.snapshot();
    let out = env.run(
        &["set-token", "github.com", "--dry-run"],
        &format!("{GH}\n"),
    );
    assert_success(&out);
    let err = stderr(&out);
    assert!(
        err.contains("would change") && err.contains("nothing was written"),
        "{err}"
    );
    assert_eq!(env.snapshot(), before);
}

#[test]
fn backups_are_unique_and_only_the_newest_are_kept() {
    let env = TestEnv::new();
    for i in 0..8 {
        env.write(
            &env.nix_conf(),
            &format!("access-tokens = host{i}.org=tokentokentoken{i:04}\n"),
        );
        env.set_token(&format!("github.com/org{i}"), GH);
    }
    let mut backups: Vec<String> = fs::read_dir(env.config_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("nix.conf.backup-"))
        .collect();
    backups.sort();
    assert_eq!(backups.len(), 5, "{backups:?}");
    let newest = read(&env.config_dir().join(backups.last().unwrap()));
    assert!(newest.contains("host7.org"), "{newest}");
    // Nothing was lost along the way: every migrated token is in the token file.
    let tokens = read(&env.token_file());
    for i in 0..8 {
        assert!(
            tokens.contains(&format!("host{i}.org=")),
            "host{i}: {tokens}"
        );
    }
}

#[test]
fn a_symlinked_nix_conf_outside_the_store_is_written_through() {
    let env = TestEnv::new();
    let dotfiles = env.root.join("dotfiles/nix.conf");
    env.write(&dotfiles, "max-jobs = 2\n");
    std::os::unix::fs::symlink(&dotfiles, env.nix_conf()).unwrap();
    env.set_token("github.com", GH);
    assert!(
        fs::symlink_metadata(env.nix_conf())
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        read(&dotfiles),
        "max-jobs = 2\n!include access-tokens.conf\n"
    );
    // The include is relative to the link as named, so the token file sits beside the link.
    assert!(env.token_file().exists());
    assert!(!env.root.join("dotfiles/access-tokens.conf").exists());
}

#[test]
fn a_symlinked_token_file_stays_a_link() {
    let env = TestEnv::new();
    let secret = env.root.join("secrets/tokens.conf");
    env.write(&secret, "extra-access-tokens = a.org=tokentokentoken1234\n");
    fs::set_permissions(&secret, fs::Permissions::from_mode(0o600)).unwrap();
    std::os::unix::fs::symlink(&secret, env.token_file()).unwrap();
    env.set_token("github.com", GH);
    assert!(
        fs::symlink_metadata(env.token_file())
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let tokens = read(&secret);
    assert!(tokens.contains("a.org=tokentokentoken1234"), "{tokens}");
    assert!(tokens.contains(&format!("github.com={GH}")), "{tokens}");
}

#[test]
fn keys_hidden_inside_the_token_file_are_kept() {
    let env = TestEnv::new();
    env.write(
        &env.token_file(),
        "access-tokens = a.com=aaaaaaaaaaaaaaaa\naccess-tokens = b.com=bbbbbbbbbbbbbbbb\n",
    );
    fs::set_permissions(env.token_file(), fs::Permissions::from_mode(0o600)).unwrap();
    env.set_token("c.com", "cccccccccccccccc");
    let tokens = read(&env.token_file());
    for key in ["a.com=aaaa", "b.com=bbbb", "c.com=cccc"] {
        assert!(tokens.contains(key), "{key}: {tokens}");
    }
}

#[test]
fn a_config_path_with_dots_finds_the_existing_include() {
    let env = TestEnv::new();
    env.write(&env.nix_conf(), "!include access-tokens.conf\n");
    let dotted = env.home.join(".config/nix/../nix/nix.conf");
    let out = env.run(
        &[
            "set-token",
            "github.com",
            "--config",
            dotted.to_str().unwrap(),
        ],
        &format!("{GH}\n"),
    );
    assert_success(&out);
    assert_eq!(read(&env.nix_conf()), "!include access-tokens.conf\n");
}

#[test]
fn a_killed_run_s_temporary_file_is_removed_by_the_next_run() {
    let env = TestEnv::new();
    let stale = env.config_dir().join(".nix-tokens-AbC123.tmp");
    env.write(&stale, &format!("extra-access-tokens = github.com={GH}\n"));
    fs::set_permissions(&stale, fs::Permissions::from_mode(0o600)).unwrap();
    env.set_token("gitlab.com", "glpat-abcdefghijklmnopqrst");
    assert!(
        !stale.exists(),
        "a token left in a temporary file outlives the run"
    );
}
