//! What the user sees on stderr: warnings, notes, verbose detail, colour, and yes/no questions.
//!
//! Standard output is kept for a command's result (a table, JSON, completions); everything else
//! goes through [`Ui`] to standard error, so scripts can read stdout without filtering.

use std::io::IsTerminal;

use crate::error::{Error, Result};
use crate::secret::scrub;

/// Text from a server, made safe to print and to store: every secret the process knows is
/// masked in it ([`scrub`]: a server may repeat the token it was sent), and control characters
/// (terminal escapes, carriage returns) become `?`. Every text that came from a server passes
/// through here before it is shown or stored.
pub fn printable(text: &str) -> String {
    scrub(text)
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone)]
pub struct Ui {
    /// 0 is normal, negative is quieter (`-q`), positive is more verbose (`-v`).
    pub verbosity: i8,
    pub color: bool,
    /// Spinners may be drawn (stderr is a terminal, and neither `--no-progress` nor `-q`).
    pub progress: bool,
    /// `--yes`: answer every confirmation with yes.
    pub assume_yes: bool,
    /// A person is at a terminal who can answer a question.
    pub interactive: bool,
}

impl Ui {
    pub fn new(verbosity: i8, color: ColorChoice, no_progress: bool, assume_yes: bool) -> Self {
        let stderr_tty = std::io::stderr().is_terminal();
        let color = match color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                stderr_tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        };
        Ui {
            progress: stderr_tty && !no_progress && verbosity >= 0,
            verbosity,
            color,
            assume_yes,
            interactive: stderr_tty && std::io::stdin().is_terminal(),
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    /// An error; always shown.
    pub fn error(&self, message: &str) {
        eprintln!("{} {message}", self.paint("1;31", "error:"));
    }

    /// What a person must read to go on (a code to enter); never hidden.
    pub fn essential(&self, message: &str) {
        eprintln!("{message}");
    }

    /// Something the user should act on; hidden only by `-qq`.
    pub fn warn(&self, message: &str) {
        if self.verbosity >= -1 {
            eprintln!("{} {message}", self.paint("1;33", "warning:"));
        }
    }

    /// What the command did; hidden by `-q`.
    pub fn info(&self, message: &str) {
        if self.verbosity >= 0 {
            eprintln!("{message}");
        }
    }

    /// Detail for `-v`.
    pub fn detail(&self, message: &str) {
        if self.verbosity >= 1 {
            eprintln!("{} {message}", self.paint("2", "·"));
        }
    }

    /// Asks a yes/no question. `--yes` answers yes; without a terminal there is no one to ask, so
    /// the answer is the error `refusal`, which says how to proceed.
    pub fn confirm(&self, question: &str, refusal: impl FnOnce() -> String) -> Result<bool> {
        if self.assume_yes {
            return Ok(true);
        }
        if !self.interactive {
            return Err(Error::usage(refusal()));
        }
        dialoguer::Confirm::new()
            .with_prompt(question)
            .default(false)
            .interact()
            .map_err(|e| Error::failed(format!("could not read the answer: {e}")))
    }
}
