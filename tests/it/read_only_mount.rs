//! A configuration directory on a read-only file system: every change stops with one sentence
//! naming the file or directory, a non-zero exit, and nothing changed. The directory is made
//! read-only by a bind mount in a private mount namespace (`unshare --mount`, util-linux), so
//! nothing outside the test sees it.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use crate::support::*;

const GH: &str = "ghp_abcdefghijklmnopqrstuvwxyz0123456789";
const GL: &str = "glpat-abcdefghijklmnopqrst";

/// Makes `$RO` a read-only bind mount of itself, then runs the rest of the command line.
const SCRIPT: &str =
    r#"mount --bind "$RO" "$RO" && mount -o remount,bind,ro "$RO" && exec "$0" "$@""#;

/// The `unshare` options that give this process a private mount namespace it may mount in:
/// plainly as root, else in a user namespace of its own. `None` when neither is allowed here.
fn unshare_options() -> Option<&'static [&'static str]> {
    let candidates: [&'static [&'static str]; 2] = [
        &["--mount", "--propagation", "private"],
        &[
            "--user",
            "--map-root-user",
            "--mount",
            "--propagation",
            "private",
        ],
    ];
    candidates.into_iter().find(|options| {
        Command::new("unshare")
            .args(*options)
            .args(["sh", "-c", SCRIPT, "true"])
            .env("RO", std::env::temp_dir())
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// `nix-tokens ARGS…` with `stdin`, seeing the directory `ro` read-only.
fn run_read_only(env: &TestEnv, options: &[&str], ro: &Path, args: &[&str], stdin: &str) -> Output {
    let template = env.std_cmd();
    let mut cmd = Command::new("unshare");
    for (k, v) in template.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd.current_dir(&env.root)
        .env("RO", ro)
        .args(options)
        .args(["sh", "-c", SCRIPT])
        .arg(template.get_program())
        .args(args);
    assert_cmd::Command::from_std(cmd)
        .write_stdin(stdin)
        .output()
        .expect("run unshare (util-linux)")
}

/// The `unshare` options, or `None` after saying why the test cannot run here.
fn options_or_skip() -> Option<&'static [&'static str]> {
    let options = unshare_options();
    if options.is_none() {
        eprintln!(
            "skipping: this system allows no private mount namespace (unshare --mount needs CAP_SYS_ADMIN or user namespaces)"
        );
    }
    options
}

#[test]
fn a_read_only_configuration_directory_stops_every_change() {
    let Some(options) = options_or_skip() else {
        return;
    };
    let env = TestEnv::new();
    env.write(&env.nix_conf(), "# mine\nmax-jobs = 2\n");
    env.set_token("github.com", GH);
    let before = env.snapshot();
    let dir = env.config_dir().display().to_string();
    for (args, stdin) in [
        (&["set-token", "gitlab.com"][..], format!("{GL}\n")),
        (&["set-token", "codeberg.org"][..], format!("{GL}\n")),
        (&["logout", "github.com", "--yes"][..], String::new()),
    ] {
        let out = run_read_only(&env, options, &env.config_dir(), args, &stdin);
        assert_clean_failure(&out, 1);
        let err = stderr(&out);
        assert!(err.contains(&dir), "the error should name {dir}: {err}");
        assert!(
            err.contains(
                "read-only file system; nothing there can change until it is mounted read-write"
            ),
            "{err}"
        );
        assert_no_leak(&out, &[GH, GL]);
        assert_eq!(env.snapshot(), before, "after {args:?}");
    }
    // Reading still works.
    let out = run_read_only(
        &env,
        options,
        &env.config_dir(),
        &["status", "--offline"],
        "",
    );
    assert_success(&out);
    assert!(stdout(&out).contains("github.com"), "{}", stdout(&out));
}

/// The lock is taken, nix.conf needs its include line, and the token file (linked to a read-only
/// file system) cannot be written: the change stops there and leaves nix.conf and every other
/// file as it was, with no backup or temporary file behind.
#[test]
fn a_token_file_on_a_read_only_file_system_stops_the_change_half_way() {
    let Some(options) = options_or_skip() else {
        return;
    };
    let env = TestEnv::new();
    env.set_token("github.com", GH);
    let ro = env.root.join("ro");
    fs::create_dir(&ro).unwrap();
    fs::rename(env.token_file(), ro.join("access-tokens.conf")).unwrap();
    std::os::unix::fs::symlink(ro.join("access-tokens.conf"), env.token_file()).unwrap();
    env.write(&env.nix_conf(), "# mine\nmax-jobs = 2\n");
    let before = env.snapshot();
    for (args, stdin) in [
        (&["set-token", "gitlab.com"][..], format!("{GL}\n")),
        (&["logout", "github.com", "--yes"][..], String::new()),
    ] {
        let out = run_read_only(&env, options, &ro, args, &stdin);
        assert_clean_failure(&out, 1);
        let err = stderr(&out);
        assert!(
            err.contains(&ro.display().to_string()),
            "the error should name {}: {err}",
            ro.display()
        );
        assert!(
            err.contains(
                "read-only file system; nothing there can change until it is mounted read-write"
            ),
            "{err}"
        );
        assert_no_leak(&out, &[GH, GL]);
        assert_eq!(env.snapshot(), before, "after {args:?}");
    }
}
