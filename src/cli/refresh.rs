//! `nix-tokens refresh [HOST...]`: renew OAuth tokens that are about to expire.
//!
//! Only OAuth logins leave a refresh token behind, and this build stores none yet, so there is
//! nothing to renew: the command says so (unless `--quiet`) and succeeds.

use std::process::ExitCode;

use clap::Args;

use super::Context;
use crate::error::{Result, exit};

#[derive(Debug, Args)]
pub struct RefreshArgs {
    /// Only these hosts
    pub hosts: Vec<String>,
    /// Refresh when less than this many minutes of validity are left
    #[arg(long, default_value_t = 5, value_name = "MINUTES")]
    pub threshold: u32,
}

pub fn run(ctx: &Context, _args: RefreshArgs) -> Result<ExitCode> {
    ctx.ui
        .info("No stored token has a refresh token, so there is nothing to refresh.");
    Ok(ExitCode::from(exit::OK))
}
