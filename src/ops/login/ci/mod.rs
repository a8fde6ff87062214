//! `login TARGET --ci`: a CI job's own identity traded for the credential a target takes, and
//! saved where Nix (and pixi) read it. What each target takes:
//!
//! - `github`: the job's `GITHUB_TOKEN` (an installation token, checked as one with
//!   `GET /installation/repositories`) → access-tokens for the host of `GITHUB_SERVER_URL`;
//! - `github.com/OWNER[/REPO] --octo-sts IDENTITY`: octo-sts's exchange of an ID token (audience
//!   `octo-sts.dev`) → an owner key, which `logout --revoke` revokes;
//! - `flakehub`: the ID token itself (audience `api.flakehub.com`) → netrc, login `flakehub`, for
//!   FlakeHub's three hosts;
//! - `prefix.dev`: prefix.dev's mint (`POST /api/oidc/mint_token`) → netrc and pixi's store;
//! - `gitlab` (GitLab CI): `CI_JOB_TOKEN` → netrc for `CI_SERVER_HOST`, login `gitlab-ci-token`.
//!
//! Nothing is written until the credential is in hand and checked.

use crate::context::Context;
use crate::error::{Error, Result};
use crate::flows::ci::{self, Runner};
use crate::http::{self, Http, join};
use crate::nixconf::ci_logins::{self, CiLogin};
use crate::nixconf::hosts::PixiLink;
use crate::nixconf::install::Install;
use crate::nixconf::pixi;
use crate::ops::save::{PixiWrite, SaveOptions, Saved, Target, check_cache_destination, save};
use crate::providers::forge::Site;
use crate::providers::shared::Verdict;
use crate::providers::{Provider, Registry};
use crate::secret::Secret;

mod github;
pub mod renew;

/// Where octo-sts answers, unless `NIX_TOKENS_OCTO_STS_URL` says otherwise (a stand-in in tests).
const OCTO_STS: &str = "https://octo-sts.dev";

/// The providers a CI job's identity serves.
const CI_PROVIDERS: [&str; 4] = ["github", "gitlab", "flakehub", "prefix-dev"];

/// What `login TARGET --ci` was asked.
pub struct CiRequest<'a> {
    pub target: &'a str,
    /// `--base-url`: where the target's service answers, when not at its usual address.
    pub base_url: Option<&'a str>,
    /// `--octo-sts IDENTITY`: the trust policy to exchange the ID token under.
    pub octo_sts: Option<&'a str>,
    /// `--id-token-env VAR`: the variable holding a GitLab ID token.
    pub id_token_env: Option<&'a str>,
    pub no_pixi: bool,
}

/// The identity a target takes.
enum Identity {
    /// The job's own token for its forge.
    JobToken,
    /// An installation token from octo-sts for this scope (`OWNER` or `OWNER/REPO`).
    OctoSts { scope: String },
    /// The ID token itself, for this audience.
    IdToken { audience: &'static str },
    /// The ID token traded at the service's mint.
    Mint { audience: &'static str },
}

/// Runs `login TARGET --ci`. Returns whether the credential was saved.
pub fn run(ctx: &Context, registry: &Registry, request: &CiRequest) -> Result<bool> {
    // A provider named without a host of its own (cachix) is told so before its host is asked for.
    if let Some(named) = registry.by_name(request.target)
        && !CI_PROVIDERS.contains(&named.name.as_str())
    {
        return Err(no_identity(request.target));
    }
    let (key, provider) = registry.resolve_target(request.target, None)?;
    let provider = provider.ok_or_else(|| no_identity(request.target))?;
    let identity = identity(provider, &key, request)?;
    let runner = ci::require_runner()?;
    let http = Http::new()?;
    let runtime = http::runtime()?;
    let obtained_at = crate::time::unix_now();
    let expires_at = match identity {
        Identity::JobToken if provider.name == "github" => {
            runtime.block_on(github::github_job_token(ctx, registry, &http, runner))
        }
        Identity::JobToken => gitlab_job_token(ctx, registry, runner),
        Identity::OctoSts { scope } => runtime.block_on(github::octo_sts(
            ctx, registry, &http, runner, &key, &scope, request,
        )),
        Identity::IdToken { audience } => {
            runtime.block_on(flakehub(ctx, registry, &http, runner, audience, request))
        }
        Identity::Mint { audience } => {
            runtime.block_on(mint(ctx, registry, &http, runner, audience, request))
        }
    }?;
    let login = CiLogin {
        base_url: request.base_url.map(str::to_owned),
        octo_sts: request.octo_sts.map(str::to_owned),
        id_token_env: request.id_token_env.map(str::to_owned),
        no_pixi: request.no_pixi,
        obtained_at,
        expires_at,
    };
    ci_logins::record(&ctx.layout, request.target, login)?;
    Ok(true)
}

fn no_identity(target: &str) -> Error {
    Error::usage(format!(
        "{target} takes no CI identity; store its token as a CI secret and log in from it with `nix-tokens login {target} --with-token` (the secret piped in)"
    ))
}

/// What `provider` takes in CI, or the sentence saying it takes nothing.
fn identity(provider: &Provider, key: &str, request: &CiRequest) -> Result<Identity> {
    if let Some(_identity) = request.octo_sts {
        return match (provider.name.as_str(), key.split_once('/')) {
            ("github", Some((_, scope))) => Ok(Identity::OctoSts {
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
    match provider.name.as_str() {
        "github" | "gitlab" => Ok(Identity::JobToken),
        "flakehub" => Ok(Identity::IdToken {
            audience: "api.flakehub.com",
        }),
        "prefix-dev" => Ok(Identity::Mint {
            audience: "prefix.dev",
        }),
        _ => Err(no_identity(request.target)),
    }
}
/// `CI_JOB_TOKEN` in the netrc for `CI_SERVER_HOST`, login `gitlab-ci-token`.
fn gitlab_job_token(ctx: &Context, registry: &Registry, runner: Runner) -> Result<Option<u64>> {
    if runner != Runner::GitlabCi {
        return Err(Error::usage(
            "`gitlab --ci` uses a GitLab CI job's CI_JOB_TOKEN; on GitHub Actions, log in to GitLab with a token from a CI secret and --with-token",
        ));
    }
    let token = ci::token_var("CI_JOB_TOKEN")?.ok_or_else(|| {
        Error::failed(
            "CI_JOB_TOKEN is not in the environment; run nix-tokens in a GitLab CI job's script",
        )
    })?;
    let host = ci::var("CI_SERVER_HOST").ok_or_else(|| {
        Error::failed(
            "CI_SERVER_HOST is not in the environment; run nix-tokens in a GitLab CI job's script",
        )
    })?;
    let target = Target::resolve(
        registry,
        &host,
        Some("gitlab"),
        true,
        Some("gitlab-ci-token"),
    )?;
    // git's helper is installed after the token is saved: make sure git can be asked first, so
    // that a failure writes nothing.
    // The job token goes where CI_SERVER_URL says: https only (plain http to this machine alone).
    let server_url = ci::var("CI_SERVER_URL");
    if let Some(url) = &server_url {
        http::base_url(&host, Some(url))?;
    }
    crate::gitcred::gitconfig::GitConfig::new().list()?;
    let saved = save_ci(ctx, &target, token, server_url.as_deref(), None)?;
    crate::ops::git_credential::install(
        ctx,
        std::slice::from_ref(&target.host),
        &helper_args(ctx),
    )?;
    ctx.ui.info(&format!(
        "Saved the job's CI_JOB_TOKEN for {host} (login gitlab-ci-token, valid until the job ends) in {}; git reads it through `nix-tokens git-credential`.",
        saved.display()
    ));
    ctx.ui.warn(&format!(
        "Nix's gitlab: fetcher cannot use a job token (GitLab's archive API refuses it): `git+https://{host}/…` inputs can; `gitlab:` inputs need a project or group access token"
    ));
    Ok(None)
}

/// The options git's helper runs with to read the same files as this run.
fn helper_args(ctx: &Context) -> Vec<String> {
    if ctx.layout.system {
        vec!["--system".to_owned()]
    } else if ctx.layout.explicit_config {
        vec![
            "--config".to_owned(),
            ctx.layout.nix_conf.display().to_string(),
        ]
    } else {
        Vec::new()
    }
}

/// FlakeHub: the ID token is the netrc password; checked at the cache first.
async fn flakehub(
    ctx: &Context,
    registry: &Registry,
    http: &Http,
    runner: Runner,
    audience: &str,
    request: &CiRequest<'_>,
) -> Result<Option<u64>> {
    let provider = registry.require("flakehub")?;
    let target = Target::resolve(
        registry,
        default_host(provider, "flakehub.com"),
        Some("flakehub"),
        false,
        None,
    )?;
    let install = Install::detect(&ctx.layout, true)?;
    check_cache_destination(&target, &install, ctx.layout.system, "login flakehub --ci")?;
    let id = ci::id_token(http, runner, audience, request.id_token_env).await?;
    let substituter = request
        .base_url
        .map(str::to_owned)
        .or_else(|| provider.substituter(&target.host, None))
        .unwrap_or_else(|| format!("https://{}", target.host));
    let base = http::base_url(&target.host, Some(&substituter))?;
    let site = Site {
        http,
        provider,
        host: &target.host,
        base: &base,
        login: Some(&target.login),
    };
    match provider.forge().check(&site, &id).await {
        Ok(Verdict::Valid(_) | Verdict::Unverified(_)) => {}
        Ok(Verdict::Rejected(why) | Verdict::Unreachable(why))
        | Err(crate::http::Unreachable(why)) => {
            return Err(Error::failed(format!(
                "{base} did not accept the job's ID token ({why}); check that this repository is on FlakeHub; nothing was saved"
            )));
        }
    }
    let expiry = crate::jwt::expiry(id.expose());
    let saved = save_ci(ctx, &target, id, request.base_url, None)?;
    ctx.ui.info(&format!(
        "Logged in to FlakeHub with the job's ID token{}; it is in {} for {}.",
        until(expiry),
        saved.display(),
        provider.netrc_hosts(&target.host).join(", ")
    ));
    Ok(expiry)
}

/// prefix.dev: the ID token traded at the mint; netrc and pixi's store.
async fn mint(
    ctx: &Context,
    registry: &Registry,
    http: &Http,
    runner: Runner,
    audience: &str,
    request: &CiRequest<'_>,
) -> Result<Option<u64>> {
    let provider = registry.require("prefix-dev")?;
    let host = default_host(provider, "prefix.dev").to_owned();
    let target = Target::resolve(registry, &host, Some("prefix-dev"), false, None)?;
    let base = http::base_url(&host, request.base_url)?;
    let id = ci::id_token(http, runner, audience, request.id_token_env).await?;
    let url = join(&base, "api/oidc/mint_token");
    let token = ci::exchange_by_post(http, &url, &id, &format!("{host}'s mint")).await?;
    let pixi = (!request.no_pixi)
        .then(pixi::path)
        .flatten()
        .map(|file| PixiWrite {
            entry: pixi::bearer_entry(&token),
            link: PixiLink {
                key: pixi::key_for(&host),
                file,
            },
        });
    let pixi_file = pixi.as_ref().map(|p| p.link.file.display().to_string());
    let expiry = crate::jwt::expiry(token.expose());
    let saved = save_ci(ctx, &target, token, request.base_url, pixi)?;
    let also = pixi_file
        .map(|f| format!(" and in pixi's {f}"))
        .unwrap_or_default();
    ctx.ui.info(&format!(
        "Logged in to {host} with a token minted for the job's identity{}; it is in {}{also}.",
        until(expiry),
        saved.display()
    ));
    Ok(expiry)
}

fn default_host<'p>(provider: &'p Provider, fallback: &'p str) -> &'p str {
    provider.default_host.as_deref().unwrap_or(fallback)
}

fn until(expiry: Option<u64>) -> String {
    expiry
        .map(|e| format!(" (valid until {})", crate::time::rfc3339_unix(e)))
        .unwrap_or_default()
}

/// Saves a CI credential, replacing what the host had: a job's credential is meant to replace the
/// one before it. Returns the file written.
fn save_ci(
    ctx: &Context,
    target: &Target,
    token: Secret<String>,
    base_url: Option<&str>,
    pixi: Option<PixiWrite>,
) -> Result<std::path::PathBuf> {
    let options = SaveOptions {
        force: true,
        base_url,
        pixi,
        ..SaveOptions::default()
    };
    match save(ctx, target, token, options)? {
        Saved::Written(file) | Saved::Unchanged(file) => Ok(file),
        Saved::DryRun | Saved::Declined => Err(Error::failed("nothing was saved")),
    }
}
