//! The CI templates nix-tokens ships, validated against the schemas their platforms publish
//! (SchemaStore's `github-action` and `gitlab-ci`, as check-jsonschema vendors them, so no
//! network is needed): action.yml at the repository's root and ci/gitlab/nix-tokens.yml.
//! check-jsonschema comes from `NIX_TOKENS_TEST_CHECK_JSONSCHEMA` (.ci/run installs it) or PATH;
//! without it these tests say so and pass, except in CI (`CI=true`), where they fail.

use std::path::{Path, PathBuf};
use std::process::Command;

fn validator() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("NIX_TOKENS_TEST_CHECK_JSONSCHEMA") {
        return Some(PathBuf::from(path));
    }
    let found = Command::new("check-jsonschema").arg("--version").output();
    found
        .is_ok_and(|o| o.status.success())
        .then(|| PathBuf::from("check-jsonschema"))
}

/// Validates `file` (relative to the repository) against the built-in schema `schema`.
fn validate(file: &str, schema: &str, extra: &[&str]) {
    let Some(tool) = validator() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "check-jsonschema is missing: .ci/run installs it and sets NIX_TOKENS_TEST_CHECK_JSONSCHEMA"
        );
        eprintln!("skipped: no check-jsonschema to validate {file} with");
        return;
    };
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let out = Command::new(&tool)
        .args(["--builtin-schema", schema])
        .args(extra)
        .arg(&path)
        .output()
        .expect("run check-jsonschema");
    assert!(
        out.status.success(),
        "{file} does not match the published {schema} schema:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn action_yml_matches_the_published_action_schema() {
    validate("action.yml", "vendor.github-actions", &[]);
}

#[test]
fn the_gitlab_template_matches_the_published_gitlab_ci_schema() {
    validate(
        "ci/gitlab/nix-tokens.yml",
        "vendor.gitlab-ci",
        &["--data-transform", "gitlab-ci"],
    );
}
