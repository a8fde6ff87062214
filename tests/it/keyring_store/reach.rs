//! After `set-token --store keyring` no file on disk holds the token and Nix's own configuration
//! has it; what refuses the keyring store writes nothing.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::*;
use crate::each_nix;
use crate::support::nix::Nix;
use crate::support::*;

fn set_token_in_the_keyring_reaches_nix_and_no_disk(nix: &Nix) {
    let Some((bus, env, ns)) = keyring_session() else {
        return;
    };
    // The user's own netrc, which Nix reads today and which nix-tokens does not manage.
    let own = env.config_dir().join("my-netrc");
    env.write(
        &own,
        &format!("machine own.example.org login me password {OWN_SECRET}\n"),
    );
    std::fs::set_permissions(&own, std::fs::Permissions::from_mode(0o600)).unwrap();
    env.write(
        &env.nix_conf(),
        &format!("netrc-file = {}\n", own.display()),
    );
    let run = &ns.run;

    let out = nt(
        &env,
        Some(&ns),
        run,
        Some(&bus),
        &["set-token", "github.com", "--store", "keyring"],
        &format!("{TOKEN}\n"),
    );
    assert_success(&out);
    assert_no_leak(&out, &[TOKEN]);
    let out = nt(
        &env,
        Some(&ns),
        run,
        Some(&bus),
        &[
            "set-token",
            "files.example.org",
            "--netrc",
            "--store",
            "keyring",
        ],
        &format!("{CACHE_TOKEN}\n"),
    );
    assert_success(&out);
    assert_no_leak(&out, &[CACHE_TOKEN]);

    // Nothing on disk holds either token: the home, the configuration, the system directory and
    // everything else of the test's temporary directory (the tmpfs is not mounted out here).
    for secret in [TOKEN, CACHE_TOKEN] {
        assert_eq!(
            files_holding(&env.root, secret),
            Vec::<PathBuf>::new(),
            "{secret} on disk"
        );
    }
    let conf = read(&env.nix_conf());
    let runtime = ns.runtime();
    assert!(
        conf.contains(&format!(
            "!include {}",
            runtime.join("access-tokens.conf").display()
        )),
        "{conf}"
    );
    // The runtime copies: private, and what Nix reads.
    let copy = ns.inside(&runtime.join("access-tokens.conf"));
    let netrc = ns.inside(&runtime.join("netrc"));
    assert_eq!(mode(&copy), 0o600);
    assert_eq!(mode(&netrc), 0o600);
    let netrc_text = read(&netrc);
    assert!(
        netrc_text.contains(CACHE_TOKEN),
        "the cache credential is in the runtime netrc"
    );
    assert!(
        netrc_text.contains(OWN_SECRET),
        "the user's own entry is carried over"
    );

    let config = nix_config_in(nix, &env, &ns);
    let tokens = nix_access_tokens(&config);
    assert_eq!(
        tokens.get("github.com").map(String::as_str),
        Some(TOKEN),
        "{nix}"
    );
    assert_eq!(
        config["netrc-file"]["value"].as_str(),
        Some(runtime.join("netrc").to_str().unwrap()),
        "{nix} reads the runtime netrc"
    );

    // The configuration remembers its store: the next token goes to the keyring without the flag.
    let out = nt(
        &env,
        Some(&ns),
        run,
        Some(&bus),
        &["set-token", "gitlab.com", "-p", "gitlab"],
        "glpat-keyringSecondToken12345\n",
    );
    assert_success(&out);
    assert_eq!(
        files_holding(&env.root, "glpat-keyringSecondToken12345"),
        Vec::<PathBuf>::new()
    );
    let tokens = nix_access_tokens(&nix_config_in(nix, &env, &ns));
    assert!(
        tokens
            .get("gitlab.com")
            .is_some_and(|t| t.contains("glpat-keyringSecondToken12345")),
        "{tokens:?}"
    );
    assert_eq!(tokens.get("github.com").map(String::as_str), Some(TOKEN));
}

each_nix!(set_token_in_the_keyring_reaches_nix_and_no_disk);

#[test]
fn keyring_store_without_a_keyring_writes_nothing() {
    let env = TestEnv::new();
    let Some(ns) = Ns::start(&env.root.join("run")) else {
        return;
    };
    let before = env.snapshot();
    // The test environment's session bus leads nowhere: no Secret Service answers.
    let out = nt(
        &env,
        Some(&ns),
        &ns.run,
        None,
        &["set-token", "github.com", "--store", "keyring"],
        &format!("{TOKEN}\n"),
    );
    assert_clean_failure(&out, 1);
    assert!(
        stderr(&out).contains("no OS keyring answers"),
        "{}",
        stderr(&out)
    );
    assert_no_leak(&out, &[TOKEN]);
    assert_eq!(env.snapshot(), before, "nothing was written");
    assert!(
        std::fs::read_dir(ns.inside(&ns.run))
            .unwrap()
            .flat_map(|d| std::fs::read_dir(d.unwrap().path()).into_iter().flatten())
            .next()
            .is_none(),
        "nothing in the runtime directory"
    );
}

#[test]
fn keyring_store_without_a_private_tmpfs_writes_nothing() {
    let env = TestEnv::new();
    let plain = env.root.join("plain-run");
    std::fs::create_dir_all(&plain).unwrap();
    std::fs::set_permissions(&plain, std::fs::Permissions::from_mode(0o700)).unwrap();
    let open = env.root.join("open-run");
    std::fs::create_dir_all(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o755)).unwrap();
    let theirs = env.root.join("their-run");
    std::fs::create_dir_all(&theirs).unwrap();
    std::fs::set_permissions(&theirs, std::fs::Permissions::from_mode(0o700)).unwrap();
    // Only root can give a directory to another user; elsewhere that case says it skips.
    let given_away = crate::support::available(
        std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).is_ok(),
        "not root: a runtime directory of another user cannot be made",
    );
    let before = env.snapshot();
    let mut cases = vec![
        (plain.as_path(), "is not a tmpfs"),
        (open.as_path(), "not 0700"),
        (Path::new("/nonexistent/run"), "does not exist"),
    ];
    if given_away {
        cases.push((theirs.as_path(), "belongs to another user"));
    }
    for (run, why) in cases {
        let out = nt(
            &env,
            None,
            run,
            None,
            &["set-token", "github.com", "--store", "keyring"],
            &format!("{TOKEN}\n"),
        );
        assert_clean_failure(&out, 1);
        assert!(stderr(&out).contains(why), "{why}: {}", stderr(&out));
        assert_eq!(env.snapshot(), before, "nothing was written ({why})");
    }
    let mut cmd = env.cmd();
    let out = cmd
        .args(["set-token", "github.com", "--store", "keyring"])
        .env_remove("XDG_RUNTIME_DIR")
        .write_stdin(format!("{TOKEN}\n"))
        .output()
        .unwrap();
    assert_clean_failure(&out, 1);
    assert!(
        stderr(&out).contains("XDG_RUNTIME_DIR is not set"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.snapshot(), before);
}

#[test]
fn keyring_store_is_refused_for_ci_and_system() {
    let env = TestEnv::new();
    let before = env.snapshot();
    let out = env.run(
        &["--system", "set-token", "github.com", "--store", "keyring"],
        &format!("{TOKEN}\n"),
    );
    assert_clean_failure(&out, 2);
    assert!(
        stderr(&out).contains("--system keeps tokens in files"),
        "{}",
        stderr(&out)
    );
    let out = env.run(&["login", "github", "--ci", "--store", "keyring"], "");
    assert_clean_failure(&out, 2);
    assert!(
        stderr(&out).contains("--ci keeps the job's credentials in files"),
        "{}",
        stderr(&out)
    );
    let out = env.run(&["--system", "store", "keyring"], "");
    assert_clean_failure(&out, 2);
    assert_eq!(env.snapshot(), before);
}

#[test]
fn keyring_store_state_file_is_read_strictly() {
    let env = TestEnv::new();
    let state = env.config_dir().join(".nix-tokens-store.json");
    // Others may write it: it could send the next token elsewhere, so it is refused.
    env.write(&state, "{\"store\": \"file\"}\n");
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o646)).unwrap();
    let before = env.snapshot();
    let out = env.run(&["set-token", "github.com"], &format!("{TOKEN}\n"));
    assert_clean_failure(&out, 1);
    assert!(
        stderr(&out).contains(".nix-tokens-store.json"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.snapshot(), before);
    // Not a record nix-tokens wrote: refused the same way.
    env.write(&state, "{\"store\": \"cloud\"}\n");
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o600)).unwrap();
    let before = env.snapshot();
    let out = env.run(&["set-token", "github.com"], &format!("{TOKEN}\n"));
    assert_clean_failure(&out, 1);
    assert!(
        stderr(&out).contains("is not a store record"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.snapshot(), before);
}
