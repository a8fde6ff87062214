//! `lock` hides the keyring store's tokens from Nix, `unlock` (and any other command of an
//! unlocked store) brings them back, `status` says which.

use std::path::PathBuf;

use super::*;
use crate::each_nix;
use crate::support::nix::Nix;
use crate::support::*;

fn lock_hides_the_tokens_and_unlock_brings_them_back(nix: &Nix) {
    let Some((bus, env, ns)) = keyring_session() else {
        return;
    };
    let run = |args: &[&str], stdin: &str| nt(&env, Some(&ns), &ns.run, Some(&bus), args, stdin);
    assert_success(&run(
        &["set-token", "github.com", "--store", "keyring"],
        &format!("{TOKEN}\n"),
    ));
    let copy = ns.inside(&ns.runtime().join("access-tokens.conf"));
    assert!(copy.exists());

    let out = run(&["lock"], "");
    assert_success(&out);
    assert!(!copy.exists(), "lock removes the runtime copy");
    assert!(
        !nix_access_tokens(&nix_config_in(nix, &env, &ns)).contains_key("github.com"),
        "{nix} sees no token when locked"
    );
    // No other command writes the copy of a locked store; status says how to unlock it.
    let out = run(&["status", "--offline"], "");
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert!(
        said.contains("locked") && said.contains("nix-tokens unlock"),
        "{said}"
    );
    let out = run(&["token", "github.com", "--yes"], "");
    assert_eq!(
        out.status.code(),
        Some(3),
        "a locked store's token is missing: {}",
        stderr(&out)
    );
    assert!(
        !copy.exists(),
        "nothing but unlock writes the copy of a locked store"
    );
    assert_eq!(files_holding(&env.root, TOKEN), Vec::<PathBuf>::new());
    assert_eq!(
        files_holding(&ns.inside(&ns.run), TOKEN),
        Vec::<PathBuf>::new(),
        "locked: no copy in the tmpfs either"
    );

    assert_success(&run(&["unlock"], ""));
    assert_success(&run(&["unlock"], ""));
    assert_eq!(mode(&copy), 0o600);
    assert_eq!(
        nix_access_tokens(&nix_config_in(nix, &env, &ns))
            .get("github.com")
            .map(String::as_str),
        Some(TOKEN),
        "{nix}"
    );
    let out = run(&["status", "--offline"], "");
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert!(said.contains("Nix sees its tokens now"), "{said}");

    // A new session (the runtime directory emptied): the next command writes the copy again.
    std::fs::remove_file(&copy).unwrap();
    let out = run(&["token", "github.com", "--yes"], "");
    assert_success(&out);
    assert!(
        copy.exists(),
        "an unlocked store's copy comes back with any command"
    );
    assert_eq!(stdout(&out).trim(), TOKEN);
}

each_nix!(lock_hides_the_tokens_and_unlock_brings_them_back);
