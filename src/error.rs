//! The one error type, and the exit code each kind of error maps to.
//!
//! Every error reads as one sentence that names the file or host involved and says what to do.
//! No error ever holds a token: messages are built from paths, hosts and masked values only.

use std::fmt;
use std::io;
use std::path::Path;

/// Exit codes, documented in docs/exit-codes.md.
pub mod exit {
    /// Everything worked.
    pub const OK: u8 = 0;
    /// The operation failed; the message says why.
    pub const FAILURE: u8 = 1;
    /// The command line or the input was wrong.
    pub const USAGE: u8 = 2;
    /// `status`: a token was refused by its provider, or has expired; `token`: Nix has no token
    /// for the host.
    pub const INVALID: u8 = 3;
    /// `status`: a provider could not be reached to check a token (and none was refused).
    pub const UNREACHABLE: u8 = 4;
    /// `status`: every token works, but one that nothing renews expires within `--warn-days`.
    pub const EXPIRING: u8 = 5;
}

#[derive(Debug)]
pub enum Error {
    /// The user asked for something that cannot be done as asked (bad host, bad token, …).
    Usage(String),
    /// Anything else that stopped the operation.
    Failed(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn usage(message: impl Into<String>) -> Self {
        Error::Usage(message.into())
    }

    pub fn failed(message: impl Into<String>) -> Self {
        Error::Failed(message.into())
    }

    /// A file operation that failed: "could not {action} {path}: {reason}".
    pub fn io(action: &str, path: &Path, err: &io::Error) -> Self {
        // A file of the user's own that they may not touch wants its owner fixed, not root.
        let own = std::env::var_os("HOME").is_some_and(|h| !h.is_empty() && path.starts_with(h));
        let hint = match err.kind() {
            io::ErrorKind::PermissionDenied if own => "; check its owner and permissions",
            io::ErrorKind::PermissionDenied => "; check its permissions, or run as root",
            io::ErrorKind::ReadOnlyFilesystem => {
                "; nothing there can change until it is mounted read-write"
            }
            io::ErrorKind::StorageFull => "; free some disk space and try again",
            _ => "",
        };
        Error::Failed(format!(
            "could not {action} {}: {}{hint}",
            path.display(),
            describe_io(err)
        ))
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => exit::USAGE,
            Error::Failed(_) => exit::FAILURE,
        }
    }
}

/// The OS's description of an I/O error without the "(os error N)" noise.
fn describe_io(err: &io::Error) -> String {
    let text = err.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
    .to_lowercase()
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(m) | Error::Failed(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}
