//! One command reads the configuration once: run under `strace`, no configuration file (the
//! user's and the system's nix.conf, the token file, the netrc, nix-tokens' state files) is opened
//! more than twice by `status`, `status --json`, `set-token`, `token`, `check --offline`,
//! `logout`, `--system status` or a daemon install's `status` (once to read, once more under the
//! lock to verify before a write), and `nix --version` runs at most once (a logging `nix` first on
//! `PATH`). Skipped, with a message, where strace is missing or may not trace.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::support::flake_lock as fl;
use crate::support::*;

const TOKEN: &str = "ghp_readsoncetoken0123456789abcdefgh";

/// Whether `strace` can trace a child here.
fn strace_works() -> bool {
    std::process::Command::new("strace")
        .args(["-f", "-o", "/dev/null", "true"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A `nix` first on `PATH` that notes each run in `ran` and says it is Nix 2.12.0.
fn logging_nix(env: &TestEnv) -> (std::ffi::OsString, PathBuf) {
    let bin = env.root.join("logging-bin");
    let ran = env.root.join("nix-ran");
    std::fs::create_dir_all(&bin).unwrap();
    let script = format!(
        "#!/bin/sh\necho \"$@\" >> '{}'\necho 'nix (Nix) 2.12.0'\n",
        ran.display()
    );
    std::fs::write(bin.join("nix"), script).unwrap();
    std::fs::set_permissions(bin.join("nix"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let path = std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(&path)));
    (path.unwrap(), ran)
}

/// How often the nix-tokens process (not the programs it runs) opened each file under `dirs`,
/// from strace's log (directories and temporary files aside).
fn opens(log: &str, dirs: &[PathBuf]) -> BTreeMap<String, usize> {
    // Processes that ran another program (git, nix) are not nix-tokens.
    let others: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("execve(") && !l.contains("nix-tokens"))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let mut counts = BTreeMap::new();
    for line in log.lines() {
        let pid = line.split_whitespace().next().unwrap_or_default();
        if others.contains(&pid) || !line.contains("open") || line.contains("O_DIRECTORY") {
            continue;
        }
        let Some(path) = line.split('"').nth(1) else {
            continue;
        };
        let name = Path::new(path).file_name().unwrap_or_default();
        // Temporary files are written, not read; the lock is taken once a session.
        let name = name.to_string_lossy();
        if name.ends_with(".tmp") || name.ends_with(".lock") {
            continue;
        }
        if name.contains(".backup-") || Path::new(path).is_dir() {
            continue;
        }
        if dirs.iter().any(|d| Path::new(path).starts_with(d)) {
            *counts.entry(path.to_owned()).or_insert(0) += 1;
        }
    }
    counts
}

/// Runs `args` under strace with `env`'s environment (and `extra`), and checks the counts.
/// What went wrong, if anything.
fn reads_once(
    env: &TestEnv,
    what: &str,
    args: &[&str],
    stdin: &str,
    extra: &[(&str, &str)],
) -> Vec<String> {
    let (path, ran) = logging_nix(env);
    let _ = std::fs::remove_file(&ran);
    let log = env.root.join("strace.log");
    let template = env.cmd();
    let mut cmd = std::process::Command::new("strace");
    cmd.args(["-f", "-e", "trace=open,openat,execve", "-o"])
        .arg(&log)
        .arg(template.get_program())
        .args(args);
    for (k, v) in template.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd.env("PATH", &path).current_dir(&env.root);
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.code().is_some_and(|c| c < 100),
        "{what}: {:?} {}",
        out.status.code(),
        stderr(&out)
    );
    let counts = opens(&read(&log), &[env.etc.clone(), env.config_dir()]);
    let many: Vec<_> = counts.iter().filter(|(_, n)| **n > 2).collect();
    eprintln!("{what}: {counts:?}");
    let mut wrong = Vec::new();
    if !many.is_empty() {
        wrong.push(format!(
            "{what} opened configuration files more than twice: {many:?}"
        ));
    }
    let versions = std::fs::read_to_string(&ran)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.trim() == "--version")
        .count();
    eprintln!("{what}: nix --version ran {versions} times");
    if versions > 1 {
        wrong.push(format!("{what} ran `nix --version` {versions} times"));
    }
    wrong
}

/// A user with a token, a netrc entry, a remembered host and a system nix.conf.
fn configured() -> TestEnv {
    let env = TestEnv::new();
    env.write(
        &env.etc.join("nix.conf"),
        "trusted-users = root @nix-tokens-none\nsubstituters = https://cache.nixos.org\n",
    );
    env.write(
        &env.nix_conf(),
        "experimental-features = nix-command flakes\n",
    );
    env.set_token("github.com", TOKEN);
    // An owner key: status warns when the installed Nix would not use it.
    env.set_token("github.com/work", TOKEN);
    env.run(
        &["set-token", "cache.example.org", "--netrc"],
        "cachepassword0123\n",
    );
    env
}

#[test]
fn every_command_opens_each_configuration_file_at_most_twice() {
    if !strace_works() {
        eprintln!("skipped: strace is missing or may not trace here");
        return;
    }
    let env = configured();
    let lock = fl::lock(
        json!({"nixpkgs": "nixpkgs"}),
        json!({"nixpkgs": fl::github("NixOS", "nixpkgs", None)}),
    );
    env.write(&env.root.join("flake").join("flake.lock"), &lock);
    env.write(
        &env.root.join("flake").join("flake.nix"),
        "{ outputs = _: { }; }\n",
    );
    let flake = env.root.join("flake").display().to_string();
    let daemon = [("NIX_REMOTE", "daemon")];
    let mut wrong = Vec::new();
    for (what, args, stdin, extra) in [
        ("status", vec!["status"], "", &[][..]),
        ("status --json", vec!["status", "--json"], "", &[]),
        ("token", vec!["token", "github.com"], "", &[]),
        (
            "check --offline",
            vec!["check", "--offline", &flake],
            "",
            &[],
        ),
        ("--system status", vec!["--system", "status"], "", &[]),
        ("a daemon install's status", vec!["status"], "", &daemon),
        (
            "set-token",
            vec!["set-token", "gitlab.com"],
            "glpat-readsonce0123456789ab\n",
            &[],
        ),
        ("logout", vec!["logout", "github.com", "--yes"], "", &[]),
    ] {
        wrong.extend(reads_once(&env, what, &args, stdin, extra));
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
