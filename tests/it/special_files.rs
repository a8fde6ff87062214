//! Every file nix-tokens reads is read as a regular file with a limit that holds while reading:
//! a FIFO in place of a file never makes it wait, and a device that never ends (`/dev/zero`),
//! linked in place of a file or included by nix.conf, is refused at once, with one sentence naming
//! it and nothing written. Each run is bounded in time and memory, so a regression fails the test.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::support::*;

const GH: &str = "ghp_specialspecialspecial0123456789ab";

fn mkfifo(path: &Path) {
    let _ = fs::remove_file(path);
    let made = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(made.success());
}

fn link_to_zero(path: &Path) {
    let _ = fs::remove_file(path);
    std::os::unix::fs::symlink("/dev/zero", path).unwrap();
}

/// Runs each of `runs` in `env`, each refused with one sentence naming `path`, nothing changed.
fn refused(env: &TestEnv, path: &Path, runs: &[&[&str]]) {
    let before = env.snapshot();
    for args in runs {
        let out = env.run_bounded(args, &format!("{GH}\n"));
        assert_clean_failure(&out, 1);
        let err = stderr(&out);
        assert!(err.contains(&path.display().to_string()), "{args:?}: {err}");
        assert!(err.contains("not a regular file"), "{args:?}: {err}");
        assert_no_leak(&out, &[GH]);
        assert_eq!(env.snapshot(), before, "{args:?} changed files");
    }
}

/// `status` and `set-token`, which read nix.conf, what it includes and the state files.
const EVERY: &[&[&str]] = &[&["status", "--offline"], &["set-token", "github.com"]];

#[test]
fn a_fifo_in_place_of_the_token_file_or_a_state_file_never_waits() {
    for file in ["access-tokens.conf", ".nix-tokens-hosts.json", "nix.conf"] {
        let env = TestEnv::new();
        env.set_token("github.com", GH);
        let path = env.config_dir().join(file);
        mkfifo(&path);
        refused(&env, &path, EVERY);
    }
}

#[test]
fn a_device_linked_or_included_is_refused_at_once() {
    let env = TestEnv::new();
    env.set_token("github.com", GH);
    link_to_zero(&env.token_file());
    refused(&env, &env.token_file(), EVERY);

    for keyword in ["include", "!include"] {
        let env = TestEnv::new();
        env.write(&env.nix_conf(), &format!("{keyword} /dev/zero\n"));
        refused(&env, Path::new("/dev/zero"), EVERY);
    }

    // The netrc: `set-token` refuses it; `status` lists the other logins and says why not its.
    let env = TestEnv::new();
    env.set_token("github.com", GH);
    assert_success(&env.run(
        &["set-token", "files.example.org", "--netrc"],
        "cachecachecachecache1234\n",
    ));
    link_to_zero(&env.netrc());
    refused(
        &env,
        &env.netrc(),
        &[&["set-token", "cache.example.org", "--netrc"]],
    );
    let out = env.run_bounded(&["status", "--offline"], "");
    assert_success(&out);
    let err = stderr(&out);
    assert!(
        err.contains(&format!("{} is not a regular file", env.netrc().display())),
        "{err}"
    );
    assert!(stdout(&out).contains("github.com"), "{}", stdout(&out));
}

#[test]
fn a_fifo_in_place_of_flake_lock_never_waits() {
    let env = TestEnv::new();
    let flake = env.root.join("flake");
    fs::create_dir_all(&flake).unwrap();
    let lock = flake.join("flake.lock");
    mkfifo(&lock);
    let out = env.run_bounded(&["check", "--offline", flake.to_str().unwrap()], "");
    assert_clean_failure(&out, 1);
    let err = stderr(&out);
    assert!(err.contains(lock.to_str().unwrap()), "{err}");
    assert!(err.contains("not a regular file"), "{err}");
}
