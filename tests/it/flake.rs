//! The flake: every `.nix` file parses with the real Nix, `flake.lock` pins the agreed nixpkgs,
//! and the flake has every output by name. nixpkgs itself cannot be fetched here, so the outputs
//! are evaluated against a stand-in that offers only `lib.genAttrs` and throws on any package:
//! attribute names are all that is forced. The modules themselves are evaluated with nixpkgs'
//! module system in `modules/`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{available, program};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `nix-instantiate`, or `None` (the test skips, saying so) outside CI when Nix is not installed.
fn nix_instantiate() -> Option<Command> {
    let found = program("nix-instantiate", "Nix: apt-get install nix-bin")?;
    let mut cmd = Command::new(found);
    cmd.args(["--store", "dummy://"])
        .env_remove("NIX_CONFIG")
        .env("NIX_CONF_DIR", repo().join("nix"))
        .env("NIX_USER_CONF_FILES", "/nonexistent");
    Some(cmd)
}

/// The flake's file `name`, or `None` (the test skips, saying so) where it is not: the package's
/// source (`src` in nix/package.nix) is the program and its tests, not the files that build it,
/// so inside the package's own build the flake is not there to check.
fn flake_file(name: &str) -> Option<PathBuf> {
    let path = repo().join(name);
    available(
        path.is_file(),
        &format!("{name} is not in this source tree (the package's source is the program, its tests and docs only)"),
    )
    .then_some(path)
}

fn nix_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() && !name.starts_with('.') && name != "target" {
            nix_files(&path, out);
        } else if name.ends_with(".nix") {
            out.push(path);
        }
    }
}

#[test]
fn every_nix_file_parses() {
    let mut files = Vec::new();
    nix_files(&repo(), &mut files);
    assert!(files.len() >= 4, "flake.nix and nix/*.nix: {files:?}");
    for file in files {
        let Some(mut cmd) = nix_instantiate() else {
            return;
        };
        let out = cmd.arg("--parse").arg(&file).output().unwrap();
        assert!(
            out.status.success(),
            "{} does not parse:\n{}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn flake_lock_pins_the_agreed_nixpkgs() {
    let Some(lock) = flake_file("flake.lock") else {
        return;
    };
    let lock: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(lock).unwrap()).expect("flake.lock is JSON");
    assert_eq!(lock["version"], 7);
    assert_eq!(lock["root"], "root");
    let inputs = lock["nodes"]["root"]["inputs"].as_object().unwrap();
    assert_eq!(inputs.keys().collect::<Vec<_>>(), ["nixpkgs"]);
    let locked = &lock["nodes"]["nixpkgs"]["locked"];
    assert_eq!(locked["type"], "github");
    assert_eq!(locked["owner"], "NixOS");
    assert_eq!(locked["repo"], "nixpkgs");
    assert_eq!(locked["rev"], "d6c71932130818840fc8fe9509cf50be8c64634f");
    assert_eq!(
        locked["narHash"],
        "sha256-ub1gpAONMFsT/GU2hV6ZWJjur8rJ6kKxdm9IlCT0j84="
    );
    assert_eq!(locked["lastModified"], 1770562336);
}

#[test]
fn the_flake_has_every_output() {
    let Some(flake) = flake_file("flake.nix") else {
        return;
    };
    let Some(mut cmd) = nix_instantiate() else {
        return;
    };
    let expr = format!(
        r#"
        let
          flake = import {flake};
          stub = {{
            lib.genAttrs = names: f: builtins.listToAttrs (map (name: {{ inherit name; value = f name; }}) names);
            legacyPackages = throw "nixpkgs is not available in this check";
          }};
          outputs = flake.outputs {{ self = outputs; nixpkgs = stub; }};
          systems = [ "aarch64-darwin" "aarch64-linux" "x86_64-darwin" "x86_64-linux" ];
          names = attr: map (s: builtins.attrNames outputs.${{attr}}.${{s}}) systems;
        in {{
          outputs = builtins.attrNames outputs;
          inputs = builtins.attrNames flake.inputs;
          packages = names "packages";
          apps = names "apps";
          checks = names "checks";
          devShells = names "devShells";
          formatter = builtins.attrNames outputs.formatter;
          modules = map (attr: builtins.attrNames outputs.${{attr}}) [
            "nixosModules" "homeManagerModules" "darwinModules"
          ];
          functions = map builtins.isFunction [
            outputs.nixosModules.default
            outputs.homeManagerModules.default
            outputs.darwinModules.default
            outputs.overlays.default
          ];
        }}"#,
        flake = flake.display()
    );
    let out = cmd
        .args(["--eval", "--strict", "--json", "-E", &expr])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let per_system = |names: &[&str]| serde_json::json!([names, names, names, names]);
    assert_eq!(
        got,
        serde_json::json!({
            "outputs": ["apps", "checks", "darwinModules", "devShells", "formatter",
                        "homeManagerModules", "nixosModules", "overlays", "packages"],
            "inputs": ["nixpkgs"],
            "packages": per_system(&["default", "nix-tokens"]),
            "apps": per_system(&["default"]),
            "checks": per_system(&["clippy", "fmt", "package"]),
            "devShells": per_system(&["default"]),
            "formatter": ["aarch64-darwin", "aarch64-linux", "x86_64-darwin", "x86_64-linux"],
            "modules": [["default"], ["default"], ["default"]],
            "functions": [true, true, true, true],
        })
    );
}

#[test]
fn the_package_builds_from_the_lock_file_and_installs_docs() {
    // What cannot be evaluated without nixpkgs is read: the package must use Cargo.lock (no
    // vendor hash), take its version from Cargo.toml, and install completions and the man page.
    let Some(package) = flake_file("nix/package.nix") else {
        return;
    };
    let package = std::fs::read_to_string(package).unwrap();
    for needle in [
        "cargoLock.lockFile = ../Cargo.lock",
        "../providers",
        "../build.rs",
        "lib.importTOML ../Cargo.toml",
        "completions bash",
        "completions zsh",
        "completions fish",
        "installManPage",
    ] {
        assert!(package.contains(needle), "nix/package.nix lacks `{needle}`");
    }
}

/// What nix/package.nix builds from and checks with, as nixpkgs' own lib evaluates it (with the
/// recent Nix: the fileset library needs `builtins.readFileType`), through `.ci/sandbox.nix`, the
/// evaluation CI's sandbox build uses: the program, its tests and the pages they check, not the
/// flake, nix/, CI's files or a build's output; git and util-linux for the tests.
#[test]
fn the_package_builds_from_the_program_its_tests_and_docs() {
    use crate::support::nix::{Nix, Which};
    let Some(eval) = flake_file(".ci/sandbox.nix") else {
        return;
    };
    let Some(lib) = crate::support::module_eval::nixpkgs_lib() else {
        return;
    };
    let Some(nix) = Nix::find(Which::Recent) else {
        return;
    };
    let attr = |name: &str| {
        let expr = format!(
            "(import {} {{ lib = import {}; }}).{name}",
            eval.display(),
            lib.display()
        );
        let out = Command::new(nix.sibling("nix"))
            .args(["--extra-experimental-features", "nix-command"])
            .args(["eval", "--store", "dummy://", "--raw", "--impure", "--expr"])
            .arg(&expr)
            .env("NIX_TOKENS_CHROOT_BIND", &lib)
            .current_dir(repo())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let files = attr("files");
    let files: Vec<&str> = files.lines().collect();
    for needed in [
        "./Cargo.toml",
        "./Cargo.lock",
        "./build.rs",
        "./providers/github.toml",
        "./src/main.rs",
        "./tests/it/main.rs",
        "./README.md",
        "./docs/SUMMARY.md",
        "./docs/install.md",
    ] {
        assert!(files.contains(&needed), "the source lacks {needed}");
    }
    for file in &files {
        let kept_out = [
            "./flake.",
            "./nix/",
            "./.ci/",
            "./target/",
            "./docs/book/",
            "./ci/",
        ];
        assert!(
            !kept_out.iter().any(|p| file.starts_with(p)),
            "the source holds {file}"
        );
    }
    assert_eq!(attr("nativeCheckInputs"), "git\nutil-linux");
}
