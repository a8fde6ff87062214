//! The keyring store (`--store keyring`): the token only in the OS keyring (a real Secret
//! Service: gnome-keyring on a private D-Bus session, announced by NIX_TOKENS_TEST_KEYRING=1), and
//! the copies Nix reads in a private tmpfs runtime directory, mounted in a mount namespace of the
//! test's own (`unshare --mount`, as root); real Nix reads them.

mod exec;
mod git;
mod locking;
mod moves;
mod others;
mod reach;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use crate::support::nix::Nix;
use crate::support::*;

pub const TOKEN: &str = "ghp_keyringStoreToken0123456789abcdefABCD";
pub const CACHE_TOKEN: &str = "cacheKeyringSecret0123456789";
pub const OWN_SECRET: &str = "users-own-netrc-password-42";

/// A mount namespace holding a tmpfs at `run` (mode 0700, root's, as the tests run as root),
/// kept alive by a child that waits in it; commands enter it with nsenter.
pub struct Ns {
    child: Child,
    pub run: PathBuf,
}

impl Ns {
    /// `None` (after saying why) where no private mount namespace can be made.
    pub fn start(run: &Path) -> Option<Ns> {
        std::fs::create_dir_all(run).unwrap();
        std::fs::set_permissions(run, std::fs::Permissions::from_mode(0o700)).unwrap();
        let child = Command::new("unshare")
            .args(["--mount", "--propagation", "private", "--", "sh", "-c"])
            .arg(r#"mount -t tmpfs -o mode=0700,size=4m nix-tokens-test "$1" && echo ready && exec cat"#)
            .arg("sh")
            .arg(run)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn();
        let Ok(mut child) = child else {
            eprintln!("skipping: no unshare to make a private mount namespace");
            return None;
        };
        let mut line = String::new();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let _ = out.read_line(&mut line);
        if line.trim() != "ready" {
            let _ = child.kill();
            let _ = child.wait();
            eprintln!("skipping: cannot mount a tmpfs in a private mount namespace (needs root)");
            return None;
        }
        Some(Ns {
            child,
            run: run.to_path_buf(),
        })
    }

    /// `cmd` run inside the namespace, with its program, arguments, environment and directory.
    pub fn wrap(&self, cmd: &Command) -> Command {
        let mut inside = Command::new("nsenter");
        inside
            .arg("-t")
            .arg(self.child.id().to_string())
            .arg("-m")
            .arg(format!(
                "--wd={}",
                cmd.get_current_dir().unwrap_or(Path::new("/")).display()
            ))
            .arg("--")
            .arg(cmd.get_program())
            .args(cmd.get_args());
        for (k, v) in cmd.get_envs() {
            match v {
                Some(v) => inside.env(k, v),
                None => inside.env_remove(k),
            };
        }
        inside
    }

    /// A path of the namespace, as seen from outside (through the waiting child's root).
    pub fn inside(&self, path: &Path) -> PathBuf {
        PathBuf::from(format!("/proc/{}/root", self.child.id()))
            .join(path.strip_prefix("/").unwrap())
    }

    pub fn runtime(&self) -> PathBuf {
        self.run.join("nix-tokens")
    }
}

impl Drop for Ns {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The session bus of the test keyring, or `None` (after saying so) outside a keyring session.
pub fn keyring_bus() -> Option<String> {
    if std::env::var_os("NIX_TOKENS_TEST_KEYRING").is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the tests with a keyring (NIX_TOKENS_TEST_KEYRING=1, see .ci/run)"
        );
        eprintln!(
            "skipping: no test keyring (set NIX_TOKENS_TEST_KEYRING=1 inside dbus-run-session)"
        );
        return None;
    }
    Some(std::env::var("DBUS_SESSION_BUS_ADDRESS").expect("a session bus with the keyring"))
}

/// The session bus of a keyring, a test's home, and a private tmpfs runtime directory for it, or
/// `None` where a keyring or a mount namespace is not to be had (the test skips, saying so).
pub fn keyring_session() -> Option<(String, TestEnv, Ns)> {
    let bus = keyring_bus()?;
    let env = TestEnv::new();
    let ns = Ns::start(&env.root.join("run"))?;
    Some((bus, env, ns))
}

/// nix-tokens with `args`, `stdin`, the runtime directory `run` and the session bus `bus`.
pub fn nt(
    env: &TestEnv,
    ns: Option<&Ns>,
    run: &Path,
    bus: Option<&str>,
    args: &[&str],
    stdin: &str,
) -> Output {
    let mut cmd = env.std_cmd();
    // Its temporary files, if any, land where the tests look for the token on disk.
    let tmp = env.root.join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    cmd.args(args)
        .env("XDG_RUNTIME_DIR", run)
        .env("TMPDIR", &tmp);
    if let Some(bus) = bus {
        cmd.env("DBUS_SESSION_BUS_ADDRESS", bus);
    }
    let mut cmd = match ns {
        Some(ns) => ns.wrap(&cmd),
        None => cmd,
    };
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run nix-tokens");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Every file under `dir` that holds `secret`.
pub fn files_holding(dir: &Path, secret: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                todo.push(path);
            } else if meta.is_file()
                && std::fs::read(&path).is_ok_and(|b| String::from_utf8_lossy(&b).contains(secret))
            {
                found.push(path);
            }
        }
    }
    found
}

/// The configuration `nix` reads inside the namespace.
pub fn nix_config_in(nix: &Nix, env: &TestEnv, ns: &Ns) -> serde_json::Value {
    let args: &[&str] = if nix.at_least(2, 20) {
        &["config", "show", "--json"]
    } else {
        &["show-config", "--json"]
    };
    let mut cmd = nix.command(env);
    cmd.args(["--extra-experimental-features", "nix-command"])
        .args(args);
    let out = ns.wrap(&cmd).output().expect("run nix");
    assert!(
        out.status.success(),
        "{nix}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("nix prints JSON")
}

/// `nix-tokens exec -- PROGRAM ARGS…` in the namespace, with `nix_cmd`'s environment.
pub fn exec_cmd(env: &TestEnv, ns: &Ns, bus: &str, inner: &Command) -> Command {
    let mut cmd = env.std_cmd();
    for (k, v) in inner.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd.env("XDG_RUNTIME_DIR", &ns.run)
        .env("DBUS_SESSION_BUS_ADDRESS", bus)
        .args(["exec", "--"])
        .arg(inner.get_program())
        .args(inner.get_args());
    ns.wrap(&cmd)
}

/// What the runtime directory holds now, as seen from outside.
pub fn runtime_entries(ns: &Ns) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(ns.inside(&ns.runtime()))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}
