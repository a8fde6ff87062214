//! `nix-tokens store keyring|file`: which store later logins of a configuration use.

use std::process::ExitCode;

use clap::Args;

use crate::context::Context;
use crate::error::{Result, exit};
use crate::nixconf::vault::StoreKind;

#[derive(Debug, Args)]
pub struct StoreArgs {
    /// `keyring` (the OS keyring only, with a copy for Nix in the session's private runtime
    /// directory) or `file` (beside nix.conf)
    #[arg(value_enum)]
    pub store: StoreKind,
}

pub fn run(ctx: &Context, args: StoreArgs) -> Result<ExitCode> {
    crate::ops::keyring_store::set_store(ctx, args.store)?;
    Ok(ExitCode::from(exit::OK))
}

/// `nix-tokens lock`.
pub fn lock(ctx: &Context) -> Result<ExitCode> {
    crate::ops::keyring_store::lock(ctx)?;
    Ok(ExitCode::from(exit::OK))
}

/// `nix-tokens unlock`.
pub fn unlock(ctx: &Context) -> Result<ExitCode> {
    crate::ops::keyring_store::unlock(ctx)?;
    Ok(ExitCode::from(exit::OK))
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// The command and its arguments (after `--`)
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    pub command: Vec<std::ffi::OsString>,
}

/// `nix-tokens exec -- COMMAND…`.
pub fn exec(ctx: &Context, args: ExecArgs) -> Result<ExitCode> {
    crate::ops::exec::exec(ctx, &args.command)
}
