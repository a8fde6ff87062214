//! `nix-tokens completions SHELL` and the hidden `nix-tokens man`: a completion script or the
//! manual page on standard output, both generated from the command-line definition.

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
    let mut script = Vec::new();
    clap_complete::generate(args.shell, command, "nix-tokens", &mut script);
    write_out(&script, "the completion script")?;
    Ok(ExitCode::from(exit::OK))
}

/// Writes `bytes` to standard output. A reader that stopped reading (`| head`) is no error: what it
/// wanted it has.
fn write_out(bytes: &[u8], what: &str) -> Result<()> {
    match std::io::Write::write_all(&mut std::io::stdout(), bytes) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(crate::error::Error::failed(
            format!("could not write {what}: {e}"),
        )),
        _ => Ok(()),
    }
}

/// The manual page, as roff, with a section for each command.
pub fn man(command: clap::Command) -> Result<ExitCode> {
    let mut out = Vec::new();
    let write = |out: &mut Vec<u8>| -> std::io::Result<()> {
        let page = clap_mangen::Man::new(command.clone());
        page.render_title(out)?;
        page.render_name_section(out)?;
        page.render_synopsis_section(out)?;
        page.render_description_section(out)?;
        page.render_options_section(out)?;
        for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
            let name = format!("nix-tokens {}", sub.get_name());
            let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
            roff_section(out, &name, &about, sub)?;
        }
        page.render_version_section(out)?;
        page.render_authors_section(out)
    };
    write(&mut out).map_err(|e| {
        crate::error::Error::failed(format!("could not write the manual page: {e}"))
    })?;
    write_out(&out, "the manual page")?;
    Ok(ExitCode::from(exit::OK))
}

/// One command's section: its synopsis, what it does, and its own options.
fn roff_section(
    out: &mut Vec<u8>,
    name: &str,
    about: &str,
    sub: &clap::Command,
) -> std::io::Result<()> {
    use std::io::Write as _;
    writeln!(out, ".SH \"{}\"", name.to_uppercase())?;
    writeln!(out, "{}", escape(about))?;
    for arg in sub.get_arguments().filter(|a| !a.is_hide_set()) {
        let flag = match (arg.get_short(), arg.get_long()) {
            (Some(s), Some(l)) => format!("\\-{s}, \\-\\-{l}"),
            (None, Some(l)) => format!("\\-\\-{l}"),
            (Some(s), None) => format!("\\-{s}"),
            (None, None) => arg.get_id().as_str().to_uppercase(),
        };
        let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
        writeln!(out, ".TP\n\\fB{flag}\\fR\n{}", escape(&help))?;
    }
    if let Some(example) = sub.get_after_long_help() {
        writeln!(out, ".PP\n{}", escape(&example.to_string()))?;
    }
    Ok(())
}

/// Escapes text for roff: backslashes, and a leading dot or quote that roff would read as a request.
fn escape(text: &str) -> String {
    let text = text.replace('\\', "\\e").replace('-', "\\-");
    match text.chars().next() {
        Some('.') | Some('\'') => format!("\\&{text}"),
        _ => text,
    }
}
