//! The nix-darwin module: the package, the `!include` lines of `nix.extraOptions`, the caches,
//! what it says when nix-darwin does not manage Nix, the launchd daemons of `--system refresh` and
//! of the caches' tokens, and the values it refuses.

use serde_json::json;

use super::{assert_refused, each_nix, exe, package};
use crate::support::module_eval::Kind;

const MAC: &str = "aarch64-darwin";

#[test]
fn token_files_and_system_tokens_are_included_and_the_package_installed() {
    each_nix(|eval, nix| {
        let got = eval.eval_ok(
            nix,
            Kind::Darwin,
            MAC,
            &[r#"{
              programs.nix-tokens = {
                enable = true;
                tokenFiles = [ "/run/secrets/nix-access-tokens" ];
                systemTokens = true;
              };
            }"#],
            r#"{
              extraOptions = config.nix.extraOptions;
              packages = config.environment.systemPackages;
              daemons = config.launchd.daemons;
              inherit warnings failedAssertions;
            }"#,
        );
        assert_eq!(
            got,
            json!({
                "extraOptions": "!include /run/secrets/nix-access-tokens\n!include /etc/nix/access-tokens.conf\n",
                "packages": [package(MAC)],
                "daemons": {},
                "warnings": [],
                "failedAssertions": [],
            }),
            "{}",
            nix.version
        );
    });
}

#[test]
fn the_refresh_daemon_runs_system_refresh_once_the_store_is_mounted() {
    // The default interval, and another.
    each_nix(|eval, nix| {
        for (interval, setting) in [(30, ""), (15, "interval = 15;")] {
            let module = format!(
                "{{ programs.nix-tokens = {{ enable = true; systemTokens = true; refresh = {{ enable = true; {setting} }}; }}; }}"
            );
            let got = eval.eval_ok(
                nix,
                Kind::Darwin,
                MAC,
                &[&module],
                r#"let daemon = config.launchd.daemons.nix-tokens-refresh; in {
              serviceConfig = lib.filterAttrs (_: v: v != null) daemon.serviceConfig;
              inherit warnings;
            }"#,
            );
            assert_eq!(
                got,
                json!({
                    "serviceConfig": {
                        "Label": "org.nixos.nix-tokens-refresh",
                        "ProgramArguments": [
                            "/bin/sh",
                            "-c",
                            format!(
                                "/bin/wait4path /nix/store && exec {} --system refresh --quiet --threshold {}",
                                exe(MAC),
                                2 * interval
                            ),
                        ],
                        "StartInterval": interval * 60,
                        "RunAtLoad": true,
                        "ProcessType": "Background",
                        "StandardErrorPath": "/var/log/nix-tokens-refresh.log",
                    },
                    "warnings": [],
                }),
                "{}",
                nix.version
            );
        }
    });
}

#[test]
fn without_nix_darwin_managing_nix_the_lines_to_add_are_named() {
    each_nix(|eval, nix| {
        let got = eval.eval_ok(
            nix,
            Kind::Darwin,
            MAC,
            &[r#"{
              nix.enable = false;
              programs.nix-tokens = { enable = true; systemTokens = true; refresh.enable = true; };
            }"#],
            r#"{
              # nix-darwin's default throws: defined by nothing, it is never read.
              defined = (builtins.tryEval config.nix.extraOptions).success;
              daemon = builtins.attrNames config.launchd.daemons;
              inherit warnings;
            }"#,
        );
        assert_eq!(got["defined"], false, "{}", nix.version);
        assert_eq!(got["daemon"], json!(["nix-tokens-refresh"]));
        let warnings = got["warnings"].as_array().unwrap();
        assert_eq!(warnings.len(), 1, "{}: {got}", nix.version);
        let text = warnings[0].as_str().unwrap();
        assert!(
            text.starts_with("nix.enable is off")
                && text.ends_with(":\n!include /etc/nix/access-tokens.conf\n"),
            "{}: {text:?}",
            nix.version
        );
    });
}

#[test]
fn refreshing_tokens_the_system_does_not_include_warns() {
    each_nix(|eval, nix| {
        let got = eval.eval_ok(
            nix,
            Kind::Darwin,
            MAC,
            &["{ programs.nix-tokens = { enable = true; refresh.enable = true; }; }"],
            "{ inherit warnings; extraOptions = config.nix.extraOptions; }",
        );
        assert_eq!(got["extraOptions"], "", "{}", nix.version);
        let warnings = got["warnings"].as_array().unwrap();
        assert_eq!(warnings.len(), 1, "{}: {got}", nix.version);
        assert!(
            warnings[0]
                .as_str()
                .unwrap()
                .contains("programs.nix-tokens.systemTokens = true"),
            "{}: {got}",
            nix.version
        );
    });
}

#[test]
fn invalid_values_are_refused() {
    each_nix(|eval, nix| {
        for (module, option, why) in [
            (
                r#"{ programs.nix-tokens.tokenFiles = "/run/secrets/t"; }"#,
                "programs.nix-tokens.tokenFiles",
                "list of absolute path not in the Nix store",
            ),
            (
                r#"{ programs.nix-tokens.tokenFiles = [ "tokens.conf" ]; }"#,
                "programs.nix-tokens.tokenFiles",
                "absolute path not in the Nix store",
            ),
            (
                "{ programs.nix-tokens.refresh.interval = 0; }",
                "programs.nix-tokens.refresh.interval",
                "positive integer",
            ),
            (
                r#"{ programs.nix-tokens.refresh.enable = "yes"; }"#,
                "programs.nix-tokens.refresh.enable",
                "boolean",
            ),
        ] {
            let err = eval.eval_err(
                nix,
                Kind::Darwin,
                MAC,
                &["{ programs.nix-tokens = { enable = true; systemTokens = true; }; }", module],
                "{ e = config.nix.extraOptions; d = config.launchd.daemons; cfg = config.programs.nix-tokens; }",
            );
            assert_refused(&err, option, why, nix);
        }
    });
}

#[test]
fn caches_set_substituters_and_keys_and_a_daemon_merges_their_tokens() {
    each_nix(|eval, nix| {
        let got = eval.eval_ok(
            nix,
            Kind::Darwin,
            MAC,
            &[r#"{
              programs.nix-tokens = {
                enable = true;
                caches = [
                  {
                    url = "https://team.cachix.org";
                    publicKey = "team.cachix.org-1:eWNHQldwUO7G2VkjpnjDbWwy4KQ/HNxht7H4SSoMckM=";
                    tokenFile = "/run/secrets/cachix";
                    provider = "cachix";
                  }
                  { url = "https://public.example"; }
                ];
              };
            }"#],
            r#"{
              inherit (config.nix.settings) substituters trusted-public-keys;
              daemon = config.launchd.daemons.nix-tokens-cache-tokens.serviceConfig;
              inherit warnings failedAssertions;
            }"#,
        );
        assert_eq!(
            got["substituters"],
            json!(["https://team.cachix.org", "https://public.example"]),
            "{}",
            nix.version
        );
        assert_eq!(
            got["trusted-public-keys"],
            json!(["team.cachix.org-1:eWNHQldwUO7G2VkjpnjDbWwy4KQ/HNxht7H4SSoMckM="])
        );
        assert_eq!(
            (got["warnings"].clone(), got["failedAssertions"].clone()),
            (json!([]), json!([]))
        );
        let daemon = &got["daemon"];
        assert_eq!(daemon["RunAtLoad"], true);
        let args = daemon["ProgramArguments"].as_array().unwrap();
        let line = args[2].as_str().unwrap();
        assert_eq!(
            line,
            format!(
                "/bin/wait4path /nix/store && exec /bin/sh -c '{} --system --quiet set-token team.cachix.org --provider cachix --netrc --force < /run/secrets/cachix\n'",
                exe(MAC)
            )
        );
        // Without nix-darwin managing Nix, it names the lines to add instead.
        let got = eval.eval_ok(
            nix,
            Kind::Darwin,
            MAC,
            &[r#"{
              nix.enable = false;
              programs.nix-tokens = { enable = true; caches = [ { url = "https://c.example"; publicKey = "c:k="; } ]; };
            }"#],
            "{ inherit warnings; }",
        );
        let warning = got["warnings"][0].as_str().unwrap_or_default();
        assert!(
            warning.contains(
                "extra-substituters = https://c.example\nextra-trusted-public-keys = c:k="
            ),
            "{warning}"
        );
    });
}
