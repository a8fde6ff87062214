//! `store keyring` moves every token in and scrubs the plaintext; `store file` moves them back.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use super::*;
use crate::each_nix;
use crate::support::nix::Nix;
use crate::support::*;

fn store_keyring_moves_every_token_and_scrubs_the_plaintext(nix: &Nix) {
    let Some((bus, env, ns)) = keyring_session() else {
        return;
    };
    let run = |args: &[&str], stdin: &str| nt(&env, Some(&ns), &ns.run, Some(&bus), args, stdin);
    const GITLAB: &str = "glpat-plaintextGitlabToken12345";
    // A token in nix.conf itself, moved into the token file (and so into a backup of nix.conf) by
    // the next change; one in the token file; one in the netrc nix-tokens created.
    env.write(
        &env.nix_conf(),
        &format!("access-tokens = github.com={TOKEN}\n"),
    );
    assert_success(&run(
        &["set-token", "gitlab.com", "-p", "gitlab"],
        &format!("{GITLAB}\n"),
    ));
    assert_success(&run(
        &["set-token", "files.example.org", "--netrc"],
        &format!("{CACHE_TOKEN}\n"),
    ));
    for secret in [TOKEN, GITLAB, CACHE_TOKEN] {
        assert!(
            !files_holding(&env.root, secret).is_empty(),
            "{secret} is in plaintext first"
        );
    }

    // One more in nix.conf itself: the backup this very move makes holds it.
    const IN_CONF: &str = "inConfToken0123456789abcdefXYZ";
    let conf = read(&env.nix_conf());
    env.write(
        &env.nix_conf(),
        &format!("{conf}extra-access-tokens = example.org={IN_CONF}\n"),
    );
    // pixi's entry nix-tokens wrote for gitlab.com (as a login to an issuer writes it), beside
    // the user's own entry for another host.
    let pixi = env.root.join("rattler").join("credentials.json");
    env.write(
        &pixi,
        &format!(
            "{{\n  \"gitlab.com\": {{\"BearerToken\": \"{GITLAB}\"}},\n  \"mine.example\": {{\"BearerToken\": \"users-own-pixi\"}}\n}}\n"
        ),
    );
    std::fs::set_permissions(&pixi, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::set_permissions(
        pixi.parent().unwrap(),
        std::fs::Permissions::from_mode(0o700),
    )
    .unwrap();
    let hosts_path = env.config_dir().join(".nix-tokens-hosts.json");
    let mut hosts: serde_json::Value = serde_json::from_str(&read(&hosts_path)).unwrap();
    hosts["hosts"]["gitlab.com"]["pixi"] =
        serde_json::json!({"file": pixi.display().to_string(), "key": "gitlab.com"});
    env.write(&hosts_path, &serde_json::to_string_pretty(&hosts).unwrap());

    let out = run(&["store", "keyring"], "");
    assert_success(&out);
    assert_no_leak(&out, &[TOKEN, GITLAB, CACHE_TOKEN, IN_CONF]);
    assert_eq!(
        files_holding(&env.root, IN_CONF),
        Vec::<PathBuf>::new(),
        "not even in this move's backup"
    );
    assert!(stderr(&out).contains("scrubbed"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("pixi auth login gitlab.com"),
        "{}",
        stderr(&out)
    );
    assert!(
        read(&pixi).contains("users-own-pixi"),
        "the user's own pixi entry stays"
    );
    for secret in [TOKEN, GITLAB, CACHE_TOKEN] {
        assert_eq!(
            files_holding(&env.root, secret),
            Vec::<PathBuf>::new(),
            "no plaintext copy of {secret} is left"
        );
    }
    let config = nix_config_in(nix, &env, &ns);
    let tokens = nix_access_tokens(&config);
    assert_eq!(
        tokens.get("github.com").map(String::as_str),
        Some(TOKEN),
        "{nix}"
    );
    assert!(
        tokens
            .get("gitlab.com")
            .is_some_and(|t| t.ends_with(GITLAB)),
        "{tokens:?}"
    );
    let netrc = PathBuf::from(config["netrc-file"]["value"].as_str().unwrap());
    assert!(
        read(&ns.inside(&netrc)).contains(CACHE_TOKEN),
        "{nix} reads the netrc entry"
    );

    // Later logins stay in the keyring.
    assert_success(&run(
        &["set-token", "codeberg.org", "-p", "forgejo"],
        "codebergLaterToken0123456789abcdef\n",
    ));
    assert_eq!(
        files_holding(&env.root, "codebergLaterToken0123456789abcdef"),
        Vec::<PathBuf>::new()
    );

    // And back: every token in files again, where Nix reads it, and no runtime copy.
    let out = run(&["store", "file"], "");
    assert_success(&out);
    assert_no_leak(&out, &[TOKEN, GITLAB, CACHE_TOKEN, IN_CONF]);
    assert_eq!(runtime_entries(&ns), Vec::<String>::new());
    assert!(!read(&env.nix_conf()).contains(&ns.runtime().display().to_string()));
    let config = nix_config_in(nix, &env, &ns);
    let tokens = nix_access_tokens(&config);
    assert_eq!(
        tokens.get("github.com").map(String::as_str),
        Some(TOKEN),
        "{nix}"
    );
    assert_eq!(
        tokens.get("example.org").map(String::as_str),
        Some(IN_CONF),
        "{nix}"
    );
    assert!(
        tokens
            .get("gitlab.com")
            .is_some_and(|t| t.ends_with(GITLAB)),
        "{tokens:?}"
    );
    let netrc = PathBuf::from(config["netrc-file"]["value"].as_str().unwrap());
    assert!(!netrc.starts_with(&ns.run), "{}", netrc.display());
    let netrc = read(&netrc);
    assert!(netrc.contains(CACHE_TOKEN) && netrc.contains("codebergLaterToken0123456789abcdef"));
    // Later logins go to files.
    assert_success(&run(
        &["set-token", "sr.ht", "-p", "sourcehut"],
        "srhtLaterToken0123456789abcdef\n",
    ));
    assert!(read(&env.token_file()).contains("srhtLaterToken0123456789abcdef"));
}

each_nix!(store_keyring_moves_every_token_and_scrubs_the_plaintext);

/// `store keyring` that cannot finish (no file longer than 512 bytes can be written, so nix.conf's
/// backup fails): it fails, and every token is still in its file, where Nix reads it.
fn a_failed_store_keyring_leaves_every_token_where_nix_finds_it(nix: &Nix) {
    let Some((bus, env, ns)) = keyring_session() else {
        return;
    };
    let run = |args: &[&str], stdin: &str| nt(&env, Some(&ns), &ns.run, Some(&bus), args, stdin);
    let padding = "# a long comment that keeps nix.conf past the limit\n".repeat(20);
    env.write(&env.nix_conf(), &padding);
    assert_success(&run(&["set-token", "github.com"], &format!("{TOKEN}\n")));
    let before = env.snapshot();

    let mut cmd = env.std_cmd();
    let program = cmd.get_program().to_owned();
    cmd = {
        let mut sh = Command::new("sh");
        for (k, v) in cmd.get_envs() {
            match v {
                Some(v) => sh.env(k, v),
                None => sh.env_remove(k),
            };
        }
        sh.current_dir(&env.root)
            .arg("-c")
            .arg("trap '' XFSZ; ulimit -f 1; exec \"$0\" \"$@\"")
            .arg(program)
            .args(["store", "keyring"])
            .env("XDG_RUNTIME_DIR", &ns.run)
            .env("DBUS_SESSION_BUS_ADDRESS", &bus);
        sh
    };
    let out = ns.wrap(&cmd).stdin(Stdio::null()).output().unwrap();
    assert!(!out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("file too large"),
        "the write fails: {}",
        stderr(&out)
    );
    assert_no_leak(&out, &[TOKEN]);
    let after = env.snapshot();
    assert_eq!(
        after.get(&env.token_file()),
        before.get(&env.token_file()),
        "the token file is as it was"
    );
    assert_eq!(after.get(&env.nix_conf()), before.get(&env.nix_conf()));
    assert_eq!(
        runtime_entries(&ns),
        Vec::<String>::new(),
        "no copy stays behind"
    );
    let tokens = nix_access_tokens(&nix_config_in(nix, &env, &ns));
    assert_eq!(
        tokens.get("github.com").map(String::as_str),
        Some(TOKEN),
        "{nix} still sees it"
    );
}

each_nix!(a_failed_store_keyring_leaves_every_token_where_nix_finds_it);
