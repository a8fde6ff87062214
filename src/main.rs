//! nix-tokens: log in to code forges and put the access tokens exactly where Nix reads them.
//!
//! `main` parses the command line, runs the command, and turns any error into one line on stderr
//! and an exit code; nothing below it prints errors or exits.

mod cli;
mod context;
mod error;
mod flows;
mod gitcred;
mod http;
mod jwt;
mod keyring;
mod nixconf;
mod ops;
mod providers;
mod secret;
mod time;
mod ui;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    std::panic::set_hook(Box::new(|info| {
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "error: nix-tokens hit an internal error{place}; no file was left half-written. Please report this."
        );
    }));
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                error::exit::USAGE
            } else {
                error::exit::OK
            });
        }
    };
    let ui = cli::ui_for(&cli.global);
    match cli::run(cli, ui.clone()) {
        Ok(code) => code,
        Err(e) => {
            ui.error(&e.to_string());
            ExitCode::from(e.exit_code())
        }
    }
}
