//! The install as `status` shows it, without a daemon of its own: the one line at the top and the
//! `install` entry of `--json`; offline, no `nix` is run; a system nix.conf that is a link into
//! the Nix store is managed (by NixOS here); a daemon's trust, estimated from `trusted-users`.

use std::os::unix::fs::PermissionsExt;

use crate::support::*;

/// A `nix` first on `PATH` that notes each run in `ran` and answers as `line`.
fn fake_nix(env: &TestEnv, line: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let bin = env.root.join("fake-bin");
    let ran = env.root.join("nix-ran");
    std::fs::create_dir_all(&bin).unwrap();
    let script = format!(
        "#!/bin/sh\necho \"$@\" >> {}\necho '{line}'\n",
        ran.display()
    );
    std::fs::write(bin.join("nix"), script).unwrap();
    std::fs::set_permissions(bin.join("nix"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let path = std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(&path)));
    (path.unwrap().into(), ran)
}

fn install_of(out: &std::process::Output) -> serde_json::Value {
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status prints JSON");
    json.as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "install")
        .map(|r| r["install"].clone())
        .unwrap_or_default()
}

#[test]
fn beside_a_daemon_status_shows_the_install_and_runs_no_nix_offline() {
    let env = TestEnv::new();
    env.write(
        &env.etc.join("nix.conf"),
        "trusted-users = root @nix-tokens-none\n",
    );
    let (path, ran) = fake_nix(&env, "nix (Nix) 2.12.0");
    let status = |args: &[&str]| {
        env.cmd()
            .args(args)
            .env("PATH", &path)
            .env("NIX_REMOTE", "daemon")
            .output()
            .unwrap()
    };
    let out = status(&["status", "--offline"]);
    assert_success(&out);
    let first = stderr(&out).lines().next().unwrap_or_default().to_owned();
    assert!(
        first.starts_with("Install: Nix, multi-user: the nix-daemon"),
        "{first}"
    );
    assert!(
        first.contains(&format!(
            "estimated from {}",
            env.etc.join("nix.conf").display()
        )) && first.contains(&format!("user configuration {}", env.nix_conf().display())),
        "{first}"
    );
    let out = status(&["status", "--offline", "--json"]);
    let install = install_of(&out);
    assert_eq!(install["kind"], "multi-user");
    assert_eq!(install["daemon"], true);
    assert_eq!(install["trust_from"], "estimated");
    assert_eq!(install["implementation"], serde_json::Value::Null);
    assert_eq!(
        install["cache_netrc"],
        env.etc.join("netrc").display().to_string()
    );
    assert!(!ran.exists(), "status --offline ran nix: {}", read(&ran));

    // Online, it asks what Nix it is (this one is too old to say whether it trusts the user).
    let out = status(&["status", "--json"]);
    assert_eq!(install_of(&out)["implementation"], "Nix 2.12.0");
    assert_eq!(read(&ran).trim(), "--version");
}

#[test]
fn a_system_configuration_linked_into_the_store_is_managed() {
    let env = TestEnv::new();
    let generated = env.store.join("0123456789abcdfghijklmnpqrsvwxyz-nix.conf");
    env.write(&generated, "substituters = https://cache.nixos.org\n");
    std::os::unix::fs::symlink(&generated, env.etc.join("nix.conf")).unwrap();
    let out = env.run(&["status", "--offline"], "");
    assert_success(&out);
    assert!(
        stderr(&out).contains(&format!(
            "system configuration {} (managed by NixOS)",
            env.etc.join("nix.conf").display()
        )),
        "{}",
        stderr(&out)
    );
    let install = install_of(&env.run(&["status", "--offline", "--json"], ""));
    assert_eq!(install["managed_by"], "NixOS");
    assert_eq!(install["kind"], "single-user");
    // Without a daemon or a manager there is nothing to add: an empty setup is `[]`.
    let plain = TestEnv::new();
    let out = plain.run(&["status", "--offline", "--json"], "");
    assert_eq!(stdout(&out).trim(), "[]");
}

/// `login` asks Nix about the daemon for a binary cache only: a forge's login runs no `nix`.
#[test]
fn only_a_cache_login_asks_nix_about_the_daemon() {
    let env = TestEnv::new();
    // The daemon trusts whoever runs the test (root or not, as in Nix's build sandbox), so the
    // cache's login goes on after asking.
    env.write(&env.etc.join("nix.conf"), "trusted-users = *\n");
    let (path, ran) = fake_nix(&env, "nix (Nix) 2.12.0");
    let login = |args: &[&str]| {
        env.cmd()
            .arg("login")
            .args(args)
            .args(["--with-token", "--dry-run"])
            .env("PATH", &path)
            .env("NIX_REMOTE", "daemon")
            .write_stdin("")
            .output()
            .unwrap()
    };
    assert_success(&login(&["github"]));
    assert_success(&login(&["codeberg.org"]));
    assert!(!ran.exists(), "a forge's login ran nix: {}", read(&ran));
    assert_success(&login(&["cachix", "--cache", "team"]));
    assert_eq!(read(&ran).trim(), "--version");
}
