//! A crash never leaves a broken file: runs of `set-token` and `logout` killed with SIGKILL at
//! random moments leave nix.conf, the token file and the netrc each as it was before the run or
//! as the run finished it, and running the command again gives what an uninterrupted run gives.
//!
//! The oracle is a second home where each operation first runs to completion from the same files:
//! after the operation is killed, each file must equal its content before it or its content in the
//! oracle's home after it, no token held both before and after may be missing from every file, and
//! after the command is run again all three files must equal the oracle's.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

/// Every token in these tests contains this marker, so a file holding a token is easy to spot.
const MARK: &str = "sek";
const SEED_TOKEN: &str = "sekseed0000zzzzzzzzzz";

/// nix.conf to start from: comments, unrelated settings and a token that the first write moves
/// into the token file (after backing nix.conf up).
fn initial_nix_conf() -> String {
    format!(
        "# my Nix settings\nmax-jobs = 4\n\n# tokens from before nix-tokens\naccess-tokens = seed.org={SEED_TOKEN}\nwarn-dirty = false # trailing comment\n"
    )
}

/// The host whose token is added to nix.conf by hand now and then, as a user would; the next
/// command moves it into the token file.
const BY_HAND: &str = "byhand.org";

/// The hosts operated on; `true` for the ones whose token goes to the netrc.
const HOSTS: &[(&str, bool)] = &[
    ("github.com", false),
    ("gitlab.com", false),
    ("git.sr.ht", false),
    ("example.org", false),
    ("seed.org", false),
    (BY_HAND, false),
    ("codeberg.org", true),
    ("prefix.dev", true),
];

/// SplitMix64: small, deterministic, good enough to pick operations and delays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[derive(Clone, Debug)]
enum Op {
    Set {
        host: &'static str,
        token: String,
    },
    Logout {
        host: &'static str,
    },
    /// Not a command: a line appended to nix.conf in an editor.
    HandEdit {
        line: String,
    },
}

impl Op {
    fn args(&self) -> Vec<&str> {
        match self {
            Op::Set { host, .. } => vec!["set-token", host, "--force"],
            Op::Logout { host } => vec!["logout", host, "--yes"],
            Op::HandEdit { .. } => unreachable!("a hand edit runs no command"),
        }
    }

    fn stdin(&self) -> String {
        match self {
            Op::Set { token, .. } => format!("{token}\n"),
            Op::Logout { .. } | Op::HandEdit { .. } => String::new(),
        }
    }
}

/// Chooses operations, keeping track of which hosts hold a token so that every `logout` is of a
/// host that has one, and the first operation is a `set-token` (which migrates nix.conf).
struct Planner {
    rng: Rng,
    /// The token each host holds after the operations chosen so far.
    tokens: Vec<Option<String>>,
    n: usize,
}

impl Planner {
    fn new(seed: u64) -> Self {
        let tokens = HOSTS
            .iter()
            .map(|(h, _)| (*h == "seed.org").then(|| SEED_TOKEN.to_owned()))
            .collect();
        Planner {
            rng: Rng(seed),
            tokens,
            n: 0,
        }
    }

    fn next_op(&mut self) -> Op {
        let by_hand = HOSTS.iter().position(|(h, _)| *h == BY_HAND).unwrap();
        if self.n > 0 && self.tokens[by_hand].is_none() && self.rng.below(8) == 0 {
            self.n += 1;
            let token = format!("{MARK}{:06}hand", self.n);
            self.tokens[by_hand] = Some(token.clone());
            return Op::HandEdit {
                line: format!("extra-access-tokens = {BY_HAND}={token}\n"),
            };
        }
        let i = self.rng.below(HOSTS.len() as u64) as usize;
        let host = HOSTS[i].0;
        let logout = self.n > 0 && self.tokens[i].is_some() && self.rng.below(10) < 4;
        self.n += 1;
        if logout {
            self.tokens[i] = None;
            Op::Logout { host }
        } else {
            let token = format!("{MARK}{:06}h{i}zzzzzzzzzz", self.n);
            self.tokens[i] = Some(token.clone());
            Op::Set { host, token }
        }
    }
}

const FILES: [&str; 3] = ["nix.conf", "access-tokens.conf", "netrc"];

/// The three files (absent or their bytes), with the home's own path replaced by `<ROOT>` so that
/// two homes compare equal (the token file names the netrc by its absolute path).
type State = [Option<String>; 3];

fn state(env: &TestEnv) -> State {
    let root = env.root.display().to_string();
    FILES.map(|name| match fs::read(env.config_dir().join(name)) {
        Ok(bytes) => Some(
            String::from_utf8(bytes)
                .unwrap_or_else(|e| panic!("{name} is not UTF-8: {e}"))
                .replace(&root, "<ROOT>"),
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => panic!("read {name}: {e}"),
    })
}

fn spawn(env: &TestEnv, op: &Op) -> Child {
    let mut child = env
        .std_cmd()
        .args(op.args())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn nix-tokens");
    // The token fits in the pipe's buffer; a child killed early makes this a broken pipe.
    let _ = child.stdin.take().unwrap().write_all(op.stdin().as_bytes());
    child
}

/// Runs `op` to completion; returns its exit status, stderr and how long it took.
fn run_to_end(env: &TestEnv, op: &Op) -> (ExitStatus, String, Duration) {
    let start = Instant::now();
    let child = spawn(env, op);
    let out = wait_bounded(child, Duration::from_secs(10), &format!("{op:?}"));
    (out.status, stderr(&out), start.elapsed())
}

/// Leftover temporary files must never expose a token, and backups are private.
fn check_leftovers(env: &TestEnv, context: &str) -> usize {
    let mut temporaries = 0;
    for entry in fs::read_dir(env.config_dir()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Ok(meta) = fs::metadata(&path) else {
            continue;
        };
        let mode = meta.permissions().mode() & 0o7777;
        if name.starts_with(".nix-tokens-") && name.ends_with(".tmp") {
            temporaries += 1;
            let text = String::from_utf8_lossy(&fs::read(&path).unwrap_or_default()).into_owned();
            if text.contains(MARK) {
                assert_eq!(
                    mode, 0o600,
                    "{context}: temporary file {name} holds a token with mode {mode:o}:\n{text}"
                );
            }
        } else if name == "access-tokens.conf" || name == "netrc" {
            assert_eq!(mode, 0o600, "{context}: {name} has mode {mode:o}");
        } else if name.starts_with("nix.conf.backup-") {
            assert_eq!(mode, 0o600, "{context}: backup {name} has mode {mode:o}");
        }
    }
    temporaries
}

/// Every token the files hold.
fn tokens_in(state: &State) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for text in state.iter().flatten() {
        for (at, _) in text.match_indices(MARK) {
            let token: String = text[at..]
                .chars()
                .take_while(char::is_ascii_alphanumeric)
                .collect();
            found.insert(token);
        }
    }
    found
}

fn describe(s: &Option<String>) -> String {
    match s {
        None => "(absent)".to_owned(),
        Some(text) => format!("{text:?}"),
    }
}

#[derive(Debug, Default)]
struct Tally {
    operations: usize,
    /// Runs the SIGKILL reached before they exited.
    killed: usize,
    /// Of those, runs killed after writing some but not all of the files the operation changes.
    killed_midway: usize,
    /// Of those, runs killed after every file was in its final state.
    killed_after_writes: usize,
    /// Runs killed while writing a temporary file (which they leave behind).
    killed_writing: usize,
    temporaries_left: usize,
    /// Killed logouts that had already written the token file, so that running them again
    /// found nothing to remove.
    logouts_already_done: usize,
}

/// Puts `state` (from another home) into `env`'s three files.
fn load(env: &TestEnv, state: &State) {
    let root = env.root.display().to_string();
    for (name, content) in FILES.iter().zip(state) {
        let path = env.config_dir().join(name);
        match content {
            Some(text) => {
                fs::write(&path, text.replace("<ROOT>", &root)).unwrap();
                let mode = if *name == "nix.conf" { 0o644 } else { 0o600 };
                fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
            }
            None => {
                let _ = fs::remove_file(&path);
            }
        }
    }
}

/// Runs operations from a fixed seed, killing each at a random moment, until `kills` runs were
/// killed (or `max_ops` operations ran, or `budget` passed), checking the files after each.
fn crash_run(seed: u64, kills: usize, max_ops: usize, budget: Duration) -> Tally {
    let crash = TestEnv::new();
    let oracle = TestEnv::new();
    crash.write(&crash.nix_conf(), &initial_nix_conf());
    let mut planner = Planner::new(seed);
    let mut rng = Rng(seed ^ 0xDEAD_BEEF);
    let mut tally = Tally::default();
    let start = Instant::now();

    while tally.killed < kills && tally.operations < max_ops && start.elapsed() < budget {
        let op = planner.next_op();
        let i = tally.operations;
        tally.operations += 1;
        if let Op::HandEdit { line } = &op {
            let conf = read(&crash.nix_conf());
            crash.write(&crash.nix_conf(), &format!("{conf}{line}"));
            continue;
        }

        // The oracle: the same operation run to completion from the same files in the other home.
        let before = state(&crash);
        load(&oracle, &before);
        let (status, err, took) = run_to_end(&oracle, &op);
        assert!(
            status.success(),
            "operation {i} {op:?} failed: {status}\n{err}"
        );
        let expected = state(&oracle);

        // Kill it here somewhere within about as long as it took there: half the delays anywhere
        // in the run, half late in it, where the writes are.
        let mut child = spawn(&crash, &op);
        let took = took.as_micros() as u64;
        let delay = if rng.below(2) == 0 {
            rng.below(took * 6 / 5 + 1)
        } else {
            took / 2 + rng.below(took * 3 / 5 + 1)
        };
        std::thread::sleep(Duration::from_micros(delay));
        let _ = child.kill();
        let out = wait_bounded(child, Duration::from_secs(10), "a killed run");
        let (status, err) = (out.status, stderr(&out));
        let killed = status.signal() == Some(9);

        let after = state(&crash);
        let context = format!("operation {i} {op:?} (killed: {killed})");
        for (f, name) in FILES.iter().enumerate() {
            assert!(
                after[f] == before[f] || after[f] == expected[f],
                "{context}: {name} is neither as before nor as after the operation\nfound:  {}\nbefore: {}\nafter:  {}",
                describe(&after[f]),
                describe(&before[f]),
                describe(&expected[f]),
            );
        }
        // A token both states hold is in some file at every moment: its new file is written
        // before its old one stops holding it.
        let now = tokens_in(&after);
        for token in tokens_in(&before).intersection(&tokens_in(&expected)) {
            assert!(
                now.contains(token),
                "{context}: token {token} is in no file\nnow:    {after:?}\nbefore: {before:?}"
            );
        }
        let temporaries = check_leftovers(&crash, &context);
        tally.killed_writing += temporaries.saturating_sub(tally.temporaries_left);
        tally.temporaries_left = temporaries;

        if !killed {
            // A run that finished found the leftovers of killed runs stale and removed them.
            assert_eq!(
                temporaries, 0,
                "{context}: a finished run left temporary files"
            );
            assert!(
                status.success(),
                "{context}: the run failed: {status}\n{err}"
            );
            assert_eq!(after, expected, "{context}: differs from the oracle's run");
            continue;
        }
        tally.killed += 1;
        let changed = (0..3).filter(|&f| before[f] != expected[f]);
        let done = changed.clone().filter(|&f| after[f] == expected[f]).count();
        let total = changed.count();
        if done == total && total > 0 {
            tally.killed_after_writes += 1;
        } else if done > 0 {
            tally.killed_midway += 1;
        }

        // Running the command again finishes the job. A logout whose token file was already
        // written has nothing left to remove and says so; nix.conf may then still hold tokens
        // that were moved to the token file (the same ones, so Nix sees no difference), and the
        // next change finishes moving them.
        let (again, err, _) = run_to_end(&crash, &op);
        let settled = state(&crash);
        if again.success() {
            assert_eq!(
                settled, expected,
                "{context}: run again, differs from the oracle's run"
            );
        } else {
            let Op::Logout { host } = op else {
                panic!("{context}: running it again failed: {again}\n{err}");
            };
            assert_eq!(again.code(), Some(1), "{context}: {err}");
            assert!(err.contains("no token for"), "{context}: {err}");
            assert_eq!(settled, after, "{context}: a failed run changed files");
            assert_eq!(tokens_in(&settled), tokens_in(&expected), "{context}");
            assert!(
                !settled.iter().flatten().any(|t| t.contains(host)),
                "{context}"
            );
            tally.logouts_already_done += 1;
        }
    }
    eprintln!("{tally:?} in {:?}", start.elapsed());
    assert!(
        tally.killed >= kills / 2,
        "only {} of {} runs were killed before they finished: {tally:?}",
        tally.killed,
        tally.operations
    );

    check_nix_reads(&crash, &planner);
    tally
}

/// Debian's Nix reads the configuration left after all the crashes and sees exactly the tokens
/// the operations left, and the netrc holds exactly the netrc hosts' tokens.
fn check_nix_reads(env: &TestEnv, planner: &Planner) {
    let netrc = fs::read_to_string(env.netrc()).unwrap_or_default();
    let mut want = BTreeMap::new();
    let mut netrc_hosts = 0;
    for ((host, to_netrc), token) in HOSTS.iter().zip(&planner.tokens) {
        match (token, to_netrc) {
            (None, true) => assert!(!netrc.contains(host), "{host} is left in netrc:\n{netrc}"),
            (None, false) => {}
            (Some(token), true) => {
                netrc_hosts += 1;
                assert!(
                    netrc.contains(&format!("machine {host} ")) && netrc.contains(token.as_str()),
                    "{host} lacks its token {token} in netrc:\n{netrc}"
                );
            }
            (Some(token), false) => {
                let value = if *host == "gitlab.com" {
                    format!("PAT:{token}")
                } else {
                    token.clone()
                };
                want.insert(host.to_string(), value);
            }
        }
    }
    let Some(config) = nix_config(env) else {
        return;
    };
    assert_eq!(nix_access_tokens(&config), want);
    if netrc_hosts > 0 {
        assert_eq!(
            config["netrc-file"]["value"],
            env.netrc().display().to_string()
        );
    }
    assert_eq!(config["max-jobs"]["value"], 4);
}

#[test]
fn killed_writes_leave_each_file_old_or_new() {
    crash_run(0x5EED_0001, 200, 600, Duration::from_secs(60));
}

/// The long run: `cargo test --release --test it -- --ignored crash::` (see docs/development.md).
#[test]
#[ignore = "long run: 5000 kills"]
fn killed_writes_leave_each_file_old_or_new_long_run() {
    crash_run(0x5EED_0002, 5000, 15_000, Duration::from_secs(3600));
}
