//! A host no provider file names is detected from what it answers anonymously, and the provider
//! is remembered so that later commands need no probe.

use crate::support::fake_forge::{self, FakeServer};
use crate::support::*;

const GH: &str = "ghp_abcdefghijklmnopqrstuvwxyz0123456789";

fn login_detected(env: &TestEnv, host: &str, server: &FakeServer, token: &str) -> String {
    let out = env.run(
        &["login", host, "--base-url", &server.url, "--with-token"],
        &format!("{token}\n"),
    );
    assert_success(&out);
    assert_no_leak(&out, &[token]);
    stderr(&out)
}

#[test]
fn each_kind_of_forge_is_recognised() {
    let env = TestEnv::new();
    let ghes = fake_forge::detectable("github", fake_forge::github(GH, "repo"));
    let err = login_detected(&env, "ghe.corp.example", &ghes, GH);
    assert!(err.contains("ghe.corp.example runs github."), "{err}");

    let pat = "glpat-abcdefghijklmnopqrst";
    let gitlab = fake_forge::detectable("gitlab", fake_forge::gitlab(pat, "oauth"));
    let err = login_detected(&env, "gitlab.corp.example", &gitlab, pat);
    assert!(err.contains("gitlab.corp.example runs gitlab."), "{err}");

    let token = "forgejotokenabcdef123456";
    let forgejo = fake_forge::detectable("forgejo", fake_forge::gitea(token));
    let err = login_detected(&env, "forgejo.corp.example", &forgejo, token);
    assert!(err.contains("forgejo.corp.example runs forgejo."), "{err}");

    let gitea = fake_forge::detectable("gitea", fake_forge::gitea(token));
    let err = login_detected(&env, "gitea.corp.example", &gitea, token);
    assert!(err.contains("gitea.corp.example runs gitea."), "{err}");

    assert!(read(&env.token_file()).contains("gitlab.corp.example=PAT:glpat-"));
    assert!(read(&env.netrc()).contains("machine forgejo.corp.example"));
    assert!(read(&env.netrc()).contains("machine gitea.corp.example"));

    // The servers are gone: status names every provider from what nix-tokens remembers.
    drop((ghes, gitlab, forgejo, gitea));
    let out = env.run(&["status", "--offline", "--json"], "");
    assert_success(&out);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let provider = |host: &str| {
        json.as_array()
            .unwrap()
            .iter()
            .find(|r| r["host"] == host)
            .map(|r| r["provider"].clone())
    };
    assert_eq!(provider("ghe.corp.example"), Some("github".into()));
    assert_eq!(provider("gitlab.corp.example"), Some("gitlab".into()));
    assert_eq!(provider("forgejo.corp.example"), Some("forgejo".into()));
    assert_eq!(provider("gitea.corp.example"), Some("gitea".into()));
    assert_eq!(
        mode(&env.config_dir().join(".nix-tokens-hosts.json")),
        0o600
    );

    // Logging out forgets the host.
    let out = env.run(&["logout", "ghe.corp.example", "--yes"], "");
    assert_success(&out);
    let hosts = read(&env.config_dir().join(".nix-tokens-hosts.json"));
    assert!(!hosts.contains("ghe.corp.example"), "{hosts}");
    assert!(hosts.contains("gitea.corp.example"), "{hosts}");
}
