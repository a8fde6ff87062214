//! The CI watcher as the action starts it: action.yml's own step script, run by bash in the
//! background of a shell that then exits, as a step's shell does. The watcher keeps renewing after
//! that shell is gone, until SIGTERM; it writes no secret to its output, and its log is the
//! runner user's alone. When a renewal yields a credential that has (nearly) expired, it pauses,
//! doubling each time, instead of asking again at once; tests count those pauses with the
//! watcher's pauses scaled down (`NIX_TOKENS_TEST_TIME_SCALE`, honoured by release builds too).

use std::io::BufRead;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::ci::{github_job, run};
use crate::support::fake_ci::FakeCi;
use crate::support::{TestEnv, assert_success, available, read, stdout, wait_until};

/// action.yml, where this source tree has it: the package's source (`src` in nix/package.nix) is
/// the program, its tests and docs, so inside the package's own build the tests of the action say
/// they skip.
fn action_yml() -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml");
    available(
        path.is_file(),
        "action.yml is not in this source tree (the package's source leaves the action out)",
    )
    .then_some(path)
}

/// The `run:` script of action.yml's step named `name`, its indentation removed.
fn action_step(name: &str) -> String {
    let action = read(&action_yml().expect("action.yml is in this source tree"));
    let lines: Vec<&str> = action.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.trim() == format!("- name: {name}"))
        .unwrap_or_else(|| panic!("action.yml has no step `{name}`"));
    let run = lines[start..]
        .iter()
        .position(|l| l.trim() == "run: |")
        .expect("the step has a `run: |` script")
        + start;
    let indent = |l: &str| l.len() - l.trim_start().len();
    let body: Vec<&str> = lines[run + 1..]
        .iter()
        .take_while(|l| l.trim().is_empty() || indent(l) > indent(lines[run]))
        .copied()
        .collect();
    let depth = body
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| indent(l))
        .min()
        .unwrap_or(0);
    body.iter()
        .map(|l| l.get(depth..).unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A process the test started outside its own children; sent SIGTERM when the test ends.
struct Watcher(u32);

impl Watcher {
    fn alive(&self) -> bool {
        std::fs::read_to_string(format!("/proc/{}/stat", self.0))
            .map(|s| {
                let state = s.rsplit(')').next().unwrap_or("").split_whitespace().next();
                state != Some("Z") && state != Some("X")
            })
            .unwrap_or(false)
    }

    fn terminate(&self) {
        crate::support::terminate(self.0);
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.terminate();
    }
}

/// Runs action.yml's watcher step in the job's environment (`RUNNER_TEMP` in the test's
/// directory, nix-tokens on PATH), then `then`, in one bash that exits afterwards; returns the
/// watcher and the log it writes.
fn run_watcher_step(env: &TestEnv, ci: &FakeCi, then: &str) -> (Watcher, PathBuf) {
    let template = github_job(env, ci);
    let bin = PathBuf::from(template.get_program());
    let runner_temp = env.root.join("runner-temp");
    std::fs::create_dir_all(&runner_temp).unwrap();
    let mut cmd = std::process::Command::new("bash");
    for (k, v) in template.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let script = format!("set -euo pipefail\n{}\n{then}\n", action_step(KEEP_FRESH));
    let out = cmd
        .env("PATH", path)
        .env("RUNNER_TEMP", &runner_temp)
        .current_dir(&env.root)
        .args(["-c", &script])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let said = stdout(&out);
    let pid = said
        .split("(pid ")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("the step names the watcher's pid:\n{said}"));
    assert!(out.status.success(), "the step failed:\n{said}");
    (Watcher(pid), runner_temp.join("nix-tokens-watch.log"))
}

const KEEP_FRESH: &str = "Keep short-lived credentials fresh";

/// What the step's shell does after starting the watcher before it exits: it goes on until the
/// watcher has renewed once (its log says so), so that the watcher's parent is that shell for a
/// while and then is gone.
const UNTIL_RENEWED: &str = r#"for _ in $(seq 400); do grep -q 'Logged in' "$RUNNER_TEMP/nix-tokens-watch.log" && exit 0; sleep 0.05; done; exit 1"#;

#[test]
fn the_actions_watcher_keeps_renewing_after_the_step_shell_exits_until_sigterm() {
    if action_yml().is_none() {
        return;
    }
    let (env, ci) = (TestEnv::new(), FakeCi::start());
    ci.set_lifetime(3);
    let cache = format!("{}/cache", ci.url());
    assert_success(&run(
        github_job(&env, &ci),
        &["login", "flakehub", "--ci", "--base-url", &cache],
    ));
    let (watcher, log) = run_watcher_step(&env, &ci, UNTIL_RENEWED);
    // The step's shell has exited; the watcher renews again after that.
    let issued = ci.state().id_tokens.len();
    let renewed = wait_until(Duration::from_secs(10), || {
        ci.state().id_tokens.len() > issued && read(&log).matches("Logged in").count() >= 2
    });
    assert!(
        renewed && watcher.alive(),
        "the watcher stopped renewing when the step's shell exited:\n{}",
        read(&log)
    );
    watcher.terminate();
    assert!(
        wait_until(Duration::from_secs(5), || !watcher.alive()),
        "SIGTERM ends the watcher"
    );
}

#[test]
fn the_actions_watcher_log_is_private_and_holds_no_secret() {
    if action_yml().is_none() {
        return;
    }
    let (env, ci) = (TestEnv::new(), FakeCi::start());
    ci.set_lifetime(3);
    ci.set_minted_lifetime(3);
    let cache = format!("{}/cache", ci.url());
    assert_success(&run(
        github_job(&env, &ci),
        &["login", "flakehub", "--ci", "--base-url", &cache],
    ));
    assert_success(&run(
        github_job(&env, &ci),
        &["login", "prefix.dev", "--ci", "--base-url", ci.url()],
    ));
    let (watcher, log) = run_watcher_step(&env, &ci, UNTIL_RENEWED);
    let renewed_both = wait_until(Duration::from_secs(10), || {
        ci.state().minted.len() > 1 && read(&log).matches("Logged in").count() >= 2
    });
    watcher.terminate();
    assert!(
        wait_until(Duration::from_secs(5), || !watcher.alive()),
        "SIGTERM ends the watcher"
    );
    assert!(renewed_both, "{}", read(&log));
    let mode = std::fs::metadata(&log).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the watcher's log is {mode:o}");
    let text = read(&log);
    assert!(!text.contains("::add-mask::"), "{text}");
    let state = ci.state();
    for secret in state.id_tokens.iter().chain(&state.minted) {
        assert!(
            !text.contains(secret.as_str()),
            "the log holds a secret:\n{text}"
        );
    }
}

#[test]
fn a_renewal_that_yields_an_expired_token_backs_off_doubling_to_a_minute() {
    let (env, ci) = (TestEnv::new(), FakeCi::start());
    // The mint answers with tokens whose `exp` is the second they were minted in.
    ci.set_minted_lifetime(0);
    assert_success(&run(
        github_job(&env, &ci),
        &["login", "prefix.dev", "--ci", "--base-url", ci.url()],
    ));
    let template = github_job(&env, &ci);
    let mut cmd = std::process::Command::new(template.get_program());
    for (k, v) in template.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let mut child = cmd
        .current_dir(&env.root)
        .env("NIX_TOKENS_TEST_TIME_SCALE", "0.001")
        .args(["refresh", "--ci", "--watch"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // The pauses the watcher announces, until it has paused 7 times (or 20 s have passed).
    let mut pauses: Vec<u64> = Vec::new();
    let mut said = Vec::new();
    let start = Instant::now();
    while pauses.len() < 7 && start.elapsed() < Duration::from_secs(20) {
        let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) else {
            continue;
        };
        if let Some(rest) = line.split("asking again in ").nth(1) {
            pauses.push(rest.trim_end_matches(" s").parse().unwrap());
        }
        said.push(line);
    }
    let said = &said[said.len().saturating_sub(10)..];
    let minted = ci.state().minted.len();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        pauses,
        [2, 4, 8, 16, 32, 60, 60],
        "{minted} tokens minted; the watcher said last:\n{}",
        said.join("\n")
    );
    // One for the login, one per renewal; at most one more was under way.
    assert!((8..=9).contains(&minted), "{minted} tokens minted");
}
