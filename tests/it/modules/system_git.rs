//! The options the three modules share are declared once (nix/shared-options.nix), and the
//! system modules' git credential helper: NixOS's `programs.git.config`, nix-darwin's (or, where
//! nix-darwin has no `programs.git`, /etc/gitconfig itself), and a real git run as root with that
//! system configuration, answered from root's own files after `--system import`.

use std::process::{Command, Output, Stdio};

use serde_json::json;

use super::{each_nix, exe};
use crate::support::git_server::{GitServer, have_git, make_repo};
use crate::support::module_eval::Kind;
use crate::support::nix::tls::{TestCa, listen_443};
use crate::support::*;

const LINUX: &str = "x86_64-linux";
const MAC: &str = "aarch64-darwin";
const HELPER_ON: &str = r#"{
  programs.nix-tokens = {
    enable = true;
    gitCredentialHelper = { enable = true; hosts = [ "github.com" "git.example.com" ]; };
  };
}"#;

/// /etc/gitconfig as NixOS and nix-darwin write it from `programs.git.config`.
const RENDERED: &str =
    r#"lib.concatMapStringsSep "\n" lib.generators.toGitINI config.programs.git.config"#;

fn expected_gitconfig(system: &str) -> String {
    let helper = format!(
        "\thelper = \"!{} git-credential\"\n\tuseHttpPath = true\n",
        exe(system)
    );
    // The module's sections come as a list, after the (here empty) merged attribute set.
    format!(
        "\n[credential \"https://git.example.com\"]\n{helper}\n[credential \"https://github.com\"]\n{helper}"
    )
}

#[test]
fn the_shared_options_are_declared_once_for_the_three_modules() {
    each_nix(|eval, nix| {
        for (kind, system) in [
            (Kind::NixOS, LINUX),
            (Kind::HomeManager, LINUX),
            (Kind::Darwin, MAC),
        ] {
            let got = eval.eval_ok(
                nix,
                kind,
                system,
                &[],
                r#"let o = options.programs.nix-tokens; files = opt: map toString opt.declarations; in
                   map files [ o.enable o.package o.gitCredentialHelper.enable o.gitCredentialHelper.hosts
                               o.gitCredentialHelper.useHttpPath o.refresh.interval ]"#,
            );
            let shared = super::super::support::module_eval::repo().join("nix/shared-options.nix");
            let one = json!([shared.to_str().unwrap()]);
            assert_eq!(
                got,
                json!([one, one, one, one, one, one]),
                "{kind:?} with {}",
                nix.version
            );
        }
    });
}

#[test]
fn nixos_puts_the_helper_in_programs_git_config() {
    each_nix(|eval, nix| {
        let got = eval.eval_ok(
            nix,
            Kind::NixOS,
            LINUX,
            &[HELPER_ON],
            &format!(
                "{{ enable = config.programs.git.enable; text = {RENDERED}; inherit warnings; }}"
            ),
        );
        assert_eq!(
            got,
            json!({"enable": true, "text": expected_gitconfig(LINUX), "warnings": []}),
            "{}",
            nix.version
        );
        // Beside the machine's own git settings, and another helper for the same host.
        let other = r#"{ programs.git.config = { init.defaultBranch = "main";
                         credential."https://github.com".helper = [ "cache" ]; }; }"#;
        let got = eval.eval_ok(nix, Kind::NixOS, LINUX, &[HELPER_ON, other], RENDERED);
        let text = got.as_str().unwrap();
        assert!(
            text.contains("[init]\n\tdefaultBranch = \"main\""),
            "{text}"
        );
        assert!(text.contains("\thelper = \"cache\"\n"), "{text}");
        assert_eq!(text.matches("git-credential\"").count(), 2, "{text}");
        // git switched off: said, not silently ignored.
        let off = "{ programs.git.enable = false; }";
        let got = eval.eval_ok(nix, Kind::NixOS, LINUX, &[HELPER_ON, off], "warnings");
        assert!(
            got.to_string().contains("programs.git.enable is off"),
            "{got}"
        );
        // Off by default.
        let got = eval.eval_ok(
            nix,
            Kind::NixOS,
            LINUX,
            &["{ programs.nix-tokens.enable = true; }"],
            &format!("{{ enable = config.programs.git.enable; text = {RENDERED}; }}"),
        );
        assert_eq!(got, json!({"enable": false, "text": ""}), "{}", nix.version);
    });
}

#[test]
fn nix_darwin_uses_programs_git_where_it_has_it_and_etc_gitconfig_otherwise() {
    each_nix(|eval, nix| {
        let got = eval.eval_ok(nix, Kind::DarwinWithGit, MAC, &[HELPER_ON], RENDERED);
        assert_eq!(got, json!(expected_gitconfig(MAC)), "{}", nix.version);
        let got = eval.eval_ok(
            nix,
            Kind::Darwin,
            MAC,
            &[HELPER_ON],
            "config.environment.etc",
        );
        // Written by the module itself: its sections alone.
        let alone = expected_gitconfig(MAC).trim_start().to_owned();
        assert_eq!(
            got,
            json!({"gitconfig": {"text": alone}}),
            "{}",
            nix.version
        );
        let got = eval.eval_ok(
            nix,
            Kind::Darwin,
            MAC,
            &["{ programs.nix-tokens.enable = true; }"],
            "config.environment.etc",
        );
        assert_eq!(got, json!({}), "{}", nix.version);
    });
}

const TOKEN: &str = "ghp_rootsgitrootsgitrootsgit0123456";

/// git as root: root's home, the system configuration in `system` and no global one.
fn root_git(
    root: &TestEnv,
    system: &std::path::Path,
    ca: &std::path::Path,
    args: &[&str],
) -> Output {
    let template = root.std_cmd();
    let mut cmd = Command::new("git");
    for (k, v) in template.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd.env("GIT_CONFIG_SYSTEM", system)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_SSL_CAINFO", ca)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("GIT_CONFIG_NOSYSTEM")
        .env_remove("GIT_ASKPASS")
        .env_remove("SSH_ASKPASS")
        .env_remove("GIT_CONFIG_PARAMETERS")
        .env_remove("GIT_CONFIG_COUNT")
        .current_dir(&root.root)
        .stdin(Stdio::null())
        .args(args)
        .output()
        .expect("git is installed")
}

#[test]
fn the_system_helper_answers_roots_git_with_the_imported_login() {
    if !have_git() {
        return;
    }
    let Some(bound) = listen_443() else { return };
    let ca = TestCa::new();
    let ip = bound.1.to_string();
    let repos = tempfile::tempdir().unwrap();
    make_repo(repos.path(), "org/private.git", "for root's rebuild\n");
    let server = GitServer::start_https(
        bound,
        ca.server_config(&[&ip]),
        repos.path(),
        &[("x-access-token", TOKEN)],
    );
    let api = crate::support::fake_forge::github(TOKEN, "repo");
    // alice logs in; root imports her login into its own files.
    let alice = TestEnv::new();
    alice.login_with_token(&server.host, "github", &api.url, TOKEN);
    let root = TestEnv::new();
    let from = alice.nix_conf();
    assert_success(&root.run(
        &[
            "--system",
            "import",
            "--from-config",
            from.to_str().unwrap(),
        ],
        "",
    ));
    let ca_file = root.root.join("ca.pem");
    ca.write(&ca_file);
    let binary = root.std_cmd().get_program().to_str().unwrap().to_owned();
    let url = format!("{}/org/private.git", server.url);
    each_nix(|eval, nix| {
        let module = format!(
            r#"{{ programs.nix-tokens = {{ enable = true; gitCredentialHelper = {{ enable = true; hosts = [ "{ip}" ]; }}; }}; }}"#
        );
        for (kind, system, select) in [
            (Kind::NixOS, LINUX, RENDERED),
            (Kind::Darwin, MAC, "config.environment.etc.gitconfig.text"),
        ] {
            let text = eval.eval_ok(nix, kind, system, &[&module], select);
            let text = text.as_str().unwrap().replace(&exe(system), &binary);
            let gitconfig = root.root.join(format!("gitconfig-{system}"));
            std::fs::write(&gitconfig, &text).unwrap();
            let dest = format!("clone-{system}-{}", nix.version.len());
            let out = root_git(&root, &gitconfig, &ca_file, &["clone", "-q", &url, &dest]);
            assert_no_leak(&out, &[TOKEN]);
            assert!(
                out.status.success(),
                "{kind:?}: root's clone failed:\n{}",
                stderr(&out)
            );
            assert_eq!(
                read(&root.root.join(&dest).join("README")),
                "for root's rebuild\n"
            );
        }
    });
    assert!(
        server
            .tried()
            .iter()
            .all(|(u, p)| u == "x-access-token" && p == TOKEN)
    );
    // Without the system configuration, root's git has no helper and fails.
    let out = root_git(
        &root,
        std::path::Path::new("/dev/null"),
        &ca_file,
        &["clone", "-q", &url, "without"],
    );
    assert!(!out.status.success(), "cloned without the helper");
}
