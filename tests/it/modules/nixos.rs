//! The NixOS module: the `!include` lines of `nix.extraOptions`, the package, the caches'
//! substituters, keys and tokens, the systemd service and timer of `--system refresh`, and the
//! values it refuses.

use serde_json::json;

use super::{assert_refused, each_nix, exe, package};
use crate::support::module_eval::Kind;

const LINUX: &str = "x86_64-linux";

#[test]
fn token_files_and_system_tokens_are_included_and_the_package_installed() {
    each_nix(|eval, nix| {
        let got = eval.eval_ok(
            nix,
            Kind::NixOS,
            LINUX,
            &[r#"{
              programs.nix-tokens = {
                enable = true;
                tokenFiles = [ "/run/secrets/nix-access-tokens" "/run/agenix/work-tokens" ];
                systemTokens = true;
              };
            }"#],
            r#"{
              extraOptions = config.nix.extraOptions;
              packages = config.environment.systemPackages;
              services = builtins.attrNames config.systemd.services;
              timers = builtins.attrNames config.systemd.timers;
              inherit warnings failedAssertions;
            }"#,
        );
        assert_eq!(
            got,
            json!({
                "extraOptions": "!include /run/secrets/nix-access-tokens\n!include /run/agenix/work-tokens\n!include /etc/nix/access-tokens.conf\n",
                "packages": [package(LINUX)],
                "services": [],
                "timers": [],
                "warnings": [],
                "failedAssertions": [],
            }),
            "{}",
            nix.version
        );
    });
}

#[test]
fn nothing_is_set_until_it_is_enabled() {
    each_nix(|eval, nix| {
        let got = eval.eval_ok(
            nix,
            Kind::NixOS,
            LINUX,
            &[r#"{ programs.nix-tokens = { tokenFiles = [ "/run/secrets/t" ]; refresh.enable = true; }; }"#],
            r#"{
              extraOptions = config.nix.extraOptions;
              packages = config.environment.systemPackages;
              services = config.systemd.services;
              inherit warnings;
            }"#,
        );
        assert_eq!(
            got,
            json!({"extraOptions": "", "packages": [], "services": {}, "warnings": []}),
            "{}",
            nix.version
        );
    });
}

#[test]
fn the_refresh_timer_runs_system_refresh_with_twice_the_interval_as_threshold() {
    // The default interval, and another.
    each_nix(|eval, nix| {
        for (interval, setting) in [(30, ""), (45, "interval = 45;")] {
            let module = format!(
                "{{ programs.nix-tokens = {{ enable = true; systemTokens = true; refresh = {{ enable = true; {setting} }}; }}; }}"
            );
            let got = eval.eval_ok(
                nix,
                Kind::NixOS,
                LINUX,
                &[&module],
                r#"let
              service = config.systemd.services.nix-tokens-refresh;
              timer = config.systemd.timers.nix-tokens-refresh;
            in {
              service = { inherit (service) description after wants wantedBy serviceConfig; };
              timer = { inherit (timer) description wantedBy timerConfig; };
              inherit warnings;
            }"#,
            );
            assert_eq!(
                got,
                json!({
                    "service": {
                        "description": "Renew expiring Nix access tokens",
                        "after": ["network-online.target"],
                        "wants": ["network-online.target"],
                        "wantedBy": [],
                        "serviceConfig": {
                            "Type": "oneshot",
                            "ExecStart": format!("{} --system refresh --quiet --threshold {}", exe(LINUX), 2 * interval),
                            "PrivateTmp": true,
                            "ProtectHome": true,
                            "NoNewPrivileges": true,
                        },
                    },
                    "timer": {
                        "description": format!("Renew expiring Nix access tokens every {interval} minutes"),
                        "wantedBy": ["timers.target"],
                        "timerConfig": {
                            "OnBootSec": "2min",
                            "OnUnitActiveSec": format!("{interval}min"),
                            "RandomizedDelaySec": "30s",
                        },
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
fn refreshing_tokens_the_system_does_not_include_warns() {
    each_nix(|eval, nix| {
        let got = eval.eval_ok(
            nix,
            Kind::NixOS,
            LINUX,
            &["{ programs.nix-tokens = { enable = true; refresh.enable = true; }; }"],
            "warnings",
        );
        let warnings = got.as_array().unwrap();
        assert_eq!(warnings.len(), 1, "{}: {got}", nix.version);
        let text = warnings[0].as_str().unwrap();
        assert!(
            text.contains("/etc/nix/access-tokens.conf")
                && text.contains("programs.nix-tokens.systemTokens = true"),
            "{}: {text}",
            nix.version
        );
    });
}

#[test]
fn invalid_values_are_refused() {
    each_nix(|eval, nix| {
        for (module, option, why) in [
            (
                r#"{ programs.nix-tokens.tokenFiles = [ "secrets/tokens.conf" ]; }"#,
                "programs.nix-tokens.tokenFiles",
                "absolute path",
            ),
            (
                r#"{ programs.nix-tokens.tokenFiles = [ "/nix/store/00000000000000000000000000000000-tokens.conf" ]; }"#,
                "programs.nix-tokens.tokenFiles",
                "not in the Nix store",
            ),
            (
                "{ programs.nix-tokens.refresh.interval = 0; }",
                "programs.nix-tokens.refresh.interval",
                "positive integer",
            ),
            (
                r#"{ programs.nix-tokens.systemTokens = "yes"; }"#,
                "programs.nix-tokens.systemTokens",
                "boolean",
            ),
        ] {
            let err = eval.eval_err(
                nix,
                Kind::NixOS,
                LINUX,
                &["{ programs.nix-tokens.enable = true; }", module],
                "{ e = config.nix.extraOptions; cfg = config.programs.nix-tokens; }",
            );
            assert_refused(&err, option, why, nix);
        }
    });
}

/// The cache tokens service, evaluated, then its script run for real (with the real binary in
/// place of the stub package's) against a system configuration directory of the test's own: the
/// daemon's netrc gets each cache's entry, and keeps its other entries.
#[test]
fn cache_tokens_merge_into_the_daemons_netrc() {
    each_nix(|eval, nix| {
        let env = crate::support::TestEnv::new();
        let cachix = env.root.join("cachix-token");
        let attic = env.root.join("attic-token");
        env.write(&cachix, "cachixtoken0123456789\n");
        env.write(&attic, "attictoken0123456789\n");
        let module = format!(
            r#"{{
              programs.nix-tokens = {{
                enable = true;
                cacheTokens = {{
                  "team.cachix.org" = {{ file = "{}"; provider = "cachix"; }};
                  "attic.example.com" = {{ file = "{}"; login = "ci"; }};
                }};
              }};
            }}"#,
            cachix.display(),
            attic.display()
        );
        let got = eval.eval_ok(
            nix,
            Kind::NixOS,
            LINUX,
            &[&module],
            r#"{
              service = {
                inherit (config.systemd.services.nix-tokens-cache-tokens) wantedBy before script;
                type = config.systemd.services.nix-tokens-cache-tokens.serviceConfig.Type;
                triggers = builtins.length config.systemd.services.nix-tokens-cache-tokens.restartTriggers;
              };
              inherit warnings;
            }"#,
        );
        let service = &got["service"];
        assert_eq!(
            service["wantedBy"],
            json!(["multi-user.target"]),
            "{}",
            nix.version
        );
        assert_eq!(service["before"], json!(["nix-daemon.service"]));
        assert_eq!(
            (service["type"].clone(), service["triggers"].clone()),
            (json!("oneshot"), json!(1))
        );
        let script = service["script"].as_str().unwrap();
        assert_eq!(
            script,
            format!(
                "{exe} --system --quiet set-token attic.example.com --provider nix-cache --netrc --force --login ci < {attic}\n\
                 {exe} --system --quiet set-token team.cachix.org --provider cachix --netrc --force < {cachix}\n",
                exe = exe(LINUX),
                attic = attic.display(),
                cachix = cachix.display()
            )
        );
        // The script as systemd runs it, with the real binary.
        env.write(
            &env.etc.join("netrc"),
            "machine other.example login me password keep0123456789\n",
        );
        let real = env.cmd().get_program().to_string_lossy().into_owned();
        let template = env.std_cmd();
        let mut sh = std::process::Command::new("sh");
        for (k, v) in template.get_envs() {
            match v {
                Some(v) => sh.env(k, v),
                None => sh.env_remove(k),
            };
        }
        let out = sh
            .arg("-c")
            .arg(script.replace(&exe(LINUX), &real))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            std::fs::read_to_string(env.etc.join("netrc")).unwrap(),
            "machine other.example login me password keep0123456789\n\
             machine attic.example.com login ci password attictoken0123456789\n\
             machine team.cachix.org password cachixtoken0123456789\n"
        );
    });
}

#[test]
fn cache_token_files_stay_out_of_the_store() {
    each_nix(|eval, nix| {
        for (file, why) in [
            ("secrets/cachix", "absolute path"),
            (
                "/nix/store/00000000000000000000000000000000-cachix",
                "not in the Nix store",
            ),
        ] {
            let module = format!(
                r#"{{ programs.nix-tokens = {{ enable = true; cacheTokens."c.cachix.org".file = "{file}"; }}; }}"#
            );
            let err = eval.eval_err(
                nix,
                Kind::NixOS,
                LINUX,
                &[&module],
                "{ s = config.systemd.services.nix-tokens-cache-tokens.script; }",
            );
            assert_refused(&err, "programs.nix-tokens.cacheTokens", why, nix);
        }
    });
}

#[test]
fn caches_set_substituters_and_keys_and_merge_their_tokens() {
    each_nix(|eval, nix| {
        let got = eval.eval_ok(
            nix,
            Kind::NixOS,
            LINUX,
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
                  { url = "https://public.example/main?priority=30"; }
                ];
              };
              # The user's own settings and tokens merge with the module's.
              nix.settings.substituters = [ "https://cache.nixos.org/" ];
              programs.nix-tokens.cacheTokens."attic.example.com".file = "/run/secrets/attic";
            }"#],
            r#"{
              inherit (config.nix.settings) substituters trusted-public-keys;
              tokens = builtins.mapAttrs (_: t: { inherit (t) file provider; }) config.programs.nix-tokens.cacheTokens;
              inherit warnings failedAssertions;
            }"#,
        );
        assert_eq!(
            got,
            json!({
                "substituters": ["https://team.cachix.org", "https://public.example/main?priority=30", "https://cache.nixos.org/"],
                "trusted-public-keys": ["team.cachix.org-1:eWNHQldwUO7G2VkjpnjDbWwy4KQ/HNxht7H4SSoMckM="],
                "tokens": {
                    "attic.example.com": {"file": "/run/secrets/attic", "provider": "nix-cache"},
                    "team.cachix.org": {"file": "/run/secrets/cachix", "provider": "cachix"},
                },
                "warnings": [],
                "failedAssertions": [],
            }),
            "{}",
            nix.version
        );
        // A token file in the store is refused, as for cacheTokens.
        let err = eval.eval_err(
            nix,
            Kind::NixOS,
            LINUX,
            &[r#"{ programs.nix-tokens = { enable = true; caches = [ { url = "https://c.example"; tokenFile = "/nix/store/00000000000000000000000000000000-t"; } ]; }; }"#],
            "{ s = config.programs.nix-tokens.cacheTokens; }",
        );
        assert_refused(
            &err,
            "programs.nix-tokens.caches",
            "not in the Nix store",
            nix,
        );
    });
}
