//! A killed run leaves no temporary file behind, wherever the file it was writing lives: a netrc
//! that nix.conf names outside the configuration directory, and a token file that is a link into
//! a dotfiles repository, get their temporary files in *their* directories, and the next run
//! removes them there.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::*;

/// The temporary files nix-tokens' writes leave in `dir`.
fn temporaries(dir: &Path) -> BTreeSet<PathBuf> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with(".nix-tokens-") && name.ends_with(".tmp")
        })
        .collect()
}

/// `set-token HOST --force` with the token on standard input, killed after `delay` (or left to
/// finish when it is quicker). Returns whether the kill reached it.
fn run_killed(env: &TestEnv, host: &str, token: &str, delay: Duration) -> bool {
    let mut child = env
        .std_cmd()
        .args(["set-token", host, "--force"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _ = child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{token}\n").as_bytes());
    std::thread::sleep(delay);
    let _ = child.kill();
    let out = wait_bounded(child, Duration::from_secs(10), "a killed run");
    out.status.signal() == Some(9)
}

/// How long an uninterrupted `set-token HOST` takes here.
fn timing(env: &TestEnv, host: &str) -> Duration {
    let start = Instant::now();
    env.run(&["set-token", host, "--force"], "sekprobe000000zzzz\n");
    start.elapsed()
}

#[test]
fn killed_writes_leave_no_temporary_file_outside_the_config_directory() {
    let env = TestEnv::new();
    // nix.conf names a netrc in the home directory, and the token file is a link into dotfiles.
    let netrc = env.home.join(".netrc");
    let dotfiles = env.root.join("dotfiles");
    env.write(&dotfiles.join("access-tokens.conf"), "");
    std::os::unix::fs::symlink(dotfiles.join("access-tokens.conf"), env.token_file()).unwrap();
    env.write(
        &env.nix_conf(),
        &format!(
            "!include access-tokens.conf\nnetrc-file = {}\n",
            netrc.display()
        ),
    );
    let took = [timing(&env, "codeberg.org"), timing(&env, "github.com")];
    assert!(
        read(&netrc).contains("sekprobe"),
        "the netrc named is written"
    );
    assert!(read(&dotfiles.join("access-tokens.conf")).contains("sekprobe"));

    let mut seed: u64 = 0x5EED_0020;
    let mut seen: [BTreeSet<PathBuf>; 2] = Default::default();
    let start = Instant::now();
    let mut runs = 0;
    while runs < 400
        && start.elapsed() < Duration::from_secs(60)
        && seen.iter().any(|s| s.len() < 2)
    {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let which = (seed >> 33) as usize % 2;
        let host = ["codeberg.org", "github.com"][which];
        // Late in the run, where the writes are.
        let micros = took[which].as_micros() as u64;
        let delay = micros / 2 + (seed >> 40) % (micros * 3 / 5 + 1);
        runs += 1;
        run_killed(
            &env,
            host,
            &format!("sek{runs:06}zzzzzzzzzz"),
            Duration::from_micros(delay),
        );
        seen[0].extend(temporaries(&env.home));
        seen[1].extend(temporaries(&dotfiles));
    }
    eprintln!(
        "{runs} runs; temporary files seen: {} beside the netrc, {} beside the token file",
        seen[0].len(),
        seen[1].len()
    );
    assert!(
        seen.iter().all(|s| !s.is_empty()),
        "no run was killed while writing ({runs} runs); the test proves nothing"
    );

    // The next run, which writes only the token file, removes them all.
    let out = env.run(
        &["set-token", "github.com", "--force"],
        "sekfinal000000zzzz\n",
    );
    assert_success(&out);
    for dir in [&env.home, &dotfiles, &env.config_dir()] {
        let left = temporaries(dir);
        assert!(
            left.is_empty(),
            "{} keeps temporary files after a finished run: {left:?}",
            dir.display()
        );
    }
    assert!(read(&netrc).contains("machine codeberg.org"));
}
