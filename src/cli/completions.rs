//! `nix-tokens completions SHELL`: a completion script on standard output.

use std::process::ExitCode;

use clap::Args;
use clap_complete::Shell;

use crate::error::{Result, exit};

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to write completions for
    pub shell: Shell,
}

pub fn run(args: CompletionsArgs, command: &mut clap::Command) -> Result<ExitCode> {
    clap_complete::generate(args.shell, command, "nix-tokens", &mut std::io::stdout());
    Ok(ExitCode::from(exit::OK))
}
