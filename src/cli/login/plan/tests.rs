//! login's plan, from command lines to plans and refusals.

use clap::Parser;

use super::*;

#[derive(Parser)]
struct Command {
    #[command(flatten)]
    args: LoginArgs,
}

fn facts() -> Facts {
    Facts {
        detected: None,
        stdin_is_terminal: false,
        pixi_file: Some(PathBuf::from("/home/me/.rattler/credentials.json")),
        install: Install::example(false, PathBuf::from("/home/me/.config/nix/netrc")),
        system: false,
    }
}

/// The plan for `nix-tokens login ARGS…`.
fn planned<'r>(registry: &'r Registry, line: &str, facts: &Facts) -> Result<Planned<'r>> {
    let words = std::iter::once("login").chain(line.split_whitespace());
    let args = Command::try_parse_from(words).expect("valid options").args;
    plan(&args, registry, facts)
}

fn ready<'r>(registry: &'r Registry, line: &str) -> Ready<'r> {
    match planned(registry, line, &facts()).unwrap() {
        Planned::Ready(ready) => *ready,
        Planned::Detect { host, .. } => panic!("{line}: asks to detect {host}"),
    }
}

fn refusal(registry: &Registry, line: &str, facts: &Facts) -> String {
    match planned(registry, line, facts) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("{line}: planned"),
    }
}

#[test]
fn github_uses_the_device_flow_of_its_public_app() {
    let r = Registry::load(None).unwrap();
    let plan = ready(&r, "").login;
    assert_eq!(
        (plan.target.key.as_str(), plan.provider.name.as_str()),
        ("github.com", "github")
    );
    let Obtain::Device {
        client_id,
        endpoints,
    } = &plan.obtain
    else {
        panic!("device flow expected");
    };
    assert_eq!(client_id, "178c6fc778ccc68e1d6a");
    assert_eq!(
        endpoints.device_url.as_str(),
        "https://github.com/login/device/code"
    );
    assert_eq!(plan.scopes, ["repo"]);
    assert!(plan.pixi_file.is_none());
    // A GitHub Enterprise Server has no public app: a personal token, unless --client-id.
    let ghes = ready(&r, "ghe.example.com -p github").login;
    assert!(matches!(
        ghes.obtain,
        Obtain::Token {
            with_token: false,
            ..
        }
    ));
    let ghes = ready(&r, "ghe.example.com -p github --client-id Iv1.abc").login;
    assert!(matches!(ghes.obtain, Obtain::Device { ref client_id, .. } if client_id == "Iv1.abc"));
    let piped = ready(&r, "github --with-token").login;
    assert!(matches!(
        piped.obtain,
        Obtain::Token {
            with_token: true,
            ..
        }
    ));
    assert_eq!(plan.access, Access::Default);
}

#[test]
fn an_unknown_host_is_detected_first() {
    let r = Registry::load(None).unwrap();
    let Planned::Detect { host, base } = planned(&r, "git.example.com", &facts()).unwrap() else {
        panic!("detection expected");
    };
    assert_eq!(
        (host.as_str(), base.as_str()),
        ("git.example.com", "https://git.example.com/")
    );
    let found = Facts {
        detected: Some(Kind::Forgejo),
        ..facts()
    };
    let Planned::Ready(ready) = planned(&r, "git.example.com", &found).unwrap() else {
        panic!("a plan expected");
    };
    assert_eq!(ready.login.provider.name, "forgejo");
    // Forgejo logs in through the browser as the application every instance has.
    assert!(matches!(
        &ready.login.obtain,
        Obtain::Browser(b) if b.client_id == crate::providers::gitea::GIT_CREDENTIAL_OAUTH
            && b.token_url.as_str() == "https://git.example.com/login/oauth/access_token"
            && b.authorization_url.as_str() == "https://git.example.com/login/oauth/authorize"
    ));
    assert_eq!(ready.login.target.sink, crate::providers::Sink::Netrc);
}

#[test]
fn flags_that_cannot_work_are_refused_as_before() {
    let r = Registry::load(None).unwrap();
    let f = facts();
    for (line, message) in [
        (
            "github --oauth",
            "--oauth is for hosts an OpenID Connect issuer guards, and github.com runs github; drop it",
        ),
        (
            "github --oauth-client-secret s",
            "--oauth-client-secret is for OpenID Connect issuers, and github is not one; drop it",
        ),
        (
            "gitlab --oauth-redirect-uri http://127.0.0.1:8000/cb",
            "--oauth-redirect-uri is for OpenID Connect issuers, and gitlab is not one; drop it",
        ),
        (
            "github --oauth-flow auth-code",
            "--oauth-flow auth-code is for OpenID Connect issuers, and github is not one; drop it",
        ),
        (
            "sourcehut --flow device-code",
            "sourcehut has no device flow; log in with --flow token",
        ),
        (
            "ghe.example.com -p github --flow device-code",
            "the device flow on ghe.example.com needs the client id of an OAuth app registered there; pass --client-id",
        ),
        (
            "gitlab --netrc",
            "a GitLab OAuth login expires after two hours and is renewed in access-tokens, not in netrc; drop --netrc, or log in with --flow token for a personal token in netrc",
        ),
        (
            "conda.example.com --oauth",
            "pass --oauth-client-id with the id of the OAuth client registered for nix-tokens (or pixi) at the issuer of conda.example.com",
        ),
        (
            "github --owner /",
            "--owner takes one owner (such as my-org) for a host; give `github.com` and the owner alone",
        ),
        (
            "gitea",
            "gitea has no default host; give the host, for example `git.example.com --provider gitea`",
        ),
        (
            "git.example.com --base-url http://git.example.com",
            "the base URL http://git.example.com/ must use https (plain http only for a loopback address)",
        ),
    ] {
        assert_eq!(refusal(&r, line, &f), message, "{line}");
    }
    let terminal = Facts {
        stdin_is_terminal: true,
        ..facts()
    };
    assert_eq!(
        refusal(&r, "github --with-token", &terminal),
        "--with-token reads the token from standard input; pipe it in, for example `gh auth token | nix-tokens login github --with-token`"
    );
    // A GitLab personal token may go to netrc.
    let pat = ready(&r, "gitlab --netrc --flow token").login;
    assert_eq!(pat.target.sink, crate::providers::Sink::Netrc);
}

#[test]
fn a_client_id_a_token_login_ignores_is_named() {
    let r = Registry::load(None).unwrap();
    assert_eq!(
        ready(&r, "sourcehut --client-id abc").warnings,
        ["--client-id is ignored: sourcehut logs in with a personal token"]
    );
    // Codeberg's browser login takes it: it names the application.
    let codeberg = ready(&r, "codeberg --client-id abc");
    assert!(codeberg.warnings.is_empty());
    assert!(matches!(&codeberg.login.obtain, Obtain::Browser(b) if b.client_id == "abc"));
    assert!(ready(&r, "github --client-id abc").warnings.is_empty());
}

#[test]
fn issuers_log_in_with_discovery_and_write_pixi_too() {
    let r = Registry::load(None).unwrap();
    let plan = ready(&r, "prefix.dev").login;
    let Obtain::Issuer(issuer) = &plan.obtain else {
        panic!("an issuer login expected");
    };
    assert_eq!(issuer.issuer.as_str(), "https://prefix.dev/");
    assert_eq!(issuer.client_id, "rattler");
    assert_eq!(issuer.flow, IssuerFlow::Auto);
    // prefix.dev has an API of its own, where the token is checked.
    assert_eq!(plan.check_base.as_str(), "https://prefix.dev/");
    assert_eq!(plan.remembered_base, None);
    assert_eq!(
        plan.pixi_file.as_deref(),
        Some(std::path::Path::new("/home/me/.rattler/credentials.json"))
    );
    assert!(ready(&r, "prefix.dev --no-pixi").login.pixi_file.is_none());
    assert!(matches!(
        ready(&r, "prefix.dev --flow token").login.obtain,
        Obtain::Token { .. }
    ));
    // Another issuer: checked at its userinfo endpoint, which is remembered.
    let line = "conda.example.com --oauth-issuer-url https://id.example.com/realms/c --oauth-client-id cli --oauth-flow device-code";
    let plan = ready(&r, line).login;
    assert_eq!(plan.provider.name, "oidc");
    assert_eq!(plan.check_base.as_str(), "https://id.example.com/realms/c");
    assert_eq!(
        plan.remembered_base.as_deref(),
        Some("https://id.example.com/realms/c")
    );
    assert!(
        matches!(&plan.obtain, Obtain::Issuer(i) if i.flow == IssuerFlow::DeviceCode && i.client_id == "cli")
    );
}

#[test]
fn owners_and_the_dry_run_sentence() {
    let r = Registry::load(None).unwrap();
    let plan = ready(&r, "github --owner my-org --flow token").login;
    assert_eq!(plan.target.key, "github.com/my-org");
    let said = plan.describe(
        std::path::Path::new("/c/access-tokens.conf"),
        std::path::Path::new("/c/netrc"),
    );
    assert_eq!(
        said,
        "Dry run: would log in to github.com (provider github) with the personal token flow (scopes repo), check the token with https://github.com/, and store it for github.com/my-org in /c/access-tokens.conf. Nothing was read or written."
    );
    let plan = ready(&r, "prefix.dev").login;
    assert!(
        plan.describe(std::path::Path::new("/t"), std::path::Path::new("/n"))
            .contains(" with the auth-code (or device-code without a browser) flow at the issuer https://prefix.dev/ as the client rattler (scopes openid, profile, offline_access, channel:read, channel:upload), check the token with https://prefix.dev/, and store it for prefix.dev in /n and in pixi's /home/me/.rattler/credentials.json.")
    );
}

mod least_privilege;

/// On a multi-user install a cache's token goes to the user's own files only for a user the
/// daemon trusts (and not on Nix 2.34.0, whose daemon ignores that netrc); anyone else is sent
/// to `--system`, with the reason.
#[test]
fn a_cache_login_beside_a_daemon_follows_its_trust() {
    use crate::nixconf::install::{Trust, Verdict};
    let r = Registry::load(None).unwrap();
    let line = "cachix --cache team";
    let with = |verdict, version: Option<&str>| {
        let mut facts = facts();
        facts.install = Install::example(true, PathBuf::from("/etc/nix/netrc"));
        facts.install.trust = Trust::Daemon {
            verdict,
            asked: false,
        };
        facts.install.nix = version.and_then(crate::nixconf::nix_version::parse);
        facts
    };
    let trusted = with(Verdict::Trusted, Some("nix (Nix) 2.34.1"));
    assert!(planned(&r, line, &trusted).is_ok());
    let untrusted = refusal(&r, line, &with(Verdict::Untrusted, None));
    assert!(
        untrusted.contains(
            "`sudo nix-tokens --system login team.cachix.org --provider cachix --cache team`"
        ) && untrusted.contains("programs.nix-tokens.cacheTokens")
            && untrusted.contains("does not trust this user (estimated from /etc/nix/nix.conf)"),
        "{untrusted}"
    );
    let old = refusal(&r, line, &with(Verdict::Trusted, Some("nix (Nix) 2.34.0")));
    assert!(
        old.contains("Nix 2.34.0's daemon ignores a trusted user's own netrc-file"),
        "{old}"
    );
    let mut unknown = with(Verdict::Trusted, None);
    unknown.install.trust = Trust::Unknown("/etc/nix/nix.conf cannot be read".into());
    assert!(refusal(&r, line, &unknown).contains("/etc/nix/nix.conf cannot be read"));
    let mut system = with(Verdict::Untrusted, None);
    system.system = true;
    assert!(planned(&r, line, &system).is_ok());
}

#[test]
fn gitea_and_forgejo_log_in_through_the_browser_unless_told_otherwise() {
    let r = Registry::load(None).unwrap();
    for line in ["codeberg", "codeberg --flow auth-code"] {
        let plan = ready(&r, line).login;
        assert!(matches!(&plan.obtain, Obtain::Browser(_)), "{line}");
        assert_eq!(plan.scopes, ["read:repository", "read:user"]);
    }
    for line in ["codeberg --flow token", "codeberg --with-token"] {
        let plan = planned(&r, line, &facts()).unwrap();
        let Planned::Ready(ready) = plan else {
            panic!("{line}")
        };
        assert!(
            matches!(&ready.login.obtain, Obtain::Token { .. }),
            "{line}"
        );
    }
    assert!(
        refusal(&r, "github --flow auth-code", &facts())
            .starts_with("--oauth-flow auth-code is for OpenID Connect issuers")
    );
}
