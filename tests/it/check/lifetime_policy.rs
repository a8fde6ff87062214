//! GitHub's 403 for a fine-grained token that lives longer than an organisation allows (its
//! text as GitHub sends it, seen in NixOS/org#247 and HHS/simpler-grants-gov#2547) is explained:
//! which organisation, which limit, and how to make a token it accepts.

use serde_json::{Value, json};

use super::{GH, check, flake, row};
use crate::support::fake_forge::{FakeServer, Reply};
use crate::support::flake_lock::{self as fl, lock};
use crate::support::*;

#[test]
fn a_token_lifetime_policy_is_named_with_its_organisation_and_limit() {
    let env = TestEnv::new();
    // Anonymous callers do not see the private repository; the token is refused by the policy.
    let github = FakeServer::start(|r| match r.header("authorization") {
        Some(_) => Reply::json(
            403,
            json!({
                "message": "The 'NixOS' organization forbids access via a fine-grained personal access tokens if the token's lifetime is greater than 90 days. Please adjust your token's lifetime at the following URL: https://github.com/settings/personal-access-tokens/12885303",
                "documentation_url": "https://docs.github.com/rest/repos/repos#get-a-repository",
                "status": "403"
            }),
        ),
        None => Reply::json(404, json!({"message": "Not Found"})),
    });
    let out = env.run(&["set-token", "github.com"], &format!("{GH}\n"));
    assert_success(&out);
    let hosts = env.config_dir().join(".nix-tokens-hosts.json");
    let text = std::fs::read_to_string(&hosts).unwrap_or_else(|_| "{}".into());
    let mut json: Value = serde_json::from_str(&text).unwrap();
    json["hosts"]["github.com"] = json!({"provider": "github", "base_url": github.url});
    env.write(&hosts, &json.to_string());
    let dir = flake(
        &env,
        &lock(
            json!({"secret": "secret"}),
            json!({"secret": fl::github("NixOS", "secret", None)}),
        ),
    );
    let (code, rows, _) = check(&env, &[&dir]);
    assert_eq!(code, Some(3));
    let r = row(&rows, "secret");
    assert_eq!(r["verdict"], "fails", "{r:#}");
    let reason = r["reason"].as_str().unwrap();
    for part in [
        "the 'NixOS' organization",
        "longer than 90 days",
        "https://github.com/settings/personal-access-tokens/12885303",
        "expires within 90 days",
        "nix-tokens set-token",
    ] {
        assert!(
            reason.contains(part),
            "the reason should say {part:?}: {reason}"
        );
    }
}
