//! Files the user may not read or write get one sentence naming them, a non-zero exit, and no
//! change on disk. Root ignores file modes, so when the tests run as root the binary runs as
//! `nobody` (uid 65534, through util-linux's `setpriv`) in a home that user owns.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Output};

use crate::support::*;

const GH: &str = "ghp_abcdefghijklmnopqrstuvwxyz0123456789";
const GL: &str = "glpat-abcdefghijklmnopqrst";
const NOBODY: u32 = 65534;

fn running_as_root() -> bool {
    fs::metadata("/proc/self").map(|m| m.uid()).unwrap_or(1) == 0
}

/// Gives everything under `dir` to `nobody`.
fn chown_all(dir: &Path) {
    std::os::unix::fs::lchown(dir, Some(NOBODY), Some(NOBODY)).unwrap();
    if fs::symlink_metadata(dir).unwrap().is_dir() {
        for e in fs::read_dir(dir).unwrap() {
            chown_all(&e.unwrap().path());
        }
    }
}

/// A home with a nix.conf and a saved token, owned by the user the binary will run as.
fn populated() -> TestEnv {
    let env = TestEnv::new();
    env.write(&env.nix_conf(), "# mine\nmax-jobs = 2\n");
    env.set_token("github.com", GH);
    if running_as_root() {
        chown_all(&env.root);
        // The binary linked (or copied) into the home, so that no directory of the build (which
        // may be under /root) has to be open to `nobody`; it stays root's.
        let bin = env.root.join("bin");
        fs::create_dir(&bin).unwrap();
        fs::set_permissions(&bin, fs::Permissions::from_mode(0o755)).unwrap();
        let (from, to) = (env.cmd().get_program().to_owned(), bin.join("nix-tokens"));
        if fs::hard_link(&from, &to).is_err() {
            fs::copy(&from, &to).unwrap();
        }
        for dir in env.root.ancestors().skip(1) {
            let mode = fs::metadata(dir).unwrap().permissions().mode();
            assert!(
                mode & 0o001 != 0,
                "{} must be searchable by others for this test (mode {mode:o}); set TMPDIR",
                dir.display()
            );
        }
    }
    env
}

/// `nix-tokens ARGS…` with `stdin`, as `nobody` when the tests run as root.
fn run_unprivileged(env: &TestEnv, args: &[&str], stdin: &str) -> Output {
    run_unprivileged_with(env, args, stdin, &[])
}

/// [`run_unprivileged`] with the environment variables `vars` too.
fn run_unprivileged_with(
    env: &TestEnv,
    args: &[&str],
    stdin: &str,
    vars: &[(&str, &Path)],
) -> Output {
    let template = env.std_cmd();
    let mut cmd = if running_as_root() {
        let mut cmd = Command::new("setpriv");
        cmd.args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
            "--",
        ])
        .arg(env.root.join("bin").join("nix-tokens"));
        cmd
    } else {
        Command::new(template.get_program())
    };
    for (k, v) in template.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.current_dir(&env.root).args(args);
    assert_cmd::Command::from_std(cmd)
        .write_stdin(stdin)
        .output()
        .expect("run setpriv (util-linux) or nix-tokens")
}

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// The run failed with one sentence naming `path` and the missing permission, printed no token,
/// and changed nothing.
fn assert_refused(env: &TestEnv, out: &Output, path: &Path, before: &Snapshot) {
    assert_clean_failure(out, 1);
    let err = stderr(out);
    assert!(err.contains(&path.display().to_string()), "{err}");
    assert!(err.contains("permission denied"), "{err}");
    assert_no_leak(out, &[GH, GL]);
    assert_eq!(&env.snapshot(), before);
}

type Snapshot = std::collections::BTreeMap<std::path::PathBuf, (Vec<u8>, u32)>;

#[test]
fn the_test_runs_without_privileges() {
    let env = populated();
    let out = run_unprivileged(&env, &["set-token", "gitlab.com"], &format!("{GL}\n"));
    assert_success(&out);
    let owner = fs::metadata(env.token_file()).unwrap().uid();
    assert_eq!(owner == NOBODY, running_as_root(), "written by uid {owner}");
}

#[test]
fn an_unreadable_nix_conf_is_named() {
    let env = populated();
    chmod(&env.nix_conf(), 0o000);
    let before = env.snapshot();
    for (args, stdin) in [
        (&["set-token", "gitlab.com"][..], format!("{GL}\n")),
        (&["logout", "github.com", "--yes"][..], String::new()),
    ] {
        let out = run_unprivileged(&env, args, &stdin);
        assert_refused(&env, &out, &env.nix_conf(), &before);
    }
    // Nix skips a file it cannot read, so status shows what Nix sees, and says why.
    let out = run_unprivileged(&env, &["status", "--offline"], "");
    assert_success(&out);
    let warning = format!(
        "warning: {} cannot be read (permission denied), so Nix skips it",
        env.nix_conf().display()
    );
    assert!(stderr(&out).contains(&warning), "{}", stderr(&out));
    assert_no_leak(&out, &[GH]);
    assert_eq!(env.snapshot(), before);
}

#[test]
fn an_unreadable_token_file_is_named() {
    let env = populated();
    chmod(&env.token_file(), 0o000);
    let before = env.snapshot();
    for (args, stdin) in [
        (&["set-token", "gitlab.com"][..], format!("{GL}\n")),
        (&["logout", "github.com", "--yes"][..], String::new()),
    ] {
        let out = run_unprivileged(&env, args, &stdin);
        assert_refused(&env, &out, &env.token_file(), &before);
    }
}

#[test]
fn a_config_directory_that_cannot_be_written_is_named() {
    let env = populated();
    chmod(&env.config_dir(), 0o555);
    let before = env.snapshot();
    for (args, stdin) in [
        (&["set-token", "gitlab.com"][..], format!("{GL}\n")),
        (&["logout", "github.com", "--yes"][..], String::new()),
    ] {
        let out = run_unprivileged(&env, args, &stdin);
        assert_refused(&env, &out, &env.config_dir(), &before);
    }
    chmod(&env.config_dir(), 0o755);
}

/// A user who may not write the Nix store's state directory, beside the nix-daemon's socket, is on
/// a multi-user install: the daemon downloads from binary caches, so a cache's token is refused
/// for the user's own netrc, with the command that puts it in the daemon's.
#[test]
fn beside_a_daemon_socket_a_cache_token_needs_the_system_netrc() {
    if !running_as_root() {
        eprintln!(
            "skipping: the daemon's socket must be in a directory the test user may not write"
        );
        return;
    }
    let env = populated();
    let state = env.root.join("state");
    std::fs::create_dir_all(state.join("daemon-socket")).unwrap();
    let socket = state.join("daemon-socket/socket");
    let daemon = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let before = env.snapshot();
    let set_token = || {
        let args = ["set-token", "team.cachix.org", "-p", "cachix"];
        run_unprivileged_with(
            &env,
            &args,
            &format!("{GL}\n"),
            &[("NIX_STATE_DIR", &state)],
        )
    };
    let out = set_token();
    assert_clean_failure(&out, 2);
    assert!(
        stderr(&out).contains("the nix-daemon downloads from binary caches")
            && stderr(&out)
                .contains("`sudo nix-tokens --system set-token team.cachix.org --provider cachix`"),
        "{}",
        stderr(&out)
    );
    assert_no_leak(&out, &[GL]);
    assert_eq!(env.snapshot(), before);
    // Without the socket, the same user's own netrc is where Nix reads it.
    drop(daemon);
    std::fs::remove_file(&socket).unwrap();
    assert_success(&set_token());
    assert!(read(&env.netrc()).contains("machine team.cachix.org password"));
}
