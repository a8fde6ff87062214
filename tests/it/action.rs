//! The GitHub Action's install (action.yml → ci/github/install-nix-tokens): what its `nix-tokens`
//! input names is only downloaded from a binary cache (`--max-jobs 0`), and when no cache has it,
//! or the input is empty, the action's own checkout is built. A `nix` first on `PATH` answers as
//! Nix does without a substituter that has the path (it fails) or with one (it succeeds), and
//! notes each call. The files are the repository's, not the package's: the package's own build
//! skips this test, saying so.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::*;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the install script with `input`, against a `nix` that finds `REF` in a cache when
/// `cached`; returns what it printed and the `nix` command lines it ran.
fn install(script: &Path, input: &str, cached: bool) -> (Output, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    let log = dir.path().join("nix-calls");
    std::fs::create_dir_all(&bin).unwrap();
    let nix = format!(
        "#!/bin/sh\necho \"$*\" >> '{log}'\ncase \"$*\" in *'--max-jobs 0'*) [ {cached} = true ] && exit 0\n  \
         echo \"error: path '$7' is required, but there is no substituter that can build it\" >&2; exit 1 ;; esac\n",
        log = log.display(),
    );
    std::fs::write(bin.join("nix"), nix).unwrap();
    std::fs::set_permissions(bin.join("nix"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = std::env::join_paths(
        std::iter::once(bin).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let out = Command::new("bash")
        .arg(script)
        .arg(input)
        .env("PATH", path)
        .env("GITHUB_ACTION_PATH", "/runner/action")
        .output()
        .unwrap();
    let calls = std::fs::read_to_string(&log).unwrap_or_default();
    (out, calls.lines().map(str::to_owned).collect())
}

const FLAGS: &str = "--extra-experimental-features nix-command flakes profile install";

#[test]
fn the_input_is_downloaded_when_a_cache_has_it_and_the_checkout_is_built_otherwise() {
    let script = repo().join("ci/github/install-nix-tokens");
    let action = repo().join("action.yml");
    if !available(
        script.is_file() && action.is_file(),
        "the action's files are not in this source tree (the package's source leaves them out)",
    ) {
        return;
    }
    // action.yml hands its input to the script.
    let yml = read(&action);
    assert!(
        yml.contains("NIX_TOKENS_REF: ${{ inputs.nix-tokens }}"),
        "{yml}"
    );
    assert!(
        yml.contains("\"$GITHUB_ACTION_PATH/ci/github/install-nix-tokens\" \"$NIX_TOKENS_REF\""),
        "{yml}"
    );
    let path = "/nix/store/0000000000000000000000000000000a-nix-tokens-0.1.0";

    // A cache has it: one download, nothing built, no warning.
    let (out, calls) = install(&script, path, true);
    assert_success(&out);
    assert_eq!(calls, [format!("{FLAGS} --max-jobs 0 {path}")]);
    assert!(!stdout(&out).contains("::warning"), "{}", stdout(&out));

    // No cache has it: a warning naming it, then the action's own checkout, built.
    let (out, calls) = install(&script, path, false);
    assert_success(&out);
    assert_eq!(
        calls,
        [
            format!("{FLAGS} --max-jobs 0 {path}"),
            format!("{FLAGS} path:/runner/action")
        ]
    );
    let said = stdout(&out);
    assert!(
        said.contains("::warning title=nix-tokens::") && said.contains(path),
        "{said}"
    );

    // No input: the checkout, as before.
    let flake = "github:owner/nix-tokens/v1#nix-tokens";
    let (out, calls) = install(&script, "", false);
    assert_success(&out);
    assert_eq!(calls, [format!("{FLAGS} path:/runner/action")]);
    let (out, calls) = install(&script, flake, true);
    assert_success(&out);
    assert_eq!(calls, [format!("{FLAGS} --max-jobs 0 {flake}")]);
}
