//! The test harness: a temporary home with its own Nix configuration directories, a way to run
//! the real `nix-tokens` binary in it, and a way to ask the real Nix what it reads from there.

#![allow(dead_code)]

pub mod daemon;
pub mod fake_cache;
pub mod fake_cache_api;
pub mod fake_ci;
pub mod fake_forge;
pub mod fake_gitea_oauth;
pub mod fake_github_app;
pub mod fake_graphql;
pub mod fake_oidc;
pub mod fake_repos;
pub mod fake_tokens;
pub mod flake_lock;
pub mod git_server;
pub mod graphql;
pub mod module_eval;
pub mod nix;

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use tempfile::TempDir;

/// Environment variables that would make a test read the developer's real configuration.
const SCRUBBED: &[&str] = &[
    "NIX_CONFIG",
    "NIX_CONFIG_HOME",
    "NIX_USER_CONF_FILES",
    "NIX_CONF_DIR",
    "NIX_STORE_DIR",
    "NIX_STATE_DIR",
    "NIX_REMOTE",
    "NIX_DAEMON_SOCKET_PATH",
    "XDG_CONFIG_HOME",
    "XDG_CONFIG_DIRS",
    "NO_COLOR",
    "RATTLER_AUTH_FILE",
    "NIX_TOKENS_OAUTH_CLIENT_SECRET",
    "SSH_CONNECTION",
    "SSH_TTY",
    "BROWSER",
    "DISPLAY",
    "WAYLAND_DISPLAY",
    // A test decides for itself whether it runs in a CI job.
    "CI",
    "GITHUB_ACTIONS",
    "GITHUB_TOKEN",
    "GITHUB_SERVER_URL",
    "GITHUB_API_URL",
    "GITHUB_REPOSITORY",
    "GITHUB_STEP_SUMMARY",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "GITLAB_CI",
    "CI_JOB_TOKEN",
    "CI_SERVER_HOST",
    "CI_SERVER_URL",
];

/// The variable through which a test shortens the binary's deliberate waits (device-flow polling,
/// a browser login's deadline, the CI watcher's pauses and renewals); see `crate::time::pause`.
pub const TIME_SCALE: &str = "NIX_TOKENS_TEST_TIME_SCALE";
/// The time scale every run gets unless its test says otherwise: a tenth, so a 1 s polling
/// interval lasts 100 ms while a browser login played by a test still has 30 s of its 5 minutes.
pub const SCALE: f64 = 0.1;

/// `nominal` on the time scale of [`SCALE`], for assertions on how long a run took.
pub fn scaled(nominal: Duration) -> Duration {
    nominal.mul_f64(SCALE)
}

/// A temporary home: `home/.config/nix` for the user's files, `etc` as `$NIX_CONF_DIR`, and
/// `store` as `$NIX_STORE_DIR`.
pub struct TestEnv {
    _dir: TempDir,
    pub root: PathBuf,
    pub home: PathBuf,
    pub etc: PathBuf,
    pub store: PathBuf,
}

impl TestEnv {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let root = dir.path().to_path_buf();
        let env = TestEnv {
            home: root.join("home"),
            etc: root.join("etc"),
            store: root.join("store"),
            root,
            _dir: dir,
        };
        for d in [env.config_dir(), env.etc.clone(), env.store.clone()] {
            fs::create_dir_all(d).unwrap();
        }
        env
    }

    /// `~/.config/nix`, where the user's nix.conf lives.
    pub fn config_dir(&self) -> PathBuf {
        self.home.join(".config").join("nix")
    }

    pub fn nix_conf(&self) -> PathBuf {
        self.config_dir().join("nix.conf")
    }

    pub fn token_file(&self) -> PathBuf {
        self.config_dir().join("access-tokens.conf")
    }

    pub fn netrc(&self) -> PathBuf {
        self.config_dir().join("netrc")
    }

    /// The binary, with this home and nothing of the developer's configuration.
    pub fn cmd(&self) -> Command {
        let mut cmd = Command::cargo_bin("nix-tokens").expect("the nix-tokens binary");
        for var in SCRUBBED {
            cmd.env_remove(var);
        }
        cmd.env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env("XDG_CONFIG_DIRS", self.root.join("xdg"))
            .env("NIX_CONF_DIR", &self.etc)
            .env("NIX_STORE_DIR", &self.store)
            // No test reaches the developer's keyring; tests/it/keyring.rs opts in.
            .env(
                "DBUS_SESSION_BUS_ADDRESS",
                "unix:path=/nonexistent/nix-tokens-test-bus",
            )
            .env(TIME_SCALE, SCALE.to_string())
            .current_dir(&self.root);
        cmd
    }

    /// The binary with the same environment as [`TestEnv::cmd`], as a plain std `Command`, for
    /// tests that spawn, signal or wait for children themselves.
    pub fn std_cmd(&self) -> std::process::Command {
        let template = self.cmd();
        let mut cmd = std::process::Command::new(template.get_program());
        for (k, v) in template.get_envs() {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        cmd.current_dir(&self.root);
        cmd
    }

    /// `nix-tokens ARGS…` with `stdin` piped in.
    pub fn run(&self, args: &[&str], stdin: &str) -> Output {
        self.cmd()
            .args(args)
            .write_stdin(stdin)
            .output()
            .expect("run nix-tokens")
    }

    /// `nix-tokens ARGS…` with `stdin` piped in, stopped after 20 s and given at most 1 GiB of
    /// memory (util-linux's `prlimit`), so that a read that waits or never ends fails the test
    /// instead of hanging it or exhausting the machine.
    pub fn run_bounded(&self, args: &[&str], stdin: &str) -> Output {
        let template = self.std_cmd();
        let mut cmd = std::process::Command::new("prlimit");
        cmd.arg("--as=1073741824")
            .arg("--")
            .arg(template.get_program())
            .args(args);
        for (k, v) in template.get_envs() {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        cmd.current_dir(&self.root);
        Command::from_std(cmd)
            .timeout(Duration::from_secs(20))
            .write_stdin(stdin)
            .output()
            .expect("run nix-tokens")
    }

    /// `login HOST -p PROVIDER --base-url URL --with-token` with `token` on standard input;
    /// asserts success.
    pub fn login_with_token(&self, host: &str, provider: &str, url: &str, token: &str) -> Output {
        let out = self.run(
            &[
                "login",
                host,
                "-p",
                provider,
                "--base-url",
                url,
                "--with-token",
            ],
            &format!("{token}\n"),
        );
        assert_success(&out);
        out
    }

    /// `set-token HOST` with the token on standard input; asserts success.
    pub fn set_token(&self, host: &str, token: &str) -> Output {
        let out = self.run(&["set-token", host], &format!("{token}\n"));
        assert_success(&out);
        out
    }

    pub fn write(&self, path: &Path, contents: &str) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, contents).unwrap();
    }

    /// Every file under the temporary root (but the lock), with its bytes and mode, for
    /// "nothing changed" checks.
    pub fn snapshot(&self) -> BTreeMap<PathBuf, (Vec<u8>, u32)> {
        let mut out = BTreeMap::new();
        walk(&self.root, &mut out);
        out
    }
}

fn walk(dir: &Path, out: &mut BTreeMap<PathBuf, (Vec<u8>, u32)>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries {
        let path = e.unwrap().path();
        let meta = fs::symlink_metadata(&path).unwrap();
        if meta.is_dir() {
            walk(&path, out);
        } else if path.file_name().unwrap() != ".nix-tokens.lock" {
            let bytes = if meta.file_type().is_symlink() {
                fs::read_link(&path)
                    .unwrap()
                    .into_os_string()
                    .into_encoded_bytes()
            } else if meta.is_file() {
                fs::read(&path).unwrap_or_default()
            } else {
                // A FIFO or device a test put there: reading it could wait or never end.
                Vec::new()
            };
            out.insert(path, (bytes, meta.permissions().mode() & 0o7777));
        }
    }
}

/// Waits, at most `limit`, until `done` holds; whether it did. For what a test waits on another
/// process or a stand-in for, never for a fixed time.
pub fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while !done() {
        if start.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

/// Waits for `child`, killing it and failing the test when it takes longer than `limit`, and
/// returns what it printed on the pipes it has. For short outputs only: nothing is read before the
/// child exits, so the pipes must hold all it prints.
pub fn wait_bounded(mut child: std::process::Child, limit: Duration, what: &str) -> Output {
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    if let Some(mut out) = child.stdout.take() {
        out.read_to_end(&mut stdout).unwrap();
    }
    if let Some(mut err) = child.stderr.take() {
        err.read_to_end(&mut stderr).unwrap();
    }
    Output {
        status,
        stdout,
        stderr,
    }
}

pub fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

pub fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn assert_success(out: &Output) {
    assert!(
        out.status.success(),
        "nix-tokens failed ({:?})\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        stdout(out),
        stderr(out)
    );
}

/// The run failed with `code`, printed one error line, and no panic or backtrace.
pub fn assert_clean_failure(out: &Output, code: i32) {
    let err = stderr(out);
    assert_eq!(
        out.status.code(),
        Some(code),
        "stderr:\n{err}\nstdout:\n{}",
        stdout(out)
    );
    assert!(
        err.starts_with("error: "),
        "stderr should be one error line:\n{err}"
    );
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "one line expected:\n{err}"
    );
}

/// No full token appears anywhere in what the run printed.
pub fn assert_no_leak(out: &Output, secrets: &[&str]) {
    for secret in secrets {
        for (name, text) in [("stdout", stdout(out)), ("stderr", stderr(out))] {
            assert!(!text.contains(secret), "{name} leaks a token:\n{text}");
        }
    }
}

/// The real Nix's effective configuration for this home, read as Nix reads it: `NIX_CONF_DIR` and
/// `NIX_USER_CONF_FILES` point at the test directory and nothing else is read. Every Nix found
/// (see [`nix::Nix::all`]) is asked, and each must see the same `access-tokens` and `netrc-file`
/// (what nix-tokens writes); the first one's configuration is returned. `None` only when no Nix is
/// installed outside CI; on CI a missing Nix fails the test.
pub fn nix_config(env: &TestEnv) -> Option<serde_json::Value> {
    let mut seen: Option<(nix::Nix, serde_json::Value)> = None;
    for nix in nix::Nix::all() {
        let config = nix.config(env);
        if let Some((first, want)) = &seen {
            for setting in ["access-tokens", "netrc-file"] {
                assert_eq!(
                    config[setting]["value"], want[setting]["value"],
                    "{setting}: {nix} sees something else than {first}"
                );
            }
        } else {
            seen = Some((nix, config));
        }
    }
    seen.map(|(_, config)| config)
}

/// The `access-tokens` map Nix ends up with.
pub fn nix_access_tokens(config: &serde_json::Value) -> BTreeMap<String, String> {
    config["access-tokens"]["value"]
        .as_object()
        .expect("access-tokens is a map")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect()
}

/// Whether a test has what it needs: `true` when `present`. Otherwise the test is to skip: it says
/// so and names what is missing (`missing`, with where to get it), and gets `false`; on CI, which
/// provides everything the tests use (`.ci/run`), it fails instead. Nix's build sandbox is not CI:
/// a test skips there, saying why, when it needs what the sandbox lacks (a nix-daemon, root, a
/// browser, a keyring, files that are not in the package's source).
pub fn available(present: bool, missing: &str) -> bool {
    if !present {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must provide what this test needs: {missing}"
        );
        eprintln!("skipping: {missing}");
    }
    present
}

/// The program `name` on `PATH`, or `None` when it is not installed and the test is to skip (see
/// [`available`]); `package` says where it comes from.
pub fn program(name: &str, package: &str) -> Option<PathBuf> {
    let found = which(name);
    if available(
        found.is_some(),
        &format!("{name} is not on PATH (install {package})"),
    ) {
        found
    } else {
        None
    }
}

/// Whether the test runs as root with `programs` on `PATH` (to make users, or to give files to
/// another user), or is to skip (see [`available`]).
pub fn root_with(programs: &[&str]) -> bool {
    let root = fs::metadata("/proc/self").is_ok_and(|m| {
        use std::os::unix::fs::MetadataExt as _;
        m.uid() == 0
    });
    let missing: Vec<&str> = programs
        .iter()
        .copied()
        .filter(|p| which(p).is_none())
        .collect();
    let why = if root {
        format!(
            "{} not on PATH (the test makes another user)",
            missing.join(" and ")
        )
    } else {
        "not root (the test makes another user)".to_owned()
    };
    available(root && missing.is_empty(), &why)
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// SIGTERM to `pid`, sent by the test itself: a `kill` program is not everywhere the tests run
/// (Nix's build sandbox has none). A process that has already gone is no error.
pub fn terminate(pid: u32) {
    let pid = rustix::process::Pid::from_raw(pid.try_into().expect("a process id fits"))
        .expect("a process id");
    let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
}
