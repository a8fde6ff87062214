//! `nix-tokens logout [PROVIDER|HOST]`: remove a host's token from every file nix-tokens manages
//! (see [`crate::ops::logout`]), and with `--revoke` revoke it at its provider.

use std::process::ExitCode;

use clap::Args;

use crate::context::Context;
use crate::error::{Result, exit};
use crate::ops::logout::{self, LogoutPlan, Which};
use crate::providers::Registry;

#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// A provider name (github) or host (git.example.com); without one, a menu on a terminal
    #[arg(conflicts_with_all = ["host", "all"])]
    pub target: Option<String>,
    /// The host to log out of (the same as giving it as the argument)
    #[arg(long, value_name = "HOST", conflicts_with = "all")]
    pub host: Option<String>,
    /// Interpret the argument as this provider
    #[arg(long, short = 'p', value_name = "NAME")]
    pub provider: Option<String>,
    /// Remove every token nix-tokens manages
    #[arg(long)]
    pub all: bool,
    /// Do not ask for confirmation (the same as --yes)
    #[arg(long, short = 'f')]
    pub force: bool,
    /// Show what would change without writing anything
    #[arg(long, short = 'n')]
    pub dry_run: bool,
    /// Also revoke the token at its provider, where the provider allows it (GitHub, GitLab, OpenID
    /// Connect issuers)
    #[arg(long)]
    pub revoke: bool,
    /// A binary cache: keep the substituter and key its login added, so that Nix still uses the
    /// cache's public paths
    #[arg(long)]
    pub keep_substituter: bool,
}

pub fn run(ctx: &Context, args: LogoutArgs) -> Result<ExitCode> {
    let registry = ctx.registry()?;
    let plan = plan(&args, &registry)?;
    Ok(ExitCode::from(if logout::run(ctx, &registry, &plan)? {
        exit::OK
    } else {
        exit::FAILURE
    }))
}

/// The options as a plan: which tokens (a host or provider as the key Nix matches), and how.
fn plan(args: &LogoutArgs, registry: &Registry) -> Result<LogoutPlan> {
    let which = if args.all {
        Which::All
    } else if let Some(target) = args.target.as_deref().or(args.host.as_deref()) {
        Which::Key(registry.resolve_target(target, args.provider.as_deref())?.0)
    } else {
        Which::Menu
    };
    Ok(LogoutPlan {
        which,
        revoke: args.revoke,
        dry_run: args.dry_run,
        force: args.force,
        keep_substituter: args.keep_substituter,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(target: Option<&str>, all: bool) -> LogoutArgs {
        LogoutArgs {
            target: target.map(str::to_owned),
            host: None,
            provider: None,
            all,
            force: false,
            dry_run: true,
            revoke: true,
            keep_substituter: false,
        }
    }

    #[test]
    fn the_options_name_the_tokens() {
        let registry = Registry::load(None).unwrap();
        let plan = |a: &LogoutArgs| plan(a, &registry).unwrap().which;
        assert_eq!(plan(&args(None, true)), Which::All);
        assert_eq!(plan(&args(None, false)), Which::Menu);
        assert_eq!(
            plan(&args(Some("gitlab"), false)),
            Which::Key("gitlab.com".into())
        );
        let by_flag = LogoutArgs {
            host: Some("Codeberg.org".into()),
            ..args(None, false)
        };
        assert_eq!(plan(&by_flag), Which::Key("codeberg.org".into()));
        let p = super::plan(&args(None, true), &registry).unwrap();
        assert!(p.revoke && p.dry_run && !p.force);
    }
}
