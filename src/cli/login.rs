//! `nix-tokens login [PROVIDER|HOST]`: the options nix-auth users know. The interactive flows
//! (device code, authorization code, guided entry with validation) need the network client,
//! which this build does not have yet; until then the command says how to store a token by hand.

use std::process::ExitCode;

use clap::Args;

use super::Context;
use crate::error::{Error, Result};

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// A provider name (github, gitlab, gitea, forgejo, codeberg, sourcehut, prefix-dev) or a host;
    /// default github
    pub target: Option<String>,
    /// The provider the host runs, when it cannot be detected
    #[arg(long, short = 'p', value_name = "NAME")]
    pub provider: Option<String>,
    /// The OAuth client (application) id, for self-hosted instances
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// Log in again even when a working token exists
    #[arg(long, short = 'f')]
    pub force: bool,
    /// Show what would change without writing anything
    #[arg(long, short = 'n')]
    pub dry_run: bool,
    /// Do not open a browser; print the URL instead
    #[arg(long)]
    pub no_browser: bool,
    /// Write the token to netrc instead of access-tokens
    #[arg(long)]
    pub netrc: bool,
}

pub fn run(ctx: &Context, args: LoginArgs) -> Result<ExitCode> {
    let target = args.target.as_deref().unwrap_or("github");
    let registry = ctx.registry()?;
    let (key, provider) = registry.resolve_target(target, args.provider.as_deref())?;
    let page = provider
        .and_then(|p| p.token_advice(&key))
        .map(|advice| format!("{advice} and "))
        .unwrap_or_default();
    Err(Error::failed(format!(
        "this build of nix-tokens cannot log in over the network yet; {page}store it with `nix-tokens set-token {key}`"
    )))
}
