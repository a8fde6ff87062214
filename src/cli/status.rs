//! `nix-tokens status [HOST...]`: every token Nix will see, from which file, masked, and (unless
//! `--offline`) what its provider says of it (see [`crate::ops::status`]). The exit code tells
//! scripts whether every checked token works.

use std::process::ExitCode;

use clap::Args;

use crate::context::Context;
use crate::error::Result;
use crate::ops::expiry::DEFAULT_WARN_DAYS;
use crate::ops::status::{self, StatusPlan};
use crate::providers::Registry;

#[derive(Debug, Args)]
#[command(
    after_help = "Exit status: 0 every token works; 1 a host asked for has no token; 3 a token was refused, \
    revoked or has expired; 4 a provider could not be reached; 5 every token works, but one that nothing renews \
    expires within --warn-days (`expiring`)."
)]
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
    /// Call a token that nothing renews `expiring` when it expires within this many days
    #[arg(long, value_name = "N", default_value_t = DEFAULT_WARN_DAYS,
          value_parser = clap::value_parser!(u64).range(0..=3650))]
    pub warn_days: u64,
}

pub fn run(ctx: &Context, args: StatusArgs) -> Result<ExitCode> {
    let registry = ctx.registry()?;
    let plan = plan(&args, &registry)?;
    if !plan.json
        && let Some(store) = crate::ops::keyring_store::describe(ctx)
    {
        ctx.ui.info(&store);
    }
    Ok(ExitCode::from(status::run(ctx, &registry, &plan)?))
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
        warn_days: args.warn_days,
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
            warn_days: 3,
        };
        let planned = plan(&args, &registry).unwrap();
        assert_eq!(planned.wanted, ["github.com", "gitlab.com"]);
        assert!(planned.offline && !planned.refresh && !planned.json);
        assert_eq!(planned.warn_days, 3);
        let bad = StatusArgs {
            hosts: vec!["ghp_0123456789abcdefghijklmnopqrstuvwxyz".into()],
            ..args
        };
        assert!(plan(&bad, &registry).is_err());
    }
}
