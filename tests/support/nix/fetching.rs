//! Nix fetching for real in a test home: a test CA that Nix, git and nix-tokens trust, HTTPS
//! servers on port 443 of their own loopback addresses, real repositories, and Nix run with a
//! store of the test's own (`local?root=`, no daemon), no sandbox or build users, no
//! substituters, an empty flake registry, one download attempt and no cache (`tarball-ttl = 0`
//! and a fresh `XDG_CACHE_HOME` each run), so that every fetch reaches the server.

use std::path::{Path, PathBuf};
use std::process::Output;

use super::forge::Repo;
use super::https::{Answer, HttpsServer, Request};
use super::tls::{TestCa, listen_443};
use super::{Nix, Which};
use crate::support::{TestEnv, assert_no_leak, assert_success, stderr, stdout};

/// A test home, a CA whose certificate Nix trusts, and the repositories' directory.
pub struct Fetching {
    pub env: TestEnv,
    pub ca: TestCa,
    pub ca_file: PathBuf,
    pub repos: PathBuf,
    /// A private `/etc/hosts` for the Nix on `PATH`, once [`Fetching::resolve`] named a host.
    hosts: Option<PathBuf>,
}

impl Fetching {
    pub fn new() -> Self {
        let env = TestEnv::new();
        let ca = TestCa::new();
        let ca_file = env.root.join("test-ca.pem");
        ca.write(&ca_file);
        let repos = env.root.join("repos");
        // An empty flake registry: Nix would download the global one from the internet.
        let registry = env.etc.join("registry.json");
        env.write(&registry, r#"{"flakes": [], "version": 2}"#);
        env.write(
            &env.etc.join("nix.conf"),
            &format!(
                "build-users-group =\nsandbox = false\nsubstituters =\ntarball-ttl = 0\n\
                 download-attempts = 1\nconnect-timeout = 5\nwarn-dirty = false\n\
                 experimental-features = nix-command flakes\nflake-registry = {}\n",
                registry.display()
            ),
        );
        Fetching {
            env,
            ca,
            ca_file,
            repos,
            hosts: None,
        }
    }

    /// An HTTPS server on port 443 of a fresh loopback address with a certificate for that
    /// address and `names`, or `None` (skipping) where port 443 cannot be bound outside CI.
    pub fn serve(
        &self,
        names: &[&str],
        handler: impl Fn(&Request) -> Answer + Send + Sync + 'static,
    ) -> Option<HttpsServer> {
        let (listener, ip) = listen_443()?;
        let ip_name = ip.to_string();
        let mut all = vec![ip_name.as_str()];
        all.extend_from_slice(names);
        let tls = self.ca.server_config(&all);
        Some(HttpsServer::start((listener, ip), tls, handler))
    }

    /// `OWNER/NAME.git` with a README saying `OWNER/NAME: private`.
    pub fn repo(&self, owner: &str, name: &str) -> Repo {
        Repo::new(
            &self.repos,
            owner,
            name,
            &format!("{owner}/{name}: private\n"),
        )
    }

    /// Makes `name` resolve to `ip` for the Nix on `PATH` (through a private `/etc/hosts`
    /// mounted over the real one in its own mount namespace), as a forge's DNS name would; `false`
    /// (after saying so) where the system allows no mount namespace, outside CI.
    pub fn resolve(&mut self, name: &str, ip: &str) -> bool {
        let namespace = std::process::Command::new("unshare")
            .args(["--mount", "--propagation", "private", "true"])
            .status()
            .is_ok_and(|s| s.success());
        if !namespace {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI runs the tests as root with mount namespaces (unshare --mount)"
            );
            eprintln!("skipping: no mount namespace (unshare --mount) for a private /etc/hosts");
            return false;
        }
        let file = self.env.root.join("hosts");
        let mut text =
            std::fs::read_to_string(&file).unwrap_or_else(|_| "127.0.0.1 localhost\n".to_owned());
        text.push_str(&format!("{ip} {name}\n"));
        std::fs::write(&file, text).unwrap();
        self.hosts = Some(file);
        true
    }

    /// `nix-tokens ARGS` with `token` on standard input and this Nix first on `PATH` (so that
    /// what nix-tokens says of the installed Nix is said of this one), trusting the test CA;
    /// asserts success and that the token is not shown.
    pub fn nix_tokens(&self, nix: &Nix, args: &[&str], token: &str) -> Output {
        let out = self.nix_tokens_output(nix, args, token);
        assert_success(&out);
        if !token.is_empty() {
            assert_no_leak(&out, &[token]);
        }
        out
    }

    /// [`nix_tokens`](Self::nix_tokens) without its assertions (git trusts the test CA too).
    pub fn nix_tokens_output(&self, nix: &Nix, args: &[&str], token: &str) -> Output {
        let bin = self.env.root.join("nix-bin");
        if !bin.exists() {
            std::fs::create_dir_all(&bin).unwrap();
            std::os::unix::fs::symlink(&nix.program, bin.join("nix")).unwrap();
        }
        let path = std::env::var_os("PATH").unwrap_or_default();
        let path =
            std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(&path))).unwrap();
        self.env
            .cmd()
            .args(args)
            .env("PATH", path)
            .env("SSL_CERT_FILE", &self.ca_file)
            .env("GIT_SSL_CAINFO", &self.ca_file)
            .env("GIT_CONFIG_GLOBAL", self.env.root.join("gitconfig"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .write_stdin(format!("{token}\n"))
            .output()
            .unwrap()
    }

    /// `nix --store local?root=… ARGS`, trusting only the test CA (Nix's curl, and git's).
    pub fn nix(&self, nix: &Nix, args: &[&str]) -> Output {
        let store = format!("local?root={}", self.store_root().display());
        let mut cmd = match &self.hosts {
            None => nix.command(&self.env),
            Some(hosts) => {
                assert_eq!(
                    nix.which,
                    Which::Path,
                    "only the Nix on PATH sees /etc/hosts"
                );
                let mut cmd = nix.command_of(Path::new("unshare"), &self.env);
                cmd.args(["--mount", "--propagation", "private", "--", "sh", "-c"])
                    .arg(r#"mount --bind "$0" /etc/hosts && exec "$@""#)
                    .arg(hosts)
                    .arg(&nix.program);
                cmd
            }
        };
        cmd.env("NIX_SSL_CERT_FILE", &self.ca_file)
            .env("GIT_SSL_CAINFO", &self.ca_file)
            .env("GIT_CONFIG_GLOBAL", self.env.root.join("gitconfig"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env_remove("GIT_ASKPASS")
            .env_remove("SSH_ASKPASS")
            .args(["--store", &store])
            .args(args);
        cmd.output().expect("run nix")
    }

    /// `nix eval --impure --raw --expr EXPR`.
    pub fn eval(&self, nix: &Nix, expr: &str) -> Output {
        self.nix(nix, &["eval", "--impure", "--raw", "--expr", expr])
    }

    /// The flake reference `url` fetched as a flake input is (`nix flake prefetch`); on success,
    /// standard output is replaced by the README of what landed in the store.
    pub fn fetch_tree(&self, nix: &Nix, url: &str) -> Output {
        let mut out = self.nix(nix, &["flake", "prefetch", "--json", url]);
        if out.status.success() {
            let json: serde_json::Value =
                serde_json::from_slice(&out.stdout).expect("nix flake prefetch prints JSON");
            let path = json["storePath"].as_str().expect("a store path");
            let file = self
                .store_root()
                .join(path.trim_start_matches('/'))
                .join("README");
            out.stdout = std::fs::read(&file)
                .unwrap_or_else(|e| panic!("{nix} fetched {url} without {}: {e}", file.display()));
        }
        out
    }

    /// Where the store lives (its `/nix/store` is under it).
    fn store_root(&self) -> PathBuf {
        self.env.root.join("nix-root")
    }
}

/// Nix fetched `repo` and read its README.
pub fn assert_fetched(out: &Output, repo: &Repo) {
    assert!(
        out.status.success(),
        "Nix could not fetch {}/{}:\n{}",
        repo.owner,
        repo.name,
        stderr(out)
    );
    assert_eq!(stdout(out), repo.readme);
}

/// Nix failed, saying `why`.
pub fn assert_not_fetched(out: &Output, why: &str) {
    assert!(
        !out.status.success(),
        "Nix fetched what it should not have:\n{}",
        stdout(out)
    );
    assert!(stderr(out).contains(why), "{}", stderr(out));
}

/// `(path, value of header)` of each request from the `from`th on whose path starts with
/// `prefix`.
pub fn sent(
    server: &HttpsServer,
    from: usize,
    prefix: &str,
    header: &str,
) -> Vec<(String, Option<String>)> {
    server.requests()[from..]
        .iter()
        .filter(|r| r.path.starts_with(prefix))
        .map(|r| (r.path.clone(), r.header(header).map(str::to_owned)))
        .collect()
}
