//! git's helper reads the keyring itself: a real clone with no runtime copy.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use super::*;
use crate::support::*;

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
