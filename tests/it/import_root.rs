//! `sudo nix-tokens --system import --from-user NAME`: a user's logins copied into root's own
//! files (the system token file and netrc, never an include of the user's files), validated line
//! by line, re-runnable, and read by the real Nix as root's configuration.

use std::process::Output;

use crate::support::*;

const GH: &str = "ghp_importimportimportimport12345678";
const CACHE: &str = "cachesecretcachesecret1234";

/// alice's home (her own files) and root's (the system configuration in `root.etc`).
fn alice_and_root() -> (TestEnv, TestEnv) {
    let alice = TestEnv::new();
    alice.set_token("github.com", GH);
    let out = alice.run(
        &[
            "set-token",
            "files.example.org",
            "--netrc",
            "--login",
            "alice",
        ],
        &format!("{CACHE}\n"),
    );
    assert_success(&out);
    let root = TestEnv::new();
    root.write(
        &root.etc.join("nix.conf"),
        "experimental-features = nix-command\n",
    );
    (alice, root)
}

fn import(root: &TestEnv, alice: &TestEnv, extra: &[&str]) -> Output {
    let from = alice.nix_conf();
    let mut args = vec![
        "--system",
        "import",
        "--from-config",
        from.to_str().unwrap(),
    ];
    args.extend(extra);
    let out = root.run(&args, "");
    assert_no_leak(&out, &[GH, CACHE]);
    out
}

#[test]
fn root_gets_the_users_tokens_in_its_own_files_and_nix_reads_them() {
    let (alice, root) = alice_and_root();
    let alice_before = alice.snapshot();
    let out = import(&root, &alice, &[]);
    assert_success(&out);
    let err = stderr(&out);
    assert!(err.contains("Imported github.com (ghp_****"), "{err}");
    assert!(err.contains("Imported files.example.org"), "{err}");
    // Root's own files, private, and nothing of alice's included or changed.
    let tokens = read(&root.etc.join("access-tokens.conf"));
    assert!(tokens.contains(&format!("github.com={GH}")), "{tokens}");
    assert_eq!(mode(&root.etc.join("access-tokens.conf")), 0o600);
    let netrc = read(&root.etc.join("netrc"));
    assert_eq!(
        netrc,
        format!("machine files.example.org login alice password {CACHE}\n")
    );
    assert_eq!(mode(&root.etc.join("netrc")), 0o600);
    let conf = read(&root.etc.join("nix.conf"));
    assert!(conf.contains("!include access-tokens.conf"), "{conf}");
    let home = alice.home.to_str().unwrap();
    for file in ["nix.conf", "access-tokens.conf", "netrc"] {
        let text = read(&root.etc.join(file));
        assert!(!text.contains(home), "{file} names alice's files:\n{text}");
    }
    assert_eq!(alice.snapshot(), alice_before, "alice's files changed");
    // The real Nix, reading root's configuration, has the token and reads that netrc.
    if let Some(config) = nix_config(&root) {
        assert_eq!(
            nix_access_tokens(&config)
                .get("github.com")
                .map(String::as_str),
            Some(GH)
        );
        let netrc_file = root.etc.join("netrc");
        assert_eq!(config["netrc-file"]["value"], netrc_file.to_str().unwrap());
    }
    // Again: nothing to do, nothing written.
    let before = root.snapshot();
    let out = import(&root, &alice, &[]);
    assert_success(&out);
    assert!(stderr(&out).contains("2 login(s) of"), "{}", stderr(&out));
    assert_eq!(
        root.snapshot(),
        before,
        "a second import rewrote root's files"
    );
}

#[test]
fn a_new_login_of_the_user_reaches_root_on_the_next_import() {
    let (alice, root) = alice_and_root();
    assert_success(&import(&root, &alice, &[]));
    let newer = "ghp_newernewernewernewer9876543210";
    assert_success(&alice.run(
        &["set-token", "github.com", "--force"],
        &format!("{newer}\n"),
    ));
    let before = root.snapshot();
    let dry = import(&root, &alice, &["--dry-run"]);
    assert_success(&dry);
    assert!(
        stderr(&dry).contains("Would import github.com"),
        "{}",
        stderr(&dry)
    );
    assert_eq!(root.snapshot(), before, "a dry run wrote");
    assert!(read(&root.etc.join("access-tokens.conf")).contains(GH));
    let out = import(&root, &alice, &[]);
    assert_no_leak(&out, &[newer]);
    assert_success(&out);
    let tokens = read(&root.etc.join("access-tokens.conf"));
    assert!(tokens.contains(newer) && !tokens.contains(GH), "{tokens}");
}

#[test]
fn a_line_that_is_not_a_token_never_reaches_root() {
    let (alice, root) = alice_and_root();
    let token_file = alice.token_file();
    let text = read(&token_file);
    alice.write(
        &token_file,
        &format!("{text}post-build-hook = /home/alice/evil.sh\n"),
    );
    let before = root.snapshot();
    let out = import(&root, &alice, &[]);
    assert_clean_failure(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("sets `post-build-hook`, which is not a token"),
        "{err}"
    );
    assert!(err.contains(token_file.to_str().unwrap()), "{err}");
    assert_eq!(
        root.snapshot(),
        before,
        "a refused import wrote root's files"
    );
    // An include in the token file is refused too.
    alice.write(
        &token_file,
        &format!("{text}!include /home/alice/more.conf\n"),
    );
    let out = import(&root, &alice, &[]);
    assert_clean_failure(&out, 1);
    assert!(
        stderr(&out).contains("includes another file"),
        "{}",
        stderr(&out)
    );
    assert_eq!(root.snapshot(), before);
}

#[test]
fn import_needs_system_and_a_user() {
    let (alice, root) = alice_and_root();
    let from = alice.nix_conf();
    let out = root.run(&["import", "--from-config", from.to_str().unwrap()], "");
    assert_clean_failure(&out, 2);
    assert!(stderr(&out).contains("sudo nix-tokens --system import --from-user NAME"));
    let out = root.run(
        &["--system", "import", "--from-user", "no-such-user-xyz"],
        "",
    );
    assert_clean_failure(&out, 2);
    assert!(
        stderr(&out).contains("no user no-such-user-xyz"),
        "{}",
        stderr(&out)
    );
    let help = root.run(&["import", "--help"], "");
    assert!(stdout(&help).contains("sudo nix-tokens --system import --from-user alice"));
}

/// A real user (made with `useradd`, home in the test's directory) named by `--from-user`: needs
/// root, as `sudo nix-tokens --system import` does.
#[test]
fn from_user_reads_that_users_home() {
    if !root_with(&["useradd"]) {
        return;
    }
    let (alice, root) = alice_and_root();
    let name = format!("ntimp{}", std::process::id());
    let made = std::process::Command::new("useradd")
        .args(["-M", "-d", alice.home.to_str().unwrap(), &name])
        .status()
        .unwrap();
    assert!(made.success(), "useradd failed");
    // Her files are hers, as her own runs make them, in a home she can reach.
    let id = |flag: &str| -> u32 {
        let out = std::process::Command::new("id")
            .args([flag, &name])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
    };
    crate::support::daemon::open_up(&alice.home);
    let (uid, gid) = (id("-u"), id("-g"));
    let chown = std::process::Command::new("chown")
        .args(["-R", &format!("{uid}:{gid}")])
        .arg(&alice.home)
        .status()
        .unwrap();
    assert!(chown.success());
    let out = root.run(&["--system", "import", "--from-user", &name], "");
    let _ = std::process::Command::new("userdel").arg(&name).status();
    assert_no_leak(&out, &[GH, CACHE]);
    assert_success(&out);
    assert!(
        stderr(&out).contains(&format!("from {name} into")),
        "{}",
        stderr(&out)
    );
    assert!(read(&root.etc.join("access-tokens.conf")).contains(GH));
}
