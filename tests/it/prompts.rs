//! A question to the person at the terminal ("Replace it?", the logout menu and its
//! confirmation) is asked without holding the lock: other runs (another `set-token`, the refresh
//! timer, git's helper) go on meanwhile, and the answer is applied to the files as they are
//! then, asking again when they changed so that the question no longer applies. The terminal is a
//! real pseudo-terminal, from util-linux's `script`.

use std::io::{Read, Write};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::*;

const OLD: &str = "ghp_oldtokenabcdefghijklmnopqrstuv01";
const NEW: &str = "ghp_newtokenabcdefghijklmnopqrstuv02";
const THIRD: &str = "ghp_thirdtokenabcdefghijklmnopqrst03";
const GL: &str = "glpat-othertoken0123456789";

/// `nix-tokens ARGS…` at a terminal of its own; what it prints there is collected as it comes.
struct Terminal {
    child: Child,
    input: ChildStdin,
    seen: Arc<Mutex<String>>,
}

impl Terminal {
    fn start(env: &TestEnv, args: &[&str]) -> Self {
        let template = env.std_cmd();
        let quote = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
        let mut line = quote(&template.get_program().to_string_lossy());
        for arg in args {
            line.push(' ');
            line.push_str(&quote(arg));
        }
        let mut cmd = std::process::Command::new("script");
        cmd.args(["-qefc", &line, "/dev/null"]);
        for (k, v) in template.get_envs() {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        let mut child = cmd
            .current_dir(&env.root)
            .env("TERM", "dumb")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("util-linux's script");
        let input = child.stdin.take().unwrap();
        let mut output = child.stdout.take().unwrap();
        let seen = Arc::new(Mutex::new(String::new()));
        let sink = seen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = output.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Terminal { child, input, seen }
    }

    /// Waits until `text` has appeared `times` times on the terminal.
    fn wait_for(&self, text: &str, times: usize) {
        let start = Instant::now();
        while self.seen.lock().unwrap().matches(text).count() < times {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "no {text:?} (#{times}) on the terminal: {}",
                self.seen.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn answer(&mut self, keys: &str) {
        self.input.write_all(keys.as_bytes()).unwrap();
        self.input.flush().unwrap();
    }

    /// Waits for the run to end; its exit code and what it printed.
    fn finish(&mut self) -> (Option<i32>, String) {
        let start = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if start.elapsed() > Duration::from_secs(30) {
                let _ = self.child.kill();
                panic!("the run did not end: {}", self.seen.lock().unwrap());
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        std::thread::sleep(Duration::from_millis(100));
        let seen = self.seen.lock().unwrap().clone();
        (status.code(), seen)
    }
}

impl Drop for Terminal {
    /// A test that failed leaves no run waiting at its terminal.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `nix-tokens ARGS…` that must end, successfully, within a few seconds although another run
/// is waiting for an answer.
fn meanwhile(env: &TestEnv, args: &[&str]) {
    let child = env
        .std_cmd()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = wait_bounded(
        child,
        Duration::from_secs(10),
        "a run while another one waits for an answer",
    );
    assert_success(&out);
}

#[test]
fn replace_it_is_asked_without_the_lock_and_asked_again_when_the_token_changed() {
    if program("script", "util-linux").is_none() {
        return;
    }
    let env = TestEnv::new();
    env.set_token("github.com", OLD);
    let mut term = Terminal::start(&env, &["set-token", "github.com", NEW]);
    term.wait_for("Replace it", 1);
    // While the question waits, another host's token is saved, and this host's is replaced.
    meanwhile(&env, &["set-token", "gitlab.com", GL]);
    meanwhile(&env, &["set-token", "github.com", THIRD, "--force"]);
    term.answer("y");
    // The token the person agreed to replace is gone: the question is asked again, naming the
    // token there now.
    term.wait_for("Replace it", 2);
    let seen = term.seen.lock().unwrap().clone();
    let again = &seen[seen.rfind("already has a token").unwrap()..];
    assert!(again.contains("ghp_****03"), "{seen}");
    term.answer("y");
    let (code, seen) = term.finish();
    assert_eq!(code, Some(0), "{seen}");
    let tokens = read(&env.token_file());
    assert!(tokens.contains(&format!("github.com={NEW}")), "{tokens}");
    assert!(tokens.contains(&format!("gitlab.com=PAT:{GL}")), "{tokens}");
}

#[test]
fn the_logout_menu_and_its_question_wait_without_the_lock() {
    if program("script", "util-linux").is_none() {
        return;
    }
    let env = TestEnv::new();
    env.set_token("github.com", OLD);
    let mut term = Terminal::start(&env, &["logout"]);
    term.wait_for("Log out of which host?", 1);
    meanwhile(&env, &["set-token", "gitlab.com", GL]);
    term.answer("\r");
    term.wait_for("Remove the token(s) for github.com", 1);
    meanwhile(
        &env,
        &["set-token", "git.sr.ht", "srhttoken0123456789abcdef"],
    );
    term.answer("y");
    let (code, seen) = term.finish();
    assert_eq!(code, Some(0), "{seen}");
    let tokens = read(&env.token_file());
    assert!(!tokens.contains("github.com"), "{tokens}");
    assert!(tokens.contains(&format!("gitlab.com=PAT:{GL}")), "{tokens}");
    assert!(
        tokens.contains("git.sr.ht=srhttoken0123456789abcdef"),
        "{tokens}"
    );
}
