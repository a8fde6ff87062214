//! `nix-tokens login [PROVIDER|HOST]`: guided personal-token entry, checked with the provider
//! before anything is saved.
//!
//! The person is told where to create a token and which scopes to tick, types it at a hidden
//! prompt (or pipes it with `--with-token`), the provider names the owner, scopes and expiry, and
//! only a token the provider accepts is stored (`--force` stores it anyway).

use std::process::ExitCode;

use clap::Args;

use super::Context;
use super::save::{Saved, Target, save};
use crate::error::{Error, Result, exit};
use crate::flows::token_entry::read_token;
use crate::http::{self, Http};
use crate::providers::check::{self, Identity, Verdict, missing_scopes};

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// A provider name (github, gitlab, gitea, forgejo, codeberg, sourcehut, prefix-dev) or a host;
    /// default github
    pub target: Option<String>,
    /// The provider the host runs, when no provider file names the host
    #[arg(long, short = 'p', value_name = "NAME")]
    pub provider: Option<String>,
    /// The OAuth client (application) id, for the device flow of self-hosted instances
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// Where the provider's web and API endpoints are, when not at https://HOST (plain http only
    /// for a loopback address)
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Read the token from standard input, for scripts and CI
    #[arg(long)]
    pub with_token: bool,
    /// Save the token even when the provider refuses it or cannot be reached, and replace an
    /// existing one without asking
    #[arg(long, short = 'f')]
    pub force: bool,
    /// Check the token and show what would change, without writing anything
    #[arg(long, short = 'n')]
    pub dry_run: bool,
    /// Do not open a browser
    #[arg(long)]
    pub no_browser: bool,
    /// Write the token to netrc instead of access-tokens
    #[arg(long)]
    pub netrc: bool,
}

pub fn run(ctx: &Context, args: LoginArgs) -> Result<ExitCode> {
    let registry = ctx.registry()?;
    let target_arg = args.target.as_deref().unwrap_or("github");
    let target = Target::resolve(
        &registry,
        target_arg,
        args.provider.as_deref(),
        args.netrc,
        None,
    )?;
    let Some(provider) = target.provider else {
        return Err(Error::usage(format!(
            "nix-tokens does not know what {} runs; pass --provider with one of: {}",
            target.host,
            registry.names().join(", ")
        )));
    };
    let base = http::base_url(&target.host, args.base_url.as_deref())?;
    if args.client_id.is_some() {
        ctx.ui.warn(
            "--client-id is for the OAuth device flow, which this build does not run; log in with a personal token instead",
        );
    }
    if args.with_token && std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        return Err(Error::usage(
            "--with-token reads the token from standard input; pipe it in, for example `gh auth token | nix-tokens login github --with-token`",
        ));
    }
    let advice = provider.token_advice(&target.host);
    let (token, _source) = read_token(&ctx.ui, &target.key, None, advice.as_deref())?;
    let token = target.prepare(token)?;

    ctx.ui.detail(&format!("checking the token with {base}"));
    let http = Http::new()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::failed(format!("could not start the network runtime: {e}")))?;
    let verdict = runtime.block_on(check::check(&http, provider, &target.host, &base, &token));
    let identity = match verdict {
        Verdict::Valid(identity) => Some(identity),
        Verdict::Unverified(why) => {
            ctx.ui.info(&format!("{why}; saving it unchecked."));
            None
        }
        Verdict::Rejected(why) | Verdict::Unreachable(why) if args.force => {
            ctx.ui.warn(&format!(
                "{} did not accept the token ({why}); saving it anyway (--force)",
                target.host
            ));
            None
        }
        Verdict::Rejected(why) => {
            return Err(Error::failed(format!(
                "{} refused the token ({why}); nothing was saved. Check that you copied the whole token, or pass --force to save it anyway",
                target.host
            )));
        }
        Verdict::Unreachable(why) => {
            return Err(Error::failed(format!(
                "could not check the token with {base} ({why}); nothing was saved. Check the host (or --base-url), or pass --force to save it unchecked"
            )));
        }
    };
    if let Some(scopes) = identity.as_ref().and_then(|i| i.scopes.as_ref()) {
        let missing = missing_scopes(&provider.scopes, scopes);
        if !missing.is_empty() {
            ctx.ui.warn(&format!(
                "the token lacks the scope(s) {} that Nix needs to read private repositories",
                missing.join(", ")
            ));
        }
    }
    match save(ctx, &target, token, args.force, args.dry_run)? {
        Saved::Written(file) | Saved::Unchanged(file) => {
            ctx.ui.info(&summary(&target.key, identity.as_ref(), &file));
        }
        Saved::DryRun => {}
        Saved::Declined => return Ok(ExitCode::from(exit::FAILURE)),
    }
    Ok(ExitCode::from(exit::OK))
}

/// One line: host, user, scopes, expiry, and the file written.
fn summary(key: &str, identity: Option<&Identity>, file: &std::path::Path) -> String {
    let Some(id) = identity else {
        return format!("Saved the token for {key} in {}.", file.display());
    };
    let scopes = match &id.scopes {
        Some(s) => format!("scopes {}", s.join(", ")),
        None => "scopes not reported".to_owned(),
    };
    let expiry = id
        .expires_at
        .as_ref()
        .map_or_else(|| "no expiry".to_owned(), |e| format!("expires {e}"));
    format!(
        "Logged in to {key} as {} ({scopes}; {expiry}); the token is in {}.",
        id.user,
        file.display()
    )
}
