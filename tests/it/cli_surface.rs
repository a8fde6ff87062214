//! The command line itself: every command is there, global flags go anywhere, and the nix.conf
//! that is chosen follows Nix's own environment variables.

use crate::support::*;

/// Every command the CLI must offer.
const COMMANDS: [&str; 8] = [
    "login",
    "logout",
    "status",
    "check",
    "set-token",
    "refresh",
    "version",
    "completions",
];

#[test]
fn help_lists_every_command() {
    let env = TestEnv::new();
    let out = env.run(&["--help"], "");
    assert_success(&out);
    let help = stdout(&out);
    for command in COMMANDS {
        assert!(help.contains(command), "--help lacks {command}:\n{help}");
    }
    for flag in [
        "--config",
        "--system",
        "--verbose",
        "--quiet",
        "--color",
        "--no-progress",
        "--yes",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}");
    }
}

#[test]
fn nix_auth_flags_are_accepted() {
    let env = TestEnv::new();
    for args in [
        &["login", "--help"][..],
        &["logout", "--help"],
        &["set-token", "--help"],
    ] {
        let out = env.run(args, "");
        assert_success(&out);
        let help = stdout(&out);
        for flag in ["--provider", "--force", "--dry-run"] {
            assert!(help.contains(flag), "{args:?} lacks {flag}");
        }
    }
    let login = stdout(&env.run(&["login", "--help"], ""));
    assert!(login.contains("--client-id"));
    let logout = stdout(&env.run(&["logout", "--help"], ""));
    assert!(logout.contains("--host"));
}

#[test]
fn version_and_completions() {
    let env = TestEnv::new();
    let out = env.run(&["version"], "");
    assert_success(&out);
    assert_eq!(
        stdout(&out).trim(),
        format!("nix-tokens {}", env!("CARGO_PKG_VERSION"))
    );
    for shell in ["bash", "zsh", "fish"] {
        let out = env.run(&["completions", shell], "");
        assert_success(&out);
        for command in COMMANDS {
            assert!(
                stdout(&out).contains(command),
                "{shell} completions lack {command}"
            );
        }
    }
    let out = env.run(&["man"], "");
    assert_success(&out);
    let page = stdout(&out);
    assert!(
        page.starts_with(".ie") || page.contains(".TH nix-tokens"),
        "{page}"
    );
    for command in COMMANDS {
        let heading = format!(".SH \"NIX-TOKENS {}\"", command.to_uppercase());
        assert!(page.contains(&heading), "the man page lacks {heading}");
    }
    let out = env.run(&["completions", "tcsh"], "");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn global_flags_work_after_the_command() {
    let env = TestEnv::new();
    let custom = env.root.join("custom").join("nix.conf");
    let out = env.run(
        &[
            "set-token",
            "github.com",
            "-q",
            "--config",
            custom.to_str().unwrap(),
        ],
        "ghp_abcdefghijklmnopqrstuvwxyz\n",
    );
    assert_success(&out);
    assert_eq!(stderr(&out), "", "-q keeps a success silent");
    assert!(read(&env.root.join("custom/access-tokens.conf")).contains("github.com=ghp_"));
    assert!(!env.token_file().exists());
}

#[test]
fn nix_conf_is_found_as_nix_finds_it() {
    let env = TestEnv::new();
    let first = env.root.join("a/nix.conf");
    let second = env.root.join("b/nix.conf");
    let files = format!("{}:{}", first.display(), second.display());
    let out = env
        .cmd()
        .args(["set-token", "github.com"])
        .env("NIX_USER_CONF_FILES", &files)
        .write_stdin("ghp_abcdefghijklmnopqrstuvwxyz\n")
        .output()
        .unwrap();
    assert_success(&out);
    assert!(env.root.join("a/access-tokens.conf").exists());
    assert!(!env.root.join("b/access-tokens.conf").exists());

    let out = env
        .cmd()
        .args(["set-token", "gitlab.com"])
        .env("NIX_CONFIG_HOME", env.root.join("nixhome"))
        .write_stdin("glpat-abcdefghijklmnopqrst\n")
        .output()
        .unwrap();
    assert_success(&out);
    assert!(read(&env.root.join("nixhome/access-tokens.conf")).contains("gitlab.com=PAT:glpat-"));
    assert!(read(&env.root.join("nixhome/nix.conf")).contains("!include access-tokens.conf"));
}

#[test]
fn system_uses_nix_conf_dir() {
    let env = TestEnv::new();
    let out = env.run(
        &["--system", "set-token", "github.com"],
        "ghp_abcdefghijklmnopqrstuvwxyz\n",
    );
    assert_success(&out);
    assert!(read(&env.etc.join("access-tokens.conf")).contains("github.com=ghp_"));
    assert_eq!(
        read(&env.etc.join("nix.conf")),
        "!include access-tokens.conf\n"
    );
    let both = env.run(&["--system", "--config", "/tmp/x", "status"], "");
    assert_eq!(
        both.status.code(),
        Some(2),
        "--system and --config conflict"
    );
}

#[test]
fn refresh_has_nothing_to_renew_yet() {
    let env = TestEnv::new();
    let out = env.run(&["refresh", "--quiet"], "");
    assert_success(&out);
    assert_eq!(stderr(&out), "");
}

/// The commands `nix-tokens --help` lists (without clap's own `help`).
fn listed_commands(env: &TestEnv) -> Vec<String> {
    let help = stdout(&env.run(&["--help"], ""));
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        // A description that wraps goes on indented further.
        .filter(|l| !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_command_s_long_help_ends_with_one_example() {
    let env = TestEnv::new();
    let commands = listed_commands(&env);
    assert!(commands.len() >= 9, "{commands:?}");
    let man = stdout(&env.run(&["man"], ""));
    for command in &commands {
        let out = env.run(&[command, "--help"], "");
        assert_success(&out);
        let help = stdout(&out);
        let examples: Vec<&str> = help.lines().filter(|l| l.starts_with("Example:")).collect();
        assert_eq!(examples.len(), 1, "{command} --help:\n{help}");
        let last = help.lines().rfind(|l| !l.trim().is_empty()).unwrap();
        assert_eq!(last, examples[0], "{command} --help ends with its example");
        let example = last.trim_start_matches("Example: ");
        assert!(
            example.starts_with(&format!("nix-tokens {command}")),
            "{command}: {example}"
        );
        // Every flag the example uses is one the command takes.
        for flag in example.split_whitespace().filter(|w| w.starts_with("--")) {
            assert!(
                help.contains(&format!("  {flag}")) || help.contains(&format!(", {flag}")),
                "{command}'s example uses {flag}, which it does not take:\n{help}"
            );
        }
        // The manual page, generated from the same definitions, shows it too.
        assert!(
            man.contains(&example.replace('-', "\\-")),
            "the man page lacks {command}'s example {example:?}"
        );
    }
}

/// `login --help` and `set-token --help` name every built-in provider `--provider` (and login's
/// target) accepts, the binary caches and OpenID Connect included, not only the forges.
#[test]
fn login_and_set_token_help_name_every_built_in_provider() {
    let env = TestEnv::new();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("providers");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "toml"))
        .map(|path| path.file_stem().unwrap().to_str().unwrap().to_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 12, "providers/ holds {names:?}");
    for command in ["login", "set-token"] {
        let out = env.run(&[command, "--help"], "");
        assert_success(&out);
        let help = stdout(&out)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        for name in &names {
            assert!(
                help.contains(&format!("{name},")) || help.contains(&format!("{name})")),
                "`{command} --help` does not name the provider {name}:\n{help}"
            );
        }
    }
}

/// A reader that stops reading (`nix-tokens completions zsh | head -c 10`) ends the output, not the
/// program with a panic: the completion script and the manual page are written in one go, and a
/// closed pipe is no error.
#[test]
fn a_closed_pipe_is_no_panic() {
    let env = TestEnv::new();
    for args in [&["completions", "zsh"][..], &["man"][..]] {
        for _ in 0..5 {
            let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("nix-tokens"))
                .env("HOME", &env.home)
                .args(args)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            drop(child.stdout.take());
            let out = child.wait_with_output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
            assert!(err.is_empty(), "{args:?}: {err}");
        }
    }
}
