//! `nix-tokens login [PROVIDER|HOST]`: the OAuth device flow where the provider has one (and a
//! client id for the host), an OpenID Connect issuer's flows, else guided personal-token entry;
//! either way the token is checked with the provider before anything is saved. `--read-only` and
//! `--public` ask for less than the provider's login does (see [`plan`]).
//!
//! The options become a [`LoginPlan`](login::LoginPlan) through [`plan::plan`], a pure function
//! (when no provider file names the host, what it runs is detected first, and the plan made again);
//! `--dry-run` prints the plan, and [`login::run`] carries it out.

mod plan;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use crate::context::Context;
use crate::error::{Error, Result, exit};
use crate::flows::token_entry::read_secret_file;
use crate::http::{self, Http};
use crate::nixconf::install::Install;
use crate::nixconf::pixi;
use crate::ops::login;
use crate::providers::{Registry, detect};
use plan::{Facts, Planned};

/// How the token is obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Flow {
    /// OpenID Connect: auth-code where a browser can be opened here, else device-code. Gitea,
    /// Forgejo, Codeberg: auth-code, else a token where the instance refuses it. Other forges: the
    /// device flow where the provider offers it and a client id is known, else a token
    Auto,
    /// The OAuth authorization-code flow with PKCE through the browser (OpenID Connect issuers,
    /// Gitea, Forgejo, Codeberg)
    AuthCode,
    /// The OAuth device flow (RFC 8628)
    DeviceCode,
    /// A personal token, entered at a prompt or piped with --with-token
    Token,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// A provider with a default host (github, gitlab, codeberg, sourcehut, prefix-dev, flakehub,
    /// and cachix with --cache) or a host; default github
    pub target: Option<String>,
    /// Store the token for this owner (user, organisation or group) only: under HOST/OWNER, which
    /// git through `git-credential` and Nix 2.27 or later prefer for that owner's repositories
    #[arg(long, value_name = "OWNER")]
    pub owner: Option<String>,
    /// The provider the host runs, when no provider file names the host (github, gitlab, gitea,
    /// forgejo, codeberg, sourcehut, prefix-dev, oidc, cachix, attic, flakehub, nix-cache, or one
    /// of your own)
    #[arg(long, short = 'p', value_name = "NAME")]
    pub provider: Option<String>,
    /// The OAuth client (application) id, for the device flow of self-hosted instances, for
    /// OpenID Connect issuers, and for another application than git-credential-oauth's on Gitea
    /// and Forgejo
    #[arg(long, visible_alias = "oauth-client-id", value_name = "ID")]
    pub client_id: Option<String>,
    /// Where the provider's web and API endpoints are, when not at https://HOST (plain http only
    /// for a loopback address)
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// How to obtain the token
    #[arg(long, visible_alias = "oauth-flow", value_enum, default_value_t = Flow::Auto)]
    pub flow: Flow,
    /// A scope to request in an OAuth flow instead of the provider's (repeatable)
    #[arg(long = "scope", visible_alias = "oauth-scope", value_name = "SCOPE")]
    pub scopes: Vec<String>,
    /// Log in with OAuth to a host that an OpenID Connect issuer guards (as --provider oidc)
    #[arg(long)]
    pub oauth: bool,
    /// The OpenID Connect issuer (default: the provider's own, else https://HOST); implies --oauth
    #[arg(long, value_name = "URL")]
    pub oauth_issuer_url: Option<String>,
    /// The secret of a confidential OAuth client (command-line clients are usually public and
    /// have none). Other users can see it in the process list: prefer --oauth-client-secret-file
    /// or NIX_TOKENS_OAUTH_CLIENT_SECRET
    #[arg(long, value_name = "SECRET")]
    pub oauth_client_secret: Option<String>,
    /// Read the secret of a confidential OAuth client from this file (`-`: standard input)
    #[arg(long, value_name = "PATH")]
    pub oauth_client_secret_file: Option<std::path::PathBuf>,
    /// The loopback redirect URI the OAuth client is registered with, such as
    /// http://127.0.0.1:8000/auth/oidc (default: http://127.0.0.1 on a random port)
    #[arg(long, value_name = "URI")]
    pub oauth_redirect_uri: Option<String>,
    /// How many seconds to wait for the browser in the authorization-code flow
    #[arg(long, default_value_t = crate::flows::auth_code::DEADLINE.as_secs(), hide = true, value_name = "SECONDS")]
    pub oauth_timeout: u64,
    /// Do not write the login to pixi's credential store (RATTLER_AUTH_FILE, else
    /// ~/.rattler/credentials.json)
    #[arg(long)]
    pub no_pixi: bool,
    /// A token that can only read, entered by hand and checked to read before it is saved (GitHub:
    /// a fine-grained token with Contents: Read-only; with --owner, the resource owner to pick)
    #[arg(long)]
    pub read_only: bool,
    /// The device flow asking for no scope at all (GitHub): public repositories only, with the
    /// higher rate limit, and no private code
    #[arg(long)]
    pub public: bool,
    /// Read a token from standard input instead of running a flow, for scripts and CI
    #[arg(long, conflicts_with = "flow")]
    pub with_token: bool,
    /// Save the token even when the provider refuses it or cannot be reached, and replace an
    /// existing one without asking
    #[arg(long, short = 'f')]
    pub force: bool,
    /// Show the provider, host, flow, scopes and file, without reading a token or writing
    #[arg(long, short = 'n')]
    pub dry_run: bool,
    /// Do not open a browser
    #[arg(long)]
    pub no_browser: bool,
    /// Write the token to netrc instead of access-tokens
    #[arg(long)]
    pub netrc: bool,
    /// The binary cache to log in to: its name on Cachix (`login cachix --cache NAME`) or on an
    /// Attic server (`login HOST --provider attic --cache NAME`)
    #[arg(long, value_name = "NAME")]
    pub cache: Option<String>,
    /// A binary cache: store the credential only, without making Nix use the cache (its
    /// substituter and signing key)
    #[arg(long, conflicts_with_all = ["public_keys", "no_key"])]
    pub credential_only: bool,
    /// The key a cache's paths are signed with (NAME:BASE64, as `nix-store
    /// --generate-binary-cache-key` prints it), trusted with its substituter (repeatable)
    #[arg(long = "public-key", value_name = "KEY")]
    pub public_keys: Vec<String>,
    /// Use a cache without trusting a key for it: Nix then accepts only paths it can check
    /// otherwise (signed by a key it already trusts, or content-addressed)
    #[arg(long, conflicts_with = "public_keys")]
    pub no_key: bool,
    /// In a CI job (GitHub Actions, GitLab CI): trade the job's own identity for the target's
    /// credential instead of a stored secret (github, gitlab, flakehub, prefix.dev; an owner or
    /// repository with --octo-sts)
    #[arg(long, conflicts_with_all = ["with_token", "flow", "cache", "dry_run", "owner", "provider"])]
    pub ci: bool,
    /// With --ci: exchange the job's ID token at octo-sts under this trust policy
    /// (.github/chainguard/IDENTITY.sts.yaml) for a token for github.com/OWNER[/REPO]
    #[arg(long, requires = "ci", value_name = "IDENTITY")]
    pub octo_sts: Option<String>,
    /// With --ci in GitLab CI: the variable holding the ID token (default: the audience
    /// upper-cased, `_` for every other character, then `_ID_TOKEN`, such as PREFIX_DEV_ID_TOKEN)
    #[arg(long, requires = "ci", value_name = "VAR")]
    pub id_token_env: Option<String>,
    /// Where the token is kept: `file` (beside nix.conf) or `keyring` (the OS keyring only, with
    /// a copy for Nix in the session's private runtime directory); default: the configuration's
    /// store (`nix-tokens store`)
    #[arg(long, value_enum, value_name = "STORE")]
    pub store: Option<crate::nixconf::vault::StoreKind>,
}

pub fn run(ctx: &Context, mut args: LoginArgs) -> Result<ExitCode> {
    if args.ci {
        if args.store == Some(crate::nixconf::vault::StoreKind::Keyring) {
            return Err(crate::error::Error::usage(
                "--ci keeps the job's credentials in files, as a CI job has no OS keyring; drop --store keyring",
            ));
        }
        return ci(ctx, &args);
    }
    args.oauth_client_secret = client_secret(ctx, &args)?;
    let registry = ctx.registry()?;
    let mut facts = Facts {
        detected: None,
        stdin_is_terminal: std::io::stdin().is_terminal(),
        pixi_file: pixi::path(),
        // What only Nix can say (the daemon's trust) is asked for a binary cache alone.
        install: Install::detect(&ctx.layout, is_cache(&registry, &args, None))?,
        system: ctx.layout.system,
    };
    let plan = loop {
        match plan::plan(&args, &registry, &facts)? {
            Planned::Ready(plan) => break plan,
            Planned::Detect { host, base } => {
                ctx.ui.detail(&format!("detecting what {base} runs"));
                let http = Http::new()?;
                match http::runtime()?.block_on(detect::detect(&http, &base)) {
                    Ok(kind) => {
                        ctx.ui.info(&format!("{host} runs {}.", kind.name()));
                        facts.detected = Some(kind);
                        if is_cache(&registry, &args, Some(kind.name())) {
                            facts.install = Install::detect(&ctx.layout, true)?;
                        }
                    }
                    Err(tried) => {
                        return Err(Error::failed(format!(
                            "could not tell what {host} runs (tried {}); pass --provider with one of: {}",
                            tried.join("; "),
                            registry.names().join(", ")
                        )));
                    }
                }
            }
        }
    };
    for warning in &plan.warnings {
        ctx.ui.warn(warning);
    }
    let plan = plan.login;
    if args.dry_run {
        ctx.ui
            .info(&plan.describe(&ctx.layout.token_file, &ctx.layout.netrc));
        return Ok(ExitCode::from(exit::OK));
    }
    Ok(ExitCode::from(if login::run(ctx, plan)? {
        exit::OK
    } else {
        exit::FAILURE
    }))
}

/// `login TARGET --ci`.
fn ci(ctx: &Context, args: &LoginArgs) -> Result<ExitCode> {
    let target = args.target.as_deref().unwrap_or("github");
    let request = login::ci::CiRequest {
        target,
        base_url: args.base_url.as_deref(),
        octo_sts: args.octo_sts.as_deref(),
        id_token_env: args.id_token_env.as_deref(),
        no_pixi: args.no_pixi,
    };
    let saved = login::ci::run(ctx, &ctx.registry()?, &request)?;
    Ok(ExitCode::from(if saved { exit::OK } else { exit::FAILURE }))
}

/// The environment variable that may hold a confidential client's secret.
const CLIENT_SECRET_VAR: &str = "NIX_TOKENS_OAUTH_CLIENT_SECRET";

/// The secret of a confidential OAuth client: from `--oauth-client-secret-file` (a file, or `-` for
/// standard input), else `--oauth-client-secret` (with a warning, as for a token given as an
/// argument: other users see it in the process list), else `NIX_TOKENS_OAUTH_CLIENT_SECRET`.
fn client_secret(ctx: &Context, args: &LoginArgs) -> Result<Option<String>> {
    let Some(path) = &args.oauth_client_secret_file else {
        if let Some(secret) = &args.oauth_client_secret {
            ctx.ui.warn(&format!(
                "a client secret given as an argument is saved in your shell history and visible to other users; pass --oauth-client-secret-file PATH (- for standard input) or set {CLIENT_SECRET_VAR}"
            ));
            return Ok(Some(secret.clone()));
        }
        return Ok(std::env::var(CLIENT_SECRET_VAR)
            .ok()
            .filter(|s| !s.is_empty()));
    };
    if args.oauth_client_secret.is_some() {
        return Err(Error::usage(
            "--oauth-client-secret and --oauth-client-secret-file both give the client secret; keep only --oauth-client-secret-file",
        ));
    }
    if path.as_os_str() == "-" && args.with_token {
        return Err(Error::usage(
            "--with-token and --oauth-client-secret-file - both read standard input; put the client secret in a file",
        ));
    }
    read_secret_file(path, "the OAuth client secret").map(|s| Some(s.expose().clone()))
}

/// Whether the login is for a binary cache: `--cache`, or a provider (named, the host's, or
/// `detected`) that serves substitutes.
fn is_cache(registry: &Registry, args: &LoginArgs, detected: Option<&str>) -> bool {
    let target = args.target.as_deref().unwrap_or("github");
    let provider = match detected.or(args.provider.as_deref()) {
        Some(name) => registry.by_name(name),
        None => registry
            .resolve_target(target, None)
            .ok()
            .and_then(|(_, p)| p),
    };
    args.cache.is_some() || provider.is_some_and(|p| p.forge().serves_substitutes())
}
