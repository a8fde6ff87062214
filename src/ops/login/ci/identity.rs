//! Which identity of a CI job a target takes: its provider file's `[ci]` table
//! ([`CiIdentity`]), checked against what the request names (an owner key, `--octo-sts`).

use super::CiRequest;
use crate::error::{Error, Result};
use crate::providers::provider::CiIdentity;
use crate::providers::{Kind, Provider};

/// The identity a target takes.
#[derive(Debug, PartialEq, Eq)]
pub enum Identity<'p> {
    /// The job's own token for its forge, of this kind.
    JobToken(Kind),
    /// An installation token from octo-sts for this scope (`OWNER` or `OWNER/REPO`).
    OctoSts { scope: String },
    /// The ID token itself, for this audience.
    IdToken { audience: &'p str },
    /// The ID token traded at the service's mint, at this path.
    Mint { audience: &'p str, path: &'p str },
}

pub fn no_identity(target: &str) -> Error {
    Error::usage(format!(
        "{target} takes no CI identity; store its token as a CI secret and log in from it with `nix-tokens login {target} --with-token` (the secret piped in)"
    ))
}

/// What `provider` takes in CI (its file's `[ci]` table), or the sentence saying it takes nothing.
pub fn identity<'p>(
    provider: &'p Provider,
    key: &str,
    request: &CiRequest,
) -> Result<Identity<'p>> {
    let ci = provider.ci.as_ref();
    if let Some(_identity) = request.octo_sts {
        let octo_sts = matches!(ci, Some(CiIdentity::JobToken { octo_sts: true }));
        return match (octo_sts, key.split_once('/')) {
            (true, Some((_, scope))) => Ok(Identity::OctoSts {
                scope: scope.to_owned(),
            }),
            _ => Err(Error::usage(format!(
                "--octo-sts gives a token for a GitHub owner or repository: name it as github.com/OWNER or github.com/OWNER/REPO, not `{}`",
                request.target
            ))),
        };
    }
    if key.contains('/') {
        return Err(Error::usage(format!(
            "with --ci, `{key}` needs --octo-sts IDENTITY (the job's own token reads only its repository); or log in to the host alone"
        )));
    }
    match ci {
        // A job's own token is known for GitHub Actions' and GitLab CI's forges alone.
        Some(CiIdentity::JobToken { .. })
            if matches!(provider.kind, Kind::Github | Kind::Gitlab) =>
        {
            Ok(Identity::JobToken(provider.kind))
        }
        Some(CiIdentity::IdToken { audience }) => Ok(Identity::IdToken { audience }),
        Some(CiIdentity::Mint { audience, path }) => Ok(Identity::Mint { audience, path }),
        _ => Err(no_identity(request.target)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::Registry;

    fn request<'a>(target: &'a str, octo_sts: Option<&'static str>) -> CiRequest<'a> {
        CiRequest {
            target,
            base_url: None,
            octo_sts,
            id_token_env: None,
            no_pixi: false,
        }
    }

    /// The identity `target` takes, as its provider file says.
    fn of(registry: &Registry, target: &str, octo_sts: Option<&'static str>) -> Result<String> {
        let (key, provider) = registry.resolve_target(target, None)?;
        let provider = provider.ok_or_else(|| no_identity(target))?;
        identity(provider, &key, &request(target, octo_sts)).map(|i| format!("{i:?}"))
    }

    #[test]
    fn the_ci_identity_is_the_provider_file_s() {
        let r = Registry::load(None).unwrap();
        let ok = |target: &str, octo: Option<&'static str>| of(&r, target, octo).unwrap();
        assert_eq!(ok("github", None), "JobToken(Github)");
        assert_eq!(ok("gitlab", None), "JobToken(Gitlab)");
        assert_eq!(
            ok("flakehub", None),
            r#"IdToken { audience: "api.flakehub.com" }"#
        );
        assert_eq!(
            ok("prefix.dev", None),
            r#"Mint { audience: "prefix.dev", path: "api/oidc/mint_token" }"#
        );
        assert_eq!(
            ok("github.com/nixos", Some("ci")),
            r#"OctoSts { scope: "nixos" }"#
        );
        for (target, octo) in [
            ("codeberg", None),
            ("gitlab.com/group", Some("ci")),
            ("github", Some("ci")),
            ("github.com/nixos", None),
        ] {
            assert!(of(&r, target, octo).is_err(), "{target}");
        }
    }

    #[test]
    fn a_user_s_provider_file_gives_or_withholds_a_ci_identity() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        // A replaced FlakeHub without `[ci]` takes none; a forge of another kind cannot take a
        // job token; a cache of the user's can take an ID token.
        write(
            "flakehub.toml",
            "name = \"flakehub\"\nkind = \"nix-cache\"\ndefault_host = \"flakehub.com\"\nsink = \"netrc\"\n",
        );
        write(
            "corp.toml",
            "name = \"corp\"\nkind = \"gitea\"\ndefault_host = \"git.corp.example\"\nsink = \"netrc\"\n[ci]\nidentity = \"job-token\"\n",
        );
        write(
            "cache.toml",
            "name = \"corp-cache\"\nkind = \"nix-cache\"\ndefault_host = \"cache.corp.example\"\nsink = \"netrc\"\n[ci]\nidentity = \"id-token\"\naudience = \"cache.corp.example\"\n",
        );
        let r = Registry::load(Some(dir.path())).unwrap();
        assert!(of(&r, "flakehub", None).is_err());
        assert!(of(&r, "corp", None).is_err());
        assert_eq!(
            of(&r, "corp-cache", None).unwrap(),
            r#"IdToken { audience: "cache.corp.example" }"#
        );
    }

    #[test]
    fn a_ci_table_is_read_strictly() {
        let dir = tempfile::tempdir().unwrap();
        let head = "name = \"x\"\nkind = \"nix-cache\"\nsink = \"netrc\"\n[ci]\n";
        for table in [
            "identity = \"id-token\"\n",
            "identity = \"mint\"\naudience = \"a\"\n",
            "identity = \"job-token\"\naudience = \"a\"\n",
            "identity = \"telepathy\"\n",
            "audience = \"a\"\n",
        ] {
            std::fs::write(dir.path().join("x.toml"), format!("{head}{table}")).unwrap();
            assert!(Registry::load(Some(dir.path())).is_err(), "{table}");
        }
    }
}
