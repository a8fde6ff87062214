//! Evaluating the flake's NixOS, home-manager and nix-darwin modules with nixpkgs' own module
//! system on every Nix at hand: Debian's `nix-instantiate` on `PATH` and, when
//! `NIX_TOKENS_TEST_RECENT_NIX` names the recent Nix's `nix`, the `nix-instantiate` beside it (run
//! in its chroot, with the repository and nixpkgs' lib bound inside). nixpkgs' `lib` is found
//! through `NIX_TOKENS_TEST_NIXPKGS_LIB`, else `../shared/nixpkgs-lib/lib` beside the repository.
//! Without Nix or the lib a test skips, saying so; on CI it fails. The option declarations the modules need are in `tests/it/modules/nix/`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Which module to evaluate, beside which declarations (see `tests/it/modules/nix/eval.nix`).
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    NixOS,
    HomeManager,
    /// home-manager with its `programs.gh` module too.
    HomeManagerWithGh,
    /// The same, with gh's module listed before the configuration that imports nix-tokens'.
    HomeManagerWithGhFirst,
    Darwin,
    /// nix-darwin with its `programs.git` module too.
    DarwinWithGit,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::NixOS => "nixos",
            Kind::HomeManager => "home-manager",
            Kind::HomeManagerWithGh => "home-manager-with-gh",
            Kind::HomeManagerWithGhFirst => "home-manager-with-gh-first",
            Kind::Darwin => "darwin",
            Kind::DarwinWithGit => "darwin-with-git",
        }
    }
}

/// One Nix that evaluates: its version as it prints it, and its `nix-instantiate`.
pub struct Nix {
    pub version: String,
    program: PathBuf,
    chroot: bool,
}

/// nixpkgs' lib and every Nix that evaluates with it.
pub struct ModuleEval {
    pub lib: PathBuf,
    pub nixes: Vec<Nix>,
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn skip_or_fail(what: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must provide {what} for the module tests"
    );
    eprintln!("skipping the module evaluation: {what} is missing");
}

/// nixpkgs' lib directory, or `None` (after saying so) when it is not there outside CI.
pub fn nixpkgs_lib() -> Option<PathBuf> {
    let candidates = match std::env::var_os("NIX_TOKENS_TEST_NIXPKGS_LIB") {
        Some(dir) => vec![PathBuf::from(dir)],
        None => vec![repo().join("../shared/nixpkgs-lib/lib")],
    };
    let found = candidates
        .iter()
        .find(|dir| dir.join("default.nix").is_file());
    if found.is_none() {
        skip_or_fail(&format!(
            "nixpkgs' lib (NIX_TOKENS_TEST_NIXPKGS_LIB; looked in {candidates:?})"
        ));
    }
    Some(found?.canonicalize().expect("nixpkgs' lib directory"))
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

impl ModuleEval {
    /// The lib and the Nixes, or `None` when the lib or Debian's Nix is missing outside CI.
    pub fn new() -> Option<Self> {
        let lib = nixpkgs_lib()?;
        let mut nixes = Vec::new();
        match on_path("nix-instantiate") {
            Some(program) => nixes.push(Nix::new(program, false)),
            None => skip_or_fail("nix-instantiate (Debian package nix-bin)"),
        }
        match std::env::var_os("NIX_TOKENS_TEST_RECENT_NIX") {
            Some(nix) => {
                let program = Path::new(&nix).with_file_name("nix-instantiate");
                assert!(
                    program.is_file(),
                    "NIX_TOKENS_TEST_RECENT_NIX is set, but {} does not exist",
                    program.display()
                );
                nixes.push(Nix::new(program, true));
            }
            None => eprintln!(
                "skipping the recent Nix for the module evaluation: NIX_TOKENS_TEST_RECENT_NIX is not set"
            ),
        }
        if nixes.is_empty() {
            return None;
        }
        Some(ModuleEval { lib, nixes })
    }

    /// `SELECT` evaluated with `--strict --json`, where `config`, `options`, `warnings`,
    /// `failedAssertions`, `package` (the flake's package for `system`), `outputs` (the flake's)
    /// and `lib` are in scope, after evaluating the module of `kind` with `modules` (Nix
    /// expressions of modules, which may take `stubPackage NAME OUT_PATH` as an argument).
    /// `Err` holds what Nix printed on stderr.
    pub fn eval(
        &self,
        nix: &Nix,
        kind: Kind,
        system: &str,
        modules: &[&str],
        select: &str,
    ) -> Result<serde_json::Value, String> {
        let eval_nix = repo().join("tests/it/modules/nix/eval.nix");
        let expr = format!(
            r#"
            let
              lib = import {lib};
              result = import {eval_nix} {{
                inherit lib;
                kind = "{kind}";
                system = "{system}";
                modules = [ {modules} ];
              }};
              inherit (result) config options warnings failedAssertions package outputs;
            in
            {select}"#,
            lib = self.lib.display(),
            eval_nix = eval_nix.display(),
            kind = kind.name(),
            modules = modules
                .iter()
                .map(|m| format!("({m})"))
                .collect::<Vec<_>>()
                .join(" "),
        );
        nix.eval(&expr, &[&self.lib])
    }

    /// Like [`ModuleEval::eval`], failing the test with Nix's message when it fails.
    pub fn eval_ok(
        &self,
        nix: &Nix,
        kind: Kind,
        system: &str,
        modules: &[&str],
        select: &str,
    ) -> serde_json::Value {
        self.eval(nix, kind, system, modules, select)
            .unwrap_or_else(|err| panic!("{}: the evaluation failed:\n{err}", nix.version))
    }

    /// The error of an evaluation that must fail.
    pub fn eval_err(
        &self,
        nix: &Nix,
        kind: Kind,
        system: &str,
        modules: &[&str],
        select: &str,
    ) -> String {
        match self.eval(nix, kind, system, modules, select) {
            Ok(value) => panic!(
                "{}: the evaluation should fail, but gave {value}",
                nix.version
            ),
            Err(err) => err,
        }
    }
}

impl Nix {
    fn new(program: PathBuf, chroot: bool) -> Self {
        let out = Command::new(&program)
            .arg("--version")
            .output()
            .unwrap_or_else(|e| panic!("run {}: {e}", program.display()));
        let printed = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{} --version failed",
            program.display()
        );
        // "nix-instantiate (Nix) 2.8.0"
        let version = match printed.trim().rsplit_once(' ') {
            Some((_, number)) => format!("Nix {number}"),
            None => printed.trim().to_owned(),
        };
        let version = if chroot {
            format!("{version} (recent, {})", program.display())
        } else {
            format!("{version} ({})", program.display())
        };
        eprintln!("evaluating the modules with {version}");
        Nix {
            version,
            program,
            chroot,
        }
    }

    /// `nix-instantiate --store dummy:// --eval --strict --json -E EXPR`, reading nothing of the
    /// machine's Nix configuration. `dirs` are the directories, besides the repository, that the
    /// expression reads (bound into the chroot of the recent Nix).
    pub fn eval(&self, expr: &str, dirs: &[&Path]) -> Result<serde_json::Value, String> {
        let mut cmd = Command::new(&self.program);
        cmd.args(["--store", "dummy://", "--eval", "--strict", "--json", "-E"])
            .arg(expr)
            .env_remove("NIX_CONFIG")
            .env_remove("NIX_PATH")
            .env("NIX_CONF_DIR", repo().join("nix"))
            .env("NIX_USER_CONF_FILES", "/nonexistent")
            .current_dir(repo());
        if self.chroot {
            let binds = std::iter::once(repo())
                .chain(dirs.iter().map(|d| d.to_path_buf()))
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(":");
            cmd.env("NIX_TOKENS_CHROOT_BIND", binds);
        }
        let out = cmd
            .output()
            .unwrap_or_else(|e| panic!("run {}: {e}", self.program.display()));
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        serde_json::from_slice(&out.stdout)
            .map_err(|e| format!("{} printed no JSON ({e})", self.version))
    }
}
