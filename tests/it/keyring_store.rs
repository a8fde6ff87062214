//! The keyring store (`--store keyring`): the token only in the OS keyring (a real Secret
//! Service: gnome-keyring on a private D-Bus session, announced by NIX_TOKENS_TEST_KEYRING=1), and
//! the copies Nix reads in a private tmpfs runtime directory, mounted in a mount namespace of the
//! test's own (`unshare --mount`, as root); real Nix reads them.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use crate::each_nix;
use crate::support::nix::Nix;
use crate::support::*;

const TOKEN: &str = "ghp_keyringStoreToken0123456789abcdefABCD";
const CACHE_TOKEN: &str = "cacheKeyringSecret0123456789";
const OWN_SECRET: &str = "users-own-netrc-password-42";

/// A mount namespace holding a tmpfs at `run` (mode 0700, root's, as the tests run as root),
/// kept alive by a child that waits in it; commands enter it with nsenter.
struct Ns {
    child: Child,
    run: PathBuf,
}

impl Ns {
    /// `None` (after saying why) where no private mount namespace can be made.
    fn start(run: &Path) -> Option<Ns> {
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
    fn wrap(&self, cmd: &Command) -> Command {
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
    fn inside(&self, path: &Path) -> PathBuf {
        PathBuf::from(format!("/proc/{}/root", self.child.id()))
            .join(path.strip_prefix("/").unwrap())
    }

    fn runtime(&self) -> PathBuf {
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
fn keyring_bus() -> Option<String> {
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

/// nix-tokens with `args`, `stdin`, the runtime directory `run` and the session bus `bus`.
fn nt(
    env: &TestEnv,
    ns: Option<&Ns>,
    run: &Path,
    bus: Option<&str>,
    args: &[&str],
    stdin: &str,
) -> Output {
    let mut cmd = env.std_cmd();
    cmd.args(args).env("XDG_RUNTIME_DIR", run);
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
fn files_holding(dir: &Path, secret: &str) -> Vec<PathBuf> {
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
fn nix_config_in(nix: &Nix, env: &TestEnv, ns: &Ns) -> serde_json::Value {
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

fn set_token_in_the_keyring_reaches_nix_and_no_disk(nix: &Nix) {
    let Some(bus) = keyring_bus() else {
        return;
    };
    let env = TestEnv::new();
    let Some(ns) = Ns::start(&env.root.join("run")) else {
        return;
    };
    // The user's own netrc, which Nix reads today and which nix-tokens does not manage.
    let own = env.config_dir().join("my-netrc");
    env.write(
        &own,
        &format!("machine own.example.org login me password {OWN_SECRET}\n"),
    );
    std::fs::set_permissions(&own, std::fs::Permissions::from_mode(0o600)).unwrap();
    env.write(
        &env.nix_conf(),
        &format!("netrc-file = {}\n", own.display()),
    );
    let run = &ns.run;

    let out = nt(
        &env,
        Some(&ns),
        run,
        Some(&bus),
        &["set-token", "github.com", "--store", "keyring"],
        &format!("{TOKEN}\n"),
    );
    assert_success(&out);
    assert_no_leak(&out, &[TOKEN]);
    let out = nt(
        &env,
        Some(&ns),
        run,
        Some(&bus),
        &[
            "set-token",
            "files.example.org",
            "--netrc",
            "--store",
            "keyring",
        ],
        &format!("{CACHE_TOKEN}\n"),
    );
    assert_success(&out);
    assert_no_leak(&out, &[CACHE_TOKEN]);

    // Nothing on disk holds either token: the home, the configuration, the system directory and
    // everything else of the test's temporary directory (the tmpfs is not mounted out here).
    for secret in [TOKEN, CACHE_TOKEN] {
        assert_eq!(
            files_holding(&env.root, secret),
            Vec::<PathBuf>::new(),
            "{secret} on disk"
        );
    }
    let conf = read(&env.nix_conf());
    let runtime = ns.runtime();
    assert!(
        conf.contains(&format!(
            "!include {}",
            runtime.join("access-tokens.conf").display()
        )),
        "{conf}"
    );
    // The runtime copies: private, and what Nix reads.
    let copy = ns.inside(&runtime.join("access-tokens.conf"));
    let netrc = ns.inside(&runtime.join("netrc"));
    assert_eq!(mode(&copy), 0o600);
    assert_eq!(mode(&netrc), 0o600);
    let netrc_text = read(&netrc);
    assert!(
        netrc_text.contains(CACHE_TOKEN),
        "the cache credential is in the runtime netrc"
    );
    assert!(
        netrc_text.contains(OWN_SECRET),
        "the user's own entry is carried over"
    );

    let config = nix_config_in(nix, &env, &ns);
    let tokens = nix_access_tokens(&config);
    assert_eq!(
        tokens.get("github.com").map(String::as_str),
        Some(TOKEN),
        "{nix}"
    );
    assert_eq!(
        config["netrc-file"]["value"].as_str(),
        Some(runtime.join("netrc").to_str().unwrap()),
        "{nix} reads the runtime netrc"
    );

    // The configuration remembers its store: the next token goes to the keyring without the flag.
    let out = nt(
        &env,
        Some(&ns),
        run,
        Some(&bus),
        &["set-token", "gitlab.com", "-p", "gitlab"],
        "glpat-keyringSecondToken12345\n",
    );
    assert_success(&out);
    assert_eq!(
        files_holding(&env.root, "glpat-keyringSecondToken12345"),
        Vec::<PathBuf>::new()
    );
    let tokens = nix_access_tokens(&nix_config_in(nix, &env, &ns));
    assert!(
        tokens
            .get("gitlab.com")
            .is_some_and(|t| t.contains("glpat-keyringSecondToken12345")),
        "{tokens:?}"
    );
    assert_eq!(tokens.get("github.com").map(String::as_str), Some(TOKEN));
}

each_nix!(set_token_in_the_keyring_reaches_nix_and_no_disk);

#[test]
fn keyring_store_without_a_keyring_writes_nothing() {
    let env = TestEnv::new();
    let Some(ns) = Ns::start(&env.root.join("run")) else {
        return;
    };
    let before = env.snapshot();
    // The test environment's session bus leads nowhere: no Secret Service answers.
    let out = nt(
        &env,
        Some(&ns),
        &ns.run,
        None,
        &["set-token", "github.com", "--store", "keyring"],
        &format!("{TOKEN}\n"),
    );
    assert_clean_failure(&out, 1);
    assert!(
        stderr(&out).contains("no OS keyring answers"),
        "{}",
        stderr(&out)
    );
    assert_no_leak(&out, &[TOKEN]);
    assert_eq!(env.snapshot(), before, "nothing was written");
    assert!(
        std::fs::read_dir(ns.inside(&ns.run))
            .unwrap()
            .flat_map(|d| std::fs::read_dir(d.unwrap().path()).into_iter().flatten())
            .next()
            .is_none(),
        "nothing in the runtime directory"
    );
}

#[test]
fn keyring_store_without_a_private_tmpfs_writes_nothing() {
    let env = TestEnv::new();
    let plain = env.root.join("plain-run");
    std::fs::create_dir_all(&plain).unwrap();
    std::fs::set_permissions(&plain, std::fs::Permissions::from_mode(0o700)).unwrap();
    let open = env.root.join("open-run");
    std::fs::create_dir_all(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o755)).unwrap();
    let before = env.snapshot();
    for (run, why) in [
        (plain.as_path(), "is not a tmpfs"),
        (open.as_path(), "not 0700"),
        (Path::new("/nonexistent/run"), "does not exist"),
    ] {
        let out = nt(
            &env,
            None,
            run,
            None,
            &["set-token", "github.com", "--store", "keyring"],
            &format!("{TOKEN}\n"),
        );
        assert_clean_failure(&out, 1);
        assert!(stderr(&out).contains(why), "{why}: {}", stderr(&out));
        assert_eq!(env.snapshot(), before, "nothing was written ({why})");
    }
    let mut cmd = env.cmd();
    let out = cmd
        .args(["set-token", "github.com", "--store", "keyring"])
        .env_remove("XDG_RUNTIME_DIR")
        .write_stdin(format!("{TOKEN}\n"))
        .output()
        .unwrap();
    assert_clean_failure(&out, 1);
    assert!(
        stderr(&out).contains("XDG_RUNTIME_DIR is not set"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.snapshot(), before);
}

#[test]
fn keyring_store_is_refused_for_ci_and_system() {
    let env = TestEnv::new();
    let before = env.snapshot();
    let out = env.run(
        &["--system", "set-token", "github.com", "--store", "keyring"],
        &format!("{TOKEN}\n"),
    );
    assert_clean_failure(&out, 2);
    assert!(
        stderr(&out).contains("--system keeps tokens in files"),
        "{}",
        stderr(&out)
    );
    let out = env.run(&["login", "github", "--ci", "--store", "keyring"], "");
    assert_clean_failure(&out, 2);
    assert!(
        stderr(&out).contains("--ci keeps the job's credentials in files"),
        "{}",
        stderr(&out)
    );
    let out = env.run(&["--system", "store", "keyring"], "");
    assert_clean_failure(&out, 2);
    assert_eq!(env.snapshot(), before);
}

fn lock_hides_the_tokens_and_unlock_brings_them_back(nix: &Nix) {
    let Some(bus) = keyring_bus() else {
        return;
    };
    let env = TestEnv::new();
    let Some(ns) = Ns::start(&env.root.join("run")) else {
        return;
    };
    let run = |args: &[&str], stdin: &str| nt(&env, Some(&ns), &ns.run, Some(&bus), args, stdin);
    assert_success(&run(
        &["set-token", "github.com", "--store", "keyring"],
        &format!("{TOKEN}\n"),
    ));
    let copy = ns.inside(&ns.runtime().join("access-tokens.conf"));
    assert!(copy.exists());

    let out = run(&["lock"], "");
    assert_success(&out);
    assert!(!copy.exists(), "lock removes the runtime copy");
    assert!(
        !nix_access_tokens(&nix_config_in(nix, &env, &ns)).contains_key("github.com"),
        "{nix} sees no token when locked"
    );
    // No other command writes the copy of a locked store; status says how to unlock it.
    let out = run(&["status", "--offline"], "");
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert!(
        said.contains("locked") && said.contains("nix-tokens unlock"),
        "{said}"
    );
    let out = run(&["token", "github.com", "--yes"], "");
    assert_eq!(
        out.status.code(),
        Some(3),
        "a locked store's token is missing: {}",
        stderr(&out)
    );
    assert!(
        !copy.exists(),
        "nothing but unlock writes the copy of a locked store"
    );
    assert_eq!(files_holding(&env.root, TOKEN), Vec::<PathBuf>::new());
    assert_eq!(
        files_holding(&ns.inside(&ns.run), TOKEN),
        Vec::<PathBuf>::new(),
        "locked: no copy in the tmpfs either"
    );

    assert_success(&run(&["unlock"], ""));
    assert_success(&run(&["unlock"], ""));
    assert_eq!(mode(&copy), 0o600);
    assert_eq!(
        nix_access_tokens(&nix_config_in(nix, &env, &ns))
            .get("github.com")
            .map(String::as_str),
        Some(TOKEN),
        "{nix}"
    );
    let out = run(&["status", "--offline"], "");
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert!(said.contains("Nix sees its tokens now"), "{said}");

    // A new session (the runtime directory emptied): the next command writes the copy again.
    std::fs::remove_file(&copy).unwrap();
    let out = run(&["token", "github.com", "--yes"], "");
    assert_success(&out);
    assert!(
        copy.exists(),
        "an unlocked store's copy comes back with any command"
    );
    assert_eq!(stdout(&out).trim(), TOKEN);
}

each_nix!(lock_hides_the_tokens_and_unlock_brings_them_back);

/// `nix-tokens exec -- PROGRAM ARGS…` in the namespace, with `nix_cmd`'s environment.
fn exec_cmd(env: &TestEnv, ns: &Ns, bus: &str, inner: &Command) -> Command {
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
fn runtime_entries(ns: &Ns) -> Vec<String> {
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

fn exec_shows_the_tokens_to_one_command(nix: &Nix) {
    let Some(bus) = keyring_bus() else {
        return;
    };
    let env = TestEnv::new();
    let Some(ns) = Ns::start(&env.root.join("run")) else {
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
fn keyring_store_exec_cleans_up_after_sigterm() {
    let Some(bus) = keyring_bus() else {
        return;
    };
    let env = TestEnv::new();
    let Some(ns) = Ns::start(&env.root.join("run")) else {
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
    let mut inner = Command::new("sh");
    inner.args(["-c", r#"printf '%s\n' "$NIX_CONFIG"; exec sleep 600"#]);
    let mut child = exec_cmd(&env, &ns, &bus, &inner)
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
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    let out = wait_bounded(child, scaled(std::time::Duration::from_secs(20)), "exec");
    assert_eq!(out.status.code(), Some(128 + 15), "{}", stderr(&out));
    assert!(!ns.inside(&copy).exists(), "SIGTERM: the copy is gone");
    assert!(
        !ns.inside(copy.parent().unwrap()).exists(),
        "and its directory"
    );
}

#[test]
fn keyring_store_git_clone_reads_the_keyring_without_runtime_copies() {
    use crate::support::git_server::{GitServer, have_git, make_repo};
    let Some(bus) = keyring_bus() else {
        return;
    };
    if !have_git() {
        return;
    }
    let env = TestEnv::new();
    let Some(ns) = Ns::start(&env.root.join("run")) else {
        return;
    };
    let repos = tempfile::tempdir().unwrap();
    make_repo(repos.path(), "org/private.git", "secret sauce\n");
    let server = GitServer::start(repos.path(), &[("x-access-token", TOKEN)]);
    let gitconfig = env.root.join("gitconfig");
    let with_git = |cmd: &mut Command| {
        cmd.env("GIT_CONFIG_GLOBAL", &gitconfig)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("DBUS_SESSION_BUS_ADDRESS", &bus);
    };
    let nt_git = |args: &[&str], stdin: &str| {
        let mut cmd = env.std_cmd();
        cmd.args(args).env("XDG_RUNTIME_DIR", &ns.run);
        with_git(&mut cmd);
        let mut child = ns
            .wrap(&cmd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let api = crate::support::fake_forge::github(TOKEN, "repo");
    let out = nt_git(
        &[
            "login",
            &server.host,
            "-p",
            "github",
            "--base-url",
            &api.url,
            "--with-token",
            "--store",
            "keyring",
        ],
        &format!("{TOKEN}\n"),
    );
    assert_success(&out);
    assert_success(&nt_git(&["git-credential", "--install"], ""));
    assert_success(&nt_git(&["lock"], ""));
    assert_eq!(runtime_entries(&ns), Vec::<String>::new());

    // git, outside the namespace: no runtime copy anywhere, the helper asks the keyring.
    let mut git = env.std_cmd();
    let mut cmd = Command::new("git");
    for (k, v) in git.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    with_git(&mut cmd);
    let out = cmd
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("XDG_RUNTIME_DIR", &ns.run)
        .env_remove("GIT_ASKPASS")
        .current_dir(&env.root)
        .stdin(Stdio::null())
        .args([
            "clone",
            "-q",
            &format!("{}/org/private.git", server.url),
            "with",
        ])
        .output()
        .unwrap();
    git.arg("--version");
    assert!(
        out.status.success(),
        "clone failed:\n{}\n{:?}\n{}",
        stderr(&out),
        server.tried(),
        read(&gitconfig)
    );
    assert_no_leak(&out, &[TOKEN]);
    assert_eq!(read(&env.root.join("with/README")), "secret sauce\n");
    assert_eq!(files_holding(&env.root, TOKEN), Vec::<PathBuf>::new());
}

fn store_keyring_moves_every_token_and_scrubs_the_plaintext(nix: &Nix) {
    let Some(bus) = keyring_bus() else {
        return;
    };
    let env = TestEnv::new();
    let Some(ns) = Ns::start(&env.root.join("run")) else {
        return;
    };
    let run = |args: &[&str], stdin: &str| nt(&env, Some(&ns), &ns.run, Some(&bus), args, stdin);
    const GITLAB: &str = "glpat-plaintextGitlabToken12345";
    // A token in nix.conf itself, moved into the token file (and so into a backup of nix.conf) by
    // the next change; one in the token file; one in the netrc nix-tokens created.
    env.write(
        &env.nix_conf(),
        &format!("access-tokens = github.com={TOKEN}\n"),
    );
    assert_success(&run(
        &["set-token", "gitlab.com", "-p", "gitlab"],
        &format!("{GITLAB}\n"),
    ));
    assert_success(&run(
        &["set-token", "files.example.org", "--netrc"],
        &format!("{CACHE_TOKEN}\n"),
    ));
    for secret in [TOKEN, GITLAB, CACHE_TOKEN] {
        assert!(
            !files_holding(&env.root, secret).is_empty(),
            "{secret} is in plaintext first"
        );
    }

    // One more in nix.conf itself: the backup this very move makes holds it.
    const IN_CONF: &str = "inConfToken0123456789abcdefXYZ";
    let conf = read(&env.nix_conf());
    env.write(
        &env.nix_conf(),
        &format!("{conf}extra-access-tokens = example.org={IN_CONF}\n"),
    );

    let out = run(&["store", "keyring"], "");
    assert_success(&out);
    assert_no_leak(&out, &[TOKEN, GITLAB, CACHE_TOKEN, IN_CONF]);
    assert_eq!(
        files_holding(&env.root, IN_CONF),
        Vec::<PathBuf>::new(),
        "not even in this move's backup"
    );
    assert!(stderr(&out).contains("scrubbed"), "{}", stderr(&out));
    for secret in [TOKEN, GITLAB, CACHE_TOKEN] {
        assert_eq!(
            files_holding(&env.root, secret),
            Vec::<PathBuf>::new(),
            "no plaintext copy of {secret} is left"
        );
    }
    let config = nix_config_in(nix, &env, &ns);
    let tokens = nix_access_tokens(&config);
    assert_eq!(
        tokens.get("github.com").map(String::as_str),
        Some(TOKEN),
        "{nix}"
    );
    assert!(
        tokens
            .get("gitlab.com")
            .is_some_and(|t| t.ends_with(GITLAB)),
        "{tokens:?}"
    );
    let netrc = PathBuf::from(config["netrc-file"]["value"].as_str().unwrap());
    assert!(
        read(&ns.inside(&netrc)).contains(CACHE_TOKEN),
        "{nix} reads the netrc entry"
    );

    // Later logins stay in the keyring.
    assert_success(&run(
        &["set-token", "codeberg.org", "-p", "forgejo"],
        "codebergLaterToken0123456789abcdef\n",
    ));
    assert_eq!(
        files_holding(&env.root, "codebergLaterToken0123456789abcdef"),
        Vec::<PathBuf>::new()
    );

    // And back: every token in files again, where Nix reads it, and no runtime copy.
    let out = run(&["store", "file"], "");
    assert_success(&out);
    assert_no_leak(&out, &[TOKEN, GITLAB, CACHE_TOKEN, IN_CONF]);
    assert_eq!(runtime_entries(&ns), Vec::<String>::new());
    assert!(!read(&env.nix_conf()).contains(&ns.runtime().display().to_string()));
    let config = nix_config_in(nix, &env, &ns);
    let tokens = nix_access_tokens(&config);
    assert_eq!(
        tokens.get("github.com").map(String::as_str),
        Some(TOKEN),
        "{nix}"
    );
    assert_eq!(
        tokens.get("example.org").map(String::as_str),
        Some(IN_CONF),
        "{nix}"
    );
    assert!(
        tokens
            .get("gitlab.com")
            .is_some_and(|t| t.ends_with(GITLAB)),
        "{tokens:?}"
    );
    let netrc = PathBuf::from(config["netrc-file"]["value"].as_str().unwrap());
    assert!(!netrc.starts_with(&ns.run), "{}", netrc.display());
    let netrc = read(&netrc);
    assert!(netrc.contains(CACHE_TOKEN) && netrc.contains("codebergLaterToken0123456789abcdef"));
    // Later logins go to files.
    assert_success(&run(
        &["set-token", "sr.ht", "-p", "sourcehut"],
        "srhtLaterToken0123456789abcdef\n",
    ));
    assert!(read(&env.token_file()).contains("srhtLaterToken0123456789abcdef"));
}

each_nix!(store_keyring_moves_every_token_and_scrubs_the_plaintext);

#[test]
fn keyring_store_logout_takes_the_token_out_of_the_keyring() {
    let Some(bus) = keyring_bus() else {
        return;
    };
    let env = TestEnv::new();
    let Some(ns) = Ns::start(&env.root.join("run")) else {
        return;
    };
    let run = |args: &[&str], stdin: &str| nt(&env, Some(&ns), &ns.run, Some(&bus), args, stdin);
    assert_success(&run(
        &["set-token", "github.com", "--store", "keyring"],
        &format!("{TOKEN}\n"),
    ));
    let copy = ns.inside(&ns.runtime().join("access-tokens.conf"));
    assert!(read(&copy).contains(TOKEN));
    // Without a terminal or --yes, nothing is removed.
    let out = run(&["logout", "github.com"], "");
    assert_clean_failure(&out, 2);
    assert!(read(&copy).contains(TOKEN));
    let out = run(&["logout", "github.com", "--yes"], "");
    assert_success(&out);
    assert_no_leak(&out, &[TOKEN]);
    assert!(
        !read(&copy).contains(TOKEN),
        "the runtime copy is rewritten"
    );
    // The keyring holds no token any more: the store can go back to files, and a new token
    // goes there.
    assert_success(&run(&["store", "file"], ""));
    assert_success(&run(&["set-token", "github.com"], &format!("{TOKEN}\n")));
    assert!(read(&env.token_file()).contains(TOKEN));
}

#[test]
fn keyring_store_refresh_renews_in_the_keyring() {
    use crate::support::fake_forge::GitlabOAuth;
    let Some(bus) = keyring_bus() else {
        return;
    };
    let env = TestEnv::new();
    let Some(ns) = Ns::start(&env.root.join("run")) else {
        return;
    };
    let gitlab = GitlabOAuth::start();
    let host = "gitlab.keyring-store.example";
    let run = |args: &[&str]| nt(&env, Some(&ns), &ns.run, Some(&bus), args, "");
    let out = run(&[
        "login",
        host,
        "-p",
        "gitlab",
        "--client-id",
        "app",
        "--base-url",
        &gitlab.server.url,
        "--store",
        "keyring",
    ]);
    assert_success(&out);
    let copy = ns.inside(&ns.runtime().join("access-tokens.conf"));
    assert!(read(&copy).contains("OAuth2:access-1"), "{}", read(&copy));
    for secret in ["access-1", "refresh-1"] {
        assert_eq!(
            files_holding(&env.root, secret),
            Vec::<PathBuf>::new(),
            "{secret}"
        );
    }

    let out = run(&["refresh", "--threshold", "180"]);
    assert_success(&out);
    assert!(
        stderr(&out).contains("Renewed the token"),
        "{}",
        stderr(&out)
    );
    assert!(read(&copy).contains("OAuth2:access-2"), "{}", read(&copy));
    for secret in ["access-2", "refresh-2", "access-1"] {
        assert_eq!(
            files_holding(&env.root, secret),
            Vec::<PathBuf>::new(),
            "{secret}"
        );
    }
}

#[test]
fn keyring_store_check_counts_a_locked_store_s_token_missing() {
    use crate::support::flake_lock::{self as fl, lock};
    use serde_json::json;
    let Some(bus) = keyring_bus() else {
        return;
    };
    let env = TestEnv::new();
    let Some(ns) = Ns::start(&env.root.join("run")) else {
        return;
    };
    let dir = env.root.join("flake");
    env.write(
        &dir.join("flake.lock"),
        &lock(
            json!({"app": "app"}),
            json!({"app": fl::github("corp", "app", None)}),
        ),
    );
    env.write(&dir.join("flake.nix"), "{ outputs = _: { }; }\n");
    let dir = dir.display().to_string();
    let run = |args: &[&str], stdin: &str| nt(&env, Some(&ns), &ns.run, Some(&bus), args, stdin);
    assert_success(&run(
        &["set-token", "github.com", "--store", "keyring"],
        &format!("{TOKEN}\n"),
    ));
    let credential = |out: &Output| -> serde_json::Value {
        let rows: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("JSON ({e}): {}{}", stdout(out), stderr(out)));
        rows[0]["credential"].clone()
    };
    let out = run(&["check", "--json", "--offline", &dir], "");
    assert_eq!(credential(&out), json!("ghp_****CD"), "{}", stderr(&out));
    assert_success(&run(&["lock"], ""));
    let out = run(&["check", "--json", "--offline", &dir], "");
    assert_eq!(
        credential(&out),
        json!(null),
        "locked: no credential; {}",
        stdout(&out)
    );
}
