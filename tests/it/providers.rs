//! Providers are data: a user's file adds a provider (a company GHES, say) or replaces a built-in
//! one, with no Rust code, and a malformed file is named with its line.

use crate::support::*;

fn provider_dir(env: &TestEnv) -> std::path::PathBuf {
    env.home.join(".config/nix-tokens/providers")
}

#[test]
fn a_user_file_adds_a_provider() {
    let env = TestEnv::new();
    env.write(
        &provider_dir(&env).join("corp.toml"),
        "name = \"corp\"\nkind = \"gitlab\"\naliases = [\"work\"]\n\
         default_host = \"gitlab.corp.example\"\nsink = \"access-tokens\"\n",
    );
    let out = env.run(&["set-token", "work"], "glpat-abcdefghijklmnopqrst\n");
    assert_success(&out);
    assert!(
        read(&env.token_file()).contains("gitlab.corp.example=PAT:glpat-abcdefghijklmnopqrst"),
        "a gitlab-kind provider gets GitLab's token format"
    );
    let out = env.run(&["status", "--offline", "--json"], "");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json[0]["provider"], "corp");
}

#[test]
fn a_user_file_replaces_a_built_in_provider() {
    let env = TestEnv::new();
    env.write(
        &provider_dir(&env).join("my-forgejo.toml"),
        "name = \"forgejo\"\nkind = \"forgejo\"\ndefault_host = \"git.corp.example\"\n\
         sink = \"netrc\"\nnetrc_login = \"robot\"\n",
    );
    let out = env.run(&["set-token", "forgejo"], "forgejotokenabcdef123456\n");
    assert_success(&out);
    assert_eq!(
        read(&env.netrc()),
        "machine git.corp.example login robot password forgejotokenabcdef123456\n"
    );
}

#[test]
fn a_malformed_provider_file_is_named_with_its_line() {
    let env = TestEnv::new();
    let bad = provider_dir(&env).join("broken.toml");
    env.write(
        &bad,
        "name = \"broken\"\nkind = \"github\"\nsink = \"somewhere\"\n",
    );
    let before = env.snapshot();
    for args in [
        &["set-token", "github.com"][..],
        &["status"],
        &["logout", "github"],
    ] {
        let out = env.run(args, "ghp_abcdefghijklmnopqrstuvwxyz0123456789\n");
        assert_clean_failure(&out, 1);
        let err = stderr(&out);
        assert!(err.contains(&format!("{} line 3", bad.display())), "{err}");
    }
    assert_eq!(env.snapshot(), before);

    env.write(&bad, "name = \"broken\"\nkind = \"github\"\n");
    let out = env.run(&["status"], "");
    assert_clean_failure(&out, 1);
    assert!(
        stderr(&out).contains("missing field `sink`"),
        "{}",
        stderr(&out)
    );
}
