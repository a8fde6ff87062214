//! The files and directories nix-tokens creates or removes beside nix.conf: the lock is never
//! followed through a link, new directories are private whatever the umask, and backup pruning
//! touches only the backups nix-tokens made.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::support::*;

const GH: &str = "ghp_abcdefghijklmnopqrstuvwxyz0123456789";

/// Whether `name` is a backup nix-tokens made: `nix.conf.backup-YYYYMMDDTHHMMSS.NNNNNNNNNZ`,
/// maybe followed by `-N`.
fn is_our_backup(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("nix.conf.backup-") else {
        return false;
    };
    let (stamp, n) = rest.split_at(rest.len().min(26));
    let b = stamp.as_bytes();
    stamp.len() == 26
        && b[..8].iter().all(u8::is_ascii_digit)
        && b[8] == b'T'
        && b[9..15].iter().all(u8::is_ascii_digit)
        && b[15] == b'.'
        && b[16..25].iter().all(u8::is_ascii_digit)
        && b[25] == b'Z'
        && (n.is_empty()
            || n.strip_prefix('-')
                .is_some_and(|d| !d.is_empty() && d.bytes().all(|c| c.is_ascii_digit())))
}

fn our_backups(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| is_our_backup(n))
        .collect();
    names.sort();
    names
}

#[test]
fn a_dangling_lock_link_is_refused_and_its_target_never_created() {
    let env = TestEnv::new();
    let target = env.root.join("elsewhere/planted");
    fs::create_dir_all(target.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(&target, env.config_dir().join(".nix-tokens.lock")).unwrap();
    let out = env.run(&["set-token", "github.com"], &format!("{GH}\n"));
    assert_clean_failure(&out, 1);
    assert_no_leak(&out, &[GH]);
    let err = stderr(&out);
    assert!(err.contains(".nix-tokens.lock"), "{err}");
    assert!(err.contains("symbolic link"), "{err}");
    assert!(!target.exists(), "the link's target was created");
    assert!(
        !env.token_file().exists(),
        "nothing is written without the lock"
    );
}

#[test]
fn a_lock_link_to_an_existing_file_is_refused_too() {
    let env = TestEnv::new();
    let target = env.root.join("victim");
    fs::write(&target, "keep me\n").unwrap();
    fs::set_permissions(&target, fs::Permissions::from_mode(0o644)).unwrap();
    std::os::unix::fs::symlink(&target, env.config_dir().join(".nix-tokens.lock")).unwrap();
    let out = env.run(&["set-token", "github.com"], &format!("{GH}\n"));
    assert_clean_failure(&out, 1);
    assert_eq!(read(&target), "keep me\n");
    assert_eq!(mode(&target), 0o644);
}

/// Runs nix-tokens with `umask 000`, through `sh`.
fn run_with_umask_000(env: &TestEnv, args: &[&str], stdin: &str) -> std::process::Output {
    use std::io::Write;
    use std::process::Stdio;
    let direct = env.std_cmd();
    let mut sh = std::process::Command::new("sh");
    for (k, v) in direct.get_envs() {
        match v {
            Some(v) => sh.env(k, v),
            None => sh.env_remove(k),
        };
    }
    sh.current_dir(&env.root)
        .arg("-c")
        .arg("umask 000; exec \"$0\" \"$@\"")
        .arg(direct.get_program())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = sh.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).unwrap();
    drop(input);
    wait_bounded(child, std::time::Duration::from_secs(20), "nix-tokens")
}

#[test]
fn directories_it_creates_are_private_whatever_the_umask() {
    let env = TestEnv::new();
    let conf = env.root.join("fresh/deeper/nix.conf");
    let conf_arg = conf.display().to_string();
    let root_mode = mode(&env.root);
    let out = run_with_umask_000(
        &env,
        &["--config", &conf_arg, "set-token", "codeberg.org"],
        "forgejotokenabcdef123456\n",
    );
    assert_success(&out);
    for dir in [env.root.join("fresh"), env.root.join("fresh/deeper")] {
        assert_eq!(mode(&dir), 0o700, "{} is not private", dir.display());
    }
    for file in ["access-tokens.conf", "netrc"] {
        assert_eq!(
            mode(&env.root.join("fresh/deeper").join(file)),
            0o600,
            "{file}"
        );
    }
    assert!(read(&env.root.join("fresh/deeper/netrc")).contains("forgejotokenabcdef123456"));
    // A directory that already existed keeps its mode.
    assert_eq!(mode(&env.root), root_mode);
}

#[test]
fn pruning_keeps_the_users_own_backup_files_and_directories() {
    let env = TestEnv::new();
    let dir = env.config_dir();
    let own = dir.join("nix.conf.backup-before-upgrade");
    fs::write(&own, "max-jobs = 1\n").unwrap();
    let own_dir = dir.join("nix.conf.backup-old");
    fs::create_dir(&own_dir).unwrap();
    fs::write(own_dir.join("nix.conf"), "max-jobs = 3\n").unwrap();
    // A backup name nix-tokens never writes, however close.
    let near = dir.join("nix.conf.backup-20200101T000000Z");
    fs::write(&near, "max-jobs = 5\n").unwrap();
    for i in 0..8 {
        env.write(
            &env.nix_conf(),
            &format!("access-tokens = host{i}.org=tokentokentoken{i:04}\n"),
        );
        env.set_token(&format!("github.com/org{i}"), GH);
    }
    assert_eq!(read(&own), "max-jobs = 1\n");
    assert_eq!(read(&own_dir.join("nix.conf")), "max-jobs = 3\n");
    assert_eq!(read(&near), "max-jobs = 5\n");
    let backups = our_backups(&dir);
    assert_eq!(backups.len(), 5, "{backups:?}");
    let newest = read(&dir.join(backups.last().unwrap()));
    assert!(newest.contains("host7.org"), "{newest}");
}

/// Every file in the configuration directory that holds `secret`.
fn files_holding(dir: &Path, secret: &str) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && String::from_utf8_lossy(&fs::read(p).unwrap()).contains(secret))
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn logout_scrubs_the_token_from_the_backups_of_nix_conf() {
    let env = TestEnv::new();
    let once = "ghp_ONCEinNIXCONFxxxxxxxxxxxxxxxxxxxxxx";
    let other = "glpat-OTHERxxxxxxxxxxxx";
    env.write(
        &env.nix_conf(),
        &format!(
            "# mine\nmax-jobs = 4\naccess-tokens = github.com={once} gitlab.com=PAT:{other} # both\nextra-access-tokens = github.com={once}\n"
        ),
    );
    // The first change moves both tokens into the token file, after a backup of nix.conf.
    env.set_token("codeberg.org", "forgejotokenabcdef123456");
    assert_eq!(our_backups(&env.config_dir()).len(), 1);
    assert!(!files_holding(&env.config_dir(), once).is_empty());

    let out = env.run(&["logout", "github.com", "--yes"], "");
    assert_success(&out);
    assert_no_leak(&out, &[once, other]);
    assert_eq!(
        files_holding(&env.config_dir(), once),
        Vec::<String>::new(),
        "the logged-out token is left in a file"
    );
    let backups = our_backups(&env.config_dir());
    assert_eq!(backups.len(), 1, "{backups:?}");
    let backup = env.config_dir().join(&backups[0]);
    assert_eq!(mode(&backup), 0o600);
    // Everything else the backup held is still there, the other token included.
    assert_eq!(
        read(&backup),
        format!("# mine\nmax-jobs = 4\naccess-tokens = gitlab.com=PAT:{other}\n")
    );
}

#[test]
fn the_backup_a_logout_makes_keeps_the_token_and_the_user_is_told_where() {
    let env = TestEnv::new();
    let token = "ghp_INCONFxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
    let original = format!("access-tokens = github.com={token}\n");
    env.write(&env.nix_conf(), &original);
    let out = env.run(&["logout", "github.com", "--yes"], "");
    assert_success(&out);
    assert_no_leak(&out, &[token]);
    let backups = our_backups(&env.config_dir());
    assert_eq!(backups.len(), 1);
    // The undo of this very change is nix.conf as it was; the user hears where it is.
    assert_eq!(read(&env.config_dir().join(&backups[0])), original);
    let err = stderr(&out);
    assert!(err.contains(&backups[0]), "{err}");
    assert!(err.contains("still holds the removed token"), "{err}");
}
