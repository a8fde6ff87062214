//! A real nix-daemon for a test, and real users to connect to it. The daemon (Debian's, beside
//! the `nix` on `PATH`) runs as root with the test's `etc` as `NIX_CONF_DIR`, a socket and state
//! directory of its own, and a store of its own (`--option store local?root=…`), so the machine's
//! Nix is never touched; it trusts the test CA. Users are made with `useradd` under unique names
//! and removed when dropped. A signed binary cache (real store paths, `nix copy` to a directory
//! with a key of the test's own) is served over HTTPS behind basic auth.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::fake_cache::basic;
use super::nix::fetching::Fetching;
use super::nix::https::{Answer, HttpsServer, Request};
use super::nix::{Nix, Which};

/// The nix-daemon of `nix` when a test can run it here: as root, with `useradd`; else `None` after
/// saying why (on CI, which runs as root with all of them, a failure). The recent Nix's daemon is
/// its chroot wrapper under the name `nix-daemon` (in `bin`, made here).
pub fn daemon_of(nix: &Nix, bin: &Path) -> Option<PathBuf> {
    let root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    let useradd = ["/usr/sbin/useradd", "/sbin/useradd"]
        .iter()
        .any(|p| Path::new(p).exists());
    let daemon = match nix.which {
        Which::Path => super::which("nix-daemon"),
        Which::Recent => {
            let wrapper = std::fs::canonicalize(&nix.program).ok()?;
            std::fs::create_dir_all(bin).unwrap();
            let link = bin.join("nix-daemon");
            std::os::unix::fs::symlink(wrapper, &link).unwrap();
            Some(link)
        }
    };
    let why = match (root, &daemon, useradd) {
        (false, _, _) => "not root (the daemon and useradd need it)",
        (_, None, _) => "no nix-daemon on PATH (apt-get install nix-bin)",
        (_, _, false) => "no useradd",
        _ => return daemon,
    };
    assert!(std::env::var_os("CI").is_none(), "CI runs as root: {why}");
    eprintln!("skipping: {why}");
    None
}

/// Lets other users reach `dir` and everything above it (a temporary directory is 0700).
pub fn open_up(dir: &Path) {
    for d in dir
        .ancestors()
        .take_while(|d| d.starts_with(std::env::temp_dir()))
    {
        let mode = std::fs::metadata(d).unwrap().permissions().mode();
        if d != std::env::temp_dir() {
            std::fs::set_permissions(d, std::fs::Permissions::from_mode(mode | 0o755)).unwrap();
        }
    }
}

/// A running nix-daemon; killed when dropped.
pub struct Daemon {
    child: Child,
    pub socket: PathBuf,
    /// Its state directory, which no test user may write (so they use the daemon).
    pub state: PathBuf,
    /// The store lives under it (`ROOT/nix/store`).
    pub store_root: PathBuf,
    log: PathBuf,
}

impl Daemon {
    /// Starts `program` on `root/daemon`, reading `etc/nix.conf`, trusting `ca_file`.
    pub fn start(program: &Path, root: &Path, etc: &Path, ca_file: &Path) -> Daemon {
        let dir = root.join("daemon");
        let (state, store_root) = (dir.join("state"), dir.join("root"));
        for d in [&state, &store_root, &dir.join("home")] {
            std::fs::create_dir_all(d).unwrap();
        }
        let socket = dir.join("socket");
        let _ = std::fs::remove_file(&socket);
        let child = Command::new(program)
            .args(["--option", "store"])
            .arg(format!("local?root={}", store_root.display()))
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", dir.join("home"))
            .env("XDG_CACHE_HOME", dir.join("home/cache"))
            .env("NIX_CONF_DIR", etc)
            .env("NIX_STATE_DIR", &state)
            .env("NIX_DAEMON_SOCKET_PATH", &socket)
            .env("NIX_SSL_CERT_FILE", ca_file)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("log")).unwrap())
            .current_dir(root)
            .spawn()
            .expect("start nix-daemon");
        let started = Instant::now();
        while !socket.exists() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "nix-daemon did not open {}: {}",
                socket.display(),
                std::fs::read_to_string(dir.join("log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Daemon {
            child,
            socket,
            state,
            store_root,
            log: dir.join("log"),
        }
    }

    /// What the daemon printed (one `accepted connection from pid P, user U (trusted)` line for
    /// each client).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Whether the daemon's store holds `path` (`/nix/store/…`).
    pub fn has(&self, path: &str) -> bool {
        self.store_root.join(path.trim_start_matches('/')).exists()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A user made for one test; removed when dropped.
pub struct User {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: PathBuf,
}

impl User {
    /// A new user `ntkPID_N`, with a home under `root`.
    pub fn add(root: &Path) -> User {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "ntk{}x{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let home = root.join("users").join(&name);
        std::fs::create_dir_all(home.join(".config/nix")).unwrap();
        let out = Command::new("useradd")
            .args(["-M", "-U", "-s", "/bin/sh", "-d"])
            .arg(&home)
            .arg(&name)
            .output()
            .expect("run useradd");
        assert!(out.status.success(), "useradd {name}: {out:?}");
        let id = |flag: &str| -> u32 {
            let out = Command::new("id").args([flag, &name]).output().unwrap();
            String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
        };
        let (uid, gid) = (id("-u"), id("-g"));
        for d in [
            home.as_path(),
            &home.join(".config"),
            &home.join(".config/nix"),
        ] {
            std::os::unix::fs::chown(d, Some(uid), Some(gid)).unwrap();
        }
        User {
            name,
            uid,
            gid,
            home,
        }
    }

    /// `program` run as this user, with nothing of the test process's environment but `PATH`,
    /// and the daemon's socket and state directory.
    pub fn command(&self, program: &Path, daemon: &Daemon, etc: &Path) -> Command {
        let mut cmd = Command::new("setpriv");
        cmd.arg(format!("--reuid={}", self.uid))
            .arg(format!("--regid={}", self.gid))
            .args(["--init-groups", "--inh-caps=-all", "--"])
            .arg(program)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("XDG_CACHE_HOME", self.home.join(".cache"))
            .env("NIX_CONF_DIR", etc)
            .env("NIX_STATE_DIR", &daemon.state)
            .env("NIX_DAEMON_SOCKET_PATH", &daemon.socket)
            .env(
                "DBUS_SESSION_BUS_ADDRESS",
                "unix:path=/nonexistent/nix-tokens-test-bus",
            )
            .current_dir(&self.home);
        cmd
    }

    /// Every file under this user's `~/.config`, with its bytes.
    pub fn files(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let mut out = Vec::new();
        let mut dirs = vec![self.home.join(".config")];
        while let Some(dir) = dirs.pop() {
            for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                match e.file_type().unwrap().is_dir() {
                    true => dirs.push(e.path()),
                    false => out.push((e.path(), std::fs::read(e.path()).unwrap())),
                }
            }
        }
        out.sort();
        out
    }
}

impl Drop for User {
    fn drop(&mut self) {
        let _ = Command::new("userdel").arg(&self.name).output();
    }
}

/// A binary cache in a directory: one real store path per name (a file holding the name), signed
/// with a key of the test's own.
pub struct SignedCache {
    pub dir: PathBuf,
    pub public_key: String,
    pub paths: Vec<String>,
}

impl SignedCache {
    pub fn build(root: &Path, names: &[&str]) -> SignedCache {
        let dir = root.join("cache");
        std::fs::create_dir_all(root).unwrap();
        let source = format!("local?root={}", root.join("source").display());
        let run = |cmd: &mut Command| -> Output {
            let out = cmd.env("NIX_CONF_DIR", root).output().expect("run nix");
            assert!(out.status.success(), "{cmd:?}: {out:?}");
            out
        };
        let paths = names
            .iter()
            .map(|name| {
                let file = root.join(name);
                std::fs::write(&file, format!("{name}\n")).unwrap();
                let out = run(Command::new("nix-store")
                    .args(["--store", &source, "--add"])
                    .arg(&file));
                String::from_utf8_lossy(&out.stdout).trim().to_owned()
            })
            .collect::<Vec<_>>();
        let (secret, public) = (root.join("cache-key"), root.join("cache-key.pub"));
        run(Command::new("nix-store")
            .args(["--generate-binary-cache-key", "nix-tokens-test-1"])
            .args([&secret, &public]));
        let to = format!("file://{}?secret-key={}", dir.display(), secret.display());
        run(Command::new("nix")
            .args(["--extra-experimental-features", "nix-command", "copy"])
            .args(["--store", &source, "--to", &to])
            .args(&paths));
        SignedCache {
            dir,
            public_key: std::fs::read_to_string(public).unwrap().trim().to_owned(),
            paths,
        }
    }

    /// Serves the cache over HTTPS to `user:password` alone (401 to everyone else).
    pub fn serve(&self, f: &Fetching, user: &str, password: &str) -> Option<HttpsServer> {
        let expected = basic(user, password);
        let dir = self.dir.clone();
        f.serve(&[], move |r: &Request| {
            if r.header("authorization") != Some(expected.as_str()) {
                return Answer::json(401, serde_json::json!({}))
                    .header("WWW-Authenticate", "Basic realm=\"cache\"");
            }
            let path = r.path.split('?').next().unwrap_or_default();
            let file = dir.join(path.trim_start_matches('/'));
            match std::fs::read(&file) {
                Ok(bytes) if !path.contains("..") => {
                    Answer::bytes("application/octet-stream", bytes)
                }
                _ => Answer::json(404, serde_json::json!({})),
            }
        })
    }
}
