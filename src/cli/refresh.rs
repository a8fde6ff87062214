//! `nix-tokens refresh [HOST...]`: renew OAuth tokens that are about to expire (see
//! [`crate::ops::refresh`]). `--quiet` (for timers) prints nothing unless something failed, or a
//! token that nothing renews expires within `--warn-days` (one warning line each, with the command
//! that replaces it; see [`crate::ops::expiry`]).

use std::process::ExitCode;

use clap::Args;

use crate::context::Context;
use crate::error::{Result, exit};
use crate::ops::expiry::{DEFAULT_WARN_DAYS, unrenewable_expiring};
use crate::ops::login::ci::renew as ci_renew;
use crate::ops::refresh::{RENEW_WITHIN_MINUTES, renew_due};

#[derive(Debug, Args)]
pub struct RefreshArgs {
    /// Only these hosts (or provider names)
    pub hosts: Vec<String>,
    /// Renew tokens with less than this many minutes of validity left
    #[arg(long, default_value_t = RENEW_WITHIN_MINUTES, value_name = "MINUTES",
          value_parser = clap::value_parser!(u64).range(0..=525_600))]
    pub threshold: u64,
    /// Warn about each token that nothing renews and that expires within this many days
    #[arg(long, value_name = "N", default_value_t = DEFAULT_WARN_DAYS,
          value_parser = clap::value_parser!(u64).range(0..=3650))]
    pub warn_days: u64,
    /// Renew every credential `login --ci` obtained in this CI job
    #[arg(long, conflicts_with_all = ["hosts", "threshold"])]
    pub ci: bool,
    /// With --ci: stay running and renew each CI credential when less than a third of its life is
    /// left, until stopped (SIGTERM, SIGINT, or the end of the job); prints no secret
    #[arg(long, requires = "ci")]
    pub watch: bool,
}

pub fn run(ctx: &Context, args: RefreshArgs) -> Result<ExitCode> {
    let registry = ctx.registry()?;
    if args.ci {
        return ci(ctx, &registry, args.watch);
    }
    let wanted: Vec<String> = args
        .hosts
        .iter()
        .map(|h| registry.resolve_target(h, None).map(|(key, _)| key))
        .collect::<Result<_>>()?;
    let outcome = renew_due(ctx, &registry, &wanted, args.threshold * 60)?;
    if outcome.due == 0 {
        ctx.ui.info(&format!(
            "No token needs renewing: none expires within {} minutes.",
            args.threshold
        ));
    }
    for failure in &outcome.failed {
        ctx.ui.error(failure);
    }
    for warning in unrenewable_expiring(ctx, &wanted, args.warn_days)? {
        ctx.ui.warn(&warning);
    }
    Ok(ExitCode::from(if outcome.failed.is_empty() {
        exit::OK
    } else {
        exit::FAILURE
    }))
}

/// `refresh --ci [--watch]`.
fn ci(ctx: &Context, registry: &crate::providers::Registry, watch: bool) -> Result<ExitCode> {
    if watch {
        ci_renew::watch(ctx, registry)?;
        return Ok(ExitCode::from(exit::OK));
    }
    let failed = ci_renew::renew_all(ctx, registry)?;
    for failure in &failed {
        ctx.ui.error(failure);
    }
    Ok(ExitCode::from(if failed.is_empty() {
        exit::OK
    } else {
        exit::FAILURE
    }))
}
