//! `sudo nix-tokens --system import --from-user NAME` with real users (made with `useradd`) whose
//! files are their own. Her files are read as hers: owned by her is right; a file of a third user,
//! one other users can write, a link to a file she cannot read, and a FIFO or device in place of a
//! file are refused with one sentence, at once, with nothing of what they hold shown and nothing
//! written.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use crate::support::daemon::{User, open_up};
use crate::support::*;

const GH: &str = "ghp_useruseruseruseruser0123456789ab";
const CACHE: &str = "cachesecretofalice123456";
const VICTIM: &str = "victimsecretofbob987654321";
const ROOT_ONLY: &str = "ghp_rootonlyrootonlyrootonly12345678";

fn can_add_users() -> bool {
    let root = fs::metadata("/proc/self").is_ok_and(|m| {
        use std::os::unix::fs::MetadataExt;
        m.uid() == 0
    });
    let useradd = ["/usr/sbin/useradd", "/sbin/useradd"]
        .iter()
        .any(|p| Path::new(p).exists());
    if !(root && useradd) {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs these tests as root with useradd"
        );
        eprintln!("skipping: needs root and useradd");
    }
    root && useradd
}

/// Gives `path` and everything under it to `user`, links included (as her own runs make them).
fn give(path: &Path, user: &User) {
    std::os::unix::fs::lchown(path, Some(user.uid), Some(user.gid)).unwrap();
    if fs::symlink_metadata(path).unwrap().is_dir() {
        for e in fs::read_dir(path).unwrap() {
            give(&e.unwrap().path(), user);
        }
    }
}

/// Root's configuration (`env.etc`) and a real user whose home holds a github.com token and a
/// netrc login, made by nix-tokens as she would make them, and hers.
fn root_and_alice() -> (TestEnv, User) {
    let env = TestEnv::new();
    env.write(
        &env.etc.join("nix.conf"),
        "experimental-features = nix-command\n",
    );
    let alice = User::add(&env.root);
    as_home(&env, &alice.home, &["set-token", "github.com"], GH);
    as_home(
        &env,
        &alice.home,
        &[
            "set-token",
            "files.example.org",
            "--netrc",
            "--login",
            "alice",
        ],
        CACHE,
    );
    open_up(&alice.home);
    give(&alice.home, &alice);
    (env, alice)
}

/// `nix-tokens ARGS` with `token` on standard input, in the home `home`.
fn as_home(env: &TestEnv, home: &Path, args: &[&str], token: &str) {
    let out = env
        .cmd()
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .args(args)
        .write_stdin(format!("{token}\n"))
        .output()
        .unwrap();
    assert_success(&out);
}

fn config(user: &User) -> std::path::PathBuf {
    user.home.join(".config/nix")
}

/// Root's `--system import --from-user NAME`, bounded in time and memory.
fn import(env: &TestEnv, name: &str) -> Output {
    let out = env.run_bounded(&["--system", "import", "--from-user", name], "");
    assert_no_leak(&out, &[GH, CACHE, VICTIM, ROOT_ONLY]);
    out
}

fn assert_refused(env: &TestEnv, before: &BTreeSnapshot, out: &Output, says: &[&str]) {
    assert_clean_failure(out, 1);
    let err = stderr(out);
    for s in says {
        assert!(err.contains(s), "expected {s:?} in:\n{err}");
    }
    assert!(!env.etc.join("netrc").exists(), "root's netrc was written");
    assert!(
        !env.etc.join("access-tokens.conf").exists(),
        "root's token file was written"
    );
    assert_eq!(&env.snapshot(), before, "a refused import changed files");
}

type BTreeSnapshot = std::collections::BTreeMap<std::path::PathBuf, (Vec<u8>, u32)>;

#[test]
fn her_own_files_are_read_as_hers() {
    if !can_add_users() {
        return;
    }
    let (env, alice) = root_and_alice();
    let hosts = config(&alice).join(".nix-tokens-hosts.json");
    assert!(hosts.exists(), "every login writes the host facts");
    let out = import(&env, &alice.name);
    assert_success(&out);
    assert!(
        stderr(&out).contains(&format!(
            "Imported github.com (ghp_****ab) from {}",
            alice.name
        )),
        "{}",
        stderr(&out)
    );
    assert!(read(&env.etc.join("access-tokens.conf")).contains(GH));
    assert_eq!(
        read(&env.etc.join("netrc")),
        format!("machine files.example.org login alice password {CACHE}\n")
    );
}

#[test]
fn a_file_of_a_third_user_or_one_others_can_write_is_refused() {
    if !can_add_users() {
        return;
    }
    let (env, alice) = root_and_alice();
    let bob = User::add(&env.root);
    let token_file = config(&alice).join("access-tokens.conf");
    let before = env.snapshot();

    // bob's, and readable by her: still not hers.
    std::os::unix::fs::chown(&token_file, Some(bob.uid), None).unwrap();
    fs::set_permissions(&token_file, fs::Permissions::from_mode(0o644)).unwrap();
    let before_bob = env.snapshot();
    let out = import(&env, &alice.name);
    assert_refused(
        &env,
        &before_bob,
        &out,
        &[token_file.to_str().unwrap(), "another user"],
    );

    std::os::unix::fs::chown(&token_file, Some(alice.uid), None).unwrap();
    fs::set_permissions(&token_file, fs::Permissions::from_mode(0o666)).unwrap();
    let before_open = env.snapshot();
    let out = import(&env, &alice.name);
    assert_refused(
        &env,
        &before_open,
        &out,
        &[token_file.to_str().unwrap(), "other users can write"],
    );
    fs::set_permissions(&token_file, fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(env.snapshot(), before);
    assert_success(&import(&env, &alice.name));
}

#[test]
fn a_link_to_a_file_she_cannot_read_is_not_followed() {
    if !can_add_users() {
        return;
    }
    let (env, alice) = root_and_alice();
    // bob's own netrc, private to him.
    let bob = User::add(&env.root);
    let bobs = config(&bob).join("netrc");
    fs::write(
        &bobs,
        format!("machine victim.example.org login bob password {VICTIM}\n"),
    )
    .unwrap();
    fs::set_permissions(&bobs, fs::Permissions::from_mode(0o600)).unwrap();
    open_up(&bob.home);
    give(&bob.home, &bob);
    // alice's netrc, the one nix-tokens chose for her, made a link to it.
    let netrc = config(&alice).join("netrc");
    fs::remove_file(&netrc).unwrap();
    std::os::unix::fs::symlink(&bobs, &netrc).unwrap();
    give(&netrc, &alice);
    let before = env.snapshot();
    let out = import(&env, &alice.name);
    assert_refused(&env, &before, &out, &[netrc.to_str().unwrap()]);
    let err = stderr(&out);
    assert!(
        !err.contains("victim.example.org") && !err.contains("bob "),
        "{err}"
    );

    // A link to a file only root may read: nothing of it is echoed, not even its setting names.
    fs::remove_file(&netrc).unwrap();
    let secret = env.root.join("root-only.conf");
    fs::write(
        &secret,
        format!("post-build-hook = /root/hook.sh\naccess-tokens = github.com={ROOT_ONLY}\n"),
    )
    .unwrap();
    fs::set_permissions(&secret, fs::Permissions::from_mode(0o600)).unwrap();
    let token_file = config(&alice).join("access-tokens.conf");
    fs::remove_file(&token_file).unwrap();
    std::os::unix::fs::symlink(&secret, &token_file).unwrap();
    give(&token_file, &alice);
    let before = env.snapshot();
    let out = import(&env, &alice.name);
    assert_refused(&env, &before, &out, &[token_file.to_str().unwrap()]);
    let err = stderr(&out);
    assert!(
        !err.contains("post-build-hook") && !err.contains("line 1"),
        "{err}"
    );
}

#[test]
fn a_fifo_or_a_device_in_her_files_is_refused_at_once() {
    if !can_add_users() {
        return;
    }
    let (env, alice) = root_and_alice();
    let token_file = config(&alice).join("access-tokens.conf");
    let saved = fs::read(&token_file).unwrap();
    fs::remove_file(&token_file).unwrap();
    let made = Command::new("mkfifo").arg(&token_file).status().unwrap();
    assert!(made.success());
    give(&token_file, &alice);
    let before = env.snapshot();
    let out = import(&env, &alice.name);
    assert_refused(
        &env,
        &before,
        &out,
        &[token_file.to_str().unwrap(), "not a regular file"],
    );
    fs::remove_file(&token_file).unwrap();
    fs::write(&token_file, saved).unwrap();
    fs::set_permissions(&token_file, fs::Permissions::from_mode(0o600)).unwrap();
    give(&token_file, &alice);

    // Her netrc a link to a device that never ends.
    let netrc = config(&alice).join("netrc");
    fs::remove_file(&netrc).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &netrc).unwrap();
    give(&netrc, &alice);
    let before = env.snapshot();
    let out = import(&env, &alice.name);
    assert_refused(
        &env,
        &before,
        &out,
        &[netrc.to_str().unwrap(), "not a regular file"],
    );
    fs::remove_file(&netrc).unwrap();

    // Her nix.conf including one.
    let conf = config(&alice).join("nix.conf");
    let text = read(&conf);
    fs::write(&conf, format!("{text}include /dev/zero\n")).unwrap();
    let before = env.snapshot();
    let out = import(&env, &alice.name);
    assert_refused(&env, &before, &out, &["/dev/zero", "not a regular file"]);
}

#[test]
fn a_configuration_directory_others_can_write_is_refused() {
    if !can_add_users() {
        return;
    }
    let (env, alice) = root_and_alice();
    let dir = config(&alice);
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).unwrap();
    let before = env.snapshot();
    let out = import(&env, &alice.name);
    assert_refused(
        &env,
        &before,
        &out,
        &[
            dir.to_str().unwrap(),
            &format!("chmod go-w {}", dir.display()),
        ],
    );
}
