//! The words `status` gives each token and binary cache and `check` each flake input, each with
//! its JSON name and the exit code it leads to, defined here and nowhere else; the JSON page
//! (docs/json.md) lists them all, which a test here checks. A command's exit code is the most
//! serious code among its rows ([`worst`]).

use std::fmt;

use serde::{Serialize, Serializer};

use crate::error::exit;

/// Defines a status enum: each variant's JSON name (also the table's word) and exit code, the
/// list of all variants, and serialization as the JSON name.
macro_rules! statuses {
    ($(#[$meta:meta])* $name:ident {
        $($(#[$vmeta:meta])* $variant:ident = $json:literal => $code:expr,)*
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
        }

        impl $name {
            /// Every variant, in the order the JSON page lists them.
            #[cfg_attr(not(test), allow(dead_code))]
            pub const ALL: &[Self] = &[$(Self::$variant,)*];

            /// The word in JSON output and in the table.
            pub fn json_name(self) -> &'static str {
                match self {
                    $(Self::$variant => $json,)*
                }
            }

            /// The exit code a row with this status leads to (see [`worst`]).
            pub fn exit_code(self) -> u8 {
                match self {
                    $(Self::$variant => $code,)*
                }
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.json_name())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.json_name())
            }
        }
    };
}

statuses! {
    /// What `status` says of a token.
    TokenStatus {
        /// Its provider accepts it.
        Valid = "valid" => exit::OK,
        /// Its provider refuses it, or it was pasted where the host belongs.
        Invalid = "invalid" => exit::INVALID,
        /// It has expired.
        Expired = "expired" => exit::INVALID,
        /// Its provider says it was revoked.
        Revoked = "revoked" => exit::INVALID,
        /// Its provider could not be reached.
        Unreachable = "unreachable" => exit::UNREACHABLE,
        /// Not checked: offline, or the provider cannot tell.
        Unverified = "unverified" => exit::OK,
        /// It works, but nothing renews it and it expires within the warning window.
        Expiring = "expiring" => exit::EXPIRING,
    }
}

statuses! {
    /// What `status` says of a binary cache (a substituter) and the credential sent to it.
    CacheStatus {
        /// Private, and the credential works.
        Valid = "valid" => exit::OK,
        /// The cache refuses the credential.
        Invalid = "invalid" => exit::INVALID,
        /// The cache could not be reached.
        Unreachable = "unreachable" => exit::UNREACHABLE,
        /// It needs no credential.
        Public = "public" => exit::OK,
        /// Private, and the netrc its downloading process reads has no credential for it.
        Missing = "missing" => exit::INVALID,
        /// Not checked: offline, or not an HTTP store.
        Unverified = "unverified" => exit::OK,
    }
}

statuses! {
    /// What `check` says of a flake input.
    InputVerdict {
        /// Nix will be able to fetch it.
        Ok = "ok" => exit::OK,
        /// Nix will fail to fetch it for lack of access.
        Fails = "fails" => exit::INVALID,
        /// A server could not be reached.
        Unreachable = "unreachable" => exit::UNREACHABLE,
        /// Not checked (offline, SSH, or a kind of input nothing is asked about).
        Skipped = "skipped" => exit::OK,
    }
}

/// The exit codes in the order they win: a refusal, then an unreachable server, then a failure
/// (a host asked for has no token), then an expiring token.
const PRECEDENCE: &[u8] = &[
    exit::INVALID,
    exit::UNREACHABLE,
    exit::FAILURE,
    exit::EXPIRING,
];

/// The exit code of a command whose rows lead to `codes`: the first of [`PRECEDENCE`] among
/// them, else 0.
pub fn worst(codes: impl IntoIterator<Item = u8>) -> u8 {
    let codes: Vec<u8> = codes.into_iter().collect();
    PRECEDENCE
        .iter()
        .copied()
        .find(|code| codes.contains(code))
        .unwrap_or(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_serialize_as_their_json_names() {
        let json = serde_json::to_string(&[TokenStatus::Expiring, TokenStatus::Unverified]);
        assert_eq!(json.unwrap(), r#"["expiring","unverified"]"#);
        let json = serde_json::to_string(&(CacheStatus::Missing, InputVerdict::Fails));
        assert_eq!(json.unwrap(), r#"["missing","fails"]"#);
        assert_eq!(TokenStatus::Revoked.to_string(), "revoked");
    }

    #[test]
    fn the_most_serious_code_wins() {
        let code = |statuses: &[TokenStatus]| worst(statuses.iter().map(|s| s.exit_code()));
        assert_eq!(code(&[]), exit::OK);
        assert_eq!(code(&[TokenStatus::Valid, TokenStatus::Unverified]), 0);
        assert_eq!(code(&[TokenStatus::Expiring, TokenStatus::Valid]), 5);
        assert_eq!(code(&[TokenStatus::Expiring, TokenStatus::Unreachable]), 4);
        assert_eq!(code(&[TokenStatus::Unreachable, TokenStatus::Expired]), 3);
        assert_eq!(worst([exit::EXPIRING, exit::FAILURE]), exit::FAILURE);
        assert_eq!(worst([exit::FAILURE, exit::UNREACHABLE]), exit::UNREACHABLE);
        let verdicts = InputVerdict::ALL.iter().map(|v| v.exit_code());
        assert_eq!(worst(verdicts), exit::INVALID);
    }

    /// The rows of the table under `heading` on the JSON page: each status and its exit code.
    fn table(page: &str, heading: &str) -> Vec<(String, u8)> {
        let lines = page.lines().skip_while(|l| *l != heading).skip(1);
        lines
            .take_while(|l| !l.starts_with('#'))
            .filter(|l| l.starts_with("| `"))
            .map(|l| {
                let cells: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
                let code = cells.last().and_then(|c| c.parse().ok());
                let code = code.unwrap_or_else(|| panic!("no exit code in docs/json.md: {l}"));
                (cells[0].trim_matches('`').to_owned(), code)
            })
            .collect()
    }

    #[test]
    fn the_json_page_lists_every_status_and_its_exit_code() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/json.md");
        let Ok(page) = std::fs::read_to_string(path) else {
            eprintln!("skipped: {path} is not in this source tree");
            return;
        };
        let rows = |all: Vec<(&str, u8)>| -> Vec<(String, u8)> {
            all.into_iter().map(|(n, c)| (n.to_owned(), c)).collect()
        };
        let tokens = TokenStatus::ALL
            .iter()
            .map(|s| (s.json_name(), s.exit_code()));
        let caches = CacheStatus::ALL
            .iter()
            .map(|s| (s.json_name(), s.exit_code()));
        let inputs = InputVerdict::ALL
            .iter()
            .map(|s| (s.json_name(), s.exit_code()));
        assert_eq!(table(&page, "### Token statuses"), rows(tokens.collect()));
        assert_eq!(
            table(&page, "### Binary cache statuses"),
            rows(caches.collect())
        );
        assert_eq!(table(&page, "### Input verdicts"), rows(inputs.collect()));
    }
}
