//! The command line: global flags, the subcommands, and the dispatch from one to its module.
//!
//! Each subcommand lives in its own module as an options struct (clap `Args`) and a `run`
//! function that turns the options into a plan (a pure function, unit-tested) and hands it to
//! [`crate::ops`]; they hold no file or protocol logic.

mod check;
mod completions;
mod git_credential;
mod import;
mod login;
mod logout;
#[cfg(test)]
mod reference;
mod refresh;
mod set_token;
mod status;
mod store;
mod token;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::context::Context;
use crate::error::{Result, exit};
use crate::nixconf::paths::Layout;
use crate::ui::{ColorChoice, Ui};

#[derive(Debug, Parser)]
#[command(
    name = "nix-tokens",
    version,
    about = "Log in to code forges and put the access tokens exactly where Nix reads them",
    long_about = "Log in to code forges and put the access tokens exactly where Nix reads them.\n\n\
        Tokens go to a private access-tokens.conf beside your nix.conf (read by Nix's github:, gitlab: and \
        sourcehut: fetchers) or to a private netrc (read by every download Nix makes), and nix.conf gets \
        `!include access-tokens.conf`. Every change is atomic, locked and backed up.",
    after_help = "Run `nix-tokens COMMAND --help` for the options of a command.",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes, before or after the command name.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// The nix.conf to use (default: the first of $NIX_USER_CONF_FILES, else
    /// $NIX_CONFIG_HOME/nix.conf, else $XDG_CONFIG_HOME/nix/nix.conf, else ~/.config/nix/nix.conf)
    #[arg(long, global = true, value_name = "PATH", conflicts_with = "system")]
    pub config: Option<PathBuf>,
    /// Use the system nix.conf ($NIX_CONF_DIR/nix.conf, default /etc/nix/nix.conf)
    #[arg(long, global = true)]
    pub system: bool,
    /// Say more (repeat for more detail)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Say less (repeat to hide warnings too)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub quiet: u8,
    /// When to use colour (NO_COLOR is honoured by `auto`)
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
    /// Never draw spinners or progress lines (for logs and screen readers)
    #[arg(long, global = true)]
    pub no_progress: bool,
    /// Answer yes to every confirmation question
    #[arg(short = 'y', long, global = true)]
    pub yes: bool,
}

/// Each command's long help (`--help`, and its section of the man page) ends with one example.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Log in to a provider or host and store the token where Nix reads it
    #[command(after_long_help = "Example: nix-tokens login github --read-only")]
    Login(Box<login::LoginArgs>),
    /// Remove a host's token from every file nix-tokens manages
    #[command(after_long_help = "Example: nix-tokens logout github.com --revoke")]
    Logout(logout::LogoutArgs),
    /// Show every token Nix will see, where it comes from, and whether it works
    #[command(after_long_help = "Example: nix-tokens status --offline github.com")]
    Status(status::StatusArgs),
    /// Tell, input by input, whether Nix will be able to fetch a flake (and how to fix what fails)
    #[command(after_long_help = "Example: nix-tokens check ~/src/my-flake")]
    Check(check::CheckArgs),
    /// Store a token you already have for a host
    #[command(
        after_long_help = "Example: nix-tokens set-token git.example.com --provider forgejo < token.txt"
    )]
    SetToken(set_token::SetTokenArgs),
    /// Renew OAuth tokens that are about to expire
    #[command(after_long_help = "Example: nix-tokens refresh --threshold 60")]
    Refresh(refresh::RefreshArgs),
    /// Print the token Nix would send for a host, for scripts (exit 3 when there is none)
    Token(token::TokenArgs),
    /// Answer git's credential requests from the tokens Nix sees (--install adds it to git)
    #[command(
        after_long_help = "Example: nix-tokens git-credential --install --host git.example.com"
    )]
    GitCredential(git_credential::GitCredentialArgs),
    /// Choose where later logins keep their tokens: the OS keyring or files
    #[command(after_long_help = "Example: nix-tokens store keyring")]
    Store(store::StoreArgs),
    /// Write the keyring store's copies for Nix in the private runtime directory (again)
    #[command(after_long_help = "Example: nix-tokens unlock")]
    Unlock,
    /// Remove the keyring store's copies, so that Nix sees none of its tokens until `unlock`
    #[command(after_long_help = "Example: nix-tokens lock")]
    Lock,
    /// Run one command whose Nix sees the keyring store's tokens, through a private copy removed
    /// when it ends
    #[command(after_long_help = "Example: nix-tokens exec -- nix flake update")]
    Exec(store::ExecArgs),
    /// Copy a user's logins into root's own files, for root's rebuilds (with --system)
    Import(import::ImportArgs),
    /// Print the version
    #[command(after_long_help = "Example: nix-tokens version")]
    Version,
    /// Print a shell completion script
    #[command(
        after_long_help = "Example: nix-tokens completions fish > ~/.config/fish/completions/nix-tokens.fish"
    )]
    Completions(completions::CompletionsArgs),
    /// Print the manual page (roff), for packagers
    #[command(
        hide = true,
        after_long_help = "Example: nix-tokens man > nix-tokens.1"
    )]
    Man,
}

/// Parses the command line and runs the command. Errors come back to `main`, which prints them.
pub fn run(cli: Cli, ui: Ui) -> Result<ExitCode> {
    let g = &cli.global;
    let ctx = || -> Result<Context> {
        let layout = Layout::resolve(g.config.as_deref(), g.system)?;
        // Nothing is read or written in a directory others could swap files in.
        crate::nixconf::trust::check_dir(layout.dir())?;
        Ok(Context {
            ui: ui.clone(),
            layout,
        })
    };
    // Every command but these two writes missing runtime copies of an unlocked keyring store.
    let plain = ctx;
    let ctx = || -> Result<Context> {
        let ctx = plain()?;
        crate::ops::keyring_store::revive(&ctx);
        Ok(ctx)
    };
    match cli.command {
        Command::Login(args) => login::run(&ctx()?, *args),
        Command::Logout(args) => logout::run(&ctx()?, args),
        Command::Status(args) => status::run(&ctx()?, args),
        Command::Check(args) => check::run(&ctx()?, args),
        Command::SetToken(args) => set_token::run(&ctx()?, args),
        Command::Refresh(args) => refresh::run(&ctx()?, args),
        Command::Token(args) => token::run(&ctx()?, args),
        Command::GitCredential(args) => git_credential::run(&ctx()?, args, g),
        Command::Import(args) => import::run(&ctx()?, args),
        Command::Store(args) => store::run(&ctx()?, args),
        Command::Unlock => store::unlock(&plain()?),
        Command::Lock => store::lock(&plain()?),
        Command::Exec(args) => store::exec(&ctx()?, args),
        Command::Version => {
            println!("nix-tokens {}", env!("CARGO_PKG_VERSION"));
            Ok(ExitCode::from(exit::OK))
        }
        Command::Completions(args) => completions::run(args, &mut Cli::command()),
        Command::Man => completions::man(Cli::command()),
    }
}

/// The `Ui` the global flags ask for.
pub fn ui_for(global: &GlobalArgs) -> Ui {
    let verbosity = i8::try_from(i16::from(global.verbose) - i16::from(global.quiet)).unwrap_or(0);
    Ui::new(verbosity, global.color, global.no_progress, global.yes)
}
