//! The NixOS, home-manager and nix-darwin modules, evaluated by nixpkgs' own module system
//! (`lib.evalModules`) on every Nix at hand, beside declarations of the options they set with
//! the types NixOS, home-manager and nix-darwin give them (`nix/` here). The modules are taken
//! from flake.nix's outputs, called with stub inputs (see `nix/eval.nix`).

mod git_order;
mod home_manager;
mod nixos;

use crate::support::module_eval::{ModuleEval, Nix};

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
