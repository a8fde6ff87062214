//! The home-manager module beside home-manager's `programs.gh`: the helper lists merge, a
//! warning says gh answers first, `ghFirst = false` asks nix-tokens first, and a string helper
//! (what an older module defined) is refused. The git configuration the evaluation gives is
//! written as home-manager writes it, and real git (`git credential fill`) shows the order in
//! which it asks the helpers: the real nix-tokens binary (behind a script that logs its
//! arguments), a gh that logs and answers only when "logged in", and a helper set for all hosts.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::json;

use super::{assert_refused, each_nix, exe};
use crate::support::module_eval::{Kind, ModuleEval, Nix};
use crate::support::*;

const LINUX: &str = "x86_64-linux";
const GH_HELPER: &str = "/nix/store/00000000000000000000000000000000-gh/bin/gh auth git-credential";
const GITHUB_TOKEN: &str = "ghp_fromnixtokens0123456789abcdef";
const EXAMPLE_TOKEN: &str = "example-token-from-nix-tokens";

/// home-manager with gh on (its credential helper on by default) and nix-tokens' helper, with
/// `ghFirst` as given.
fn with_gh(gh_first: &str) -> String {
    format!(
        r#"{{ stubPackage, ... }}: {{
          programs.git.enable = true;
          programs.gh = {{ enable = true; package = stubPackage "gh" "/nix/store/00000000000000000000000000000000-gh"; }};
          programs.nix-tokens = {{ enable = true; gitCredentialHelper = {{ enable = true; ghFirst = {gh_first}; }}; }};
        }}"#
    )
}

#[test]
fn beside_gh_the_lists_merge_and_gh_answering_first_is_said() {
    each_nix(|eval, nix| {
        let ours = format!("!{} git-credential", exe(LINUX));
        let select = r#"{
          github = config.programs.git.settings.credential."https://github.com";
          gitlab = config.programs.git.settings.credential."https://gitlab.com";
          gist = config.programs.git.settings.credential."https://gist.github.com";
          inherit warnings;
        }"#;
        let cases = [
            ("null", json!(["", GH_HELPER, ours]), true),
            ("true", json!(["", GH_HELPER, ours]), false),
            ("false", json!(["", ours, GH_HELPER]), false),
        ];
        let kinds = [Kind::HomeManagerWithGh, Kind::HomeManagerWithGhFirst];
        for ((gh_first, github_helpers, warns), kind) in cases
            .iter()
            .flat_map(|case| kinds.iter().map(move |kind| (case.clone(), *kind)))
        {
            let got = eval.eval_ok(nix, kind, LINUX, &[&with_gh(gh_first)], select);
            assert_eq!(
                got["github"],
                json!({"helper": github_helpers, "useHttpPath": true}),
                "{} ghFirst = {gh_first}, {kind:?}",
                nix.version
            );
            assert_eq!(
                got["gitlab"],
                json!({"helper": [ours], "useHttpPath": true})
            );
            assert_eq!(got["gist"], json!({"helper": ["", GH_HELPER]}));
            let warnings = got["warnings"].as_array().unwrap();
            assert_eq!(warnings.len(), usize::from(warns), "{}: {got}", nix.version);
            if warns {
                let text = warnings[0].as_str().unwrap();
                assert!(
                    text.starts_with(
                        "programs.gh's credential helper answers first for https://github.com:"
                    ) && text.contains("ghFirst = false"),
                    "{}: {text}",
                    nix.version
                );
            }
        }
    });
}

#[test]
fn asking_nix_tokens_first_replaces_other_lists_for_the_host() {
    each_nix(|eval, nix| {
        let ours = format!("!{} git-credential", exe(LINUX));
        let mine =
            r#"{ programs.git.settings.credential."https://github.com".helper = [ "!mine" ]; }"#;
        for (gh_first, helpers) in [
            ("false", json!(["", ours, GH_HELPER])),
            ("null", json!(["!mine", "", GH_HELPER, ours])),
        ] {
            let got = eval.eval_ok(
                nix,
                Kind::HomeManagerWithGh,
                LINUX,
                &[&with_gh(gh_first), mine],
                r#"config.programs.git.settings.credential."https://github.com".helper"#,
            );
            assert_eq!(got, helpers, "{} ghFirst = {gh_first}", nix.version);
        }
    });
}

#[test]
fn a_string_helper_beside_gh_is_refused() {
    // What the module used to define: one string, which gh's list cannot merge with.
    each_nix(|eval, nix| {
        let err = eval.eval_err(
            nix,
            Kind::HomeManagerWithGh,
            LINUX,
            &[
                &with_gh("true"),
                r#"{ programs.nix-tokens.gitCredentialHelper.enable = lib.mkForce false;
                     programs.git.settings.credential."https://github.com".helper = "!nix-tokens git-credential"; }"#,
            ],
            r#"config.xdg.configFile."git/config".text"#,
        );
        assert_refused(
            &err,
            r#"programs.git.settings.credential."https://github.com".helper"#,
            "is not of type",
            nix,
        );
    });
}

/// A script that appends its name and arguments to `log` and, when `answer` exists, prints
/// `reply`.
fn script(path: &Path, name: &str, log: &Path, answer: &Path, reply: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let body = format!(
        "#!/bin/sh\ncat >/dev/null\necho \"{name} $*\" >> '{log}'\n[ -e '{answer}' ] && printf '{reply}'\nexit 0\n",
        log = log.display(),
        answer = answer.display()
    );
    std::fs::write(path, body).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// The packages git runs: nix-tokens (the real binary, logged), gh and a helper for all hosts.
struct Helpers {
    dir: PathBuf,
    log: PathBuf,
    gh_logged_in: PathBuf,
}

impl Helpers {
    fn new(env: &TestEnv) -> Self {
        let dir = env.root.join("pkgs");
        let log = env.root.join("helpers.log");
        let gh_logged_in = env.root.join("gh-logged-in");
        let real = assert_cmd::cargo::cargo_bin("nix-tokens");
        let wrapper = dir.join("nix-tokens/bin/nix-tokens");
        std::fs::create_dir_all(wrapper.parent().unwrap()).unwrap();
        std::fs::write(
            &wrapper,
            format!(
                "#!/bin/sh\necho \"nix-tokens $*\" >> '{}'\nexec '{}' \"$@\"\n",
                log.display(),
                real.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
        let gh_reply = "username=gh-user\\npassword=gho_fromgh\\n";
        script(&dir.join("gh/bin/gh"), "gh", &log, &gh_logged_in, gh_reply);
        let never = env.root.join("never");
        script(&dir.join("everywhere"), "everywhere", &log, &never, "");
        Helpers {
            dir,
            log,
            gh_logged_in,
        }
    }

    /// The git configuration home-manager writes, from the evaluation on `nix`.
    fn git_config(&self, eval: &ModuleEval, nix: &Nix, gh_first: &str) -> String {
        let module = format!(
            r#"{{ stubPackage, ... }}: {{
              programs.git.enable = true;
              programs.git.settings.credential.helper = "!{dir}/everywhere";
              programs.gh = {{ enable = true; package = stubPackage "gh" "{dir}/gh"; }};
              programs.nix-tokens = {{
                enable = true;
                package = stubPackage "nix-tokens" "{dir}/nix-tokens";
                gitCredentialHelper = {{ enable = true; hosts = [ "github.com" "git.example.com" ]; ghFirst = {gh_first}; }};
              }};
            }}"#,
            dir = self.dir.display()
        );
        let text = eval.eval_ok(
            nix,
            Kind::HomeManagerWithGh,
            LINUX,
            &[&module],
            r#"config.xdg.configFile."git/config".text"#,
        );
        text.as_str()
            .expect("the git configuration is text")
            .to_owned()
    }

    /// `git credential fill` for `url` with the environment of `env` (whose nix-tokens files
    /// the helper reads): the helpers asked, in order, and the password git got.
    fn fill(&self, env: &TestEnv, config: &Path, url: &str) -> (Vec<String>, Option<String>) {
        let _ = std::fs::remove_file(&self.log);
        let template = env.std_cmd();
        let mut cmd = Command::new("git");
        for (k, v) in template.get_envs() {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        let mut child = cmd
            .args(["credential", "fill"])
            .env("GIT_CONFIG_GLOBAL", config)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env_remove("GIT_ASKPASS")
            .env_remove("SSH_ASKPASS")
            .env_remove("GIT_CONFIG_PARAMETERS")
            .env_remove("GIT_CONFIG_COUNT")
            .current_dir(&env.root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("git is installed");
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        write!(stdin, "url={url}\n\n").unwrap();
        drop(stdin);
        let out = child.wait_with_output().unwrap();
        let asked = std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect();
        let password = stdout(&out)
            .lines()
            .find_map(|l| l.strip_prefix("password=").map(str::to_owned));
        assert_eq!(
            out.status.success(),
            password.is_some(),
            "git credential fill for {url}:\n{}",
            stderr(&out)
        );
        (asked, password)
    }
}

fn git_version() -> Option<String> {
    let out = Command::new("git").arg("--version").output().ok()?;
    Some(stdout(&out).trim().to_owned())
}

/// One `git credential fill`: whether gh is logged in, whether nix-tokens has tokens, the URL,
/// and what git then does: the helpers it asks, in order, and the password it gets.
struct Case {
    gh_logged_in: bool,
    nix_tokens_has_tokens: bool,
    url: &'static str,
    asked: &'static [&'static str],
    password: Option<&'static str>,
}

const NT: &str = "nix-tokens git-credential get";
const GH: &str = "gh auth git-credential get";
const EVERYWHERE: &str = "everywhere get";
const GITHUB: &str = "https://github.com/org/repo.git";
const GH_TOKEN: Option<&str> = Some("gho_fromgh");

/// The order the README states. For github.com, gh's `""` drops the helper set for all hosts;
/// then gh and nix-tokens in the order `ghFirst` chooses. For another host of `hosts`, the helper
/// set for all hosts, then nix-tokens. A host of neither list gets the helper for all hosts only.
fn cases(nix_tokens_first: bool) -> Vec<Case> {
    let case = |gh_logged_in, nix_tokens_has_tokens, url, asked, password| Case {
        gh_logged_in,
        nix_tokens_has_tokens,
        url,
        asked,
        password,
    };
    let mut cases = if nix_tokens_first {
        vec![
            case(true, true, GITHUB, &[NT][..], Some(GITHUB_TOKEN)),
            case(false, true, GITHUB, &[NT], Some(GITHUB_TOKEN)),
            case(true, false, GITHUB, &[NT, GH], GH_TOKEN),
            case(false, false, GITHUB, &[NT, GH], None),
        ]
    } else {
        vec![
            case(true, true, GITHUB, &[GH][..], GH_TOKEN),
            case(false, true, GITHUB, &[GH, NT], Some(GITHUB_TOKEN)),
            case(true, false, GITHUB, &[GH], GH_TOKEN),
            case(false, false, GITHUB, &[GH, NT], None),
        ]
    };
    cases.push(case(
        true,
        true,
        "https://git.example.com/team/repo.git",
        &[EVERYWHERE, NT],
        Some(EXAMPLE_TOKEN),
    ));
    cases.push(case(
        true,
        true,
        "https://codeberg.org/x/y.git",
        &[EVERYWHERE],
        None,
    ));
    cases
}

#[test]
fn git_asks_the_helpers_in_the_order_the_readme_states() {
    let Some(git) = git_version() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install git (apt-get install git) for this test"
        );
        eprintln!("skipping: git is not installed");
        return;
    };
    let tokens = TestEnv::new();
    tokens.set_token("github.com", GITHUB_TOKEN);
    tokens.set_token("git.example.com", EXAMPLE_TOKEN);
    let no_tokens = TestEnv::new();
    let helpers = Helpers::new(&tokens);

    each_nix(|eval, nix| {
        eprintln!("git order with {git} and {}", nix.version);
        for gh_first in ["null", "true", "false"] {
            let config = tokens.root.join(format!("gitconfig-{gh_first}"));
            std::fs::write(&config, helpers.git_config(eval, nix, gh_first)).unwrap();
            for case in cases(gh_first == "false") {
                if case.gh_logged_in {
                    std::fs::write(&helpers.gh_logged_in, "").unwrap();
                } else {
                    let _ = std::fs::remove_file(&helpers.gh_logged_in);
                }
                let env = if case.nix_tokens_has_tokens {
                    &tokens
                } else {
                    &no_tokens
                };
                let got = helpers.fill(env, &config, case.url);
                let want = (
                    case.asked.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                    case.password.map(str::to_owned),
                );
                assert_eq!(
                    got,
                    want,
                    "{}, ghFirst = {gh_first}, gh logged in: {}, nix-tokens has tokens: {} \
                     ({git}, {}):\n{}",
                    case.url,
                    case.gh_logged_in,
                    case.nix_tokens_has_tokens,
                    nix.version,
                    read(&config)
                );
            }
        }
    });
}
