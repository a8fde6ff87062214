//! Parallel runs never lose a token: the lock serialises every read-modify-write.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::support::*;

#[test]
fn twenty_parallel_set_tokens_all_land() {
    let env = TestEnv::new();
    env.write(
        &env.nix_conf(),
        "access-tokens = seed.org=seedtokenseedtoken\n",
    );
    let bin = assert_cmd::cargo::cargo_bin("nix-tokens");
    let children: Vec<_> = (0..20)
        .map(|i| {
            let mut cmd = Command::new(&bin);
            // The same environment the harness gives, on a plain std Command so all run at once.
            let template = env.cmd();
            for (k, v) in template.get_envs() {
                match v {
                    Some(v) => cmd.env(k, v),
                    None => cmd.env_remove(k),
                };
            }
            let mut child = cmd
                .args(["set-token", &format!("host{i:02}.example.org")])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            child
                .stdin
                .take()
                .unwrap()
                .write_all(format!("token{i:02}abcdefghijklmnop\n").as_bytes())
                .unwrap();
            child
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert_success(&out);
    }
    let tokens = read(&env.token_file());
    for i in 0..20 {
        assert!(
            tokens.contains(&format!(
                "host{i:02}.example.org=token{i:02}abcdefghijklmnop"
            )),
            "host{i:02} was lost:\n{tokens}"
        );
    }
    assert!(
        tokens.contains("seed.org=seedtokenseedtoken"),
        "the migrated token survived"
    );
    assert_eq!(
        read(&env.nix_conf())
            .matches("!include access-tokens.conf")
            .count(),
        1
    );
    let leftovers: Vec<_> = std::fs::read_dir(env.config_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}
