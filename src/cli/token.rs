//! `nix-tokens token HOST[/OWNER]`: print the token Nix would send for a host, for scripts
//! (`GH_TOKEN=$(nix-tokens token github.com) gh …`). Owner keys are honoured as the git helper
//! honours them; exit 3 when Nix has no token for it. It refuses to print to a terminal without
//! `--yes`, where the secret would stay on screen and in the scrollback.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Args;

use crate::context::Context;
use crate::error::{Error, Result, exit};
use crate::nixconf::tokens::key_host;
use crate::ops::token::{self as ops, TokenPlan};
use crate::providers::Registry;
use crate::ui::printable;

#[derive(Debug, Args)]
#[command(
    after_long_help = "For scripts:\n  GH_TOKEN=$(nix-tokens token github.com) gh repo list\n\n\
    Exit status: 0 printed, 2 refused (a terminal without --yes, or a bad host), 3 Nix has no token for it.\n\n\
    Example: nix-tokens token github.com/my-org"
)]
pub struct TokenArgs {
    /// The host (github.com), a host and owner (github.com/my-org) or a provider name (github)
    pub target: String,
}

pub fn run(ctx: &Context, args: TokenArgs) -> Result<ExitCode> {
    let registry = ctx.registry()?;
    let to_terminal = std::io::stdout().is_terminal();
    let plan = plan(&args, &registry, to_terminal, ctx.ui.assume_yes)?;
    let Some(token) = ops::credential(ctx, &plan)? else {
        let wanted = printable(&args.target);
        ctx.ui.error(&format!(
            "Nix has no token for {wanted}; log in with `nix-tokens login {wanted}`"
        ));
        return Ok(ExitCode::from(exit::INVALID));
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", token.expose())
        .and_then(|()| out.flush())
        .map_err(|e| Error::failed(format!("could not print the token: {e}")))?;
    Ok(ExitCode::from(exit::OK))
}

/// The target as the host and path the git helper is asked for; refused when the token would go
/// to a terminal and the user did not say `--yes`.
fn plan(args: &TokenArgs, registry: &Registry, to_terminal: bool, yes: bool) -> Result<TokenPlan> {
    let (key, _) = registry.resolve_target(&args.target, None)?;
    if to_terminal && !yes {
        return Err(Error::usage(
            "nix-tokens token prints a secret and standard output is a terminal, where it would stay on screen and in the scrollback; pipe it into the program that needs it, or add --yes to print it anyway",
        ));
    }
    let host = key_host(&key).to_ascii_lowercase();
    let path = key
        .split_once('/')
        .map(|(_, p)| p.trim_matches('/').to_owned())
        .filter(|p| !p.is_empty());
    Ok(TokenPlan { host, path })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(target: &str) -> TokenArgs {
        TokenArgs {
            target: target.into(),
        }
    }

    #[test]
    fn targets_become_host_and_owner() {
        let registry = Registry::load(None).unwrap();
        let planned = |t| plan(&args(t), &registry, false, false).unwrap();
        assert_eq!(
            planned("github"),
            TokenPlan {
                host: "github.com".into(),
                path: None
            }
        );
        assert_eq!(
            planned("https://GitHub.com/my-org/"),
            TokenPlan {
                host: "github.com".into(),
                path: Some("my-org".into())
            }
        );
        assert!(
            plan(
                &args("ghp_0123456789abcdefghijklmnopqrstuvwxyz"),
                &registry,
                false,
                false
            )
            .is_err()
        );
    }

    #[test]
    fn a_terminal_needs_yes() {
        let registry = Registry::load(None).unwrap();
        let refused = plan(&args("github.com"), &registry, true, false).unwrap_err();
        assert!(refused.to_string().contains("--yes"), "{refused}");
        assert_eq!(refused.exit_code(), exit::USAGE);
        assert!(plan(&args("github.com"), &registry, true, true).is_ok());
    }
}
