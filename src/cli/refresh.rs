//! `nix-tokens refresh [HOST...]`: renew OAuth tokens that are about to expire (see
//! [`crate::ops::refresh`]). `--quiet` (for timers) prints nothing unless something failed.

use std::process::ExitCode;

use clap::Args;

use crate::context::Context;
use crate::error::{Result, exit};
use crate::ops::refresh::renew_due;

#[derive(Debug, Args)]
pub struct RefreshArgs {
    /// Only these hosts (or provider names)
    pub hosts: Vec<String>,
    /// Renew tokens with less than this many minutes of validity left
    #[arg(long, default_value_t = 5, value_name = "MINUTES",
          value_parser = clap::value_parser!(u64).range(0..=525_600))]
    pub threshold: u64,
}

pub fn run(ctx: &Context, args: RefreshArgs) -> Result<ExitCode> {
    let registry = ctx.registry()?;
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
    Ok(ExitCode::from(if outcome.failed.is_empty() {
        exit::OK
    } else {
        exit::FAILURE
    }))
}
