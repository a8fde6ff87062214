//! A configuration directory other users can write (group or others, without the sticky bit) is
//! refused with one sentence (who can write it, and `chmod go-w DIR`) before anything in it is read
//! or written: whoever can write there can replace access-tokens.conf with a file that sets
//! `post-build-hook`, or put a link where nix-tokens writes.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

use crate::support::*;

const GH: &str = "ghp_shareddirshareddir0123456789abcdef";

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

fn assert_dir_refused(env: &TestEnv, dir: &Path, args: &[&str], who: &str) {
    let before = env.snapshot();
    let out = env.run(args, &format!("{GH}\n"));
    assert_clean_failure(&out, 1);
    let err = stderr(&out);
    assert!(err.contains(who), "{args:?}: {err}");
    assert!(
        err.contains(&format!("chmod go-w {}", dir.display())),
        "{args:?}: {err}"
    );
    assert_no_leak(&out, &[GH]);
    assert_eq!(env.snapshot(), before, "{args:?} changed files");
}

#[test]
fn the_users_configuration_directory_open_to_others_is_refused() {
    let env = TestEnv::new();
    env.write(&env.nix_conf(), "max-jobs = 2\n");
    chmod(&env.config_dir(), 0o777);
    for args in [&["set-token", "github.com"][..], &["status"]] {
        assert_dir_refused(&env, &env.config_dir(), args, "every user can write");
    }
    chmod(&env.config_dir(), 0o775);
    assert_dir_refused(
        &env,
        &env.config_dir(),
        &["set-token", "github.com"],
        "the members of its group",
    );
    // A sticky directory keeps others from replacing what is in it.
    chmod(&env.config_dir(), 0o1777);
    assert_success(&env.run(&["set-token", "github.com"], &format!("{GH}\n")));
    chmod(&env.config_dir(), 0o700);
    assert_success(&env.run(&["status", "--offline"], ""));
}

/// `--config` in a directory every user can write, where another (real) user has already
/// replaced access-tokens.conf: nothing of it is read or kept.
#[test]
fn a_config_directory_another_user_wrote_into_is_refused() {
    let env = TestEnv::new();
    let dir = env.root.join("shared");
    fs::create_dir(&dir).unwrap();
    chmod(&dir, 0o777);
    let conf = dir.join("nix.conf");
    let tokens = dir.join("access-tokens.conf");
    let planted = "post-build-hook = /tmp/evil.sh\n";
    let useradd = Path::new("/usr/sbin/useradd").exists();
    let root = fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    if root && useradd {
        // A real second user writes the file, as they could.
        crate::support::daemon::open_up(&dir);
        chmod(&dir, 0o777);
        let other = crate::support::daemon::User::add(&env.root);
        let wrote = Command::new("setpriv")
            .arg(format!("--reuid={}", other.uid))
            .arg(format!("--regid={}", other.gid))
            .args([
                "--clear-groups",
                "--",
                "sh",
                "-c",
                "printf '%s\\n' \"$1\" > \"$2\"",
            ])
            .args(["sh", planted.trim_end(), tokens.to_str().unwrap()])
            .status()
            .unwrap();
        assert!(wrote.success());
        assert_eq!(fs::metadata(&tokens).unwrap().uid(), other.uid);
        let out = env.run(
            &[
                "--config",
                conf.to_str().unwrap(),
                "set-token",
                "github.com",
            ],
            &format!("{GH}\n"),
        );
        assert_clean_failure(&out, 1);
        assert!(
            stderr(&out).contains(&format!("chmod go-w {}", dir.display())),
            "{}",
            stderr(&out)
        );
        assert_eq!(
            read(&tokens),
            planted,
            "the planted file was kept as it was"
        );
        assert!(!conf.exists(), "nothing was written there");
    } else {
        eprintln!("not root or no useradd: the directory alone is checked");
    }
    let path = conf.to_str().unwrap();
    assert_dir_refused(
        &env,
        &dir,
        &["--config", path, "set-token", "github.com"],
        "every user can write",
    );
}

#[test]
fn the_system_configuration_directory_open_to_others_is_refused() {
    let env = TestEnv::new();
    env.write(&env.etc.join("nix.conf"), "max-jobs = 2\n");
    chmod(&env.etc, 0o757);
    for args in [
        &["--system", "set-token", "github.com"][..],
        &["--system", "status", "--offline"],
    ] {
        assert_dir_refused(&env, &env.etc, args, "every user can write");
    }
}
