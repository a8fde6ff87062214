//! The real Nix, every one found: Debian's (2.8) on `PATH`, and a recent one named by
//! `NIX_TOKENS_TEST_RECENT_NIX` (the wrapper `.ci/recent-nix` writes around a Debian sid chroot).
//! Each is asked for its effective configuration the way its version wants (`nix config show`
//! from 2.20, `show-config` before); [`fetching`] has it fetch into a store of the test's own,
//! with no daemon and no cache, from the HTTPS forges of [`forge`] behind the test CA of [`tls`].
//! [`each_nix!`](crate::each_nix) turns one test function into one test per Nix.

pub mod fetching;
pub mod forge;
pub mod https;
pub mod tls;

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use super::TestEnv;

/// Which Nix a test runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    /// `nix` on `PATH` (Debian bookworm's 2.8 in CI).
    Path,
    /// `NIX_TOKENS_TEST_RECENT_NIX`.
    Recent,
}

/// One Nix installation.
#[derive(Clone, Debug)]
pub struct Nix {
    pub which: Which,
    /// The `nix` program (for the recent one, the chroot wrapper).
    pub program: PathBuf,
    /// `nix --version`'s line, such as `nix (Nix) 2.34.8`.
    pub line: String,
    /// `(major, minor, patch)` of the Nix it is (the upstream number for Determinate Nix).
    pub version: (u32, u32, u32),
}

impl fmt::Display for Nix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (a, b, c) = self.version;
        let what = match self.which {
            Which::Path => "on PATH",
            Which::Recent => "NIX_TOKENS_TEST_RECENT_NIX",
        };
        write!(f, "Nix {a}.{b}.{c} ({what}: {})", self.program.display())
    }
}

fn parse_version(line: &str) -> Option<(u32, u32, u32)> {
    let word = line.split_whitespace().last()?;
    let mut parts = word.split('.').map(|p| {
        p.chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .ok()
    });
    Some((
        parts.next()??,
        parts.next()??,
        parts.next().flatten().unwrap_or(0),
    ))
}

fn probe(which: Which, program: PathBuf) -> Nix {
    let out = Command::new(&program)
        .arg("--version")
        .output()
        .unwrap_or_else(|e| panic!("run {} --version: {e}", program.display()));
    let line = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(
        out.status.success(),
        "{} --version failed: {}",
        program.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let version = parse_version(&line)
        .unwrap_or_else(|| panic!("{} --version printed {line:?}", program.display()));
    Nix {
        which,
        program,
        line,
        version,
    }
}

impl Nix {
    /// The Nix `which` names, or `None` (after saying so) when it is not installed outside CI;
    /// on CI a missing Nix fails the test.
    pub fn find(which: Which) -> Option<Nix> {
        static PATH_NIX: OnceLock<Option<Nix>> = OnceLock::new();
        static RECENT_NIX: OnceLock<Option<Nix>> = OnceLock::new();
        let found = match which {
            Which::Path => PATH_NIX
                .get_or_init(|| super::which("nix").map(|program| probe(Which::Path, program))),
            Which::Recent => RECENT_NIX.get_or_init(|| {
                std::env::var_os("NIX_TOKENS_TEST_RECENT_NIX")
                    .filter(|p| !p.is_empty())
                    .map(|p| probe(Which::Recent, PathBuf::from(p)))
            }),
        };
        if found.is_none() {
            let (what, fix) = match which {
                Which::Path => ("nix is not on PATH", "apt-get install nix-bin"),
                Which::Recent => (
                    "NIX_TOKENS_TEST_RECENT_NIX is not set",
                    "export NIX_TOKENS_TEST_RECENT_NIX=$(.ci/recent-nix), see docs/development.md",
                ),
            };
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must provide this Nix: {what} ({fix})"
            );
            eprintln!("skipping: {what} ({fix})");
        }
        found.clone()
    }

    /// Every Nix found, `PATH`'s first.
    pub fn all() -> Vec<Nix> {
        [Which::Path, Which::Recent]
            .into_iter()
            .filter_map(Nix::find)
            .collect()
    }

    pub fn at_least(&self, major: u32, minor: u32) -> bool {
        (self.version.0, self.version.1) >= (major, minor)
    }

    /// Nix matches `access-tokens` keys such as `host/owner` by longest prefix from 2.27 on.
    pub fn matches_owner_keys(&self) -> bool {
        !self.line.contains("Lix") && self.at_least(2, 27)
    }

    /// `github:` inputs with `?host=` go to `https://HOST/api/v3` from 2.9 on; 2.8 asks
    /// `https://api.HOST` for every host.
    pub fn github_enterprise_layout(&self) -> bool {
        self.at_least(2, 9)
    }

    /// This Nix's program `name` (`nix-instantiate`, …): the one beside `nix`.
    pub fn sibling(&self, name: &str) -> PathBuf {
        self.program.with_file_name(name)
    }

    /// `nix` (or `program`) reading only the test's configuration: `NIX_CONF_DIR` is the test's
    /// `etc`, `NIX_USER_CONF_FILES` its nix.conf, with its own home and a fresh cache, and with the
    /// rest of the environment nix-tokens gets in the tests (for the git credential helper that
    /// Nix's git runs). The nix-tokens binary's directory is mounted in the recent Nix's chroot.
    pub fn command_of(&self, program: &Path, env: &TestEnv) -> Command {
        static CACHE: AtomicU32 = AtomicU32::new(0);
        let template = env.std_cmd();
        let mut cmd = Command::new(program);
        for (k, v) in template.get_envs() {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        let binary = PathBuf::from(template.get_program());
        let cache = env
            .root
            .join("cache")
            .join(CACHE.fetch_add(1, Ordering::SeqCst).to_string());
        cmd.env_remove("NIX_STORE_DIR")
            .env_remove("NIX_REMOTE")
            .env_remove("NIX_PATH")
            .env("XDG_CACHE_HOME", cache)
            .env("NIX_USER_CONF_FILES", env.nix_conf())
            .env(
                "NIX_TOKENS_CHROOT_BIND",
                binary.parent().expect("the binary's directory"),
            )
            .current_dir(&env.root);
        cmd
    }

    pub fn command(&self, env: &TestEnv) -> Command {
        self.command_of(&self.program, env)
    }

    /// This Nix's effective configuration for the test's home (`--json`).
    pub fn config(&self, env: &TestEnv) -> serde_json::Value {
        self.config_of(env, &env.nix_conf())
    }

    /// The same, with `nix_conf` (a `--config` file elsewhere) as the user's nix.conf.
    pub fn config_of(&self, env: &TestEnv, nix_conf: &Path) -> serde_json::Value {
        let args: &[&str] = if self.at_least(2, 20) {
            &["config", "show", "--json"]
        } else {
            &["show-config", "--json"]
        };
        let out = self
            .command(env)
            .env("NIX_USER_CONF_FILES", nix_conf)
            .args(["--extra-experimental-features", "nix-command"])
            .args(args)
            .output()
            .expect("run nix");
        assert!(
            out.status.success(),
            "{self} could not show its configuration:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !err.contains("deprecated"),
            "{self} calls {args:?} deprecated:\n{err}"
        );
        serde_json::from_slice(&out.stdout).expect("nix prints JSON")
    }
}

/// Runs `test` against the Nix `which` names (skipping, after saying so, when there is none
/// outside CI), naming that Nix in the output and in the failure.
pub fn run_with(which: Which, name: &str, test: fn(&Nix)) {
    let Some(nix) = Nix::find(which) else {
        return;
    };
    eprintln!("{name}: with {nix} ({})", nix.line);
    if let Err(panic) = std::panic::catch_unwind(|| test(&nix)) {
        let message = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_default();
        panic!("with {nix}: {message}");
    }
}

/// `each_nix!(f, g)`: for each function `fn f(nix: &Nix)`, a module `f` with the tests
/// `path_nix` and `recent_nix`, which run it against each Nix.
#[macro_export]
macro_rules! each_nix {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            use $crate::support::nix::{run_with, Which};
            #[test]
            fn path_nix() {
                run_with(Which::Path, stringify!($name), super::$name);
            }
            #[test]
            fn recent_nix() {
                run_with(Which::Recent, stringify!($name), super::$name);
            }
        }
    )*};
}
