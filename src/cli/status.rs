//! `nix-tokens status [HOST...]`: every token Nix will see, from which file, masked, and (unless
//! `--offline`) what its provider says of it (see [`crate::ops::status`]). The exit code tells
//! scripts whether every checked token works.

use std::process::ExitCode;

use clap::Args;

use crate::context::Context;
use crate::error::{Result, exit};
use crate::ops::status::{self, Outcome, StatusPlan};
use crate::providers::Registry;

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Only these hosts (github.com also matches github.com/my-org)
    pub hosts: Vec<String>,
    /// Do not contact any provider; list what Nix will see (every token `unverified`)
    #[arg(long)]
    pub offline: bool,
    /// Print one JSON document (an array of objects) instead of a table
    #[arg(long)]
    pub json: bool,
    /// Do not renew OAuth tokens that are about to expire before checking them
    #[arg(long)]
    pub no_refresh: bool,
}

pub fn run(ctx: &Context, args: StatusArgs) -> Result<ExitCode> {
    let registry = ctx.registry()?;
    let plan = plan(&args, &registry)?;
    Ok(ExitCode::from(match status::run(ctx, &registry, &plan)? {
        Outcome::Fine => exit::OK,
        Outcome::Invalid => exit::INVALID,
        Outcome::Unreachable => exit::UNREACHABLE,
        Outcome::Missing => exit::FAILURE,
    }))
}

/// The options as a plan: each host or provider name as the key Nix matches.
fn plan(args: &StatusArgs, registry: &Registry) -> Result<StatusPlan> {
    Ok(StatusPlan {
        wanted: args
            .hosts
            .iter()
            .map(|h| registry.resolve_target(h, None).map(|(k, _)| k))
            .collect::<Result<_>>()?,
        offline: args.offline,
        json: args.json,
        refresh: !args.no_refresh,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_become_keys() {
        let registry = Registry::load(None).unwrap();
        let args = StatusArgs {
            hosts: vec!["github".into(), "https://GitLab.com/".into()],
            offline: true,
            json: false,
            no_refresh: true,
        };
        let planned = plan(&args, &registry).unwrap();
        assert_eq!(planned.wanted, ["github.com", "gitlab.com"]);
        assert!(planned.offline && !planned.refresh && !planned.json);
        let bad = StatusArgs {
            hosts: vec!["ghp_0123456789abcdefghijklmnopqrstuvwxyz".into()],
            ..args
        };
        assert!(plan(&bad, &registry).is_err());
    }
}
