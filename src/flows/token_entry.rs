//! Guided token entry: the token comes from standard input when it is piped, or from a hidden
//! prompt on a terminal. A token typed on the command line is accepted with a warning, since it
//! lands in shell history and is visible to other users in the process list.

use std::io::{IsTerminal, Read};
use std::path::Path;

use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::ui::Ui;

/// Where the token came from, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    Argument,
    Stdin,
    Prompt,
}

/// Reads the token for `host`. `argument` is the token given on the command line, if any;
/// `advice` ("create a token … at URL") is shown before the prompt so the person knows where to
/// create one.
pub fn read_token(
    ui: &Ui,
    host: &str,
    argument: Option<String>,
    advice: Option<&str>,
) -> Result<(Secret<String>, TokenSource)> {
    if let Some(token) = argument {
        ui.warn(
            "a token given as an argument is saved in your shell history and visible to other users; pipe it on standard input or let nix-tokens prompt for it",
        );
        return Ok((Secret::new(token), TokenSource::Argument));
    }
    if !std::io::stdin().is_terminal() {
        let mut buf = String::new();
        std::io::stdin()
            .take(64 * 1024)
            .read_to_string(&mut buf)
            .map_err(|e| {
                Error::failed(format!("could not read the token from standard input: {e}"))
            })?;
        let token = Secret::new(buf.trim_end_matches(['\n', '\r']).trim().to_owned());
        zeroize::Zeroize::zeroize(&mut buf);
        if token.expose().is_empty() {
            return Err(Error::usage(format!(
                "no token for {host} arrived on standard input; pipe the token in, or run on a terminal to be prompted"
            )));
        }
        return Ok((token, TokenSource::Stdin));
    }
    if let Some(advice) = advice {
        ui.info(&format!("To log in to {host}, {advice}."));
    }
    let token = dialoguer::Password::new()
        .with_prompt(format!("Token for {host}"))
        .interact()
        .map_err(|e| Error::failed(format!("could not read the token: {e}")))?;
    Ok((Secret::new(token.trim().to_owned()), TokenSource::Prompt))
}

/// Reads `what` (a secret, such as an OAuth client secret) from the file `path`, or from standard
/// input when `path` is `-`: the first line, without its line break. A missing, unreadable or
/// empty source is one sentence naming it; the secret is never repeated.
pub fn read_secret_file(path: &Path, what: &str) -> Result<Secret<String>> {
    let stdin = path.as_os_str() == "-";
    let source = if stdin {
        "standard input".to_owned()
    } else {
        path.display().to_string()
    };
    let mut buf = String::new();
    let read = if stdin {
        std::io::stdin().take(64 * 1024).read_to_string(&mut buf)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(64 * 1024).read_to_string(&mut buf))
    };
    if let Err(e) = read {
        zeroize::Zeroize::zeroize(&mut buf);
        return Err(if stdin {
            Error::failed(format!("could not read {what} from standard input: {e}"))
        } else {
            Error::io(&format!("read {what} from"), path, &e)
        });
    }
    let secret = Secret::new(buf.lines().next().unwrap_or("").trim().to_owned());
    zeroize::Zeroize::zeroize(&mut buf);
    if secret.expose().is_empty() {
        return Err(Error::usage(format!(
            "{source} holds no {what}; put it on the first line"
        )));
    }
    Ok(secret)
}
