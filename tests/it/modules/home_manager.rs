//! The home-manager module: the `!include` home-manager's nix.conf gets, the git settings of
//! the credential helper (alone and beside `programs.gh`), the refresh timer (systemd on Linux,
//! launchd on Darwin), and the values it refuses.

use serde_json::json;

use super::{assert_refused, each_nix, exe, package};
use crate::support::module_eval::Kind;

const LINUX: &str = "x86_64-linux";
const MAC: &str = "aarch64-darwin";
const NIX_PACKAGE: &str = r#"({ stubPackage, ... }: { nix.package = stubPackage "nix" "/nix/store/00000000000000000000000000000000-nix"; })"#;

#[test]
fn the_token_file_is_included_when_home_manager_writes_nix_conf() {
    each_nix(|eval, nix| {
        let select = "{ extraOptions = config.nix.extraOptions; packages = config.home.packages; inherit failedAssertions; }";
        let include = "!include access-tokens.conf\n";
        for (modules, extra) in [
            // nix.settings makes home-manager write nix.conf: the include is on by default.
            (
                vec![
                    NIX_PACKAGE,
                    "{ programs.nix-tokens.enable = true; nix.settings.sandbox = true; }",
                ],
                include,
            ),
            // Only nix.extraOptions: asked for.
            (
                vec![
                    NIX_PACKAGE,
                    r#"{ programs.nix-tokens = { enable = true; includeTokenFile = true; }; nix.extraOptions = "keep-outputs = true"; }"#,
                ],
                "keep-outputs = true\n!include access-tokens.conf\n",
            ),
            // No nix.conf from home-manager: nix-tokens edits the user's own file itself.
            (vec!["{ programs.nix-tokens.enable = true; }"], ""),
        ] {
            let got = eval.eval_ok(nix, Kind::HomeManager, LINUX, &modules, select);
            assert_eq!(
                got,
                json!({"extraOptions": extra, "packages": [package(LINUX)], "failedAssertions": []}),
                "{}: {modules:?}",
                nix.version
            );
        }
    });
}

#[test]
fn the_git_helper_is_a_list_per_host_rendered_as_home_manager_renders_git_config() {
    each_nix(|eval, nix| {
        let got = eval.eval_ok(
            nix,
            Kind::HomeManager,
            LINUX,
            &[r#"{
              programs.git.enable = true;
              programs.nix-tokens = {
                enable = true;
                gitCredentialHelper = { enable = true; hosts = [ "github.com" "git.example.com" ]; };
              };
              # The user's own helper for a host comes first: nix-tokens' is added after it.
              programs.git.settings.credential."https://git.example.com".helper = [ "!mine" ];
            }"#],
            r#"{
              credential = config.programs.git.settings.credential;
              text = config.xdg.configFile."git/config".text;
              inherit warnings;
            }"#,
        );
        let helper = format!("!{} git-credential", exe(LINUX));
        assert_eq!(
            got["credential"],
            json!({
                "https://github.com": {"helper": [helper], "useHttpPath": true},
                "https://git.example.com": {"helper": ["!mine", helper], "useHttpPath": true},
            }),
            "{}",
            nix.version
        );
        assert_eq!(
            got["text"],
            format!(
                "[credential \"https://git.example.com\"]\n\thelper = \"!mine\"\n\thelper = \"{helper}\"\n\tuseHttpPath = true\n\n\
                 [credential \"https://github.com\"]\n\thelper = \"{helper}\"\n\tuseHttpPath = true\n"
            ),
            "{}",
            nix.version
        );
        assert_eq!(got["warnings"], json!([]), "{}", nix.version);
    });
}

#[test]
fn without_use_http_path_only_the_helper_is_set() {
    each_nix(|eval, nix| {
        let got = eval.eval_ok(
            nix,
            Kind::HomeManager,
            LINUX,
            &[r#"{
              programs.git.enable = true;
              programs.nix-tokens = {
                enable = true;
                gitCredentialHelper = { enable = true; hosts = [ "gitlab.com" ]; useHttpPath = false; };
              };
            }"#],
            "config.programs.git.settings.credential",
        );
        let helper = format!("!{} git-credential", exe(LINUX));
        assert_eq!(
            got,
            json!({"https://gitlab.com": {"helper": [helper]}}),
            "{}",
            nix.version
        );
    });
}

#[test]
fn the_git_helper_without_programs_git_warns() {
    each_nix(|eval, nix| {
        let got = eval.eval_ok(
            nix,
            Kind::HomeManager,
            LINUX,
            &["{ programs.nix-tokens = { enable = true; gitCredentialHelper.enable = true; }; }"],
            r#"{ inherit warnings; written = config.xdg.configFile ? "git/config"; }"#,
        );
        assert_eq!(got["written"], false, "{}", nix.version);
        let warnings = got["warnings"].as_array().unwrap();
        assert_eq!(warnings.len(), 1, "{}: {got}", nix.version);
        assert!(
            warnings[0]
                .as_str()
                .unwrap()
                .contains("Set\nprograms.git.enable = true"),
            "{}: {got}",
            nix.version
        );
    });
}

#[test]
fn the_refresh_timer_is_a_systemd_user_timer_on_linux() {
    // The default interval, and another.
    each_nix(|eval, nix| {
        for (interval, setting) in [(30, ""), (20, "interval = 20;")] {
            let module = format!(
                "{{ programs.nix-tokens = {{ enable = true; refresh = {{ enable = true; {setting} }}; }}; }}"
            );
            let got = eval.eval_ok(
                nix,
                Kind::HomeManager,
                LINUX,
                &[&module],
                r#"{
              service = config.systemd.user.services.nix-tokens-refresh;
              timer = config.systemd.user.timers.nix-tokens-refresh;
              agents = config.launchd.agents;
              inherit failedAssertions;
            }"#,
            );
            assert_eq!(
                got,
                json!({
                    "service": {
                        "Unit": {"Description": "Renew expiring Nix access tokens", "Documentation": []},
                        "Service": {
                            "Type": "oneshot",
                            "ExecStart": [format!("{} refresh --quiet --threshold {}", exe(LINUX), 2 * interval)],
                            "Environment": [],
                        },
                    },
                    "timer": {
                        "Unit": {
                            "Description": format!("Renew expiring Nix access tokens every {interval} minutes"),
                            "Documentation": [],
                        },
                        "Timer": {"OnStartupSec": "2min", "OnUnitActiveSec": format!("{interval}min")},
                        "Install": {"WantedBy": ["timers.target"]},
                    },
                    "agents": {},
                    "failedAssertions": [],
                }),
                "{}",
                nix.version
            );
        }
    });
}

#[test]
fn the_refresh_timer_is_a_launchd_agent_on_darwin() {
    each_nix(|eval, nix| {
        let got = eval.eval_ok(
            nix,
            Kind::HomeManager,
            MAC,
            &["{ programs.nix-tokens = { enable = true; refresh.enable = true; }; }"],
            r#"let agent = config.launchd.agents.nix-tokens-refresh; in {
              inherit (agent) enable domain;
              config = lib.filterAttrs (_: v: v != null) agent.config;
              services = config.systemd.user.services;
              inherit failedAssertions;
            }"#,
        );
        assert_eq!(
            got,
            json!({
                "enable": true,
                "domain": "gui",
                "config": {
                    "Label": "org.nix-community.home.nix-tokens-refresh",
                    "ProgramArguments": [exe(MAC), "refresh", "--quiet", "--threshold", "60"],
                    "StartInterval": 1800,
                    "RunAtLoad": true,
                    "ProcessType": "Background",
                },
                "services": {},
                "failedAssertions": [],
            }),
            "{}",
            nix.version
        );
    });
}

#[test]
fn invalid_values_are_refused() {
    each_nix(|eval, nix| {
        for (module, option, why) in [
            (
                r#"{ programs.nix-tokens.gitCredentialHelper.hosts = "github.com"; }"#,
                "programs.nix-tokens.gitCredentialHelper.hosts",
                "list of string",
            ),
            (
                "{ programs.nix-tokens.refresh.interval = -5; }",
                "programs.nix-tokens.refresh.interval",
                "positive integer",
            ),
            (
                r#"{ programs.nix-tokens.gitCredentialHelper.ghFirst = "nix-tokens"; }"#,
                "programs.nix-tokens.gitCredentialHelper.ghFirst",
                "null or boolean",
            ),
            (
                r#"{ programs.nix-tokens.includeTokenFile = "yes"; }"#,
                "programs.nix-tokens.includeTokenFile",
                "boolean",
            ),
        ] {
            let err = eval.eval_err(
                nix,
                Kind::HomeManager,
                LINUX,
                &[
                    "{ programs.git.enable = true; programs.nix-tokens = { enable = true; gitCredentialHelper.enable = true; refresh.enable = true; }; }",
                    module,
                ],
                r#"{ t = config.xdg.configFile."git/config".text; s = config.systemd.user.services; e = config.nix.extraOptions; cfg = config.programs.nix-tokens; }"#,
            );
            assert_refused(&err, option, why, nix);
        }
    });
}

#[test]
fn the_keyring_store_unlocks_with_the_session_on_linux() {
    each_nix(|eval, nix| {
        let select = r#"{
              unlock = config.systemd.user.services.nix-tokens-unlock or null;
              agents = config.launchd.agents;
              inherit warnings failedAssertions;
            }"#;
        let got = eval.eval_ok(
            nix,
            Kind::HomeManager,
            LINUX,
            &[r#"{ programs.nix-tokens = { enable = true; store = "keyring"; }; }"#],
            select,
        );
        assert_eq!(
            got,
            json!({
                "unlock": {
                    "Unit": {
                        "Description": "Hand Nix the tokens of the nix-tokens keyring store",
                        "After": ["dbus.socket"],
                        "Documentation": [],
                    },
                    "Service": {
                        "Type": "oneshot",
                        "ExecStart": [format!("{} unlock --quiet", exe(LINUX))],
                        "Environment": [],
                    },
                    "Install": {"WantedBy": ["default.target"]},
                },
                "agents": {},
                "warnings": [],
                "failedAssertions": [],
            }),
            "{}",
            nix.version
        );
        // The file store (the default) starts nothing.
        let got = eval.eval_ok(
            nix,
            Kind::HomeManager,
            LINUX,
            &["{ programs.nix-tokens.enable = true; }"],
            select,
        );
        assert_eq!(got["unlock"], json!(null), "{}", nix.version);
        // Darwin has no per-user tmpfs: a warning, no agent.
        let got = eval.eval_ok(
            nix,
            Kind::HomeManager,
            MAC,
            &[r#"{ programs.nix-tokens = { enable = true; store = "keyring"; }; }"#],
            select,
        );
        assert_eq!(got["agents"], json!({}), "{}", nix.version);
        assert!(
            got["warnings"][0]
                .as_str()
                .is_some_and(|w| w.contains("per-user tmpfs")),
            "{got}"
        );
    });
}
