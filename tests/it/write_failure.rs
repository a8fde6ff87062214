//! A write that fails half-way leaves every file as it was. A full disk is simulated with a file
//! size limit (`ulimit -f`): a write past it fails with EFBIG, as one to a full disk fails with
//! ENOSPC, once SIGXFSZ is ignored (an ignored signal stays ignored across `exec`).

use std::process::{Command, Output};

use crate::support::*;

/// 512 bytes: dash's `ulimit -f` counts 512-byte blocks (bash's, 1024-byte ones).
const LIMIT: &str = "ulimit -f 1";

/// `nix-tokens ARGS…` in `env` with `stdin`, unable to write files longer than the limit.
fn run_limited(env: &TestEnv, args: &[&str], stdin: &str) -> Output {
    let template = env.cmd();
    let mut cmd = Command::new("sh");
    for (k, v) in template.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd.current_dir(&env.root)
        .arg("-c")
        .arg(format!("trap '' XFSZ; {LIMIT}; exec \"$0\" \"$@\""))
        .arg(template.get_program())
        .args(args);
    let mut cmd = assert_cmd::Command::from_std(cmd);
    cmd.write_stdin(stdin).output().expect("run sh")
}

fn token(i: usize) -> String {
    format!("tok{i:02}abcdefghijklmnopqrstuvwxyz")
}

/// The run failed cleanly naming `file`, printed no token, and changed nothing on disk.
fn assert_nothing_changed(env: &TestEnv, out: &Output, file: &str, before: &Snapshot) {
    assert_clean_failure(out, 1);
    let err = stderr(out);
    assert!(err.contains(file), "the error should name {file}: {err}");
    assert!(err.contains("file too large"), "{err}");
    let mut secrets: Vec<String> = (0..40).map(token).collect();
    secrets.push("newtokenabcdefghijklmnop".into());
    secrets.push("seedtokenseedtoken".into());
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    assert_no_leak(out, &secrets);
    // The snapshot covers every file, so a temporary file or partial backup left behind shows.
    let after = env.snapshot();
    let changed: Vec<_> = before
        .keys()
        .chain(after.keys())
        .filter(|p| before.get(*p) != after.get(*p))
        .collect();
    assert!(
        changed.is_empty(),
        "files changed or left behind: {changed:?}\n{err}"
    );
}

type Snapshot = std::collections::BTreeMap<std::path::PathBuf, (Vec<u8>, u32)>;

#[test]
fn a_token_file_too_large_to_rewrite_stays_as_it_was() {
    let env = TestEnv::new();
    env.write(&env.nix_conf(), "# mine\nmax-jobs = 2\n");
    for i in 0..40 {
        env.set_token(&format!("host{i:02}.example.org"), &token(i));
    }
    assert!(read(&env.token_file()).len() > 1024);
    let before = env.snapshot();

    let out = run_limited(
        &env,
        &["set-token", "new.example.org"],
        "newtokenabcdefghijklmnop\n",
    );
    assert_nothing_changed(&env, &out, "access-tokens.conf", &before);

    // Within the limit, the same command works: it was the limit that stopped it.
    let small = TestEnv::new();
    let out = run_limited(
        &small,
        &["set-token", "new.example.org"],
        "newtokenabcdefghijklmnop\n",
    );
    assert_success(&out);
}

#[test]
fn a_nix_conf_too_large_to_back_up_stays_as_it_was_and_the_token_file_is_put_back() {
    let env = TestEnv::new();
    let mut conf: String = (0..30)
        .map(|i| {
            format!("# comment line {i:02}, long enough to make this file outgrow the limit\n")
        })
        .collect();
    conf.push_str("access-tokens = seed.org=seedtokenseedtoken\n");
    env.write(&env.nix_conf(), &conf);
    let before = env.snapshot();

    // The token file is written (small), then the backup of nix.conf fails; the token file,
    // which did not exist, is removed again.
    let out = run_limited(
        &env,
        &["set-token", "new.example.org"],
        "newtokenabcdefghijklmnop\n",
    );
    assert_nothing_changed(&env, &out, "nix.conf", &before);
}

#[test]
fn a_netrc_too_large_to_rewrite_stays_as_it_was_and_the_token_file_is_put_back() {
    let env = TestEnv::new();
    let netrc = env.root.join("my-netrc");
    let entries: String = (0..40)
        .map(|i| {
            format!(
                "machine host{i:02}.example.org login me password {}\n",
                token(i)
            )
        })
        .collect();
    env.write(&netrc, &entries);
    std::fs::set_permissions(&netrc, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    env.write(
        &env.nix_conf(),
        &format!(
            "netrc-file = {}\naccess-tokens = seed.org=seedtokenseedtoken\n",
            netrc.display()
        ),
    );
    let before = env.snapshot();

    // The token file is created (moving the nix.conf token), then the netrc write fails.
    let out = run_limited(
        &env,
        &["set-token", "codeberg.org"],
        "newtokenabcdefghijklmnop\n",
    );
    assert_nothing_changed(&env, &out, "my-netrc", &before);
}

#[test]
fn a_cache_login_whose_nix_conf_write_fails_leaves_the_substituter_out_too() {
    const CACHE_TOKEN: &str = "newtokenabcdefghijklmnop";
    let cache = crate::support::fake_cache::start("", &[("", CACHE_TOKEN)]);
    let env = TestEnv::new();
    // A nix.conf longer than the limit: adding the include line to it cannot be written, after
    // the token file (with the substituter and key) and the netrc already were.
    env.write(&env.nix_conf(), &format!("# {}\n", "x".repeat(600)));
    let before = env.snapshot();
    let out = run_limited(
        &env,
        &[
            "login",
            "127.0.0.1",
            "-p",
            "nix-cache",
            "--base-url",
            &cache.url,
            "--public-key",
            crate::support::fake_cache_api::KEY,
            "--with-token",
        ],
        &format!("{CACHE_TOKEN}\n"),
    );
    assert_nothing_changed(&env, &out, "nix.conf", &before);
}
