//! `exec` shows the tokens to one command and leaves nothing, SIGTERM included.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use super::*;
use crate::each_nix;
use crate::support::nix::Nix;
use crate::support::*;

fn exec_shows_the_tokens_to_one_command(nix: &Nix) {
    let Some((bus, env, ns)) = keyring_session() else {
        return;
    };
    let run = |args: &[&str], stdin: &str| nt(&env, Some(&ns), &ns.run, Some(&bus), args, stdin);
    assert_success(&run(
        &["set-token", "github.com", "--store", "keyring"],
        &format!("{TOKEN}\n"),
    ));
    assert_success(&run(&["lock"], ""));
    assert_eq!(runtime_entries(&ns), Vec::<String>::new());

    // Locked, the one command still sees the token …
    let mut inner = nix.command(&env);
    inner.args(["--extra-experimental-features", "nix-command"]);
    if nix.at_least(2, 20) {
        inner.args(["config", "show", "--json"]);
    } else {
        inner.args(["show-config", "--json"]);
    }
    let out = exec_cmd(&env, &ns, &bus, &inner).output().unwrap();
    assert_success(&out);
    let config: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        nix_access_tokens(&config)
            .get("github.com")
            .map(String::as_str),
        Some(TOKEN),
        "{nix} sees the token through exec"
    );
    // … and leaves nothing behind: no copy, and Nix outside sees none.
    assert_eq!(runtime_entries(&ns), Vec::<String>::new());
    assert!(!nix_access_tokens(&nix_config_in(nix, &env, &ns)).contains_key("github.com"));
    assert_eq!(files_holding(&env.root, TOKEN), Vec::<PathBuf>::new());

    // NIX_CONFIG keeps what it held and names the copy, never the token; the exit code passes.
    let mut inner = Command::new("sh");
    inner
        .args(["-c", r#"printf '%s' "$NIX_CONFIG"; exit 7"#])
        .env("NIX_CONFIG", "warn-dirty = false");
    let out = exec_cmd(&env, &ns, &bus, &inner).output().unwrap();
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("warn-dirty = false\n!include "), "{text}");
    assert!(!text.contains(TOKEN), "{text}");
}

each_nix!(exec_shows_the_tokens_to_one_command);

#[test]
fn keyring_store_exec_cleans_up_after_sigterm_and_sigint() {
    let Some((bus, env, ns)) = keyring_session() else {
        return;
    };
    let out = nt(
        &env,
        Some(&ns),
        &ns.run,
        Some(&bus),
        &["set-token", "github.com", "--store", "keyring"],
        &format!("{TOKEN}\n"),
    );
    assert_success(&out);
    for (signal, number) in [
        (rustix::process::Signal::TERM, 15),
        (rustix::process::Signal::INT, 2),
    ] {
        exec_then_signal(&env, &ns, &bus, signal, number);
    }
}

/// `exec` of a command that waits, ended by `signal`: passed on, and the copy removed.
fn exec_then_signal(
    env: &TestEnv,
    ns: &Ns,
    bus: &str,
    signal: rustix::process::Signal,
    number: i32,
) {
    let mut inner = Command::new("sh");
    inner.args(["-c", r#"printf '%s\n' "$NIX_CONFIG"; exec sleep 600"#]);
    let mut child = exec_cmd(env, ns, bus, &inner)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let copy = PathBuf::from(line.trim().strip_prefix("!include ").expect("the include"));
    assert!(
        ns.inside(&copy).exists(),
        "the private copy is there while it runs"
    );
    assert_eq!(mode(&ns.inside(&copy)), 0o600);
    let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
    rustix::process::kill_process(pid, signal).unwrap();
    let out = wait_bounded(child, scaled(std::time::Duration::from_secs(20)), "exec");
    assert_eq!(out.status.code(), Some(128 + number), "{}", stderr(&out));
    assert!(
        !ns.inside(&copy).exists(),
        "signal {number}: the copy is gone"
    );
    assert!(
        !ns.inside(copy.parent().unwrap()).exists(),
        "and its directory"
    );
}
