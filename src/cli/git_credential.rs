//! `nix-tokens git-credential get|store|erase`: a git credential helper, so that `git+https`
//! inputs (which go through git, not `access-tokens`) get the same tokens; and `--install` /
//! `--uninstall`, which add it to and remove it from the user's git configuration.
//!
//! `get` answers with the token Nix sees for the host (the longest `host/owner` key that covers
//! the repository, else the host's, else its netrc entry), renewing an expiring OAuth login first.
//! Standard output carries only the protocol answer, and nothing at all when there is no token, so
//! that git asks its next helper. `store` and `erase` save and delete nothing.

use std::io::{Read, Write};
use std::process::ExitCode;

use clap::Args;

use super::GlobalArgs;
use crate::context::Context;
use crate::error::{Error, Result, exit};
use crate::gitcred::protocol::{self, MAX_INPUT};
use crate::ops::git_credential::{self as ops, HelperArgs};
use crate::ui::Ui;

#[derive(Debug, Args)]
pub struct GitCredentialArgs {
    /// What git asks for: get, store or erase (git runs this; any other is ignored)
    #[arg(required_unless_present_any = ["install", "uninstall"])]
    pub operation: Option<String>,
    /// Add this helper to your global git configuration for every host that has a token
    #[arg(long, conflicts_with_all = ["operation", "uninstall"])]
    pub install: bool,
    /// Remove exactly what --install added
    #[arg(long, conflicts_with = "operation")]
    pub uninstall: bool,
    /// With --install: only this host (repeatable; default every host that has a token)
    #[arg(long = "host", value_name = "HOST", requires = "install")]
    pub hosts: Vec<String>,
}

pub fn run(ctx: &Context, args: GitCredentialArgs, global: &GlobalArgs) -> Result<ExitCode> {
    if args.install {
        ops::install(ctx, &args.hosts, &helper_args(ctx, global))?;
        return Ok(ExitCode::from(exit::OK));
    }
    if args.uninstall {
        ops::uninstall(ctx)?;
        return Ok(ExitCode::from(exit::OK));
    }
    let input = read_input()?;
    // git hands over what it used (`store`) or what the server refused (`erase`), and may ask
    // operations added later: nix-tokens keeps only the tokens given to login and set-token, so
    // all of those are read and dropped.
    if args.operation.as_deref() != Some("get") {
        return Ok(ExitCode::from(exit::OK));
    }
    // Only warnings reach git's terminal: no notes, no questions.
    let quiet = Context {
        ui: Ui {
            verbosity: ctx.ui.verbosity.min(-1),
            progress: false,
            interactive: false,
            ..ctx.ui.clone()
        },
        layout: ctx.layout.clone(),
    };
    let request = protocol::parse(&input)?;
    if let Some(answer) = ops::get(&quiet, &request)? {
        let Some(text) = protocol::render(&answer) else {
            quiet.ui.warn(&format!(
                "the stored token for {} holds a line break, which git's protocol cannot carry; store it again with `nix-tokens set-token`",
                crate::ui::printable(request.host.as_deref().unwrap_or("this host"))
            ));
            return Ok(ExitCode::from(exit::OK));
        };
        let mut out = std::io::stdout().lock();
        out.write_all(text.expose().as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| Error::failed(format!("could not answer git: {e}")))?;
    }
    Ok(ExitCode::from(exit::OK))
}

/// Standard input, up to just past the protocol's limit.
fn read_input() -> Result<Vec<u8>> {
    let mut input = Vec::new();
    std::io::stdin()
        .take(MAX_INPUT as u64 + 1)
        .read_to_end(&mut input)
        .map_err(|e| Error::failed(format!("could not read git's request: {e}")))?;
    Ok(input)
}

/// The arguments git passes on to the helper so that it reads the same configuration:
/// `--system`, or `--config PATH`.
fn helper_args(ctx: &Context, global: &GlobalArgs) -> HelperArgs {
    if global.system {
        vec!["--system".to_owned()]
    } else if global.config.is_some() {
        vec![
            "--config".to_owned(),
            ctx.layout.nix_conf.display().to_string(),
        ]
    } else {
        Vec::new()
    }
}
