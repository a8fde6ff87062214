//! `nix-tokens set-token HOST [TOKEN]`: store a token the user already has.

use std::process::ExitCode;

use clap::Args;

use crate::context::Context;
use crate::error::{Result, exit};
use crate::flows::token_entry::read_token;
use crate::nixconf::install::Install;
use crate::nixconf::vault::StoreKind;
use crate::ops::save::{SaveOptions, Saved, Target, check_cache_destination, save};
use crate::secret::mask;

#[derive(Debug, Args)]
pub struct SetTokenArgs {
    /// The host (github.com, or github.com/my-org for one owner) or a provider name (github)
    pub host: String,
    /// The token. Prefer standard input or the prompt: an argument lands in shell history
    pub token: Option<String>,
    /// The provider the host runs (github, gitlab, gitea, forgejo, codeberg, sourcehut, prefix-dev,
    /// oidc, cachix, attic, flakehub, nix-cache, or one of your own); decides the token's format
    /// and the file Nix reads it from
    #[arg(long, short = 'p', value_name = "NAME")]
    pub provider: Option<String>,
    /// Replace an existing token without asking
    #[arg(long, short = 'f')]
    pub force: bool,
    /// Write the token to netrc (read by every Nix download) instead of access-tokens
    #[arg(long)]
    pub netrc: bool,
    /// The netrc login to write beside the token (default: one the provider accepts)
    #[arg(long, value_name = "USER", requires = "netrc")]
    pub login: Option<String>,
    /// Show what would change without writing anything
    #[arg(long, short = 'n')]
    pub dry_run: bool,
    /// Where the token is kept: `file` (beside nix.conf) or `keyring` (the OS keyring only, with
    /// a copy for Nix in the session's private runtime directory); default: the configuration's
    /// store (`nix-tokens store`)
    #[arg(long, value_enum, value_name = "STORE")]
    pub store: Option<StoreKind>,
}

pub fn run(ctx: &Context, args: SetTokenArgs) -> Result<ExitCode> {
    let registry = ctx.registry()?;
    let target = Target::resolve(
        &registry,
        &args.host,
        args.provider.as_deref(),
        args.netrc,
        args.login.as_deref(),
    )?;
    if let Some(p) = target.provider.filter(|p| p.forge().serves_substitutes()) {
        let again = format!("set-token {} --provider {}", target.host, p.name);
        let install = Install::detect(&ctx.layout, true)?;
        check_cache_destination(&target, &install, ctx.layout.system, &again)?;
    }
    let advice = target.provider.and_then(|p| p.token_advice(&target.host));
    let (token, _source) = read_token(&ctx.ui, &target.key, args.token, advice.as_deref())?;
    let token = target.prepare(token)?;
    let masked = mask(&token);
    let options = SaveOptions {
        force: args.force,
        dry_run: args.dry_run,
        store: args.store,
        ..SaveOptions::default()
    };
    match save(ctx, &target, token, options)? {
        Saved::Written(file) => ctx.ui.info(&format!(
            "Saved the token for {} ({masked}) in {}.",
            target.key,
            file.display()
        )),
        Saved::Unchanged(file) => ctx.ui.info(&format!(
            "{} already has this token in {}.",
            target.key,
            file.display()
        )),
        Saved::DryRun => {}
        Saved::Declined => return Ok(ExitCode::from(exit::FAILURE)),
    }
    Ok(ExitCode::from(exit::OK))
}
