//! `login TARGET --ci`: a CI job's own identity traded for the credential a target takes, and
//! saved where Nix (and pixi) read it. What a provider takes is data, its file's `[ci]` table
//! ([`CiIdentity`](crate::providers::provider::CiIdentity)); the built-in ones:
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
use crate::providers::gitlab::JOB_TOKEN_USER;
use crate::providers::shared::Verdict;
use crate::providers::{Kind, Provider, Registry};
use crate::secret::Secret;
use identity::{Identity, identity, no_identity};

mod github;
mod identity;
pub mod renew;

/// Where octo-sts answers, unless `NIX_TOKENS_OCTO_STS_URL` says otherwise (a stand-in in tests).
const OCTO_STS: &str = "https://octo-sts.dev";

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

/// The target of one `login --ci`: the providers, the target's provider, and its key.
#[derive(Clone, Copy)]
pub struct Aim<'a> {
    pub registry: &'a Registry,
    pub provider: &'a Provider,
    pub key: &'a str,
}

/// Runs `login TARGET --ci`. Returns whether the credential was saved.
pub fn run(ctx: &Context, registry: &Registry, request: &CiRequest) -> Result<bool> {
    // A provider named without a host of its own (cachix) is told so before its host is asked for.
    if let Some(named) = registry.by_name(request.target)
        && named.ci.is_none()
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
    let on = Aim {
        registry,
        provider,
        key: &key,
    };
    let expires_at = match identity {
        Identity::JobToken(Kind::Github) => {
            runtime.block_on(github::github_job_token(ctx, on, &http, runner))
        }
        Identity::JobToken(_) => gitlab_job_token(ctx, on, runner),
        Identity::OctoSts { scope } => {
            runtime.block_on(github::octo_sts(ctx, on, &http, runner, &scope, request))
        }
        Identity::IdToken { audience } => {
            runtime.block_on(id_token(ctx, on, &http, runner, audience, request))
        }
        Identity::Mint { audience, path } => {
            runtime.block_on(mint(ctx, on, &http, runner, (audience, path), request))
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

/// `CI_JOB_TOKEN` in the netrc for `CI_SERVER_HOST`, login [`JOB_TOKEN_USER`].
fn gitlab_job_token(ctx: &Context, on: Aim<'_>, runner: Runner) -> Result<Option<u64>> {
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
        on.registry,
        &host,
        Some(&on.provider.name),
        true,
        Some(JOB_TOKEN_USER),
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
        "Saved the job's CI_JOB_TOKEN for {host} (login {JOB_TOKEN_USER}, valid until the job ends) in {}; git reads it through `nix-tokens git-credential`.",
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

/// The ID token as the netrc password (FlakeHub's); checked at the cache first.
async fn id_token(
    ctx: &Context,
    on: Aim<'_>,
    http: &Http,
    runner: Runner,
    audience: &str,
    request: &CiRequest<'_>,
) -> Result<Option<u64>> {
    let (registry, provider) = (on.registry, on.provider);
    let target = Target::resolve(
        registry,
        default_host(provider, on.key),
        Some(&provider.name),
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
                "{base} did not accept the job's ID token ({why}); check that this repository is on {}; nothing was saved",
                target.host
            )));
        }
    }
    let expiry = crate::jwt::expiry(id.expose());
    let saved = save_ci(ctx, &target, id, request.base_url, None)?;
    ctx.ui.info(&format!(
        "Logged in to {} with the job's ID token{}; it is in {} for {}.",
        target.host,
        until(expiry),
        saved.display(),
        provider.netrc_hosts(&target.host).join(", ")
    ));
    Ok(expiry)
}

/// The ID token traded at the provider's mint (prefix.dev's); netrc and pixi's store.
async fn mint(
    ctx: &Context,
    on: Aim<'_>,
    http: &Http,
    runner: Runner,
    (audience, path): (&str, &str),
    request: &CiRequest<'_>,
) -> Result<Option<u64>> {
    let (registry, provider) = (on.registry, on.provider);
    let host = default_host(provider, on.key).to_owned();
    let target = Target::resolve(registry, &host, Some(&provider.name), false, None)?;
    let base = http::base_url(&host, request.base_url)?;
    let id = ci::id_token(http, runner, audience, request.id_token_env).await?;
    let url = join(&base, path);
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
        // A CI job has no keyring: its credentials stay in files.
        store: Some(crate::nixconf::vault::StoreKind::File),
        ..SaveOptions::default()
    };
    match save(ctx, target, token, options)? {
        Saved::Written(file) | Saved::Unchanged(file) => Ok(file),
        Saved::DryRun | Saved::Declined => Err(Error::failed("nothing was saved")),
    }
}
