//! A real nix-daemon and real users: the daemon applies a trusted user's own settings, so that
//! user's cache login (no sudo) is what the daemon substitutes with; an untrusted user is refused
//! with the `sudo` command and nothing is written, and after the `--system` login the daemon's own
//! netrc serves that user. The cache is signed and served over HTTPS behind basic auth.
//!
//! Each test runs against the daemon of each Nix: Debian's 2.8 on `PATH`, and the recent one's
//! (2.34) in its chroot. The users' client is always Debian's 2.8 (talking to either daemon): the
//! chroot can only be entered by root (`unshare --mount`, `chroot`), so no unprivileged user can
//! run the recent Nix's client. The chroot has no entry for the test users, so its daemon knows
//! them by uid: `trusted-users` names the trusted one both ways.

use std::path::Path;

use crate::support::daemon::{Daemon, SignedCache, User, daemon_of, open_up};
use crate::support::nix::Nix;
use crate::support::nix::fetching::Fetching;
use crate::support::*;

crate::each_nix!(
    a_trusted_users_own_cache_login_is_what_the_daemon_substitutes_with,
    an_untrusted_user_is_sent_to_the_system_netrc_which_then_serves_them,
    a_trusted_users_own_netrc_hides_the_system_one_until_login_carries_it_over,
    an_unreadable_system_configuration_is_reported_not_guessed,
    nix_itself_says_whether_the_daemon_trusts_this_user,
);

const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.daemontrusttoken0123";

/// Everything one test needs: the cache and its server, the daemon, a trusted and an untrusted
/// user.
struct Machine {
    f: Fetching,
    cache: SignedCache,
    server: crate::support::nix::https::HttpsServer,
    daemon: Daemon,
    trusted: User,
    untrusted: User,
}

/// A machine whose daemon substitutes from the private cache and trusts `root` and one user.
fn machine(nix: &Nix, names: &[&str]) -> Option<Machine> {
    let f = Fetching::new();
    let program = daemon_of(nix, &f.env.root.join("daemon-bin"))?;
    open_up(&f.env.root);
    let cache = SignedCache::build(&f.env.root.join("build"), names);
    let server = cache.serve(&f, "", TOKEN)?;
    let (trusted, untrusted) = (User::add(&f.env.root), User::add(&f.env.root));
    f.env.write(
        &f.env.etc.join("nix.conf"),
        &format!(
            "build-users-group =\nsandbox = false\nsubstituters = https://{}\n\
             trusted-public-keys = {}\ntrusted-users = root {} {}\nnarinfo-cache-negative-ttl = 0\n\
             download-attempts = 1\nconnect-timeout = 5\n",
            server.host, cache.public_key, trusted.name, trusted.uid
        ),
    );
    let daemon = Daemon::start(&program, &f.env.root, &f.env.etc, &f.ca_file);
    Some(Machine {
        f,
        cache,
        server,
        daemon,
        trusted,
        untrusted,
    })
}

impl Machine {
    /// `nix-tokens ARGS` as `user`, with `TOKEN` on standard input.
    fn nix_tokens(&self, user: &User, args: &[&str]) -> std::process::Output {
        let bin = self.f.env.root.join("bin/nix-tokens");
        if !bin.exists() {
            std::fs::create_dir_all(bin.parent().unwrap()).unwrap();
            std::fs::copy(env!("CARGO_BIN_EXE_nix-tokens"), &bin).unwrap();
        }
        // A child another test forked while the copy was being written may still hold it open
        // for a moment ("Text file busy"): run again then.
        for _ in 0..50 {
            let mut cmd = user.command(&bin, &self.daemon, &self.f.env.etc);
            cmd.env("SSL_CERT_FILE", &self.f.ca_file).args(args);
            let out = assert_cmd::Command::from_std(cmd)
                .write_stdin(format!("{TOKEN}\n"))
                .output()
                .unwrap();
            if !stderr(&out).contains("Text file busy") {
                return out;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("{} stayed busy", bin.display());
    }

    /// `nix-store --realise PATH` as `user`, through the daemon.
    fn realise(&self, user: &User, path: &str) -> std::process::Output {
        user.command(Path::new("nix-store"), &self.daemon, &self.f.env.etc)
            .args(["--realise", path])
            .output()
            .unwrap()
    }

    /// The credentials the cache was sent, from request `from` on.
    fn sent(&self, from: usize) -> Vec<Option<String>> {
        self.server.requests()[from..]
            .iter()
            .map(|r| r.header("authorization").map(str::to_owned))
            .collect()
    }
}

/// What `status --json` printed (its standard error shown when that is not JSON).
fn json_of(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(out)))
}

/// The `install` entry of `status --json`.
fn install_of(out: &std::process::Output) -> serde_json::Value {
    let json = json_of(out);
    let entry = json
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "install");
    entry.expect("an install entry")["install"].clone()
}

fn a_trusted_users_own_cache_login_is_what_the_daemon_substitutes_with(nix: &Nix) {
    let Some(m) = machine(nix, &["for-the-trusted-user"]) else {
        return;
    };
    let (user, path) = (&m.trusted, &m.cache.paths[0]);
    let out = m.realise(user, path);
    assert!(!out.status.success() && !m.daemon.has(path), "{out:?}");

    let login = [
        "login",
        &m.server.host,
        "-p",
        "nix-cache",
        "--public-key",
        &m.cache.public_key,
        "--with-token",
    ];
    let out = m.nix_tokens(user, &login);
    assert_success(&out);
    assert_no_leak(&out, &[TOKEN]);
    let netrc = user.home.join(".config/nix/netrc");
    assert_eq!(
        read(&netrc),
        format!("machine {} password {TOKEN}\n", m.server.host)
    );
    assert!(
        !m.f.env.etc.join("netrc").exists(),
        "the system netrc is untouched"
    );

    let before = m.server.requests().len();
    let out = m.realise(user, path);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(m.daemon.has(path), "the daemon substituted {path}");
    // This daemon (the chroot's knows the user by uid) took the user as trusted.
    let me = match nix.which {
        crate::support::nix::Which::Path => user.name.clone(),
        crate::support::nix::Which::Recent => user.uid.to_string(),
    };
    let log = m.daemon.log();
    assert!(log.contains(&format!("user {me} (trusted)")), "{log}");
    assert!(
        m.sent(before)
            .contains(&Some(crate::support::fake_cache::basic("", TOKEN)))
    );

    // status says so, in one line and in --json.
    let out = m.nix_tokens(user, &["status", "--offline"]);
    assert!(
        stderr(&out).contains("multi-user: the nix-daemon trusts this user"),
        "{}",
        stderr(&out)
    );
    let out = m.nix_tokens(user, &["status", "--offline", "--json"]);
    let install = install_of(&out);
    assert_eq!(install["kind"], "multi-user");
    assert_eq!(install["trusted"], true);
    assert_eq!(install["trust_from"], "estimated");
    assert_eq!(install["cache_netrc"], netrc.display().to_string());
}

fn an_untrusted_user_is_sent_to_the_system_netrc_which_then_serves_them(nix: &Nix) {
    let Some(m) = machine(nix, &["for-the-untrusted-user"]) else {
        return;
    };
    let (user, path) = (&m.untrusted, &m.cache.paths[0]);
    let login = [
        "login",
        &m.server.host,
        "-p",
        "nix-cache",
        "--public-key",
        &m.cache.public_key,
        "--with-token",
    ];
    let files = user.files();
    let out = m.nix_tokens(user, &login);
    assert_clean_failure(&out, 2);
    let said = format!(
        "`sudo nix-tokens --system login {} --provider nix-cache --public-key {}`",
        m.server.host, m.cache.public_key
    );
    assert!(stderr(&out).contains(&said), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("programs.nix-tokens.cacheTokens")
            && stderr(&out).contains("the nix-daemon does not trust this user"),
        "{}",
        stderr(&out)
    );
    assert_no_leak(&out, &[TOKEN]);
    assert_eq!(user.files(), files, "nothing was written");
    assert!(!m.f.env.etc.join("netrc").exists());

    // Even with the credential in the user's own files, the daemon does not use it.
    let own = user.home.join(".config/nix/netrc");
    std::fs::write(
        &own,
        format!("machine {} password {TOKEN}\n", m.server.host),
    )
    .unwrap();
    std::fs::write(
        user.home.join(".config/nix/nix.conf"),
        format!("netrc-file = {}\n", own.display()),
    )
    .unwrap();
    for f in [&own, &user.home.join(".config/nix/nix.conf")] {
        std::os::unix::fs::chown(f, Some(user.uid), Some(user.gid)).unwrap();
    }
    let before = m.server.requests().len();
    let out = m.realise(user, path);
    assert!(!out.status.success() && !m.daemon.has(path), "{out:?}");
    assert!(
        m.sent(before).iter().all(Option::is_none),
        "{:?}",
        m.sent(before)
    );
    // status says so: of the install, of that credential, and of a substituter the user added.
    let conf = user.home.join(".config/nix/nix.conf");
    let text = read(&conf) + "extra-substituters = https://ignored.example\n";
    std::fs::write(&conf, text).unwrap();
    let status = m.nix_tokens(user, &["status", "--offline"]);
    let said = stderr(&status) + &stdout(&status);
    assert!(said.contains("does not trust this user"), "{said}");
    let out = m.nix_tokens(user, &["status", "--offline", "--json"]);
    let json = json_of(&out);
    let rows = json.as_array().unwrap();
    let token = rows.iter().find(|r| r["kind"] == "token").unwrap();
    let never = "the nix-daemon does not trust this user, so it never sends this credential";
    assert!(
        token["message"].as_str().unwrap().contains(never),
        "{token}"
    );
    let ignored = rows
        .iter()
        .find(|r| r["url"] == "https://ignored.example")
        .unwrap();
    let message = ignored["message"].as_str().unwrap();
    assert!(message.contains("the nix-daemon ignores it"), "{ignored}");
    assert_eq!(ignored["ignored_by_daemon"], true, "{ignored}");
    let listed = rows
        .iter()
        .find(|r| r["kind"] == "substituter" && r["host"] == m.server.host.as_str())
        .unwrap();
    assert!(listed["message"].is_null(), "{listed}");
    assert_eq!(listed["ignored_by_daemon"], false, "{listed}");

    // Root's `--system` login puts it in the daemon's own netrc, which serves this user.
    let out =
        m.f.env
            .cmd()
            .env("NIX_STATE_DIR", &m.daemon.state)
            .env("NIX_DAEMON_SOCKET_PATH", &m.daemon.socket)
            .env("SSL_CERT_FILE", &m.f.ca_file)
            .env_remove("NIX_STORE_DIR")
            .arg("--system")
            .args(login)
            .write_stdin(format!("{TOKEN}\n"))
            .output()
            .unwrap();
    assert_success(&out);
    assert_eq!(
        read(&m.f.env.etc.join("netrc")),
        format!("machine {} password {TOKEN}\n", m.server.host)
    );
    let out = m.realise(user, path);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(m.daemon.has(path));
}

/// A trusted user's own netrc replaces the system's for the daemon: a cache whose credential is
/// only in the system netrc gets none. status flags it, and a login offers to carry it over
/// (without a terminal it says how, and `--yes` copies it), after which the daemon substitutes.
fn a_trusted_users_own_netrc_hides_the_system_one_until_login_carries_it_over(nix: &Nix) {
    let Some(m) = machine(nix, &["behind-the-system-netrc"]) else {
        return;
    };
    let (user, path) = (&m.trusted, &m.cache.paths[0]);
    let system = m.f.env.etc.join("netrc");
    std::fs::write(
        &system,
        format!("machine {} password {TOKEN}\n", m.server.host),
    )
    .unwrap();
    let own = user.home.join(".config/nix/own-netrc");
    std::fs::write(
        &own,
        "machine git.example.org password gitea0123456789abcdef\n",
    )
    .unwrap();
    let conf = user.home.join(".config/nix/nix.conf");
    std::fs::write(&conf, format!("netrc-file = {}\n", own.display())).unwrap();
    for f in [&own, &conf] {
        std::os::unix::fs::chown(f, Some(user.uid), Some(user.gid)).unwrap();
    }
    let out = m.realise(user, path);
    assert!(!out.status.success() && !m.daemon.has(path), "{out:?}");

    let out = m.nix_tokens(user, &["status", "--offline", "--json"]);
    let json = json_of(&out);
    let cache = json
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "substituter")
        .unwrap();
    let message = cache["message"].as_str().unwrap_or_default();
    let only = format!("its credential is only in {}", system.display());
    assert!(message.contains(&only), "{cache}");

    let set = ["set-token", "other.example.org", "--netrc"];
    let out = m.nix_tokens(user, &set);
    assert_success(&out);
    let again = "run the command again with --yes";
    assert!(stderr(&out).contains(again), "{}", stderr(&out));
    assert!(
        !read(&own).contains(&m.server.host),
        "nothing copied unasked"
    );
    let out = m.nix_tokens(user, &["--yes", set[0], set[1], set[2]]);
    assert_success(&out);
    assert_no_leak(&out, &[TOKEN]);
    let entry = format!("machine {} password {TOKEN}\n", m.server.host);
    assert!(read(&own).contains(&entry), "{}", read(&own));
    assert!(read(&own).contains("machine git.example.org password gitea0123456789abcdef"));
    let out = m.realise(user, path);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(m.daemon.has(path));
}

/// A system configuration this user cannot read leaves the daemon's trust unknown: said, and a
/// cache login is refused with that reason rather than a guess.
fn an_unreadable_system_configuration_is_reported_not_guessed(nix: &Nix) {
    let Some(m) = machine(nix, &["unread"]) else {
        return;
    };
    let conf = m.f.env.etc.join("nix.conf");
    let private = std::os::unix::fs::PermissionsExt::from_mode(0o600);
    std::fs::set_permissions(&conf, private).unwrap();
    let user = &m.trusted;
    let why = format!(
        "{} cannot be read (permission denied), so whether the nix-daemon trusts this user is not known",
        conf.display()
    );
    let out = m.nix_tokens(user, &["status", "--offline"]);
    assert!(stderr(&out).contains(&why), "{}", stderr(&out));
    let files = user.files();
    let login = [
        "login",
        &m.server.host,
        "-p",
        "nix-cache",
        "--public-key",
        &m.cache.public_key,
        "--with-token",
    ];
    let out = m.nix_tokens(user, &login);
    assert_clean_failure(&out, 2);
    assert!(stderr(&out).contains(&why), "{}", stderr(&out));
    assert_eq!(user.files(), files);
}

/// Where Nix can say (2.19 and later, against a 2.15+ daemon), nix-tokens asks it rather than
/// estimate: the daemon was started trusting root, and the system nix.conf no longer says so, yet
/// root's own cache login goes through, and status says Nix said so. Root is the only user that
/// can run the recent Nix's client (in its chroot).
fn nix_itself_says_whether_the_daemon_trusts_this_user(nix: &Nix) {
    if nix.which != crate::support::nix::Which::Recent {
        eprintln!("skipping: {nix} has no `nix store info --json`");
        return;
    }
    let Some(m) = machine(nix, &["asked"]) else {
        return;
    };
    let conf = m.f.env.etc.join("nix.conf");
    let text = read(&conf).replace("trusted-users = root", "trusted-users = nix-tokens-nobody");
    std::fs::write(&conf, text).unwrap();
    let run = |args: &[&str]| {
        let bin = m.f.env.root.join("daemon-bin");
        std::os::unix::fs::symlink(&nix.program, bin.join("nix")).ok();
        let path = std::env::var_os("PATH").unwrap_or_default();
        let path =
            std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(&path))).unwrap();
        m.f.env
            .cmd()
            .env("PATH", path)
            .env("NIX_REMOTE", "daemon")
            .env("NIX_DAEMON_SOCKET_PATH", &m.daemon.socket)
            .env("SSL_CERT_FILE", &m.f.ca_file)
            .env_remove("NIX_STORE_DIR")
            .args(args)
            .write_stdin(format!("{TOKEN}\n"))
            .output()
            .unwrap()
    };
    let out = run(&["status", "--json"]);
    let install = install_of(&out);
    assert_eq!(install["trust_from"], "nix", "{install}");
    assert_eq!(install["trusted"], true, "{install}");
    let out = run(&[
        "login",
        &m.server.host,
        "-p",
        "nix-cache",
        "--public-key",
        &m.cache.public_key,
        "--with-token",
    ]);
    assert_success(&out);
    let netrc = m.f.env.netrc();
    assert!(read(&netrc).contains(&m.server.host), "{}", read(&netrc));
}
