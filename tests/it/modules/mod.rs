//! The NixOS, home-manager and nix-darwin modules, evaluated by nixpkgs' own module system
//! (`lib.evalModules`) on every Nix at hand, beside declarations of the options they set with
//! the types NixOS, home-manager and nix-darwin give them (`nix/` here). The modules are taken
//! from flake.nix's outputs, called with stub inputs (see `nix/eval.nix`).

mod darwin;
mod git_order;
mod home_manager;
mod nixos;
mod system_git;

use crate::support::module_eval::{Kind, ModuleEval, Nix};

/// The flake's package for `system`, as the stub nixpkgs of `nix/eval.nix` makes it.
pub fn package(system: &str) -> String {
    format!("/nix/store/00000000000000000000000000000000-nix-tokens-{system}")
}

pub fn exe(system: &str) -> String {
    format!("{}/bin/nix-tokens", package(system))
}

/// Runs `check` once per Nix; nothing (after saying so) when Nix or nixpkgs' lib is missing
/// outside CI.
pub fn each_nix(check: impl Fn(&ModuleEval, &Nix)) {
    let Some(eval) = ModuleEval::new() else {
        return;
    };
    for nix in &eval.nixes {
        check(&eval, nix);
    }
}

/// An evaluation error names the option and says what is wrong with its value.
pub fn assert_refused(err: &str, option: &str, why: &str, nix: &Nix) {
    assert!(
        err.contains(option) && err.contains(why),
        "{}: the error should name `{option}` and say `{why}`:\n{err}",
        nix.version
    );
}

#[test]
fn the_flake_offers_each_module_as_default_and_each_evaluates() {
    each_nix(|eval, nix| {
        let got = eval.eval_ok(
            nix,
            Kind::NixOS,
            "x86_64-linux",
            &[],
            r#"{
              nixos = builtins.attrNames outputs.nixosModules;
              homeManager = builtins.attrNames outputs.homeManagerModules;
              darwin = builtins.attrNames outputs.darwinModules;
            }"#,
        );
        assert_eq!(
            got,
            serde_json::json!({"nixos": ["default"], "homeManager": ["default"], "darwin": ["default"]}),
            "{}",
            nix.version
        );
        // Each default module, enabled with its default package, evaluates and installs the
        // flake's package for the system it is evaluated for.
        for (kind, system, packages) in [
            (Kind::NixOS, "aarch64-linux", "environment.systemPackages"),
            (Kind::HomeManager, "x86_64-linux", "home.packages"),
            (Kind::HomeManager, "aarch64-darwin", "home.packages"),
            (Kind::Darwin, "x86_64-darwin", "environment.systemPackages"),
        ] {
            let got = eval.eval_ok(
                nix,
                kind,
                system,
                &["{ programs.nix-tokens.enable = true; }"],
                &format!(
                    "{{ packages = config.{packages}; inherit package warnings failedAssertions; }}"
                ),
            );
            assert_eq!(
                got,
                serde_json::json!({
                    "packages": [package(system)],
                    "package": package(system),
                    "warnings": [],
                    "failedAssertions": [],
                }),
                "{kind:?} on {system} with {}",
                nix.version
            );
        }
    });
}
